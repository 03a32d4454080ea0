import Foundation
import SesameIdentity
import SesameOIDC

/// `SESAME_SECRET` and the database: the check value every process compares at start, and the rotation that
/// re-seals every sealed value under a new secret.
extension SQLStore {
    /// Why a process may not use this database with its secret.
    public struct SecretMismatch: Error, Sendable, CustomStringConvertible {
        public var description: String {
            "SESAME_SECRET differs from the secret this database was sealed with: every process that opens it "
                + "(servers and CLI verbs) needs the same SESAME_SECRET (to change it, see `sesame secret rotate`)"
        }
    }

    static let secretCheckKey = "secret_check"

    /// The check value of a secret: a MAC under a key derived for this purpose only, so it reveals nothing.
    public static func checkValue(for secret: String) -> String {
        SecretBox(secret: secret, purpose: "sesame.secret-check").mac("sesame secret check v1")
    }

    /// Compares `secret` with the check value stored at first start, storing it when there is none. A database
    /// from before check values (sealed values but no check) is first proven to open with `secret`. Throws
    /// `SecretMismatch`, or the `DecryptionError` of the value that did not open.
    public func verifySecret(_ secret: String) async throws {
        let expected = Self.checkValue(for: secret)
        if let stored = try await Self.checkValue(in: database) {
            guard SecretDigest.constantTimeEquals(stored, expected) else { throw SecretMismatch() }
            return
        }
        // An older database: what is already sealed must open with this secret before it becomes the reference.
        do {
            let box = SecretBox(secret: secret)
            for sealed in try await Self.sealedValues(in: database) { _ = try box.open(sealed.value) }
        } catch is SecretBox.DecryptionError {
            throw SecretMismatch()
        }
        try await database.query("INSERT INTO installation (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                                 .text(Self.secretCheckKey), .text(expected))
        // Another process may have stored its own first.
        guard let stored = try await Self.checkValue(in: database), SecretDigest.constantTimeEquals(stored, expected) else {
            throw SecretMismatch()
        }
    }

    /// Runs a write that stores values sealed with this process's secret, in one transaction that first holds
    /// the database's check value and compares it with this secret's: after a `sesame secret rotate` a process
    /// still running with the old secret refuses (`SecretMismatch`) instead of writing what nobody could open.
    @discardableResult
    func sealing<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let secretCheck = secretCheck
        return try await database.withTransaction { database in
            if let secretCheck, let stored = try await Self.checkValue(in: database, holding: true),
               !SecretDigest.constantTimeEquals(stored, secretCheck)
            {
                throw SecretMismatch()
            }
            return try await body(database)
        }
    }

    /// The stored check value; `holding` locks its row until the transaction ends (PostgreSQL).
    private static func checkValue(in database: any SQLDatabase, holding: Bool = false) async throws -> String? {
        try await database.query("SELECT value FROM installation WHERE key = ?" + (holding ? database.dialect.forUpdate : ""),
                                 .text(secretCheckKey)).first?.string("value")
    }

    /// Every sealed value: its table, key column and value, and what it is (for errors).
    private struct Sealed {
        let table: String
        let keyColumn: String
        let valueColumn: String
        let key: String
        let value: String
        let subject: String
    }

    private static func sealedValues(in database: any SQLDatabase) async throws -> [Sealed] {
        var values: [Sealed] = []
        for row in try await database.query("SELECT kid, sealed_private_key FROM signing_keys" + database.dialect.forUpdate) {
            let kid = try row.string("kid")
            values.append(Sealed(table: "signing_keys", keyColumn: "kid", valueColumn: "sealed_private_key", key: kid,
                                 value: try row.string("sealed_private_key"), subject: "signing key '\(kid)'"))
        }
        for row in try await database.query("SELECT id, sealed_config FROM connectors" + database.dialect.forUpdate) {
            let id = try row.string("id")
            values.append(Sealed(table: "connectors", keyColumn: "id", valueColumn: "sealed_config", key: id,
                                 value: try row.string("sealed_config"),
                                 subject: "the configuration of connector '\(id)'"))
        }
        for row in try await database.query(
            "SELECT id, secret FROM user_mfa_verifications WHERE type = 'Totp'" + database.dialect.forUpdate)
        {
            let id = try row.string("id")
            values.append(Sealed(table: "user_mfa_verifications", keyColumn: "id", valueColumn: "secret", key: id,
                                 value: try row.string("secret"), subject: "TOTP secret '\(id)'"))
        }
        for row in try await database.query(
            "SELECT id, application_id, sealed_secret FROM application_sealed_secrets" + database.dialect.forUpdate)
        {
            let id = try row.string("id")
            values.append(Sealed(table: "application_sealed_secrets", keyColumn: "id", valueColumn: "sealed_secret",
                                 key: id, value: try row.string("sealed_secret"),
                                 subject: "a client_secret_jwt secret of application '\(try row.string("application_id"))'"))
        }
        for row in try await database.query("SELECT value FROM installation WHERE key = ?" + database.dialect.forUpdate,
                                            .text(backupCodeKeyName))
        {
            values.append(Sealed(table: "installation", keyColumn: "key", valueColumn: "value", key: backupCodeKeyName,
                                 value: try row.string("value"), subject: "the backup code key"))
        }
        return values
    }

    static let backupCodeKeyName = "mfa_backup_code_key"

    /// The key backup codes are digested with (HMAC-SHA-256): 32 random bytes made on first use and kept sealed in
    /// `installation`, so a copy of the database alone cannot search the 40-bit codes offline, and `secret rotate`
    /// re-seals it without invalidating any code.
    public func backupCodeKey() async throws -> [UInt8] {
        if let stored = try await database.query("SELECT value FROM installation WHERE key = ?",
                                                 .text(Self.backupCodeKeyName)).first
        {
            return Array(try secretBox.open(try stored.string("value"), subject: "the backup code key"))
        }
        let fresh = SecureRandom.bytes(32)
        let sealed = try secretBox.seal(Data(fresh))
        try await sealing { database in
            try await database.query("INSERT INTO installation (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                                     .text(Self.backupCodeKeyName), .text(sealed))
        }
        // Another process may have stored its own first: everyone uses the stored one.
        guard let stored = try await database.query("SELECT value FROM installation WHERE key = ?",
                                                    .text(Self.backupCodeKeyName)).first
        else { throw StorageError.corrupt("installation.value") }
        return Array(try secretBox.open(try stored.string("value"), subject: "the backup code key"))
    }

    /// What `rotateSecret` re-sealed.
    public struct SecretRotation: Sendable, Equatable {
        public var signingKeys: Int
        public var connectors: Int
        /// TOTP secrets and the backup code key.
        public var mfaSecrets: Int
        /// Sealed secrets of `client_secret_jwt` applications.
        public var applicationSecrets: Int

        public init(signingKeys: Int, connectors: Int, mfaSecrets: Int = 0, applicationSecrets: Int = 0) {
            self.signingKeys = signingKeys
            self.connectors = connectors
            self.mfaSecrets = mfaSecrets
            self.applicationSecrets = applicationSecrets
        }
    }

    /// Re-seals every sealed value (signing keys, connector configurations, TOTP secrets, the backup code key,
    /// `client_secret_jwt` applications' secrets) from `oldSecret` to `newSecret` and
    /// stores the new check value, in one transaction: a failure or a crash at any point leaves everything under
    /// the old secret. Throws `SecretMismatch` when `oldSecret` is not the database's.
    public func rotateSecret(from oldSecret: String, to newSecret: String) async throws -> SecretRotation {
        try await verifySecret(oldSecret)
        let newBox = SecretBox(secret: newSecret)
        let oldBox = SecretBox(secret: oldSecret)
        let oldCheck = Self.checkValue(for: oldSecret)
        return try await database.withTransaction { database in
            // Held to the end: a process sealing with the old secret waits, then finds the new check value.
            guard let stored = try await Self.checkValue(in: database, holding: true),
                  SecretDigest.constantTimeEquals(stored, oldCheck)
            else { throw SecretMismatch() }
            var rotation = SecretRotation(signingKeys: 0, connectors: 0)
            for sealed in try await Self.sealedValues(in: database) {
                let plain = try oldBox.open(sealed.value, subject: sealed.subject)
                try await database.query(
                    "UPDATE \(sealed.table) SET \(sealed.valueColumn) = ? WHERE \(sealed.keyColumn) = ?",
                    .text(try newBox.seal(plain)), .text(sealed.key))
                switch sealed.table {
                case "signing_keys": rotation.signingKeys += 1
                case "connectors": rotation.connectors += 1
                case "application_sealed_secrets": rotation.applicationSecrets += 1
                default: rotation.mfaSecrets += 1
                }
            }
            try await database.query("UPDATE installation SET value = ? WHERE key = ?",
                                     .text(Self.checkValue(for: newSecret)), .text(Self.secretCheckKey))
            return rotation
        }
    }
}
