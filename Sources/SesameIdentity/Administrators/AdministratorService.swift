import Foundation
import SesameOIDC

/// Console administrators: the first one through a one-time setup link, then password sign-in with
/// limits, and sessions kept in the store so any instance can serve the Console.
public struct AdministratorService: Sendable {
    public let store: any AdministratorStore
    public let limiter: RateLimiter
    public let hasher: PasswordHasher
    public let now: @Sendable () -> Date

    /// How long a Console session lasts, and a setup link stays valid.
    public static let sessionTTL: TimeInterval = 12 * 3600
    public static let setupTTL: TimeInterval = 24 * 3600
    /// Administrators' passwords: longer than end users' minimum, never common, never the username.
    public static let passwordPolicy = SignInExperience.PasswordPolicy(minLength: 10, characterTypes: 2,
                                                                       bcryptCost: 12)
    /// Sign-in attempts per username and per IP before the form refuses for the rest of the window (a
    /// success clears the username's count).
    static let accountRule = RateLimiter.Rule(limit: 10, window: 15 * 60)
    static let ipRule = RateLimiter.Rule(limit: 30, window: 15 * 60)

    public init(store: any AdministratorStore, limiter: RateLimiter,
                hasher: PasswordHasher = PasswordHasher(cost: UInt8(passwordPolicy.bcryptCost)),
                now: @escaping @Sendable () -> Date = { Date() })
    {
        self.store = store
        self.limiter = limiter
        self.hasher = hasher
        self.now = now
    }

    /// True until the first administrator exists.
    public func needsSetup() async throws -> Bool {
        try await store.administratorCount() == 0
    }

    /// A new one-time setup token (the link's secret). Earlier unspent links stay valid until they expire,
    /// so several instances starting at once each print a link that works.
    public func makeSetupToken() async throws -> String {
        let token = SecureRandom.token()
        try await store.insertSetupToken(digest: SecretDigest.sha256Hex(token),
                                         expiresAt: now().addingTimeInterval(Self.setupTTL))
        return token
    }

    public func isSetupTokenValid(_ token: String) async throws -> Bool {
        guard !token.isEmpty, try await needsSetup() else { return false }
        return try await store.isSetupTokenValid(digest: SecretDigest.sha256Hex(token), now: now())
    }

    /// Spends the setup token and creates the first administrator; every other setup link dies with it.
    public func completeSetup(token: String, username: String, password: String) async throws -> Administrator {
        let username = try UserService.validateUsername(username)
        try PasswordPolicyChecker(policy: Self.passwordPolicy).check(password, userInfo: [username])
        guard try await needsSetup(),
              try await store.consumeSetupToken(digest: SecretDigest.sha256Hex(token), now: now())
        else {
            throw IdentityError(.invalidSetupLink, phrase: "administrator.setup_link_invalid")
        }
        let administrator = try await insert(username: username, password: password)
        try await store.deleteSetupTokens()
        return administrator
    }

    /// Adds an administrator (from the CLI, or by another administrator).
    public func create(username: String, password: String) async throws -> Administrator {
        let username = try UserService.validateUsername(username)
        try PasswordPolicyChecker(policy: Self.passwordPolicy).check(password, userInfo: [username])
        let administrator = try await insert(username: username, password: password)
        try await store.deleteSetupTokens()
        return administrator
    }

    private func insert(username: String, password: String) async throws -> Administrator {
        let hash = try await hasher.hash(password)
        let administrator = Administrator(id: SecureRandom.identifier(length: 12), username: username,
                                          passwordHash: hash, createdAt: now())
        try await store.insertAdministrator(administrator)
        return administrator
    }

    /// Checks a username and password. Unknown names and wrong passwords cost the same and read the same;
    /// after too many attempts per username or per IP the answer is `tooManyAttempts` for the window.
    public func authenticate(username: String, password: String, ip: String) async throws -> Administrator {
        // Parallel guesses cannot slip past the limit, and a success never counts (`PasswordAttemptGate`).
        let gate = PasswordAttemptGate(limiter: limiter, scope: "console", accountRule: Self.accountRule,
                                       ipRule: Self.ipRule)
        do {
            return try await gate.attempt(account: String(username.lowercased().prefix(128)), ip: ip) {
                let administrator = try await store.administrator(username: username)
                guard try await hasher.verify(password, hash: administrator?.passwordHash), let administrator else {
                    throw IdentityError(.invalidCredentials, phrase: "administrator.credentials_incorrect")
                }
                return administrator
            }
        } catch let error as IdentityError where error.code == .tooManyAttempts {
            throw IdentityError(.tooManyAttempts, phrase: "administrator.too_many_attempts")
        }
    }

    /// Starts a Console session; returns the cookie token.
    public func startSession(for administrator: Administrator) async throws -> String {
        let token = SecureRandom.token()
        let now = now()
        try await store.insertConsoleSession(ConsoleSession(
            id: SecretDigest.sha256Hex(token), administratorID: administrator.id, createdAt: now,
            expiresAt: now.addingTimeInterval(Self.sessionTTL)))
        try await store.recordAdministratorSignIn(id: administrator.id, at: now)
        return token
    }

    /// The administrator behind a session cookie, or nil when it is unknown, expired or its owner is gone.
    public func administrator(sessionToken token: String?) async throws -> Administrator? {
        guard let token, !token.isEmpty,
              let session = try await store.consoleSession(id: SecretDigest.sha256Hex(token)),
              session.expiresAt > now()
        else { return nil }
        return try await store.administrator(id: session.administratorID)
    }

    public func endSession(token: String) async throws {
        try await store.deleteConsoleSession(id: SecretDigest.sha256Hex(token))
    }
}
