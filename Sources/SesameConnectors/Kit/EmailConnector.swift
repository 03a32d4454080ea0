/// Why a message is being sent; picks the connector's template (Logto's `usageType`).
public enum UsageType: String, Sendable, Codable, CaseIterable {
    case register = "Register"
    case signIn = "SignIn"
    case forgotPassword = "ForgotPassword"
    case generic = "Generic"
    /// An invitation to join an organization: a link, no code (Logto's `OrganizationInvitation`).
    case organizationInvitation = "OrganizationInvitation"

    /// The placeholder every template of this type must hold: `{{link}}` for invitations, `{{code}}` otherwise.
    public var requiredPlaceholder: String { self == .organizationInvitation ? "{{link}}" : "{{code}}" }
}

/// What a connector sends: a one-time code or a link (or both), the reader's locale, and further template
/// variables (Logto's message payload: `{code?, link?, locale?, ...}`).
public struct MessagePayload: Sendable, Equatable {
    public var code: String?
    public var link: String?
    public var locale: String?
    /// Further template variables by dotted name, e.g. `organization.name` and `inviter.name` for invitations
    /// (the names Logto's templates use). Plain text: templates escape them for HTML.
    public var variables: [String: String]

    public init(code: String? = nil, link: String? = nil, locale: String? = nil, variables: [String: String] = [:]) {
        self.code = code
        self.link = link
        self.locale = locale
        self.variables = variables
    }
}

/// An email delivery service (Aliyun Direct Mail, SMTP, ...).
public protocol EmailConnector: Sendable {
    func sendMessage(to address: String, type: UsageType, payload: MessagePayload) async throws
}

/// A text message delivery service.
public protocol SmsConnector: Sendable {
    func sendMessage(to phone: String, type: UsageType, payload: MessagePayload) async throws
}

/// A connector failure with a stable code and a message an administrator can act on.
public struct ConnectorError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let invalidConfig = Code(rawValue: "invalid_config")
        public static let templateNotFound = Code(rawValue: "template_not_found")
        public static let authFailed = Code(rawValue: "auth_failed")
        public static let rateLimited = Code(rawValue: "rate_limited")
        public static let providerError = Code(rawValue: "provider_error")
        public static let timeout = Code(rawValue: "timeout")
    }

    public var code: Code
    public var message: String
    /// The provider's own error code (Aliyun's `Code`, an SMTP reply code), for support.
    public var providerCode: String?
    /// The provider's request id (Aliyun's `RequestId`), to quote to its support.
    public var requestID: String?

    public init(_ code: Code, _ message: String, providerCode: String? = nil, requestID: String? = nil) {
        self.code = code
        self.message = message
        self.providerCode = providerCode
        self.requestID = requestID
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
