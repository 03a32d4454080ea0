extension Migration {
    /// JWT client authentication (RFC 7523, OpenID Connect Core §9): each application's registered method, public keys
    /// (`jwks` JSON or `jwks_uri`) and assertion algorithm; sealed copies of the secrets of `client_secret_jwt`
    /// applications with the digest of the secret each copies (the only secrets kept recoverable, and only while the
    /// application uses that method and the secret exists); and the
    /// `jti`s of spent assertions (SHA-256 hex), kept until the assertion expires.
    static let m0019ClientAssertions = Migration(version: 19, name: "client_assertions",
                                                 sqlite: schema(bigint: "INTEGER"), postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        ALTER TABLE applications ADD COLUMN token_endpoint_auth_method TEXT;
        ALTER TABLE applications ADD COLUMN jwks TEXT;
        ALTER TABLE applications ADD COLUMN jwks_uri TEXT;
        ALTER TABLE applications ADD COLUMN token_endpoint_auth_signing_alg TEXT;
        CREATE TABLE application_sealed_secrets (
            id TEXT PRIMARY KEY,
            application_id TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            sealed_secret TEXT NOT NULL,
            created_at \(bigint) NOT NULL
        );
        CREATE INDEX application_sealed_secrets_application ON application_sealed_secrets (application_id);
        CREATE TABLE client_assertions (
            client_id TEXT NOT NULL,
            jti_digest TEXT NOT NULL,
            expires_at \(bigint) NOT NULL,
            PRIMARY KEY (client_id, jti_digest)
        );
        CREATE INDEX client_assertions_expires_at ON client_assertions (expires_at)
        """
    }
}
