import Foundation
import SesameOIDC

/// What the Console, the CLI and the Management API show about a connector (Logto's connector metadata).
/// Its texts are files beside the connector, as a Logto connector package keeps them: the name and
/// description in English and Simplified Chinese and the form labels in
/// `Resources/connectors/<id>/metadata.json`, and the setup guide in `Resources/connectors/<id>/README.md`
/// (Markdown), compiled into the binary.
public struct ConnectorMetadata: Sendable {
    public enum Kind: String, Sendable, Codable {
        case email = "Email"
        case sms = "Sms"
    }

    /// One configuration field: its JSON name, type, and whether it is secret or optional.
    public struct Field: Sendable {
        public enum FieldType: String, Sendable {
            /// `text` is a string of several lines (a PEM certificate).
            case string, text, number, boolean, templates
        }

        public let key: String
        public let type: FieldType
        public let isSecret: Bool
        public let isOptional: Bool
        /// The form label, from `metadata.json`'s `labels` (the key itself when it has none).
        public internal(set) var label: String
        /// The allowed values of a string field, the first the default; empty for free text.
        public let options: [String]

        public init(_ key: String, _ type: FieldType = .string, secret: Bool = false, optional: Bool = false,
                    options: [String] = [])
        {
            self.options = options
            self.key = key
            self.type = type
            isSecret = secret
            isOptional = optional
            label = key
        }
    }

    public let id: String
    public let kind: Kind
    public let name: [String: String]
    public let description: [String: String]
    public let fields: [Field]
    /// Markdown shown beside the configuration form.
    public let readme: String

    /// The metadata of connector `id`, its texts read from its resource folder. A missing or malformed file
    /// leaves the id as the name and the keys as labels; a test holds every shipped connector to complete files.
    public init(id: String, kind: Kind, fields: [Field]) {
        let texts = Self.texts(id: id)
        self.id = id
        self.kind = kind
        name = texts?["name"]?.objectValue?.compactMapValues(\.stringValue) ?? ["en": id]
        description = texts?["description"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        let labels = texts?["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        self.fields = fields.map { field in
            var field = field
            field.label = labels[field.key] ?? field.key
            return field
        }
        readme = EmbeddedResources.files["connectors/\(id)/README.md"] ?? ""
    }

    /// `Resources/connectors/<id>/metadata.json`, parsed.
    static func texts(id: String) -> JSONValue? {
        guard let text = EmbeddedResources.files["connectors/\(id)/metadata.json"] else { return nil }
        return try? JSONValue.decode(Data(text.utf8))
    }

    public var secretKeys: Set<String> { Set(fields.filter(\.isSecret).map(\.key)) }

    /// The fields that say where a connector connects, and as whom.
    public static let destinationKeys: Set<String> = [
        "host", "port", "security", "endpoint", "regionId", "username", "accessKeyId",
    ]

    /// `config` with each secret the caller left out (`isKept`) filled in from the stored configuration, but
    /// only while the destination is the stored one: a saved secret is never sent somewhere new (an SMTP
    /// password, say, to a server of the editor's choosing). Otherwise the secret must be typed again.
    public func restoringSecrets(in config: [String: JSONValue], from stored: JSONValue?,
                                 isKept: (JSONValue?) -> Bool) -> [String: JSONValue]
    {
        var result = config
        guard let stored = stored?.objectValue else {
            for key in secretKeys where isKept(config[key]) { result[key] = nil }
            return result
        }
        let sameDestination = Self.destinationKeys.allSatisfy { key in
            Self.normalized(config[key]) == Self.normalized(stored[key])
        }
        for key in secretKeys where isKept(config[key]) {
            result[key] = sameDestination ? stored[key] : nil
        }
        return result
    }

    /// Numbers typed as text and absent or blank values compare equal to their stored forms.
    private static func normalized(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: let trimmed = text.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        case .int(let number)?: return String(number)
        case .bool(let flag)?: return String(flag)
        default: return nil
        }
    }
}
