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
    /// How long a device code and its user code live (RFC 8628 §3.2 `expires_in`); Logto's 600.
    public var deviceCodeTTL: Int = 600
    /// The least time between a device's polls at first (RFC 8628 §3.2 `interval`; 5 is the RFC's default).
    public var devicePollInterval: Int = 5
    /// The page where a person enters a user code (RFC 8628 §3.2 `verification_uri`); the host sets it (Sesame:
    /// `ENDPOINT/device`). nil: the issuer's origin with `/device`.
    public var deviceVerificationURI: String?
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

    /// `deviceVerificationURI`, or the issuer without its `/oidc` path and with `/device`.
    public var verificationURI: String {
        if let deviceVerificationURI { return deviceVerificationURI }
        let base = issuer.hasSuffix("/oidc") ? String(issuer.dropLast(5)) : issuer
        return base + "/device"
    }

    public func endpoint(_ path: String) -> String {
        issuer + path
    }
}
