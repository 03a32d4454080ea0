import Foundation

/// The kinds of application Logto's Console offers; they decide grants and client authentication.
public enum ApplicationType: String, Sendable, Codable, CaseIterable {
    /// A server-rendered web app with a secret (Auth.js, Next.js, Express...).
    case traditional = "Traditional"
    /// A single-page app in the browser: public, PKCE required.
    case spa = "SPA"
    /// A native or mobile app: public, PKCE required.
    case native = "Native"
    /// A machine-to-machine client: `client_credentials` only.
    case machineToMachine = "MachineToMachine"

    public var isConfidential: Bool { self == .traditional || self == .machineToMachine }

    public var grantTypes: Set<GrantType> {
        switch self {
        case .traditional, .spa, .native: [.authorizationCode, .refreshToken]
        case .machineToMachine: [.clientCredentials]
        }
    }
}

public enum GrantType: String, Sendable, Codable, CaseIterable {
    case authorizationCode = "authorization_code"
    case refreshToken = "refresh_token"
    case clientCredentials = "client_credentials"
    /// RFC 8628 §3.4, for native apps that opt in (`Client.isDeviceFlow`).
    case deviceCode = "urn:ietf:params:oauth:grant-type:device_code"
}

/// How a client proves who it is at the token, introspection and revocation endpoints (OpenID Connect
/// Registration §2 `token_endpoint_auth_method`, OpenID Connect Core §9, RFC 7523 §2.2).
public enum ClientAuthenticationMethod: String, Sendable, Codable, CaseIterable {
    /// The secret in `Authorization: Basic` (RFC 6749 §2.3.1).
    case clientSecretBasic = "client_secret_basic"
    /// The secret as the `client_secret` form parameter (RFC 6749 §2.3.1).
    case clientSecretPost = "client_secret_post"
    /// A JWT MACed with the secret (HS256, HS384 or HS512); the server keeps a sealed copy of the secret.
    case clientSecretJWT = "client_secret_jwt"
    /// A JWT signed with a private key whose public half the application registered (`jwks` or `jwks_uri`).
    case privateKeyJWT = "private_key_jwt"
    /// A public client: `client_id` only.
    case none

    /// The JWS algorithms a client assertion may use with this method (RFC 7518 §3.1): HS256, HS384 and HS512 for
    /// `client_secret_jwt`, the signature algorithms Sesame verifies for `private_key_jwt`, none for the others.
    public var assertionAlgorithms: [String] {
        switch self {
        case .clientSecretJWT: ["HS256", "HS384", "HS512"]
        case .privateKeyJWT: SigningAlgorithm.allCases.map(\.rawValue)
        case .clientSecretBasic, .clientSecretPost, .none: []
        }
    }

    /// Every algorithm a client assertion may use, whatever the method (discovery's
    /// `token_endpoint_auth_signing_alg_values_supported`).
    public static var assertionAlgorithms: [String] {
        privateKeyJWT.assertionAlgorithms + clientSecretJWT.assertionAlgorithms
    }
}

/// A named, optionally expiring client secret added beside the application's original one (Logto's
/// application secrets), so a secret can be rotated without downtime. Only its digest is stored.
public struct ClientSecret: Sendable, Codable, Equatable {
    public var name: String
    /// Hex SHA-256 of the secret.
    public var hash: String
    public var createdAt: Date
    public var expiresAt: Date?

    public init(name: String, hash: String, createdAt: Date, expiresAt: Date? = nil) {
        self.name = name
        self.hash = hash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    public func isValid(at now: Date) -> Bool { expiresAt.map { $0 > now } ?? true }
}

/// A registered OAuth client (Logto: an application).
public struct Client: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var description: String?
    public var type: ApplicationType
    /// Hex SHA-256 of the secret; nil for public clients. The secret itself is shown once at creation.
    public var secretHash: String?
    public var redirectURIs: [String]
    public var postLogoutRedirectURIs: [String]
    /// Third-party apps see a consent page; first-party apps are consented automatically.
    public var isThirdParty: Bool
    /// Machine-to-machine apps allowed to get tokens for the Management API.
    public var canManage: Bool
    public var createdAt: Date
    /// Named secrets beside the original one; any valid one authenticates the client.
    public var secrets: [ClientSecret] = []
    /// The algorithm its ID tokens are signed with (OpenID Connect Registration §2 `id_token_signed_response_alg`);
    /// nil: the server's default (`ProviderConfiguration.defaultSigningAlgorithm`, ES384).
    public var idTokenSignedResponseAlg: SigningAlgorithm?
    /// The one method it must authenticate with; nil: the type's default (a confidential client's secret, basic or
    /// post; `none` for a public client), which is what Logto's applications use.
    public var tokenEndpointAuthMethod: ClientAuthenticationMethod?
    /// `private_key_jwt`: its public keys as a JWK Set (RFC 7517 §5, `{"keys": [...]}`), registered inline.
    public var jwks: JSONValue?
    /// `private_key_jwt`: where its JWK Set is published; fetched with a timeout and cached (`ClientKeySets`).
    public var jwksURI: String?
    /// The one JWS algorithm its client assertions may use (Registration §2 `token_endpoint_auth_signing_alg`);
    /// nil: any the method allows.
    public var tokenEndpointAuthSigningAlg: String?
    /// A native app that signs in with the device authorization grant (RFC 8628; Logto's
    /// `customClientMetadata.isDeviceFlow`): a TV, a CLI, a device without a browser.
    public var isDeviceFlow = false

    public init(id: String, name: String, description: String? = nil, type: ApplicationType, secretHash: String?,
                redirectURIs: [String], postLogoutRedirectURIs: [String], isThirdParty: Bool = false,
                canManage: Bool = false, createdAt: Date, idTokenSignedResponseAlg: SigningAlgorithm? = nil)
    {
        self.idTokenSignedResponseAlg = idTokenSignedResponseAlg
        self.canManage = canManage
        self.id = id
        self.name = name
        self.description = description
        self.type = type
        self.secretHash = secretHash
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.isThirdParty = isThirdParty
        self.createdAt = createdAt
    }

    /// The grants it may use: its type's; a native app that opted in to the device flow uses the device grant and
    /// refresh tokens instead of the code flow (Logto's constant metadata for such apps).
    public var grantTypes: Set<GrantType> {
        if isDeviceFlow, type == .native { return [.deviceCode, .refreshToken] }
        return type.grantTypes
    }

    public func allows(_ grant: GrantType) -> Bool { grantTypes.contains(grant) }

    /// The methods this client may authenticate with: its registered one, or its type's default.
    public var authenticationMethods: Set<ClientAuthenticationMethod> {
        if let tokenEndpointAuthMethod { return [tokenEndpointAuthMethod] }
        return type.isConfidential ? [.clientSecretBasic, .clientSecretPost] : [.none]
    }

    /// The method shown for this client (Registration §2): its registered one or its type's default.
    public var effectiveAuthenticationMethod: ClientAuthenticationMethod {
        tokenEndpointAuthMethod ?? (type.isConfidential ? .clientSecretBasic : .none)
    }

    /// Whether `redirectURI` is registered: an exact string match (OIDC Core §3.1.2.1, no wildcards, no
    /// normalising), except that a native app which registered a loopback IP literal (`http://127.0.0.1/cb`,
    /// `http://[::1]/cb`) may name any port at request time, as RFC 8252 §7.3 asks; scheme, host, path and
    /// query stay exact. `localhost` gets no such leeway (RFC 8252 §8.3), nor do web apps.
    public func isRegistered(redirectURI: String) -> Bool {
        if redirectURIs.contains(redirectURI) { return true }
        guard type == .native, let requested = LoopbackURI(redirectURI) else { return false }
        return redirectURIs.contains { LoopbackURI($0)?.matches(ignoringPort: requested) == true }
    }

    /// Checks a presented secret against the original secret's digest and every named secret still valid at
    /// `now`, each comparison in constant time.
    public func verifySecret(_ presented: String, at now: Date = Date()) -> Bool {
        let digest = SecretDigest.sha256Hex(presented)
        var matches = secretHash.map { SecretDigest.constantTimeEquals(digest, $0) } ?? false
        for secret in secrets where secret.isValid(at: now) {
            matches = SecretDigest.constantTimeEquals(digest, secret.hash) || matches
        }
        return matches
    }
}

/// An `http` URI on a loopback IP literal, split where RFC 8252 §7.3 lets the port vary.
struct LoopbackURI: Equatable {
    /// `127.0.0.1` or `[::1]`.
    let host: String
    /// Everything after the authority: path, query and fragment, compared exactly.
    let rest: String

    init?(_ uri: String) {
        let prefix = "http://"
        guard uri.hasPrefix(prefix) else { return nil }
        let afterScheme = uri.dropFirst(prefix.count)
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        var host = Substring(authority)
        for literal in ["127.0.0.1", "[::1]"] where authority.hasPrefix(literal) {
            let port = authority.dropFirst(literal.count)
            guard port.isEmpty || (port.first == ":" && (2...6).contains(port.count)
                && port.dropFirst().allSatisfy(\.isASCIIDigit) && Int(port.dropFirst()).map { $0 <= 65535 } == true)
            else { return nil }
            host = Substring(literal)
        }
        guard host == "127.0.0.1" || host == "[::1]" else { return nil }
        self.host = String(host)
        rest = String(afterScheme[authorityEnd...])
    }

    func matches(ignoringPort other: LoopbackURI) -> Bool {
        host == other.host && rest == other.rest
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
