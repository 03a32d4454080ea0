import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Testing

/// What a deployment relies on: https cookies, the login hint, and instances that share one database.
@Suite("Deployment")
struct DeploymentTests {
    @Test func cookiesAreSecureOnHTTPSAndTheLoginHintIsFilledIn() async throws {
        try await Fixture.withServer(mailbox: false, endpoint: "https://id.example.com") { fixture, browser in
            let query = RequestParameters.encode([
                ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
                ("scope", "openid email"), ("login_hint", "alice@example.com"),
                ("code_challenge", PKCE.challenge(for: SecureRandom.token(bytes: 48))), ("code_challenge_method", "S256"),
            ])
            let authorize = try await browser.get("/oidc/auth?" + query)
            #expect(authorize.location == "/sign-in")
            let interaction = try #require(authorize.headers[values: .setCookie].first { $0.hasPrefix("_sesame_interaction=") })
            #expect(interaction.contains("; HttpOnly") && interaction.contains("SameSite=Lax") && interaction.contains("; Secure"))
            let page = try await browser.get("/sign-in")
            #expect(page.text.contains(#"value="alice@example.com""#))
            let signedIn = try await browser.post("/sign-in", form: [
                ("csrf_token", try #require(page.csrfToken)), ("identifier", "alice@example.com"),
                ("password", Fixture.password),
            ])
            let session = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("_sesame_session=") })
            #expect(session.contains("; HttpOnly") && session.contains("SameSite=Lax") && session.contains("; Secure"))
        }
    }

    @Test func aSignInStartedOnOneInstanceFinishesOnAnother() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-two-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = "sqlite://" + directory.appendingPathComponent("shared.db").path
        var logger = Logger(label: "sesame.two")
        logger.logLevel = .warning
        func configuration() -> ServerConfiguration {
            ServerConfiguration(endpoint: "http://localhost:3001", host: "127.0.0.1", port: 0, databaseURL: database,
                                secret: String(repeating: "t", count: 40))
        }
        let first = try await SesameRuntime.open(configuration(), logger: logger)
        let second: SesameRuntime
        do {
            second = try await SesameRuntime.open(configuration(), logger: logger)
        } catch {
            try? await first.close()
            throw error
        }
        // Both runtimes are closed however the test ends (an unclosed SQLite connection traps when freed).
        do {
            try await Self.signIn(across: first, second, verifier: SecureRandom.token(bytes: 48))
        } catch {
            try? await first.close()
            try? await second.close()
            throw error
        }
        try await first.close()
        try await second.close()
    }

    private static func signIn(across first: SesameRuntime, _ second: SesameRuntime, verifier: String) async throws {
        let app = try await first.applications.create(name: "Bookstore", type: .traditional,
                                                      redirectURIs: [Fixture.callback], postLogoutRedirectURIs: [])
        _ = try await first.users.create(.init(username: "alice", email: "alice@example.com", password: Fixture.password))
        try await SesameApplication.build(runtime: first).test(.live) { clientA in
            try await SesameApplication.build(runtime: second).test(.live) { clientB in
                try await Browser.connect(port: try #require(clientA.port)) { onA in
                    try await Browser.connect(port: try #require(clientB.port)) { onB in
                        // The browser keeps its cookies; each request may reach either instance.
                        let authorize = try await onA.get("/oidc/auth?" + RequestParameters.encode([
                            ("client_id", app.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
                            ("scope", "openid email"), ("code_challenge", PKCE.challenge(for: verifier)),
                            ("code_challenge_method", "S256"),
                        ]))
                        #expect(authorize.location == "/sign-in")
                        let page = try await onA.get("/sign-in")
                        for (name, value) in onA.cookies { onB.set(name, value) }
                        let signedIn = try await onB.post("/sign-in", form: [
                            ("csrf_token", try #require(page.csrfToken)), ("identifier", "alice"), ("password", Fixture.password),
                        ])
                        #expect(signedIn.location == "/oidc/auth/resume")
                        let resumed = try await onB.get("/oidc/auth/resume")
                        let code = try #require(resumed.redirectQuery["code"])
                        let tokens = try await onA.post("/oidc/token", form: [
                            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Fixture.callback),
                            ("code_verifier", verifier),
                        ], headers: [.authorization: basicAuthorization(app.client.id, app.secret ?? "")])
                        #expect(tokens.status == .ok)
                        let token = try #require(tokens.json["access_token"]?.stringValue)
                        #expect(try await onB.get("/oidc/me", headers: [.authorization: "Bearer \(token)"]).json["sub"] != nil)
                    }
                }
            }
        }
    }
}
