import Foundation

/// Registered clients, looked up on every request that names one.
public protocol ClientStore: Sendable {
    func client(id: String) async throws -> Client?
}

/// Signing keys. Implementations encrypt private material at rest.
public protocol SigningKeyStore: Sendable {
    /// Every stored key, newest first.
    func signingKeys() async throws -> [SigningKey]
    /// Stores `key` only when no key exists yet; several instances may race at first start.
    func insertInitialSigningKey(_ key: SigningKey) async throws
    /// Makes `key` current and retires the keys before it at `now`.
    func rotate(to key: SigningKey, now: Date) async throws
    /// Removes keys retired before `cutoff`.
    func deleteSigningKeys(retiredBefore cutoff: Date) async throws
}

public protocol InteractionStore: Sendable {
    func insertInteraction(_ interaction: Interaction) async throws
    func interaction(id: String) async throws -> Interaction?
    func updateInteraction(_ interaction: Interaction) async throws
    func deleteInteraction(id: String) async throws
}

public protocol SessionStore: Sendable {
    func insertSession(_ session: Session) async throws
    func session(id: String) async throws -> Session?
    func deleteSession(id: String) async throws
    func deleteSessions(accountID: String) async throws
}

/// Grants, consents and every token that hangs off a grant.
public protocol GrantStore: Sendable {
    func insertGrant(_ grant: Grant) async throws
    func grant(id: String) async throws -> Grant?
    /// Deletes the grant and every code, access token and refresh token issued under it.
    func revokeGrant(id: String) async throws
    func consentedScopes(accountID: String, clientID: String) async throws -> Set<String>
    func saveConsent(accountID: String, clientID: String, scopes: Set<String>, now: Date) async throws
}

public protocol AuthorizationCodeStore: Sendable {
    func insertAuthorizationCode(_ code: AuthorizationCode) async throws
    /// Marks the code used and returns it; `wasConsumed` is true when it had been used before.
    func consumeAuthorizationCode(id: String, now: Date) async throws -> (code: AuthorizationCode, wasConsumed: Bool)?
}

public protocol TokenStore: Sendable {
    func insertAccessToken(_ token: AccessTokenRecord) async throws
    func accessToken(id: String) async throws -> AccessTokenRecord?
    func deleteAccessToken(id: String) async throws
    func insertRefreshToken(_ token: RefreshTokenRecord) async throws
    func refreshToken(id: String) async throws -> RefreshTokenRecord?
    /// Marks the token used, atomically: returns false when it had already been used.
    func consumeRefreshToken(id: String, now: Date) async throws -> Bool
}

public protocol ResourceStore: Sendable {
    func resource(indicator: String) async throws -> APIResource?
}

/// Removes what has expired; run periodically by the host.
public protocol ExpiryStore: Sendable {
    func deleteExpired(before now: Date) async throws
}

/// Everything the engine stores, in one value the host passes in.
public typealias ProviderStorage = ClientStore & SigningKeyStore & InteractionStore & SessionStore & GrantStore
    & AuthorizationCodeStore & TokenStore & ResourceStore

/// The engine's question to the identity layer: who is this account, and which claims may a client see.
public protocol AccountProvider: Sendable {
    func account(id: String) async throws -> Account?
}

public struct Account: Sendable, Equatable {
    public var id: String
    /// Standard claims by name (`name`, `email`, `email_verified`, ...); nil values are left out.
    public var claims: [String: JSONValue]

    public init(id: String, claims: [String: JSONValue]) {
        self.id = id
        self.claims = claims
    }
}
