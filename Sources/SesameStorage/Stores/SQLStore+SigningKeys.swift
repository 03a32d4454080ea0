import Foundation
import SesameIdentity
import SesameOIDC

extension SQLStore: SigningKeyStore {
    public func signingKeys() async throws -> [SigningKey] {
        try await database.query("""
            SELECT kid, alg, sealed_private_key, created_at, retired_at FROM signing_keys
            ORDER BY created_at DESC, kid
            """).map { row in
            guard let algorithm = SigningAlgorithm(rawValue: try row.string("alg")) else {
                throw StorageError.corrupt("alg")
            }
            let kid = try row.string("kid")
            return try SigningKey(kid: kid, algorithm: algorithm,
                                  privateKeyBytes: try secretBox.open(try row.string("sealed_private_key"),
                                                                      subject: "signing key '\(kid)'"),
                                  createdAt: try row.date("created_at"), retiredAt: row.optionalDate("retired_at"))
        }
    }

    /// Instances starting together on a fresh database race here: a marker row per algorithm
    /// (`first_signing_key:ES384`), claimed with `ON CONFLICT DO NOTHING` (which waits for a concurrent claim on
    /// PostgreSQL), lets exactly one of them store its key, in the same transaction. (`INSERT ... WHERE NOT EXISTS`
    /// alone let two through now and then.) Databases from before keys per algorithm hold the marker
    /// `first_signing_key` for their first key; an algorithm whose keys a server-wide rotation of those days retired
    /// gets its per-algorithm marker and a key in force here.
    public func insertInitialSigningKey(_ key: SigningKey) async throws {
        let binds = try keyBinds(key)
        try await sealing { database in
            let claimed = try await database.query("""
                INSERT INTO installation (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING key
                """, .text("first_signing_key:" + key.algorithm.rawValue), .text(key.kid))
            guard !claimed.isEmpty else { return }
            try await database.query("""
                INSERT INTO signing_keys (kid, alg, sealed_private_key, created_at)
                SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE alg = ? AND retired_at IS NULL)
                """, binds + [.text(key.algorithm.rawValue)])
        }
    }

    public func rotate(to key: SigningKey, now: Date) async throws {
        let binds = try keyBinds(key)
        try await sealing { database in
            try await database.query("UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND alg = ?",
                                     .date(now), .text(key.algorithm.rawValue))
            try await database.query(
                "INSERT INTO signing_keys (kid, alg, sealed_private_key, created_at) VALUES (?, ?, ?, ?)", binds)
        }
    }

    public func deleteSigningKeys(retiredBefore cutoff: Date) async throws {
        try await database.query("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?",
                                 .date(cutoff))
    }

    private func keyBinds(_ key: SigningKey) throws -> [SQLValue] {
        [.text(key.kid), .text(key.algorithm.rawValue), .text(try secretBox.seal(key.privateKeyBytes)),
         .date(key.createdAt)]
    }
}
