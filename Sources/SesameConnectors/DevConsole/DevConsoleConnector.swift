import Foundation
import Logging
import SesameOIDC

/// Writes messages, code included, to the server log: for development, until a real connector is on.
public struct DevConsoleConnector: EmailConnector {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func sendMessage(to address: String, type: UsageType, payload: MessagePayload) async throws {
        logger.notice("DevConsole email", metadata: [
            "to": "\(address)", "usage": "\(type.rawValue)", "code": "\(payload.code ?? "-")",
            "link": "\(payload.link ?? "-")",
        ])
    }
}

public struct DevConsoleConnectorFactory: EmailConnectorFactory {
    public init() {}

    public let metadata = ConnectorMetadata(
        id: "dev-console", kind: .email,
        fields: [])

    public func validate(_ config: JSONValue) throws {
        guard config.objectValue != nil else { throw ConnectorError.invalidConfig("the configuration must be a JSON object") }
    }

    public func makeConnector(config: JSONValue, context: ConnectorContext) throws -> any EmailConnector {
        DevConsoleConnector(logger: context.logger)
    }
}
