import Foundation
import SesameServer
import Testing

/// Configuration: sources in order (flags, environment, file, defaults) and one clear line per bad setting.
@Suite("Configuration")
struct ConfigurationTests {
    let secretFile = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-\(UUID().uuidString).secret").path

    @Test func defaultsAreTheEmbeddedDevelopmentSetup() throws {
        defer { try? FileManager.default.removeItem(atPath: secretFile) }
        let configuration = try ConfigurationLoader(environment: [:], secretFile: secretFile).load()
        #expect(configuration.endpoint == "http://localhost:3001")
        #expect(configuration.issuer == "http://localhost:3001/oidc")
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 3001)
        #expect(configuration.databaseURL == "sqlite://./sesame.db")
        #expect(configuration.developmentDefaults.count == 2)
        // The generated secret is kept, owner-only, and reused.
        let attributes = try FileManager.default.attributesOfItem(atPath: secretFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let again = try ConfigurationLoader(environment: [:], secretFile: secretFile).load()
        #expect(again.secret == configuration.secret)
        #expect(configuration.secret.count == 64)
    }

    @Test func flagsWinOverEnvironmentWhichWinsOverTheFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-\(UUID().uuidString).json")
        try Data(#"{"SESAME_PORT": 4000, "SESAME_HOST": "0.0.0.0", "SESAME_ENDPOINT": "https://file.test"}"#.utf8)
            .write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let configuration = try ConfigurationLoader(
            flags: ["SESAME_PORT": "5000"],
            environment: ["SESAME_CONFIG": file.path, "SESAME_PORT": "4500", "SESAME_HOST": "10.0.0.1",
                          "SESAME_SECRET": String(repeating: "x", count: 32), "SESAME_DB": "sqlite:///tmp/x.db"],
            secretFile: secretFile
        ).load()
        #expect(configuration.port == 5000)
        #expect(configuration.host == "10.0.0.1")
        #expect(configuration.endpoint == "https://file.test")
        #expect(configuration.isSecure)
        #expect(configuration.developmentDefaults.isEmpty)
    }

    @Test(arguments: [
        (["SESAME_PORT": "70000"], "SESAME_PORT"),
        (["SESAME_PORT": "abc"], "SESAME_PORT"),
        (["SESAME_DB": "mysql://x"], "SESAME_DB"),
        (["SESAME_DB": "sqlite://"], "SESAME_DB"),
        (["SESAME_ENDPOINT": "localhost:3001"], "SESAME_ENDPOINT"),
        (["SESAME_ENDPOINT": "https://id.test/?x=1"], "SESAME_ENDPOINT"),
        (["SESAME_SECRET": "short"], "SESAME_SECRET"),
        (["SESAME_LOG_LEVEL": "loud"], "SESAME_LOG_LEVEL"),
        (["SESAME_CONFIG": "/nonexistent/sesame.json"], "SESAME_CONFIG"),
        (["SESAME_ENDPOINT": "https://id.example.com", "SESAME_DEV_MAILBOX": "1"], "SESAME_DEV_MAILBOX"),
    ])
    func invalidSettingsAreNamed(_ environment: [String: String], _ setting: String) throws {
        defer { try? FileManager.default.removeItem(atPath: secretFile) }
        do {
            _ = try ConfigurationLoader(environment: environment, secretFile: secretFile).load()
            Issue.record("\(environment) was accepted")
        } catch let error as ConfigurationError {
            #expect(error.description.hasPrefix(setting + ":"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func trailingSlashesAreDroppedFromTheEndpoint() throws {
        let configuration = try ConfigurationLoader(
            environment: ["SESAME_ENDPOINT": "https://id.example.com/", "SESAME_SECRET": String(repeating: "y", count: 40)],
            secretFile: secretFile
        ).load()
        #expect(configuration.issuer == "https://id.example.com/oidc")
    }

    /// A secret mounted from a file usually ends with a line feed: it is the same secret. A generated secret file
    /// that holds too little is never replaced silently, and a new one is owner-only from the start.
    @Test func secretsAreTrimmedAndSecretFilesAreGuarded() throws {
        let secret = String(repeating: "m", count: 40)
        let mounted = try ConfigurationLoader(environment: ["SESAME_SECRET": secret + "\n"], secretFile: secretFile).load()
        #expect(mounted.secret == secret)
        defer { try? FileManager.default.removeItem(atPath: secretFile) }
        try Data("short\n".utf8).write(to: URL(fileURLWithPath: secretFile))
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader(environment: [:], secretFile: secretFile).load() }
        #expect(String(data: FileManager.default.contents(atPath: secretFile) ?? Data(), encoding: .utf8) == "short\n")
        try FileManager.default.removeItem(atPath: secretFile)
        let generated = try ConfigurationLoader(environment: [:], secretFile: secretFile).load()
        #expect(generated.secret.count == 64)
        let attributes = try FileManager.default.attributesOfItem(atPath: secretFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }
}
