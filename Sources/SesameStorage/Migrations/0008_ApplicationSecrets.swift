extension Migration {
    /// Named, optionally expiring application secrets beside the original one (digests only).
    static let m0008ApplicationSecrets = Migration(version: 8, name: "application_secrets",
                                                   sqlite: schema(bigint: "INTEGER"), postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        CREATE TABLE application_secrets (
            application_id TEXT NOT NULL,
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            created_at \(bigint) NOT NULL,
            expires_at \(bigint),
            PRIMARY KEY (application_id, name)
        )
        """
    }
}
