extension Migration {
    /// Sign-in experience settings (one row) and one-time verification codes.
    static let m0003SignInExperience = Migration(version: 3, name: "sign_in_experience",
                                                 sqlite: schema(bigint: "INTEGER"), postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        CREATE TABLE sign_in_experience (
            id TEXT PRIMARY KEY,
            settings TEXT NOT NULL,
            updated_at \(bigint) NOT NULL
        );
        CREATE TABLE verification_codes (
            id TEXT PRIMARY KEY,
            identifier TEXT NOT NULL,
            usage TEXT NOT NULL,
            code_digest TEXT NOT NULL,
            failed_attempts \(bigint) NOT NULL DEFAULT 0,
            created_at \(bigint) NOT NULL,
            expires_at \(bigint) NOT NULL,
            consumed_at \(bigint)
        );
        CREATE INDEX verification_codes_lookup ON verification_codes (identifier, usage, created_at)
        """
    }
}
