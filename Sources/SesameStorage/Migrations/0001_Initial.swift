extension Migration {
    /// Applications, users, keys, the OIDC records, API resources and rate-limit counters.
    /// Times are milliseconds since 1970 in 64-bit integers; lists and nested records are JSON text.
    static let m0001Initial = Migration(version: 1, name: "initial", sqlite: schema(bigint: "INTEGER"),
                                        postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        CREATE TABLE applications (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT,
            type TEXT NOT NULL,
            secret_hash TEXT,
            redirect_uris TEXT NOT NULL,
            post_logout_redirect_uris TEXT NOT NULL,
            is_third_party \(bigint) NOT NULL DEFAULT 0,
            created_at \(bigint) NOT NULL
        );
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            username TEXT,
            username_key TEXT UNIQUE,
            primary_email TEXT UNIQUE,
            primary_phone TEXT UNIQUE,
            name TEXT,
            avatar TEXT,
            password_hash TEXT,
            is_suspended \(bigint) NOT NULL DEFAULT 0,
            created_at \(bigint) NOT NULL,
            updated_at \(bigint) NOT NULL,
            last_sign_in_at \(bigint)
        );
        CREATE TABLE signing_keys (
            kid TEXT PRIMARY KEY,
            alg TEXT NOT NULL,
            sealed_private_key TEXT NOT NULL,
            created_at \(bigint) NOT NULL,
            retired_at \(bigint)
        );
        CREATE TABLE interactions (
            id TEXT PRIMARY KEY,
            payload TEXT NOT NULL,
            expires_at \(bigint) NOT NULL
        );
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            auth_time \(bigint) NOT NULL,
            created_at \(bigint) NOT NULL,
            expires_at \(bigint) NOT NULL
        );
        CREATE INDEX sessions_account_id ON sessions (account_id);
        CREATE TABLE grants (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL,
            account_id TEXT,
            scopes TEXT NOT NULL,
            created_at \(bigint) NOT NULL
        );
        CREATE INDEX grants_account_id ON grants (account_id);
        CREATE TABLE consents (
            account_id TEXT NOT NULL,
            client_id TEXT NOT NULL,
            scopes TEXT NOT NULL,
            updated_at \(bigint) NOT NULL,
            PRIMARY KEY (account_id, client_id)
        );
        CREATE TABLE authorization_codes (
            id TEXT PRIMARY KEY,
            grant_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            expires_at \(bigint) NOT NULL,
            consumed_at \(bigint)
        );
        CREATE INDEX authorization_codes_grant_id ON authorization_codes (grant_id);
        CREATE TABLE access_tokens (
            id TEXT PRIMARY KEY,
            grant_id TEXT,
            client_id TEXT NOT NULL,
            account_id TEXT,
            scopes TEXT NOT NULL,
            created_at \(bigint) NOT NULL,
            expires_at \(bigint) NOT NULL
        );
        CREATE INDEX access_tokens_grant_id ON access_tokens (grant_id);
        CREATE TABLE refresh_tokens (
            id TEXT PRIMARY KEY,
            grant_id TEXT NOT NULL,
            client_id TEXT NOT NULL,
            account_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at \(bigint) NOT NULL,
            expires_at \(bigint) NOT NULL,
            consumed_at \(bigint)
        );
        CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
        CREATE INDEX refresh_tokens_account_id ON refresh_tokens (account_id);
        CREATE TABLE resources (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            indicator TEXT NOT NULL UNIQUE,
            access_token_ttl \(bigint) NOT NULL,
            created_at \(bigint) NOT NULL
        );
        CREATE TABLE resource_scopes (
            id TEXT PRIMARY KEY,
            resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            description TEXT,
            UNIQUE (resource_id, name)
        );
        CREATE TABLE rate_limits (
            key TEXT NOT NULL,
            window_start \(bigint) NOT NULL,
            hits \(bigint) NOT NULL,
            expires_at \(bigint) NOT NULL,
            PRIMARY KEY (key, window_start)
        )
        """
    }
}
