import Foundation
import SesameOIDC
import Synchronization

/// The engine's storage in memory, with the same semantics as the SQL store (atomic consume, grant
/// revocation that takes every token with it), so the engine is tested without a database.
final class InMemoryStorage: ProviderStorage, Sendable {
    struct State {
        var clients: [String: Client] = [:]
        /// Secrets in clear of `client_secret_jwt` clients, by client id.
        var recoverableSecrets: [String: [String]] = [:]
        /// Spent client assertions: "client id + jti".
        var assertions: Set<String> = []
        var keys: [SigningKey] = []
        var interactions: [String: Interaction] = [:]
        var sessions: [String: Session] = [:]
        var grants: [String: Grant] = [:]
        var consents: [String: Set<String>] = [:]
        var consentedOrganizations: [String: Set<String>] = [:]
        var codes: [String: (code: AuthorizationCode, consumed: Bool)] = [:]
        var accessTokens: [String: AccessTokenRecord] = [:]
        var refreshTokens: [String: RefreshTokenRecord] = [:]
        var resources: [String: APIResource] = [:]
        /// What each subject's roles hold, by resource id.
        var permissions: [PermissionSubject: [String: Set<String>]] = [:]
        /// Organization grants by subject, organization id and resource id ("" for organization scopes).
        var organizations: [PermissionSubject: [String: [String: OrganizationGrant]]] = [:]
        var devices: [String: DeviceAuthorization] = [:]
    }

    let state = Mutex(State())

    func client(id: String) async throws -> Client? { state.withLock { $0.clients[id] } }
    func recoverableSecrets(clientID: String) async throws -> [String] {
        state.withLock { $0.recoverableSecrets[clientID] ?? [] }
    }
    func useClientAssertion(clientID: String, jti: String, expiresAt: Date) async throws -> Bool {
        state.withLock { $0.assertions.insert(clientID + "\u{0}" + jti).inserted }
    }

    func signingKeys() async throws -> [SigningKey] {
        state.withLock { $0.keys.sorted { $0.createdAt > $1.createdAt } }
    }

    func insertInitialSigningKey(_ key: SigningKey) async throws {
        state.withLock { state in
            if !state.keys.contains(where: { $0.algorithm == key.algorithm && $0.retiredAt == nil }) { state.keys.append(key) }
        }
    }

    func rotate(to key: SigningKey, now: Date) async throws {
        state.withLock { state in
            for index in state.keys.indices where state.keys[index].retiredAt == nil
                && state.keys[index].algorithm == key.algorithm
            {
                state.keys[index].retiredAt = now
            }
            state.keys.append(key)
        }
    }

    func deleteSigningKeys(retiredBefore cutoff: Date) async throws {
        state.withLock { $0.keys.removeAll { ($0.retiredAt ?? .distantFuture) < cutoff } }
    }

    func insertInteraction(_ interaction: Interaction) async throws {
        state.withLock { $0.interactions[interaction.id] = interaction }
    }

    func interaction(id: String) async throws -> Interaction? { state.withLock { $0.interactions[id] } }

    func updateInteraction(_ interaction: Interaction) async throws {
        state.withLock { $0.interactions[interaction.id] = interaction }
    }

    func deleteInteraction(id: String) async throws { state.withLock { $0.interactions[id] = nil } }

    func insertSession(_ session: Session) async throws { state.withLock { $0.sessions[session.id] = session } }

    func session(id: String) async throws -> Session? { state.withLock { $0.sessions[id] } }

    func deleteSession(id: String) async throws { state.withLock { $0.sessions[id] = nil } }

    func deleteSessions(accountID: String) async throws {
        state.withLock { $0.sessions = $0.sessions.filter { $0.value.accountID != accountID } }
    }

    func insertGrant(_ grant: Grant) async throws { state.withLock { $0.grants[grant.id] = grant } }

    @discardableResult
    func insertGrant(_ grant: Grant, code: AuthorizationCode, consumingInteraction interactionID: String?)
        async throws -> Bool
    {
        state.withLock { state in
            if let interactionID {
                guard state.interactions.removeValue(forKey: interactionID) != nil else { return false }
            }
            state.grants[grant.id] = grant
            state.codes[code.id] = (code, false)
            return true
        }
    }

    func startSession(_ session: Session, replacing previousID: String?, interaction: Interaction?) async throws {
        state.withLock { state in
            if let previousID { state.sessions[previousID] = nil }
            state.sessions[session.id] = session
            if let interaction { state.interactions[interaction.id] = interaction }
        }
    }

    func exchange(_ exchange: TokenExchange, now: Date) async throws -> TokenExchange.Outcome {
        state.withLock { state in
            guard state.grants[exchange.grantID] != nil else { return .grantRevoked }
            switch exchange.spent {
            case .authorizationCode(let id):
                guard let entry = state.codes[id], !entry.consumed, entry.code.context.grantID == exchange.grantID
                else { return .alreadySpent }
                state.codes[id] = (entry.code, true)
            case .refreshToken(let id):
                guard var token = state.refreshTokens[id], token.consumedAt == nil,
                      token.context.grantID == exchange.grantID
                else { return .alreadySpent }
                token.consumedAt = now
                state.refreshTokens[id] = token
            case .deviceCode(let id):
                guard var device = state.devices[id], device.status == .approved, device.consumedAt == nil,
                      device.context?.grantID == exchange.grantID
                else { return .alreadySpent }
                device.consumedAt = now
                state.devices[id] = device
            }
            if let token = exchange.accessToken { state.accessTokens[token.id] = token }
            if let token = exchange.refreshToken { state.refreshTokens[token.id] = token }
            return .issued
        }
    }

    func grant(id: String) async throws -> Grant? { state.withLock { $0.grants[id] } }

    func insertDeviceAuthorization(_ authorization: DeviceAuthorization) async throws -> Bool {
        state.withLock { state in
            guard !state.devices.values.contains(where: { $0.userCodeDigest == authorization.userCodeDigest })
            else { return false }
            state.devices[authorization.id] = authorization
            return true
        }
    }

    func deviceAuthorization(userCodeDigest: String) async throws -> DeviceAuthorization? {
        state.withLock { $0.devices.values.first { $0.userCodeDigest == userCodeDigest } }
    }

    func pollDeviceAuthorization(id: String, now: Date, tolerance: TimeInterval) async throws
        -> (authorization: DeviceAuthorization, slowDown: Bool)?
    {
        state.withLock { state in
            guard let before = state.devices[id] else { return nil }
            let slowDown = before.lastPolledAt.map { now.timeIntervalSince($0) < TimeInterval(before.interval) - tolerance }
                ?? false
            state.devices[id]?.lastPolledAt = now
            if slowDown { state.devices[id]?.interval += 5 }
            return (before, slowDown)
        }
    }

    func approveDeviceAuthorization(id: String, grant: Grant, context: IssuanceContext,
                                    consumingInteraction interactionID: String?, now: Date) async throws -> Bool
    {
        state.withLock { state in
            guard var device = state.devices[id], device.status == .pending, device.consumedAt == nil,
                  device.expiresAt > now
            else { return false }
            if let interactionID {
                guard state.interactions.removeValue(forKey: interactionID) != nil else { return false }
            }
            device.status = .approved
            device.context = context
            state.devices[id] = device
            state.grants[grant.id] = grant
            return true
        }
    }

    func denyDeviceAuthorization(id: String, consumingInteraction interactionID: String?) async throws -> Bool {
        state.withLock { state in
            if let interactionID { state.interactions[interactionID] = nil }
            guard state.devices[id]?.status == .pending else { return false }
            state.devices[id]?.status = .denied
            return true
        }
    }

    func revokeGrant(id: String) async throws {
        state.withLock { state in
            state.grants[id] = nil
            state.accessTokens = state.accessTokens.filter { $0.value.grantID != id }
            state.refreshTokens = state.refreshTokens.filter { $0.value.context.grantID != id }
            state.codes = state.codes.filter { $0.value.code.context.grantID != id || $0.value.consumed }
        }
    }

    func consentedScopes(accountID: String, clientID: String) async throws -> Set<String> {
        state.withLock { $0.consents[accountID + "|" + clientID] ?? [] }
    }

    func saveConsent(accountID: String, clientID: String, scopes: Set<String>, organizationIDs: [String], now: Date)
        async throws
    {
        state.withLock {
            $0.consents[accountID + "|" + clientID, default: []].formUnion(scopes)
            $0.consentedOrganizations[accountID + "|" + clientID, default: []].formUnion(organizationIDs)
        }
    }

    func consentedOrganizationIDs(accountID: String, clientID: String) async throws -> Set<String> {
        state.withLock { $0.consentedOrganizations[accountID + "|" + clientID] ?? [] }
    }

    func insertAuthorizationCode(_ code: AuthorizationCode) async throws {
        state.withLock { $0.codes[code.id] = (code, false) }
    }

    func authorizationCode(id: String) async throws -> (code: AuthorizationCode, isConsumed: Bool)? {
        state.withLock { state in state.codes[id].map { ($0.code, $0.consumed) } }
    }

    func insertAccessToken(_ token: AccessTokenRecord) async throws {
        state.withLock { $0.accessTokens[token.id] = token }
    }

    func accessToken(id: String) async throws -> AccessTokenRecord? { state.withLock { $0.accessTokens[id] } }

    func deleteAccessToken(id: String) async throws { state.withLock { $0.accessTokens[id] = nil } }

    func insertRefreshToken(_ token: RefreshTokenRecord) async throws {
        state.withLock { $0.refreshTokens[token.id] = token }
    }

    func refreshToken(id: String) async throws -> RefreshTokenRecord? { state.withLock { $0.refreshTokens[id] } }

    func resource(indicator: String) async throws -> APIResource? { state.withLock { $0.resources[indicator] } }

    func permittedScopes(of subject: PermissionSubject, resourceID: String) async throws -> Set<String> {
        state.withLock { $0.permissions[subject]?[resourceID] ?? [] }
    }

    func organizationGrant(of subject: PermissionSubject, organizationID: String, resourceID: String?) async throws
        -> OrganizationGrant?
    {
        state.withLock { state in
            guard let memberships = state.organizations[subject]?[organizationID] else { return nil }
            return memberships[resourceID ?? ""] ?? OrganizationGrant(scopes: [], requiresMFA:
                memberships.values.first?.requiresMFA ?? false)
        }
    }

    func join(_ subject: PermissionSubject, _ organizationID: String, scopes: Set<String>, resourceID: String = "",
              requiresMFA: Bool = false)
    {
        state.withLock {
            $0.organizations[subject, default: [:]][organizationID, default: [:]][resourceID] =
                OrganizationGrant(scopes: scopes, requiresMFA: requiresMFA)
        }
    }

    func permit(_ subject: PermissionSubject, _ scopes: Set<String>, resourceID: String = "api") {
        state.withLock { $0.permissions[subject, default: [:]][resourceID] = scopes }
    }
}

struct InMemoryAccounts: AccountProvider {
    let accounts: [String: Account]
    var roles: [String: [String]] = [:]
    var idTokenClaims: Set<String> = []

    func account(id: String) async throws -> Account? { accounts[id] }

    func account(id: String, releasing scopes: [String]) async throws -> Account? {
        guard var account = accounts[id] else { return nil }
        if scopes.contains("roles") { account.claims["roles"] = .array((roles[id] ?? []).map { .string($0) }) }
        return account
    }

    func enabledExtendedIDTokenClaims() async throws -> Set<String> { idTokenClaims }
}

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let value = Mutex(Date(timeIntervalSince1970: 1_800_000_000))

    var now: Date { value.withLock { $0 } }

    func advance(_ seconds: TimeInterval) {
        value.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
