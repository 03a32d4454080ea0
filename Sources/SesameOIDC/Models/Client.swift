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

    public init(id: String, name: String, description: String? = nil, type: ApplicationType, secretHash: String?,
                redirectURIs: [String], postLogoutRedirectURIs: [String], isThirdParty: Bool = false,
                canManage: Bool = false, createdAt: Date)
    {
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

    public func allows(_ grant: GrantType) -> Bool { type.grantTypes.contains(grant) }

    /// Checks a presented secret against the stored digest in constant time.
    public func verifySecret(_ presented: String) -> Bool {
        guard let secretHash else { return false }
        return SecretDigest.constantTimeEquals(SecretDigest.sha256Hex(presented), secretHash)
    }
}
