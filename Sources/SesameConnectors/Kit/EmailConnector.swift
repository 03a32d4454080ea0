/// Why a one-time code is being sent; picks the connector's template (Logto's `usageType`).
public enum UsageType: String, Sendable, Codable, CaseIterable {
    case register = "Register"
    case signIn = "SignIn"
    case forgotPassword = "ForgotPassword"
    case generic = "Generic"
}

/// What a connector sends: the code and, optionally, a link and the reader's locale.
public struct MessagePayload: Sendable, Equatable {
    public var code: String
    public var link: String?
    public var locale: String?

    public init(code: String, link: String? = nil, locale: String? = nil) {
        self.code = code
        self.link = link
        self.locale = locale
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
