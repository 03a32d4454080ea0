import Foundation

/// A Console administrator. Administrators are not end users: they live in a table of their own, sign in
/// on the Console's own page, and their sessions never reach the hosted sign-in pages or an app.
public struct Administrator: Sendable, Equatable {
    public var id: String
    public var username: String
    /// bcrypt.
    public var passwordHash: String
    public var createdAt: Date
    public var lastSignInAt: Date?

    public init(id: String, username: String, passwordHash: String, createdAt: Date, lastSignInAt: Date? = nil) {
        self.id = id
        self.username = username
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.lastSignInAt = lastSignInAt
    }
}

/// A signed-in Console visit. The cookie carries a random token; the store keeps only its digest.
public struct ConsoleSession: Sendable, Equatable {
    /// SHA-256 of the cookie token.
    public var id: String
    public var administratorID: String
    public var createdAt: Date
    public var expiresAt: Date

    public init(id: String, administratorID: String, createdAt: Date, expiresAt: Date) {
        self.id = id
        self.administratorID = administratorID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

public protocol AdministratorStore: Sendable {
    /// Throws `IdentityError.conflict` when the username is taken.
    func insertAdministrator(_ administrator: Administrator) async throws
    func administrator(id: String) async throws -> Administrator?
    /// Case-insensitive.
    func administrator(username: String) async throws -> Administrator?
    func administratorCount() async throws -> Int
    func recordAdministratorSignIn(id: String, at date: Date) async throws

    func insertConsoleSession(_ session: ConsoleSession) async throws
    func consoleSession(id: String) async throws -> ConsoleSession?
    func deleteConsoleSession(id: String) async throws

    /// One-time setup links, by the digest of their token.
    func insertSetupToken(digest: String, expiresAt: Date) async throws
    func isSetupTokenValid(digest: String, now: Date) async throws -> Bool
    /// Spends a valid token together with every other link, and says whether this caller spent it: of two
    /// links used at once, only one creates the first administrator.
    func consumeSetupToken(digest: String, now: Date) async throws -> Bool
    func deleteSetupTokens() async throws
}
