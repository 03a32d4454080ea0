import Foundation

/// How the engine behaves. Lifetimes in seconds.
public struct ProviderConfiguration: Sendable {
    /// `ENDPOINT/oidc`, no trailing slash.
    public var issuer: String
    public var authorizationCodeTTL: Int = 60
    public var accessTokenTTL: Int = 3600
    public var idTokenTTL: Int = 3600
    public var refreshTokenTTL: Int = 14 * 24 * 3600
    public var sessionTTL: Int = 14 * 24 * 3600
    public var interactionTTL: Int = 3600
    /// The algorithm of access tokens and of the ID tokens of applications that chose none (Logto's, which its
    /// SDKs and the seed's Auth.js path expect).
    public var defaultSigningAlgorithm: SigningAlgorithm = .es384

    /// The algorithms that always have a current key: every one Sesame signs with, RS256 among them as every OpenID
    /// Provider must offer it (OpenID Connect Core §15.1, Discovery §3). Made at first start, so a key is published
    /// long before an application first chooses its algorithm, and every later key of it goes through
    /// `keyActivationDelay` (a key made on the spot would sign before other instances and relying parties had it).
    public var requiredSigningAlgorithms: [SigningAlgorithm] {
        [defaultSigningAlgorithm] + SigningAlgorithm.allCases.filter { $0 != defaultSigningAlgorithm }
    }
    /// How long keys are cached before the store is read again; rotation reaches every instance this fast.
    public var keyCacheTTL: TimeInterval = 5
    /// How long a new key is published before it signs: longer than relying parties may cache the JWKS
    /// (`jwksMaxAge`) plus `keyCacheTTL`, so a token signed by it never meets a JWKS that lacks it.
    public var keyActivationDelay: TimeInterval = 70
    /// `Cache-Control: max-age` of the JWKS and the discovery document, in seconds.
    public var jwksMaxAge = 60
    /// The Management API's resource indicator (Logto's), for machine-to-machine apps allowed to manage.
    public var managementResource = "https://default.logto.app/api"

    public init(issuer: String) {
        self.issuer = issuer
    }

    /// The longest a JWT signed by a retired key can still be valid.
    public var longestJWTLifetime: Int {
        max(accessTokenTTL, idTokenTTL, 24 * 3600)
    }

    /// How long a key stays published after it was retired: it may have signed until the next key's
    /// activation, and its tokens live `longestJWTLifetime` after that.
    public var retiredKeyRetention: TimeInterval {
        TimeInterval(longestJWTLifetime) + keyActivationDelay
    }

    public func endpoint(_ path: String) -> String {
        issuer + path
    }
}
