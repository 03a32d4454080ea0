extension Migration {
    /// Console administrators, their sessions, and the one-time setup links.
    static let m0007Console = Migration(version: 7, name: "console", sqlite: schema(bigint: "INTEGER"),
                                        postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        CREATE TABLE administrators (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            username_key TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            created_at \(bigint) NOT NULL,
            last_sign_in_at \(bigint)
        );
        CREATE TABLE console_sessions (
            id TEXT PRIMARY KEY,
            administrator_id TEXT NOT NULL,
            created_at \(bigint) NOT NULL,
            expires_at \(bigint) NOT NULL
        );
        CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);
        CREATE TABLE console_setup_tokens (
            digest TEXT PRIMARY KEY,
            expires_at \(bigint) NOT NULL
        )
        """
    }
}
