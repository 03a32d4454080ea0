extension Migration {
    /// Facts about the installation itself, starting with the check value of `SESAME_SECRET`: a MAC under a
    /// key derived from the secret, so every process that opens the database can tell whether it holds the
    /// secret the database was sealed with.
    static let m0009SecretCheck = Migration(version: 9, name: "secret_check", sqlite: schema, postgres: schema)

    private static let schema = """
        CREATE TABLE installation (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )
        """
}
