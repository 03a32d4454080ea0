extension Migration {
    /// Connector configurations, sealed with the SESAME_SECRET-derived key.
    static let m0002Connectors = Migration(version: 2, name: "connectors", sqlite: schema(bigint: "INTEGER"),
                                           postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        CREATE TABLE connectors (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            sealed_config TEXT NOT NULL,
            is_enabled \(bigint) NOT NULL DEFAULT 0,
            updated_at \(bigint) NOT NULL
        )
        """
    }
}
