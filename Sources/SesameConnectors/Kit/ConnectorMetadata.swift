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
}
