import Foundation

/// A sign-in in progress: the authorization request waiting while the user signs in or consents.
public struct Interaction: Sendable, Codable, Equatable {
    /// Hex SHA-256 of the cookie value that names it.
    public var id: String
    public var request: AuthorizationRequest
    public var createdAt: Date
    public var expiresAt: Date
    /// Whether the user must authenticate again (no session, `prompt=login`, `max_age` passed).
    public var requiresLogin: Bool
    /// Set once the user has signed in.
    public var accountID: String?
    public var authTime: Date?
    public var sessionID: String?
    public var isConsentGiven: Bool
    /// The consent entries (`ConsentScope`) the consent page showed; accepting records no more than these.
    public var shownConsent: [String]?
    /// How the user signed in (RFC 8176 `amr` values), once they have.
    public var amr: [String]?

    public init(id: String, request: AuthorizationRequest, createdAt: Date, expiresAt: Date, requiresLogin: Bool,
                accountID: String? = nil, authTime: Date? = nil, sessionID: String? = nil, isConsentGiven: Bool = false)
    {
        self.id = id
        self.request = request
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.requiresLogin = requiresLogin
        self.accountID = accountID
        self.authTime = authTime
        self.sessionID = sessionID
        self.isConsentGiven = isConsentGiven
    }
}

/// The identity provider's session: a signed-in browser, shared by every app (SSO).
public struct Session: Sendable, Codable, Equatable {
    /// Hex SHA-256 of the cookie value.
    public var id: String
    public var accountID: String
    public var authTime: Date
    public var createdAt: Date
    public var expiresAt: Date
    /// How the user signed in (RFC 8176 `amr` values: `pwd`, `otp`, `hwk`, `mfa`).
    public var amr: [String]

    public init(id: String, accountID: String, authTime: Date, createdAt: Date, expiresAt: Date, amr: [String] = []) {
        self.id = id
        self.accountID = accountID
        self.authTime = authTime
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.amr = amr
    }
}

/// One authorization: what a user (or an M2M client) granted to a client. Tokens point at it, so
/// revoking it revokes them all.
public struct Grant: Sendable, Codable, Equatable {
    public var id: String
    public var clientID: String
    public var accountID: String?
    public var scopes: [String]
    public var createdAt: Date

    public init(id: String, clientID: String, accountID: String?, scopes: [String], createdAt: Date) {
        self.id = id
        self.clientID = clientID
        self.accountID = accountID
        self.scopes = scopes
        self.createdAt = createdAt
    }
}

/// What an authorization code, and later a refresh token, carries forward from the authorization request.
public struct IssuanceContext: Sendable, Codable, Equatable {
    public var grantID: String
    public var clientID: String
    public var accountID: String
    public var scopes: [String]
    public var resources: [String]
    public var authTime: Date
    public var nonce: String?
    public var sessionID: String?
    /// How the user signed in (RFC 8176), for the ID token's `amr`; nil for grants made before Sesame kept it.
    public var amr: [String]?
    /// The `acr` the ID token states: set only when the authorization request sent `acr_values` or asked for `acr`
    /// in its `claims`.
    public var acr: String?
    /// The `claims` request of the authorization (OpenID Connect Core §5.5), for every token the grant issues.
    public var claims: ClaimsRequest?

    public init(grantID: String, clientID: String, accountID: String, scopes: [String], resources: [String],
                authTime: Date, nonce: String?, sessionID: String?, amr: [String]? = nil, acr: String? = nil)
    {
        self.amr = amr
        self.acr = acr
        self.grantID = grantID
        self.clientID = clientID
        self.accountID = accountID
        self.scopes = scopes
        self.resources = resources
        self.authTime = authTime
        self.nonce = nonce
        self.sessionID = sessionID
    }
}

public struct AuthorizationCode: Sendable, Codable, Equatable {
    /// Hex SHA-256 of the code.
    public var id: String
    public var context: IssuanceContext
    public var redirectURI: String
    public var codeChallenge: String?
    public var expiresAt: Date

    public init(id: String, context: IssuanceContext, redirectURI: String, codeChallenge: String?, expiresAt: Date) {
        self.id = id
        self.context = context
        self.redirectURI = redirectURI
        self.codeChallenge = codeChallenge
        self.expiresAt = expiresAt
    }
}

/// An opaque access token's record (JWT access tokens need no lookup).
public struct AccessTokenRecord: Sendable, Codable, Equatable {
    /// Hex SHA-256 of the token.
    public var id: String
    public var grantID: String?
    public var clientID: String
    public var accountID: String?
    public var scopes: [String]
    public var createdAt: Date
    public var expiresAt: Date
    /// The claims the authorization's `claims` request asked of userinfo (OpenID Connect Core §5.5), by name.
    public var claims: [String] = []

    public init(id: String, grantID: String?, clientID: String, accountID: String?, scopes: [String], createdAt: Date,
                expiresAt: Date, claims: [String] = [])
    {
        self.claims = claims
        self.id = id
        self.grantID = grantID
        self.clientID = clientID
        self.accountID = accountID
        self.scopes = scopes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

public struct RefreshTokenRecord: Sendable, Codable, Equatable {
    /// Hex SHA-256 of the token.
    public var id: String
    public var context: IssuanceContext
    public var createdAt: Date
    public var expiresAt: Date
    /// Set when the token was exchanged; a second use means it leaked.
    public var consumedAt: Date?

    public init(id: String, context: IssuanceContext, createdAt: Date, expiresAt: Date, consumedAt: Date? = nil) {
        self.id = id
        self.context = context
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.consumedAt = consumedAt
    }
}

/// An API resource (RFC 8707 resource indicator) with the scopes it defines.
public struct APIResource: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var indicator: String
    public var accessTokenTTL: Int
    public var scopes: [ResourceScope]
    public var createdAt: Date

    public init(id: String, name: String, indicator: String, accessTokenTTL: Int = 3600, scopes: [ResourceScope],
                createdAt: Date)
    {
        self.id = id
        self.name = name
        self.indicator = indicator
        self.accessTokenTTL = accessTokenTTL
        self.scopes = scopes
        self.createdAt = createdAt
    }
}

public struct ResourceScope: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var description: String?

    public init(id: String, name: String, description: String? = nil) {
        self.id = id
        self.name = name
        self.description = description
    }
}
