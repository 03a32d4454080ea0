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

    /// Fills a template field: `{{code}}`, `{{link}}` and the payload's dotted variables (`{{organization.name}}`),
    /// spaces inside the braces allowed as in Logto's templates; an unknown placeholder is left as it is. Without a
    /// code, `{{code}}` takes the link: a `Generic` template standing in for an invitation still carries the link.
    /// `html`: the values are HTML-escaped (template content is HTML); otherwise control characters in them become
    /// spaces (a subject is one header line).
    public static func render(_ text: String, payload: MessagePayload, html: Bool = false) -> String {
        var values = payload.variables
        if let link = payload.link { values["link"] = link }
        if let code = payload.code ?? payload.link { values["code"] = code }
        guard text.contains("{{") else { return text }
        let placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/
        return text.replacing(placeholder) { match in
            guard let value = values[String(match.output.1)] else { return String(match.output.0) }
            if html { return value.htmlEscaped }
            return String(value.map { $0.unicodeScalars.contains { $0.properties.generalCategory == .control } ? " " : $0 })
        }
    }

    /// Reads and checks `templates`: each with subject, content holding `{{code}}` (`{{link}}` for
    /// `OrganizationInvitation`), a known usage type, at most one per usage type.
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
            guard let typeName = item["usageType"]?.stringValue, let usageType = UsageType(rawValue: typeName) else {
                throw ConnectorError.invalidConfig("'\(field).usageType' must be one of "
                    + UsageType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard content.contains(usageType.requiredPlaceholder) else {
                throw ConnectorError.invalidConfig(
                    "'\(field).content' must contain the \(usageType.requiredPlaceholder) placeholder")
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
