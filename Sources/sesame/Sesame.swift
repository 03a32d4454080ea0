import ArgumentParser
import Foundation
import Logging
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage

@main
struct Sesame: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sesame",
        abstract: "Sesame: an OpenID Connect identity server.",
        subcommands: [Serve.self, Migrate.self, App.self, User.self, Resource.self, RoleCommand.self, OrganizationCommand.self,
                      Keys.self, Connector.self,
                      SignInExp.self,
                      Admin.self, Secret.self, BackupCommand.self, RestoreCommand.self, ExportCommand.self,
                      ImportCommand.self, DatabaseCommand.self])
}

/// Settings every command accepts; flags win over the environment, which wins over the config file.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Public base URL (SESAME_ENDPOINT); the issuer is ENDPOINT/oidc.") var endpoint: String?
    @Option(help: "Address to listen on (SESAME_HOST).") var host: String?
    @Option(help: "Port to listen on (SESAME_PORT).") var port: String?
    @Option(help: "Database URL, sqlite://PATH or postgres://... (SESAME_DB).") var db: String?
    @Option(help: "JSON configuration file (SESAME_CONFIG).") var config: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (SESAME_LOG_LEVEL).") var logLevel: String?

    func load() throws -> ServerConfiguration {
        var flags: [String: String] = [:]
        flags["SESAME_ENDPOINT"] = endpoint
        flags["SESAME_HOST"] = host
        flags["SESAME_PORT"] = port
        flags["SESAME_DB"] = db
        flags["SESAME_CONFIG"] = config
        flags["SESAME_LOG_LEVEL"] = logLevel
        return try ConfigurationLoader(flags: flags).load()
    }
}

enum Console {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    }

    static func warning(_ message: String) {
        FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
    }

    static func json(_ value: JSONValue) {
        print(value.encodedString())
    }
}

/// Refuses a verb's input with one line on stderr and exit code 1 (argument-parser's `ValidationError` would
/// print the usage text after it). Use as `throw fail("...")`.
func fail(_ message: String) -> ExitCode {
    Console.error(message)
    return ExitCode.failure
}

/// A JSON object read from a file, parsed like an HTTP body (depth-capped, strict); one-line errors.
func readJSONObject(_ path: String) throws -> JSONValue {
    guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read '\(path)'") }
    let value: JSONValue
    do {
        value = try JSONValue.decode(data)
    } catch {
        throw fail("'\(path)' is not valid JSON: \(error)")
    }
    guard value.objectValue != nil else { throw fail("'\(path)' must hold a JSON object") }
    return value
}

/// A verb's result: JSON for scripts, or one line for people.
func report(_ json: Bool, _ value: JSONValue, _ text: String) {
    if json { Console.json(value) } else { print(text) }
}

/// Runs a CLI verb against an open runtime: configuration errors and failures become one line on
/// stderr and exit code 1.
func withRuntime<T>(_ options: GlobalOptions, quiet: Bool = true,
                    _ body: (SesameRuntime) async throws -> T) async throws -> T
{
    let configuration: ServerConfiguration
    do {
        configuration = try options.load()
    } catch {
        Console.error("\(error)")
        throw ExitCode.failure
    }
    let level = quiet ? max(configuration.logLevel, .warning) : configuration.logLevel
    LoggingSystem.bootstrap { label in
        var handler = SesameLogHandler(label: label, format: configuration.logFormat)
        handler.logLevel = level
        return handler
    }
    let logger = Logger(label: "sesame")
    // Log lines are buffered off the request path (`LogOutput`): whatever way the verb ends, they are written.
    defer { LogOutput.standardError.flush() }
    if !quiet {
        for warning in configuration.developmentDefaults {
            // With JSON logs every line on standard error is a JSON object.
            if configuration.logFormat == .json { logger.warning("\(warning)") } else { Console.warning(warning) }
        }
    }
    let runtime: SesameRuntime
    do {
        runtime = try await SesameRuntime.open(configuration, logger: logger)
    } catch let error as SQLStore.SecretMismatch {
        Console.error(error.description)
        throw ExitCode.failure
    } catch {
        Console.error("cannot open the database: \(error)")
        throw ExitCode.failure
    }
    do {
        let result = try await body(runtime)
        try? await runtime.close()
        return result
    } catch {
        try? await runtime.close()
        if error is ExitCode { throw error }
        Console.error(String(describing: error))
        throw ExitCode.failure
    }
}
