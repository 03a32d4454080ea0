import Foundation
import SesameOIDC

/// The SMTP connector's configuration.
public struct SMTPConfig: Sendable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var security: String
    public var fromEmail: String
    public var fromName: String?
    /// A PEM certificate to trust (a private CA or a self-signed server), in addition to nothing else.
    public var trustedCertificate: String?
    public var templates: [MessageTemplate]
    /// The time limit for one message, connection to QUIT (default 20 s).
    public var timeoutSeconds: Int

    public init(_ json: JSONValue) throws {
        let reader = try ConfigReader(json)
        host = try reader.string("host")
        security = try reader.optionalString("security") ?? "starttls"
        guard ["starttls", "tls", "none"].contains(security) else {
            throw ConnectorError.invalidConfig("'security' must be starttls, tls or none")
        }
        port = try reader.optionalInt("port") ?? (security == "tls" ? 465 : 587)
        guard (1...65535).contains(port) else { throw ConnectorError.invalidConfig("'port' must be 1 to 65535") }
        username = try reader.optionalString("username")
        password = try reader.optionalString("password")
        if username != nil, password == nil { throw ConnectorError.invalidConfig("'password' is required with 'username'") }
        fromEmail = try reader.string("fromEmail")
        guard Self.isPlainAddress(fromEmail) else {
            throw ConnectorError.invalidConfig("'fromEmail' must be an email address")
        }
        fromName = try reader.optionalString("fromName")
        if let fromName, fromName.contains(where: { $0.isNewline }) {
            throw ConnectorError.invalidConfig("'fromName' must be one line")
        }
        trustedCertificate = try reader.optionalString("trustedCertificate")
        timeoutSeconds = try reader.optionalInt("timeoutSeconds") ?? 20
        guard (1...120).contains(timeoutSeconds) else {
            throw ConnectorError.invalidConfig("'timeoutSeconds' must be 1 to 120")
        }
        templates = try MessageTemplate.parseList(json["templates"])
        if let line = templates.first(where: { $0.subject.contains(where: \.isNewline) }) {
            throw ConnectorError.invalidConfig("the \(line.usageType.rawValue) template's 'subject' must be one line")
        }
    }

    /// An address safe to put in an SMTP command and a header: no spaces, brackets or line breaks.
    static func isPlainAddress(_ value: String) -> Bool {
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && !value.contains(where: { $0.isWhitespace || "<>\r\n,;\"".contains($0) })
    }
}

/// Sends one-time codes through any SMTP server.
public struct SMTPConnector: EmailConnector {
    public let config: SMTPConfig
    var timeout: Duration { .seconds(config.timeoutSeconds) }

    public init(config: SMTPConfig) {
        self.config = config
    }

    public func sendMessage(to address: String, type: UsageType, payload: MessagePayload) async throws {
        guard SMTPConfig.isPlainAddress(address) else {
            throw ConnectorError(.providerError, "'\(address)' is not an address SMTP can deliver to")
        }
        let template = try MessageTemplate.select(config.templates, for: type)
        let message = MIMEMessage(fromAddress: config.fromEmail, fromName: config.fromName, to: address,
                                  subject: MessageTemplate.render(template.subject, payload: payload),
                                  html: MessageTemplate.render(template.content, payload: payload, html: true))
        let client = SMTPClient(settings: .init(
            host: config.host, port: config.port, security: SMTPClient.Security(rawValue: config.security) ?? .starttls,
            username: config.username, password: config.password, trustedCertificatePEM: config.trustedCertificate,
            heloName: config.fromEmail.split(separator: "@").last.map(String.init) ?? "localhost", timeout: timeout))
        try await client.send(message)
    }
}

public struct SMTPConnectorFactory: EmailConnectorFactory {
    public init() {}

    public let metadata = ConnectorMetadata(
        id: "smtp", kind: .email,
        fields: [
            .init("host"),
            .init("port", .number, optional: true),
            .init("security", optional: true, options: ["starttls", "tls", "none"]),
            .init("username", optional: true),
            .init("password", secret: true, optional: true),
            .init("fromEmail"),
            .init("fromName", optional: true),
            .init("trustedCertificate", .text, optional: true),
            .init("timeoutSeconds", .number, optional: true),
            .init("templates", .templates),
        ])

    public func validate(_ config: JSONValue) throws {
        _ = try SMTPConfig(config)
    }

    public func makeConnector(config: JSONValue, context: ConnectorContext) throws -> any EmailConnector {
        SMTPConnector(config: try SMTPConfig(config))
    }
}
