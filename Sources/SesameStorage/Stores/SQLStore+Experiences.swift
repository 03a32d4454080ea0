import Foundation
import SesameIdentity

extension SQLStore: ExperienceStore {
    public func experience(id: String, now: Date) async throws -> Experience? {
        try await database.query("SELECT state FROM experiences WHERE id = ? AND expires_at > ?",
                                 .text(id), .date(now)).first.map { try $0.json("state") }
    }

    public func saveExperience(_ experience: Experience, id: String, expiresAt: Date) async throws {
        try await database.query("""
            INSERT INTO experiences (id, state, expires_at) VALUES (?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at
            """, .text(id), .json(experience), .date(expiresAt))
    }

    public func deleteExperience(id: String) async throws {
        try await database.query("DELETE FROM experiences WHERE id = ?", .text(id))
    }
}
