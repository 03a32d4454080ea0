import Foundation

/// Registered clients, looked up on every request that names one.
public protocol ClientStore: Sendable {
    func client(id: String) async throws -> Client?
    /// The secrets of a `client_secret_jwt` client in clear (opened from their sealed copies), to check assertion
    /// MACs with; the caller keeps only those that still verify against the client's digests. [] when none is kept.
    func recoverableSecrets(clientID: String) async throws -> [String]
    /// Remembers a client assertion's `jti` until `expiresAt` (RFC 7523 §3 item 7, OpenID Connect Core §9): true the
    /// first time, false when the client used it before (a replay). Two requests racing with one `jti`: exactly one
    /// gets true.
    func useClientAssertion(clientID: String, jti: String, expiresAt: Date) async throws -> Bool
}

/// Signing keys. Implementations encrypt private material at rest.
public protocol SigningKeyStore: Sendable {
    /// Every stored key, newest first.
    func signingKeys() async throws -> [SigningKey]
    /// Stores `key` only when no key of its algorithm exists yet; several instances may race at first start.
    func insertInitialSigningKey(_ key: SigningKey) async throws
    /// Makes `key` current for its algorithm and retires that algorithm's keys before it at `now` (other
    /// algorithms' keys are left alone).
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
    /// Starts `session`, ending the browser's previous one and recording the sign-in on its interaction, in one
    /// transaction: a failure at any point leaves the previous session as it was.
    func startSession(_ session: Session, replacing previousID: String?, interaction: Interaction?) async throws
}

/// A single-use artifact spent at the token endpoint, and the tokens that replace it (RFC 6749 §4.1.2, §6).
public struct TokenExchange: Sendable, Equatable {
    public enum Spent: Sendable, Equatable {
        case authorizationCode(id: String)
        case refreshToken(id: String)
        /// A device authorization approved by its user (RFC 8628 §3.5), by `DeviceAuthorization.id`.
        case deviceCode(id: String)
    }

    public var spent: Spent
    public var grantID: String
    /// The opaque access token to store (nil when the access token is a JWT, which is not stored).
    public var accessToken: AccessTokenRecord?
    public var refreshToken: RefreshTokenRecord?

    public init(spent: Spent, grantID: String, accessToken: AccessTokenRecord?, refreshToken: RefreshTokenRecord?) {
        self.spent = spent
        self.grantID = grantID
        self.accessToken = accessToken
        self.refreshToken = refreshToken
    }

    public enum Outcome: Sendable, Equatable {
        /// Spent now, and the new tokens stored.
        case issued
        /// Spent before (or unknown): a replay. Nothing was stored.
        case alreadySpent
        /// The grant no longer exists (revoked, perhaps by a replay detected a moment ago). Nothing was stored.
        case grantRevoked
    }
}

/// Grants, consents and every token that hangs off a grant.
public protocol GrantStore: Sendable {
    func insertGrant(_ grant: Grant) async throws
    /// Stores a new grant and its authorization code together (one transaction). With `interactionID`, the
    /// interaction is spent in the same transaction, and nothing is stored when it was spent already (two
    /// resumes of one sign-in racing): returns whether the code was stored.
    @discardableResult
    func insertGrant(_ grant: Grant, code: AuthorizationCode, consumingInteraction interactionID: String?)
        async throws -> Bool
    func grant(id: String) async throws -> Grant?
    /// Deletes the grant and every code, access token and refresh token issued under it, in one transaction.
    /// The grant goes first, so an exchange of the same grant running at the same moment either commits before
    /// (and its tokens are deleted here) or finds the grant gone and stores nothing.
    func revokeGrant(id: String) async throws
    /// Spends the code or refresh token and stores the tokens that replace it, all or nothing, in one
    /// transaction that first holds the grant against a concurrent revocation. Two exchanges of one code or
    /// token: exactly one gets `.issued`.
    func exchange(_ exchange: TokenExchange, now: Date) async throws -> TokenExchange.Outcome
    func consentedScopes(accountID: String, clientID: String) async throws -> Set<String>
    /// Adds `scopes` to the account's consent for the client and, of `organizationIDs`, those the account is a
    /// member of (a consent to an organization goes when the membership goes); one transaction.
    func saveConsent(accountID: String, clientID: String, scopes: Set<String>, organizationIDs: [String], now: Date)
        async throws
    /// The organizations the account let the client see (Logto's consent organizations, for third-party apps).
    func consentedOrganizationIDs(accountID: String, clientID: String) async throws -> Set<String>
}

public protocol AuthorizationCodeStore: Sendable {
    func insertAuthorizationCode(_ code: AuthorizationCode) async throws
    /// The code and whether it was spent already (spending happens in `GrantStore.exchange`).
    func authorizationCode(id: String) async throws -> (code: AuthorizationCode, isConsumed: Bool)?
}

public protocol TokenStore: Sendable {
    func insertAccessToken(_ token: AccessTokenRecord) async throws
    func accessToken(id: String) async throws -> AccessTokenRecord?
    func deleteAccessToken(id: String) async throws
    func insertRefreshToken(_ token: RefreshTokenRecord) async throws
    func refreshToken(id: String) async throws -> RefreshTokenRecord?
}

/// Device authorizations (RFC 8628): made by the device authorization endpoint, found by the verification page
/// through their user code, decided by the person, polled and spent by the device.
public protocol DeviceAuthorizationStore: Sendable {
    /// Stores a new device authorization; false (and nothing stored) when a live one already has its user code.
    func insertDeviceAuthorization(_ authorization: DeviceAuthorization) async throws -> Bool
    /// The authorization whose user code has this digest (`UserCode.digest`), in any state.
    func deviceAuthorization(userCodeDigest: String) async throws -> DeviceAuthorization?
    /// Records a poll at `now` in one step that orders concurrent polls: returns the authorization as it was before,
    /// and whether this poll came sooner than `interval - tolerance` seconds after the previous one, in which case the
    /// interval is raised by 5 seconds for this and every later poll (RFC 8628 §3.5 `slow_down`). nil when unknown.
    func pollDeviceAuthorization(id: String, now: Date, tolerance: TimeInterval) async throws
        -> (authorization: DeviceAuthorization, slowDown: Bool)?
    /// The person approved: stores `grant` and records `context` on the authorization, which must still be pending
    /// and unexpired at `now`; with `interactionID`, that interaction is spent too. One transaction: false, and nothing
    /// stored, when the authorization was decided or expired meanwhile or the interaction was spent (two approvals
    /// racing: exactly one gets true).
    func approveDeviceAuthorization(id: String, grant: Grant, context: IssuanceContext,
                                    consumingInteraction interactionID: String?, now: Date) async throws -> Bool
    /// The person refused: a pending authorization becomes denied (and the interaction, if named, is spent). False
    /// when it was no longer pending.
    func denyDeviceAuthorization(id: String, consumingInteraction interactionID: String?) async throws -> Bool
}

public protocol ResourceStore: Sendable {
    func resource(indicator: String) async throws -> APIResource?
}

/// Who holds permissions: an end user (by account id) or a machine-to-machine client (by client id).
public enum PermissionSubject: Sendable, Hashable {
    case account(String)
    case client(String)
}

/// The engine's question to the authorization layer: which of a resource's scopes may this subject hold?
/// The identity layer answers from roles; one indexed query per call.
public protocol PermissionStore: Sendable {
    /// The names of the scopes of the resource `resourceID` that `subject`'s roles hold.
    func permittedScopes(of subject: PermissionSubject, resourceID: String) async throws -> Set<String>
}

/// Removes what has expired; run periodically by the host.
public protocol ExpiryStore: Sendable {
    func deleteExpired(before now: Date) async throws
}

/// What a member's roles in one organization allow (Logto's organization tokens).
public struct OrganizationGrant: Sendable, Equatable {
    /// Organization scopes, or with a resource that resource's scopes, from the member's roles there.
    public var scopes: Set<String>
    /// The organization requires a second factor of its members.
    public var requiresMFA: Bool

    public init(scopes: Set<String>, requiresMFA: Bool) {
        self.scopes = scopes
        self.requiresMFA = requiresMFA
    }
}

/// The engine's question for organization tokens; one indexed query per call.
public protocol OrganizationPermissionStore: Sendable {
    /// nil when `subject` is not a member of the organization; else what its roles there allow: organization
    /// scopes (`resourceID` nil) or the scopes of that API resource.
    func organizationGrant(of subject: PermissionSubject, organizationID: String, resourceID: String?) async throws
        -> OrganizationGrant?
}

/// Everything the engine stores, in one value the host passes in.
public typealias ProviderStorage = ClientStore & SigningKeyStore & InteractionStore & SessionStore & GrantStore
    & AuthorizationCodeStore & TokenStore & ResourceStore & PermissionStore & OrganizationPermissionStore
    & DeviceAuthorizationStore

/// The engine's question to the identity layer: who is this account, and which claims may a client see.
public protocol AccountProvider: Sendable {
    func account(id: String) async throws -> Account?
    /// The account with the claims `scopes` release that cost a lookup of their own (`roles`); the engine
    /// calls this when it will release claims. The default is `account(id:)`.
    func account(id: String, releasing scopes: [String]) async throws -> Account?
    /// The extended claims (`StandardScope.extendedClaims`) an ID token may carry; the others go to userinfo
    /// only (Logto's `idToken.enabledExtendedClaims`). The default is none.
    func enabledExtendedIDTokenClaims() async throws -> Set<String>
}

extension AccountProvider {
    public func account(id: String, releasing scopes: [String]) async throws -> Account? {
        try await account(id: id)
    }

    public func enabledExtendedIDTokenClaims() async throws -> Set<String> { [] }
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
