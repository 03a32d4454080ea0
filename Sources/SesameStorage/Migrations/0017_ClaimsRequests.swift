extension Migration {
    /// The claims an authorization's `claims` parameter asked of userinfo (OpenID Connect Core §5.5), kept with each
    /// opaque access token as a JSON array of names (null: none). The ID token's come from the grant's context.
    static let m0017ClaimsRequests = Migration(version: 17, name: "claims_requests", sqlite: schema, postgres: schema)

    private static let schema = "ALTER TABLE access_tokens ADD COLUMN claims TEXT"
}
