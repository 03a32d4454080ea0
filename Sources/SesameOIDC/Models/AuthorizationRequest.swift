import Foundation

/// A validated authorization request, kept with the interaction while the user signs in.
public struct AuthorizationRequest: Sendable, Codable, Equatable {
    public var clientID: String
    public var redirectURI: String
    public var scopes: [String]
    public var state: String?
    public var nonce: String?
    public var codeChallenge: String?
    public var prompts: Set<Prompt>
    public var maxAge: Int?
    public var loginHint: String?
    public var uiLocales: String?
    public var resources: [String]
    /// Logto's extra parameter `organization_id`: the organization whose branding the sign-in pages show. It
    /// selects nothing else (organization tokens name their organization at the token endpoint).
    public var organizationID: String?
    /// `acr_values` (OpenID Connect Core §3.1.2.1), in order of preference, with the classes a `claims` request
    /// names for `acr`; nil when neither was sent.
    public var acrValues: [String]?
    /// The `claims` parameter (OpenID Connect Core §5.5); nil when not sent.
    public var claims: ClaimsRequest?
    /// Set when the sign-in approves a device (RFC 8628): the `DeviceAuthorization.id` it decides. Such a request has
    /// no redirect URI; its end is the verification page's result (`ProviderConfiguration.deviceVerificationURI`).
    public var deviceAuthorizationID: String?

    /// Whether the client asked for a multi-factor sign-in (`acr_values` naming `urn:sesame:acr:mfa`).
    public var demandsMFA: Bool { acrValues?.contains("urn:sesame:acr:mfa") ?? false }

    public enum Prompt: String, Sendable, Codable, CaseIterable {
        case none, login, consent
        case selectAccount = "select_account"
    }

    public init(clientID: String, redirectURI: String, scopes: [String], state: String? = nil, nonce: String? = nil,
                codeChallenge: String? = nil, prompts: Set<Prompt> = [], maxAge: Int? = nil, loginHint: String? = nil,
                uiLocales: String? = nil, resources: [String] = [])
    {
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.scopes = scopes
        self.state = state
        self.nonce = nonce
        self.codeChallenge = codeChallenge
        self.prompts = prompts
        self.maxAge = maxAge
        self.loginHint = loginHint
        self.uiLocales = uiLocales
        self.resources = resources
    }
}
