import Foundation
import SesameIdentity

extension SQLStore: SignInExperienceStore, VerificationCodeStore {
    public func signInExperience() async throws -> SignInExperience? {
        try await database.query("SELECT settings FROM sign_in_experience WHERE id = 'default'").first
            .map { try $0.json("settings") }
    }

    public func saveSignInExperience(_ settings: SignInExperience, now: Date) async throws {
        try await database.query("""
            INSERT INTO sign_in_experience (id, settings, updated_at) VALUES ('default', ?, ?)
            ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at
            """, .json(settings), .date(now))
    }

    public func insertVerificationCode(_ code: VerificationCode) async throws {
        try await database.transaction([
            ("DELETE FROM verification_codes WHERE identifier = ? AND usage = ? AND consumed_at IS NULL",
             [.text(code.identifier), .text(code.usage)]),
            ("""
             INSERT INTO verification_codes (id, identifier, usage, code_digest, failed_attempts, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             """,
             [.text(code.id), .text(code.identifier), .text(code.usage), .text(code.codeDigest),
              .integer(Int64(code.failedAttempts)), .date(code.createdAt), .date(code.expiresAt)]),
        ])
    }

    public func latestVerificationCode(identifier: String, usage: String?) async throws -> VerificationCode? {
        let usageCondition = usage == nil ? "" : " AND usage = ?"
        return try await database.query("""
            SELECT id, identifier, usage, code_digest, failed_attempts, created_at, expires_at, consumed_at
            FROM verification_codes WHERE identifier = ?\(usageCondition) ORDER BY created_at DESC, id LIMIT 1
            """, [.text(identifier)] + (usage.map { [.text($0)] } ?? [])).first.map { row in
            VerificationCode(id: try row.string("id"), identifier: try row.string("identifier"),
                             usage: try row.string("usage"), codeDigest: try row.string("code_digest"),
                             failedAttempts: Int(try row.int("failed_attempts")), createdAt: try row.date("created_at"),
                             expiresAt: try row.date("expires_at"), consumedAt: row.optionalDate("consumed_at"))
        }
    }

    public func recordFailedAttempt(codeID: String) async throws -> Int {
        let row = try await database.query("""
            UPDATE verification_codes SET failed_attempts = failed_attempts + 1 WHERE id = ? RETURNING failed_attempts
            """, .text(codeID)).first
        return Int(try row?.int("failed_attempts") ?? 0)
    }

    public func consumeVerificationCode(id: String, now: Date) async throws -> Bool {
        try await !database.query("""
            UPDATE verification_codes SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL RETURNING id
            """, .date(now), .text(id)).isEmpty
    }
}
