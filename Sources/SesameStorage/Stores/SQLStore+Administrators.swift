import Foundation
import SesameIdentity

extension SQLStore: AdministratorStore {
    private static let columns = "id, username, password_hash, created_at, last_sign_in_at"

    public func insertAdministrator(_ administrator: Administrator) async throws {
        try await insert("""
            INSERT INTO administrators (id, username, username_key, password_hash, created_at, last_sign_in_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """, [.text(administrator.id), .text(administrator.username), .text(administrator.username.lowercased()),
                  .text(administrator.passwordHash), .date(administrator.createdAt), .date(administrator.lastSignInAt)],
            conflict: { _ in IdentityError(.conflict, phrase: "administrator.username_taken") })
    }

    public func administrator(id: String) async throws -> Administrator? {
        try await database.query("SELECT \(Self.columns) FROM administrators WHERE id = ?", .text(id)).first
            .map(Self.administrator)
    }

    public func administrator(username: String) async throws -> Administrator? {
        try await database.query("SELECT \(Self.columns) FROM administrators WHERE username_key = ?",
                                 .text(username.lowercased())).first.map(Self.administrator)
    }

    public func administratorCount() async throws -> Int {
        Int(try await database.query("SELECT COUNT(*) AS total FROM administrators").first?.int("total") ?? 0)
    }

    public func recordAdministratorSignIn(id: String, at date: Date) async throws {
        try await database.query("UPDATE administrators SET last_sign_in_at = ? WHERE id = ?", .date(date), .text(id))
    }

    public func insertConsoleSession(_ session: ConsoleSession) async throws {
        try await database.query("""
            INSERT INTO console_sessions (id, administrator_id, created_at, expires_at) VALUES (?, ?, ?, ?)
            """, .text(session.id), .text(session.administratorID), .date(session.createdAt), .date(session.expiresAt))
    }

    public func consoleSession(id: String) async throws -> ConsoleSession? {
        try await database.query("""
            SELECT id, administrator_id, created_at, expires_at FROM console_sessions WHERE id = ?
            """, .text(id)).first.map { row in
            ConsoleSession(id: try row.string("id"), administratorID: try row.string("administrator_id"),
                           createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"))
        }
    }

    public func deleteConsoleSession(id: String) async throws {
        try await database.query("DELETE FROM console_sessions WHERE id = ?", .text(id))
    }

    public func insertSetupToken(digest: String, expiresAt: Date) async throws {
        try await database.query("INSERT INTO console_setup_tokens (digest, expires_at) VALUES (?, ?)", .text(digest),
                                 .date(expiresAt))
    }

    public func isSetupTokenValid(digest: String, now: Date) async throws -> Bool {
        try await !database.query("SELECT digest FROM console_setup_tokens WHERE digest = ? AND expires_at > ?",
                                   .text(digest), .date(now)).isEmpty
    }

    public func consumeSetupToken(digest: String, now: Date) async throws -> Bool {
        // One statement deletes every link when this one is valid: of two links spent at once, the second
        // finds its own row gone (PostgreSQL re-checks rows another transaction deleted) and loses.
        try await database.query("""
            DELETE FROM console_setup_tokens
            WHERE EXISTS (SELECT 1 FROM console_setup_tokens AS valid WHERE valid.digest = ? AND valid.expires_at > ?)
            RETURNING digest
            """, .text(digest), .date(now)).contains { (try? $0.string("digest")) == digest }
    }

    public func deleteSetupTokens() async throws {
        try await database.query("DELETE FROM console_setup_tokens")
    }

    private static func administrator(_ row: SQLRow) throws -> Administrator {
        Administrator(id: try row.string("id"), username: try row.string("username"),
                      passwordHash: try row.string("password_hash"), createdAt: try row.date("created_at"),
                      lastSignInAt: row.optionalDate("last_sign_in_at"))
    }
}
