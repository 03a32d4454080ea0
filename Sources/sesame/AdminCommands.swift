import ArgumentParser
import Foundation
import SesameIdentity
import SesameOIDC
import SesameServer

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Manage Console administrators.", subcommands: [Create.self, SetupLink.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a Console administrator (for scripted installs; otherwise use the setup link).")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Username: letters, digits and underscores.") var username: String
        @Option(help: "Password: 10 or more characters of two kinds; read from SESAME_ADMIN_PASSWORD when omitted.")
        var password: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let password = password ?? ProcessInfo.processInfo.environment["SESAME_ADMIN_PASSWORD"] else {
                Console.error("give --password or set SESAME_ADMIN_PASSWORD")
                throw ExitCode.failure
            }
            try await withRuntime(options) { runtime in
                let administrator = try await runtime.administrators.create(username: username, password: password)
                if json {
                    Console.json(["id": .string(administrator.id), "username": .string(administrator.username)])
                } else {
                    print("Created administrator \"\(administrator.username)\": sign in at "
                        + "\(runtime.configuration.endpoint)/console")
                }
            }
        }
    }

    struct SetupLink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "setup-link",
            abstract: "Print a new one-time link that creates the first administrator (valid 24 hours).")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                guard let link = try await runtime.consoleSetupLink() else {
                    Console.error("an administrator exists already: sign in at \(runtime.configuration.endpoint)/console")
                    throw ExitCode.failure
                }
                if json { Console.json(["url": .string(link)]) } else { print(link) }
            }
        }
    }
}
