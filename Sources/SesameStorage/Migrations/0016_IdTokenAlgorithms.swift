extension Migration {
    /// The ID token signing algorithm of each application (OpenID Connect Registration's
    /// `id_token_signed_response_alg`; null: the server's default, ES384), now that signing keys are kept per
    /// algorithm. An installation that had switched its one key to another algorithm with `keys rotate --alg` keeps
    /// signing its applications' ID tokens with that algorithm: their column is set to it.
    static let m0016IdTokenAlgorithms = Migration(version: 16, name: "id_token_algorithms", sqlite: schema, postgres: schema)

    private static let schema = """
        ALTER TABLE applications ADD COLUMN id_token_signed_response_alg TEXT;
        UPDATE applications SET id_token_signed_response_alg = (
            SELECT alg FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1)
        WHERE EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL AND alg <> 'ES384')
        """
}
