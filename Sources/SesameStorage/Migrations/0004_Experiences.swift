extension Migration {
    /// Experience API state, keyed by the digest of the browser's interaction (or form) cookie.
    static let m0004Experiences = Migration(version: 4, name: "experiences", sqlite: schema(bigint: "INTEGER"),
                                            postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        CREATE TABLE experiences (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            expires_at \(bigint) NOT NULL
        )
        """
    }
}
