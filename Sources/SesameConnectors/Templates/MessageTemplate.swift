import Foundation
import SesameOIDC

/// One message template of an email connector (Logto's `templates` entries).
public struct MessageTemplate: Sendable, Equatable {
    public var subject: String
    public var content: String
    public var usageType: UsageType

    public init(subject: String, content: String, usageType: UsageType) {
        self.subject = subject
        self.content = content
        self.usageType = usageType
    }

    /// Replaces `{{code}}` (and `{{link}}` when there is one) in a template field.
    public static func render(_ text: String, payload: MessagePayload) -> String {
        var rendered = text.replacingOccurrences(of: "{{code}}", with: payload.code)
        if let link = payload.link { rendered = rendered.replacingOccurrences(of: "{{link}}", with: link) }
        return rendered
    }

    /// Reads and checks `templates`: each with subject, content holding `{{code}}`, a known usage type,
    /// at most one per usage type.
    static func parseList(_ value: JSONValue?) throws -> [MessageTemplate] {
        guard let items = value?.arrayValue, !items.isEmpty else {
            throw ConnectorError.invalidConfig("'templates' must be a non-empty array")
        }
        var templates: [MessageTemplate] = []
        for (index, item) in items.enumerated() {
            let field = "templates[\(index)]"
            guard item.objectValue != nil else { throw ConnectorError.invalidConfig("'\(field)' must be an object") }
            guard let subject = item["subject"]?.stringValue, !subject.isEmpty else {
                throw ConnectorError.invalidConfig("'\(field).subject' is required")
            }
            guard let content = item["content"]?.stringValue, !content.isEmpty else {
                throw ConnectorError.invalidConfig("'\(field).content' is required")
            }
            guard content.contains("{{code}}") else {
                throw ConnectorError.invalidConfig("'\(field).content' must contain the {{code}} placeholder")
            }
            guard let typeName = item["usageType"]?.stringValue, let usageType = UsageType(rawValue: typeName) else {
                throw ConnectorError.invalidConfig(
                    "'\(field).usageType' must be one of Register, SignIn, ForgotPassword, Generic")
            }
            guard !templates.contains(where: { $0.usageType == usageType }) else {
                throw ConnectorError.invalidConfig("'\(field).usageType': there is already a \(typeName) template")
            }
            templates.append(MessageTemplate(subject: subject, content: content, usageType: usageType))
        }
        return templates
    }

    /// The template for `type`, falling back to Generic.
    static func select(_ templates: [MessageTemplate], for type: UsageType) throws -> MessageTemplate {
        if let exact = templates.first(where: { $0.usageType == type }) { return exact }
        if let generic = templates.first(where: { $0.usageType == .generic }) { return generic }
        throw ConnectorError(.templateNotFound, "no template for usage type \(type.rawValue) and no Generic template")
    }
}
