import ArgumentParser
import Foundation
import SesameConnectors
import SesameIdentity
import SesameOIDC
import SesameServer

struct Connector: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connector", abstract: "Configure, enable and test email connectors.",
        subcommands: [List.self, Set.self, Enable.self, Disable.self, Test.self])

    static func readConfig(_ path: String) throws -> JSONValue {
        try readJSONObject(path)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the connectors Sesame knows and their state.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                let stored = Dictionary(uniqueKeysWithValues: try await runtime.connectors.store.connectors().map { ($0.id, $0) })
                let factories = runtime.connectors.registry.emailFactories
                if json {
                    Console.json(.array(factories.map { factory in
                        let meta = factory.metadata
                        return ["id": .string(meta.id), "type": .string(meta.kind.rawValue),
                                "name": .string(meta.name["en"] ?? meta.id),
                                "isConfigured": .bool(stored[meta.id] != nil),
                                "enabled": .bool(stored[meta.id]?.isEnabled ?? false)]
                    }))
                } else {
                    for factory in factories {
                        let meta = factory.metadata
                        let state = stored[meta.id].map { $0.isEnabled ? "enabled" : "configured" } ?? "not configured"
                        print("\(meta.id.padding(toLength: 20, withPad: " ", startingAt: 0)) \(meta.kind.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(state)  \(meta.name["en"] ?? "")")
                    }
                }
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Save a connector's configuration from a JSON file.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Connector id, e.g. aliyun-direct-mail or smtp.") var id: String
        @Option(help: "The configuration, a JSON file.") var file: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let config = try Connector.readConfig(file)
            try await withRuntime(options) { runtime in
                try await runtime.connectors.save(id: id, config: config)
                report(json, ["id": .string(id), "saved": true], "Saved the configuration of \(id)")
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable a connector (the other connector of its kind is disabled).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Connector id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                try await runtime.setConnectorEnabled(id: id, true)
                report(json, ["id": .string(id), "enabled": true], "Enabled \(id)")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a connector.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Connector id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                try await runtime.setConnectorEnabled(id: id, false)
                report(json, ["id": .string(id), "enabled": false], "Disabled \(id)")
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a test code (123456) with the saved configuration, or with --file before saving it.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Connector id.") var id: String
        @Option(help: "Recipient address.") var to: String
        @Option(help: "A configuration to test instead of the saved one.") var file: String?
        @Option(help: "The template to use: Register, SignIn, ForgotPassword or Generic (default).")
        var usage: String = "Generic"
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard UsageType(rawValue: usage) != nil else {
                throw fail("--usage must be Register, SignIn, ForgotPassword or Generic")
            }
        }

        func run() async throws {
            let config = try file.map(Connector.readConfig)
            try await withRuntime(options) { runtime in
                try await runtime.connectors.test(id: id, to: to, config: config,
                                                  usage: UsageType(rawValue: usage) ?? .generic)
                report(json, ["id": .string(id), "sent": .string(to)], "Sent a test message to \(to) with \(id)")
            }
        }
    }
}
