import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SesameOIDC
import SesameServer
import SesameStorage
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (migrates the database first).")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let started = ContinuousClock.now
        try await withRuntime(options, quiet: false) { runtime in
            _ = try await runtime.provider.keys.snapshot()  // the first signing key exists before traffic
            if let link = try await runtime.consoleSetupLink() {
                // Printed, never logged: the link is a one-time secret for whoever started the server. With
                // JSON logs it is one JSON line too, so the stream stays parseable.
                let text: String
                if runtime.configuration.logFormat == .json {
                    text = SesameLogHandler.jsonLine(
                        time: Date(), level: .notice, label: "sesame",
                        message: "No Console administrator exists yet: open the one-time setup link (valid 24 hours)",
                        metadata: ["setup_link": "\(link)"])
                } else {
                    text = """

                        No Console administrator exists yet. Open this one-time link to create the first one
                        (valid 24 hours; `sesame admin setup-link` prints a new one):

                            \(link)


                        """
                }
                FileHandle.standardError.write(Data(text.utf8))
            }
            let configuration = runtime.configuration
            let openFiles = ConnectionLimits.raiseOpenFileLimit()
            let app = SesameApplication.build(
                runtime: runtime, maximumConnections: ConnectionLimits.maximumConnections(openFileLimit: openFiles)
            ) { port in
                let elapsed = ContinuousClock.now - started
                let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
                runtime.logger.notice("Sesame is ready", metadata: [
                    "listening": "\(configuration.host):\(port)", "issuer": "\(configuration.issuer)",
                    "startup_ms": "\(milliseconds)",
                ])
            }
            // SIGTERM: requests in flight get a bounded time to finish, then the process ends regardless.
            var services: [any Service] = [app]
            if let metrics = SesameApplication.buildMetrics(runtime: runtime) {
                services.append(metrics)
                if let address = configuration.metricsAddress {
                    runtime.logger.notice("metrics", metadata: ["listening": "\(address.host):\(address.port)/metrics"])
                }
            }
            try await ConnectionLimits.run(services, logger: runtime.logger)
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")
    @OptionGroup var options: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    // Only the schema: no runtime, whose start writes rows of its own (the secret's check value, the Management API
    // resource), so a database prepared for `sesame db copy` stays empty.
    func run() async throws {
        let configuration = try loadConfiguration(options)
        try await withDatabase(configuration.databaseURL, role: "") { database in
            try await Migrator(database: database).migrate()
            let versions = try await Migrator(database: database).appliedVersions()
            if json {
                Console.json(["applied": .array(versions.map { .int(Int64($0)) })])
            } else {
                print("database is at migration \(versions.last ?? 0) (\(versions.count) applied)")
            }
        }
    }
}
