import Foundation
import SesameIdentity
import SesameOIDC

extension SQLStore: MfaStore {
    private static let mfaColumns = """
        id, user_id, type, secret, last_used_step, credential_id, public_key, counter, transports, agent, name, rp_id,
        created_at, last_used_at
        """

    public func mfaVerifications(userID: String) async throws -> [MfaVerification] {
        let rows = try await database.query(
            """
            SELECT \(Self.mfaColumns) FROM user_mfa_verifications WHERE user_id = ?
            ORDER BY created_at, CASE type WHEN 'Totp' THEN 0 WHEN 'WebAuthn' THEN 1 ELSE 2 END, id
            """,
            .text(userID))
        let setIDs = rows.filter { $0.optionalString("type") == MfaFactor.backupCode.rawValue }.compactMap { $0.optionalString("id") }
        var codes: [String: [BackupCode]] = [:]
        if !setIDs.isEmpty {
            let placeholders = Array(repeating: "?", count: setIDs.count).joined(separator: ", ")
            for row in try await database.query(
                "SELECT verification_id, digest, used_at FROM user_backup_codes WHERE verification_id IN (\(placeholders))",
                setIDs.map(SQLValue.text))
            {
                codes[try row.string("verification_id"), default: []].append(
                    BackupCode(digest: try row.string("digest"), usedAt: row.optionalDate("used_at")))
            }
        }
        return try rows.map { try Self.mfaVerification($0, codes: codes) }
    }

    private static func mfaVerification(_ row: SQLRow, codes: [String: [BackupCode]]) throws -> MfaVerification {
        let id = try row.string("id")
        let kind: MfaVerification.Kind
        switch MfaFactor(rawValue: try row.string("type")) {
        case .totp:
            kind = .totp(sealedSecret: try row.string("secret"), lastUsedStep: row.optionalInt("last_used_step"))
        case .webAuthn:
            guard let key = Base64URL.decode(try row.string("public_key")) else { throw StorageError.corrupt("public_key") }
            kind = .webAuthn(WebAuthnCredential(
                credentialID: try row.string("credential_id"), publicKey: Array(key),
                counter: UInt32(clamping: row.optionalInt("counter") ?? 0),
                transports: (row.optionalString("transports") ?? "").split(separator: ",").map(String.init),
                agent: row.optionalString("agent"), name: row.optionalString("name"), rpID: try row.string("rp_id")))
        case .backupCode:
            kind = .backupCode(codes[id] ?? [])
        case nil:
            throw StorageError.corrupt("type")
        }
        return MfaVerification(id: id, userID: try row.string("user_id"), kind: kind, createdAt: try row.date("created_at"),
                               lastUsedAt: row.optionalDate("last_used_at"))
    }

    public func insertMfaVerification(_ verification: MfaVerification) async throws {
        var statements: [(String, [SQLValue])] = []
        let insert = """
            INSERT INTO user_mfa_verifications (\(Self.mfaColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        let head: [SQLValue] = [.text(verification.id), .text(verification.userID), .text(verification.factor.rawValue)]
        let tail: [SQLValue] = [.date(verification.createdAt), .date(verification.lastUsedAt)]
        switch verification.kind {
        case .totp(let sealed, let step):
            statements.append((insert, head + [.text(sealed), step.map(SQLValue.integer) ?? .null, .null, .null, .null,
                                               .null, .null, .null, .null] + tail))
        case .webAuthn(let credential):
            statements.append((insert, head + [
                .null, .null, .text(credential.credentialID), .text(Base64URL.encode(credential.publicKey)),
                .integer(Int64(credential.counter)), .text(credential.transports.joined(separator: ",")),
                .string(credential.agent), .string(credential.name), .text(credential.rpID),
            ] + tail))
        case .backupCode(let codes):
            // One set per user: the new one replaces the old in the same transaction.
            statements.append(("DELETE FROM user_mfa_verifications WHERE user_id = ? AND type = 'BackupCode'",
                               [.text(verification.userID)]))
            statements.append((insert, head + Array(repeating: SQLValue.null, count: 9) + tail))
            for code in codes {
                statements.append(("INSERT INTO user_backup_codes (verification_id, digest, used_at) VALUES (?, ?, ?)",
                                   [.text(verification.id), .text(code.digest), .date(code.usedAt)]))
            }
        }
        do {
            // A TOTP secret is sealed: the write proves this process still holds the database's secret.
            let all = statements
            try await sealing { database in
                for (sql, binds) in all { try await database.query(sql, binds) }
            }
        } catch {
            if let detail = Self.uniqueViolation(error) {
                if detail.contains("credential") {
                    throw IdentityError(.conflict, phrase: "mfa.credential_registered")
                }
                throw IdentityError(.totpAlreadyInUse, phrase: "mfa.totp_already_in_use")
            }
            if Self.foreignKeyViolation(error) {
                throw IdentityError(.notFound, phrase: "user.not_found")
            }
            throw error
        }
    }

    public func deleteMfaVerification(id: String, userID: String) async throws -> Bool {
        try await !writeQuery("DELETE FROM user_mfa_verifications WHERE id = ? AND user_id = ? RETURNING id",
                              .text(id), .text(userID)).isEmpty
    }

    public func deleteMfaVerifications(userID: String) async throws -> Int {
        try await writeTransaction { database in
            try await database.query("UPDATE users SET mfa_skipped_at = NULL WHERE id = ?", .text(userID))
            return try await database.query("DELETE FROM user_mfa_verifications WHERE user_id = ? RETURNING id",
                                            .text(userID)).count
        }
    }

    public func useTotpStep(verificationID: String, step: Int64, at date: Date) async throws -> Bool {
        try await !writeQuery("""
            UPDATE user_mfa_verifications SET last_used_step = ?, last_used_at = ?
            WHERE id = ? AND type = 'Totp' AND (last_used_step IS NULL OR last_used_step < ?) RETURNING id
            """, .integer(step), .date(date), .text(verificationID), .integer(step)).isEmpty
    }

    public func useBackupCode(userID: String, digest: String, at date: Date) async throws -> Bool {
        try await writeTransaction { database in
            let spent = try await database.query("""
                UPDATE user_backup_codes SET used_at = ?
                WHERE digest = ? AND used_at IS NULL AND verification_id IN
                    (SELECT id FROM user_mfa_verifications WHERE user_id = ? AND type = 'BackupCode')
                RETURNING verification_id
                """, .date(date), .text(digest), .text(userID))
            guard let set = spent.first else { return false }
            try await database.query("UPDATE user_mfa_verifications SET last_used_at = ? WHERE id = ?", .date(date),
                                     .text(try set.string("verification_id")))
            return true
        }
    }

    public func updateWebAuthnCounter(verificationID: String, previous: UInt32, counter: UInt32, at date: Date)
        async throws -> Bool
    {
        try await !writeQuery("""
            UPDATE user_mfa_verifications SET counter = ?, last_used_at = ?
            WHERE id = ? AND type = 'WebAuthn' AND counter = ? RETURNING id
            """, .integer(Int64(counter)), .date(date), .text(verificationID), .integer(Int64(previous))).isEmpty
    }

    public func renameWebAuthn(id: String, userID: String, name: String) async throws -> Bool {
        try await !writeQuery("""
            UPDATE user_mfa_verifications SET name = ? WHERE id = ? AND user_id = ? AND type = 'WebAuthn' RETURNING id
            """, .text(name), .text(id), .text(userID)).isEmpty
    }

    public func webAuthnVerification(credentialID: String) async throws -> MfaVerification? {
        try await database.query("""
            SELECT \(Self.mfaColumns) FROM user_mfa_verifications WHERE credential_id = ? AND type = 'WebAuthn'
            """, .text(credentialID)).first.map { try Self.mfaVerification($0, codes: [:]) }
    }

    public func setMfaSkipped(userID: String, at date: Date) async throws {
        try await writeQuery("UPDATE users SET mfa_skipped_at = ? WHERE id = ?", .date(date), .text(userID))
    }

    public func isMfaSkipped(userID: String) async throws -> Bool {
        try await database.query("SELECT mfa_skipped_at FROM users WHERE id = ?", .text(userID)).first?
            .optionalDate("mfa_skipped_at") != nil
    }
}
