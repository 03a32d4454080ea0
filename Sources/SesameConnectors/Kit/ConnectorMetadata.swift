import Foundation
import SesameOIDC

/// What the Console and the CLI show about a connector, in English and Simplified Chinese.
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
        public let label: String
        /// The allowed values of a string field, the first the default; empty for free text.
        public let options: [String]

        public init(_ key: String, _ type: FieldType = .string, secret: Bool = false, optional: Bool = false,
                    options: [String] = [], label: String)
        {
            self.options = options
            self.key = key
            self.type = type
            isSecret = secret
            isOptional = optional
            self.label = label
        }
    }

    public let id: String
    public let kind: Kind
    public let name: [String: String]
    public let description: [String: String]
    public let fields: [Field]
    /// Markdown shown beside the configuration form.
    public let readme: String

    public init(id: String, kind: Kind, name: [String: String], description: [String: String], fields: [Field],
                readme: String)
    {
        self.id = id
        self.kind = kind
        self.name = name
        self.description = description
        self.fields = fields
        self.readme = readme
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
