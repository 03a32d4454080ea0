import Foundation

/// A protocol error as the specs define it: an `error` code, a human description and the HTTP status
/// it is answered with. Rendered as JSON for clients and as a page for people, in one place (the server).
public struct OAuthError: Error, Sendable, Equatable {
    /// The wire `error` value. Stable API: clients switch on it.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidRequest = Code(rawValue: "invalid_request")
        public static let invalidClient = Code(rawValue: "invalid_client")
        public static let invalidGrant = Code(rawValue: "invalid_grant")
        public static let unauthorizedClient = Code(rawValue: "unauthorized_client")
        public static let unsupportedGrantType = Code(rawValue: "unsupported_grant_type")
        public static let unsupportedResponseType = Code(rawValue: "unsupported_response_type")
        public static let unsupportedTokenType = Code(rawValue: "unsupported_token_type")
        public static let invalidScope = Code(rawValue: "invalid_scope")
        public static let invalidTarget = Code(rawValue: "invalid_target")
        public static let invalidToken = Code(rawValue: "invalid_token")
        public static let insufficientScope = Code(rawValue: "insufficient_scope")
        public static let accessDenied = Code(rawValue: "access_denied")
        public static let serverError = Code(rawValue: "server_error")
        public static let temporarilyUnavailable = Code(rawValue: "temporarily_unavailable")
        public static let loginRequired = Code(rawValue: "login_required")
        public static let consentRequired = Code(rawValue: "consent_required")
        public static let interactionRequired = Code(rawValue: "interaction_required")
        public static let requestNotSupported = Code(rawValue: "request_not_supported")
        public static let requestURINotSupported = Code(rawValue: "request_uri_not_supported")
        public static let registrationNotSupported = Code(rawValue: "registration_not_supported")
        public static let invalidRedirectURI = Code(rawValue: "invalid_redirect_uri")
        public static let slowDown = Code(rawValue: "slow_down")
        /// RFC 8628 §3.5: the person has not decided yet.
        public static let authorizationPending = Code(rawValue: "authorization_pending")
        /// RFC 8628 §3.5: the device code has expired.
        public static let expiredToken = Code(rawValue: "expired_token")
        public static let payloadTooLarge = Code(rawValue: "payload_too_large")
        public static let notFound = Code(rawValue: "not_found")
        public static let invalidCSRF = Code(rawValue: "invalid_csrf_token")
        public static let sessionNotFound = Code(rawValue: "session_not_found")
    }

    public var code: Code
    public var description: String
    public var status: Int
    /// Value for `WWW-Authenticate`, set for bearer-token and client-authentication failures.
    public var wwwAuthenticate: String?
    /// What the operator's log may say beyond `description` (never sent to the caller): why a client authentication
    /// failed, when telling the caller would tell whether the client exists or how it authenticates. No secrets.
    public var reason: String?

    public init(_ code: Code, _ description: String, status: Int = 400, wwwAuthenticate: String? = nil) {
        self.code = code
        self.description = description
        self.status = status
        self.wwwAuthenticate = wwwAuthenticate
    }

    public static func invalidRequest(_ description: String) -> OAuthError {
        OAuthError(.invalidRequest, description)
    }

    public static func invalidGrant(_ description: String) -> OAuthError {
        OAuthError(.invalidGrant, description)
    }

    /// A failed client authentication, the same at every endpoint that authenticates clients and whichever
    /// method the client used: 401 with a `Basic` challenge (RFC 6749 §5.2; RFC 9110 §15.5.2 requires the
    /// challenge on every 401).
    public static func invalidClient(_ description: String) -> OAuthError {
        OAuthError(.invalidClient, description, status: 401, wwwAuthenticate: "Basic realm=\"oidc\"")
    }

    /// The one answer to a client authentication that failed for a reason that depends on the client (unknown, wrong
    /// secret or key, another method registered, keys that cannot be had): `reason` goes to the log only.
    public static func clientAuthenticationFailed(reason: String) -> OAuthError {
        var error = invalidClient("client authentication failed")
        error.reason = reason
        return error
    }

    public static func invalidToken(_ description: String) -> OAuthError {
        OAuthError(.invalidToken, description, status: 401,
                   wwwAuthenticate: "Bearer realm=\"oidc\", error=\"invalid_token\", error_description=\"\(description)\"")
    }

    public static func serverError(_ description: String = "the server could not complete the request") -> OAuthError {
        OAuthError(.serverError, description, status: 500)
    }

    /// The JSON body every client understands: `{"error": ..., "error_description": ...}`.
    public var body: JSONValue {
        .object(["error": .string(code.rawValue), "error_description": .string(description)])
    }
}
