import Foundation
import SesameOIDC

extension SQLStore: InteractionStore, SessionStore {
    public func insertInteraction(_ interaction: Interaction) async throws {
        try await database.query("INSERT INTO interactions (id, payload, expires_at) VALUES (?, ?, ?)",
                                 .text(interaction.id), .json(interaction), .date(interaction.expiresAt))
    }

    public func interaction(id: String) async throws -> Interaction? {
        try await database.query("SELECT payload FROM interactions WHERE id = ?", .text(id)).first
            .map { try $0.json("payload") }
    }

    public func updateInteraction(_ interaction: Interaction) async throws {
        try await database.query("UPDATE interactions SET payload = ?, expires_at = ? WHERE id = ?",
                                 .json(interaction), .date(interaction.expiresAt), .text(interaction.id))
    }

    public func deleteInteraction(id: String) async throws {
        try await database.query("DELETE FROM interactions WHERE id = ?", .text(id))
    }

    public func insertSession(_ session: Session) async throws {
        try await database.query(Self.insertSessionSQL, Self.sessionBinds(session))
    }

    private static let insertSessionSQL = """
        INSERT INTO sessions (id, account_id, auth_time, created_at, expires_at, amr) VALUES (?, ?, ?, ?, ?, ?)
        """

    private static func sessionBinds(_ session: Session) -> [SQLValue] {
        [.text(session.id), .text(session.accountID), .date(session.authTime), .date(session.createdAt),
         .date(session.expiresAt), .text(session.amr.joined(separator: " "))]
    }

    public func session(id: String) async throws -> Session? {
        try await database.query("""
            SELECT id, account_id, auth_time, created_at, expires_at, amr FROM sessions WHERE id = ?
            """, .text(id)).first.map { row in
            Session(id: try row.string("id"), accountID: try row.string("account_id"),
                    authTime: try row.date("auth_time"), createdAt: try row.date("created_at"),
                    expiresAt: try row.date("expires_at"),
                    amr: (row.optionalString("amr") ?? "").split(separator: " ").map(String.init))
        }
    }

    public func deleteSession(id: String) async throws {
        try await database.query("DELETE FROM sessions WHERE id = ?", .text(id))
    }

    public func startSession(_ session: Session, replacing previousID: String?, interaction: Interaction?)
        async throws
    {
        try await database.withTransaction { database in
            if let previousID { try await database.query("DELETE FROM sessions WHERE id = ?", .text(previousID)) }
            try await database.query(Self.insertSessionSQL, Self.sessionBinds(session))
            if let interaction {
                try await database.query("UPDATE interactions SET payload = ?, expires_at = ? WHERE id = ?",
                                         .json(interaction), .date(interaction.expiresAt), .text(interaction.id))
            }
        }
    }

    public func deleteSessions(accountID: String) async throws {
        try await database.query("DELETE FROM sessions WHERE account_id = ?", .text(accountID))
    }
}
