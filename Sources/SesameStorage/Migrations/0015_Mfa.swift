extension Migration {
    /// Second factors (Logto's `users.mfa_verifications`, `../design/logto-reference.md` §3), one row per factor:
    /// a TOTP (its sealed secret and the last accepted step; at most one per user, a partial unique index), a
    /// WebAuthn credential (id unique across users, COSE key, counter, transports) or a backup code set whose codes
    /// are rows of their own, so spending one is a single conditional update. `users.mfa_skipped_at` remembers a
    /// declined prompt; `sessions.amr` keeps how the session signed in (RFC 8176 values, JSON) for the ID tokens
    /// that later authorizations issue from it. Deleting a user cascades.
    static let m0015Mfa = Migration(version: 15, name: "mfa", sqlite: schema(bigint: "INTEGER"),
                                    postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        CREATE TABLE user_mfa_verifications (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            type TEXT NOT NULL CHECK (type IN ('Totp', 'WebAuthn', 'BackupCode')),
            secret TEXT,
            last_used_step \(bigint),
            credential_id TEXT UNIQUE,
            public_key TEXT,
            counter \(bigint),
            transports TEXT,
            agent TEXT,
            name TEXT,
            rp_id TEXT,
            created_at \(bigint) NOT NULL,
            last_used_at \(bigint)
        );
        CREATE INDEX user_mfa_verifications_user_id ON user_mfa_verifications (user_id);
        CREATE UNIQUE INDEX user_mfa_verifications_one_totp ON user_mfa_verifications (user_id) WHERE type = 'Totp';
        CREATE TABLE user_backup_codes (
            verification_id TEXT NOT NULL REFERENCES user_mfa_verifications (id) ON DELETE CASCADE,
            digest TEXT NOT NULL,
            used_at \(bigint),
            PRIMARY KEY (verification_id, digest)
        );
        ALTER TABLE users ADD COLUMN mfa_skipped_at \(bigint);
        ALTER TABLE sessions ADD COLUMN amr TEXT
        """
    }
}
