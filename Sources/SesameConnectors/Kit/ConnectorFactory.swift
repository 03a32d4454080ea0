import Foundation
import AsyncHTTPClient
import Logging
import SesameOIDC

/// What a connector may use: an HTTP client for providers with an API, and a logger (never given secrets).
public struct ConnectorContext: Sendable {
    public let httpClient: HTTPClient
    public let logger: Logger

    public init(httpClient: HTTPClient = .shared, logger: Logger) {
        self.httpClient = httpClient
        self.logger = logger
    }
}

/// Builds one kind of connector from its JSON configuration.
public protocol EmailConnectorFactory: Sendable {
    var metadata: ConnectorMetadata { get }
    /// Checks a configuration and names the first field that is wrong (`ConnectorError.invalidConfig`).
    func validate(_ config: JSONValue) throws
    func makeConnector(config: JSONValue, context: ConnectorContext) throws -> any EmailConnector
}

/// Builds one kind of SMS connector from its JSON configuration.
public protocol SmsConnectorFactory: Sendable {
    var metadata: ConnectorMetadata { get }
    func validate(_ config: JSONValue) throws
    func makeConnector(config: JSONValue, context: ConnectorContext) throws -> any SmsConnector
}

/// Every connector Sesame knows, by id.
public struct ConnectorRegistry: Sendable {
    public let emailFactories: [any EmailConnectorFactory]
    /// None ships yet; phone sign-up and phone codes wait for the first.
    public let smsFactories: [any SmsConnectorFactory]

    public init(emailFactories: [any EmailConnectorFactory], smsFactories: [any SmsConnectorFactory] = []) {
        self.emailFactories = emailFactories
        self.smsFactories = smsFactories
    }

    /// The connectors that ship with Sesame.
    public static let standard = ConnectorRegistry(emailFactories: [
        AliyunDirectMailFactory(), SMTPConnectorFactory(), DevConsoleConnectorFactory(),
    ])

    public func emailFactory(id: String) -> (any EmailConnectorFactory)? {
        emailFactories.first { $0.metadata.id == id }
    }

    public func smsFactory(id: String) -> (any SmsConnectorFactory)? {
        smsFactories.first { $0.metadata.id == id }
    }
}

extension ConnectorError {
    public static func invalidConfig(_ message: String) -> ConnectorError { ConnectorError(.invalidConfig, message) }
}

/// Reading typed fields from a JSON configuration, with errors that name the field.
struct ConfigReader {
    let config: JSONValue

    init(_ config: JSONValue) throws {
        guard config.objectValue != nil else { throw ConnectorError.invalidConfig("the configuration must be a JSON object") }
        self.config = config
    }

    func string(_ key: String) throws -> String {
        guard let value = try optionalString(key) else {
            throw ConnectorError.invalidConfig("'\(key)' is required")
        }
        return value
    }

    func optionalString(_ key: String) throws -> String? {
        switch config[key] {
        case nil, .null?: return nil
        case .string(let value)?:
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        default: throw ConnectorError.invalidConfig("'\(key)' must be a string")
        }
    }

    func optionalInt(_ key: String) throws -> Int? {
        switch config[key] {
        case nil, .null?: return nil
        case .int(let value)?: return Int(value)
        case .string(let value)?:
            guard let number = Int(value) else { throw ConnectorError.invalidConfig("'\(key)' must be a number") }
            return number
        default: throw ConnectorError.invalidConfig("'\(key)' must be a number")
        }
    }
}
