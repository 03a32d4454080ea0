import Foundation
import SesameOIDC

extension SQLStore: GrantStore, AuthorizationCodeStore, TokenStore {
    public func insertGrant(_ grant: Grant) async throws {
        try await Self.insertGrant(grant, into: database)
    }

    @discardableResult
    public func insertGrant(_ grant: Grant, code: AuthorizationCode, consumingInteraction interactionID: String?)
        async throws -> Bool
    {
        try await database.withTransaction { database in
            if let interactionID {
                guard try await !database.query("DELETE FROM interactions WHERE id = ? RETURNING id",
                                                .text(interactionID)).isEmpty
                else { return false }
            }
            try await Self.insertGrant(grant, into: database)
            try await Self.insertAuthorizationCode(code, into: database)
            return true
        }
    }

    private static func insertGrant(_ grant: Grant, into database: any SQLDatabase) async throws {
        try await database.query("""
            INSERT INTO grants (id, client_id, account_id, scopes, created_at) VALUES (?, ?, ?, ?, ?)
            """, .text(grant.id), .text(grant.clientID), .string(grant.accountID), .json(grant.scopes),
            .date(grant.createdAt))
    }

    public func grant(id: String) async throws -> Grant? {
        try await database.query("SELECT id, client_id, account_id, scopes, created_at FROM grants WHERE id = ?",
                                 .text(id)).first.map { row in
            Grant(id: try row.string("id"), clientID: try row.string("client_id"),
                  accountID: row.optionalString("account_id"), scopes: try row.json("scopes"),
                  createdAt: try row.date("created_at"))
        }
    }

    public func revokeGrant(id: String) async throws {
        let grant = SQLValue.text(id)
        // The grant row first: an exchange holding it (`exchange` below) commits before this goes on, and on
        // PostgreSQL each later statement then sees the tokens that exchange stored.
        try await database.transaction([
            ("DELETE FROM grants WHERE id = ?", [grant]),
            ("DELETE FROM access_tokens WHERE grant_id = ?", [grant]),
            ("DELETE FROM refresh_tokens WHERE grant_id = ?", [grant]),
            ("DELETE FROM authorization_codes WHERE grant_id = ? AND consumed_at IS NULL", [grant]),
        ])
    }

    public func exchange(_ exchange: TokenExchange, now: Date) async throws -> TokenExchange.Outcome {
        try await database.withTransaction { database in
            // Hold the grant: a revocation waits for this transaction, or this one finds the grant gone.
            guard try await !database.query("SELECT id FROM grants WHERE id = ?" + database.dialect.forUpdate,
                                            .text(exchange.grantID)).isEmpty
            else { return .grantRevoked }
            let spend = switch exchange.spent {
            case .authorizationCode(let id):
                try await database.query("""
                    UPDATE authorization_codes SET consumed_at = ? WHERE id = ? AND grant_id = ? AND consumed_at IS NULL
                    RETURNING id
                    """, .date(now), .text(id), .text(exchange.grantID))
            case .refreshToken(let id):
                try await database.query("""
                    UPDATE refresh_tokens SET consumed_at = ? WHERE id = ? AND grant_id = ? AND consumed_at IS NULL
                    RETURNING id
                    """, .date(now), .text(id), .text(exchange.grantID))
            case .deviceCode(let id):
                try await database.query("""
                    UPDATE device_codes SET consumed_at = ? WHERE id = ? AND grant_id = ? AND status = 'approved'
                    AND consumed_at IS NULL RETURNING id
                    """, .date(now), .text(id), .text(exchange.grantID))
            }
            guard !spend.isEmpty else { return .alreadySpent }
            if let token = exchange.accessToken { try await Self.insertAccessToken(token, into: database) }
            if let token = exchange.refreshToken { try await Self.insertRefreshToken(token, into: database) }
            return .issued
        }
    }

    public func consentedScopes(accountID: String, clientID: String) async throws -> Set<String> {
        let row = try await database.query("SELECT scopes FROM consents WHERE account_id = ? AND client_id = ?",
                                           .text(accountID), .text(clientID)).first
        return Set(try row?.json("scopes", as: [String].self) ?? [])
    }

    public func saveConsent(accountID: String, clientID: String, scopes: Set<String>, organizationIDs: [String],
                            now: Date) async throws
    {
        try await writeTransaction { database in
            // Read under the row's lock (made first if there is none yet), so two consents given at once both end
            // up in the union.
            try await database.query("""
                INSERT INTO consents (account_id, client_id, scopes, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (account_id, client_id) DO NOTHING
                """, .text(accountID), .text(clientID), .json([String]()), .date(now))
            let row = try await database.query("""
                SELECT scopes FROM consents WHERE account_id = ? AND client_id = ?\(database.dialect.forUpdate)
                """, .text(accountID), .text(clientID)).first
            let merged = Set(try row?.json("scopes", as: [String].self) ?? []).union(scopes)
            try await database.query("""
                INSERT INTO consents (account_id, client_id, scopes, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (account_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at
                """, .text(accountID), .text(clientID), .json(merged.sorted()), .date(now))
            for organizationID in Set(organizationIDs).sorted() {
                // Only where the account is a member (a membership ended meanwhile adds nothing).
                try await database.query("""
                    INSERT INTO application_user_consent_organizations (application_id, user_id, organization_id)
                    SELECT ?, user_id, organization_id FROM organization_users WHERE user_id = ? AND organization_id = ?
                    ON CONFLICT DO NOTHING
                    """, .text(clientID), .text(accountID), .text(organizationID))
            }
        }
    }

    public func consentedOrganizationIDs(accountID: String, clientID: String) async throws -> Set<String> {
        Set(try await database.query("""
            SELECT organization_id FROM application_user_consent_organizations WHERE application_id = ? AND user_id = ?
            """, .text(clientID), .text(accountID)).map { try $0.string("organization_id") })
    }

    public func insertAuthorizationCode(_ code: AuthorizationCode) async throws {
        try await Self.insertAuthorizationCode(code, into: database)
    }

    private static func insertAuthorizationCode(_ code: AuthorizationCode, into database: any SQLDatabase)
        async throws
    {
        try await database.query("""
            INSERT INTO authorization_codes (id, grant_id, payload, expires_at) VALUES (?, ?, ?, ?)
            """, .text(code.id), .text(code.context.grantID), .json(code), .date(code.expiresAt))
    }

    public func authorizationCode(id: String) async throws -> (code: AuthorizationCode, isConsumed: Bool)? {
        guard let row = try await database.query(
            "SELECT payload, consumed_at FROM authorization_codes WHERE id = ?", .text(id)).first
        else { return nil }
        return (try row.json("payload"), row.optionalDate("consumed_at") != nil)
    }

    public func insertAccessToken(_ token: AccessTokenRecord) async throws {
        try await Self.insertAccessToken(token, into: database)
    }

    private static func insertAccessToken(_ token: AccessTokenRecord, into database: any SQLDatabase) async throws {
        try await database.query("""
            INSERT INTO access_tokens (id, grant_id, client_id, account_id, scopes, created_at, expires_at, claims)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, .text(token.id), .string(token.grantID), .text(token.clientID), .string(token.accountID),
            .json(token.scopes), .date(token.createdAt), .date(token.expiresAt),
            token.claims.isEmpty ? .null : .json(token.claims))
    }

    public func accessToken(id: String) async throws -> AccessTokenRecord? {
        try await database.query("""
            SELECT id, grant_id, client_id, account_id, scopes, created_at, expires_at, claims FROM access_tokens
            WHERE id = ?
            """, .text(id)).first.map { row in
            AccessTokenRecord(id: try row.string("id"), grantID: row.optionalString("grant_id"),
                              clientID: try row.string("client_id"), accountID: row.optionalString("account_id"),
                              scopes: try row.json("scopes"), createdAt: try row.date("created_at"),
                              expiresAt: try row.date("expires_at"),
                              claims: row.optionalString("claims") == nil ? [] : try row.json("claims"))
        }
    }

    public func deleteAccessToken(id: String) async throws {
        try await database.query("DELETE FROM access_tokens WHERE id = ?", .text(id))
    }

    public func insertRefreshToken(_ token: RefreshTokenRecord) async throws {
        try await Self.insertRefreshToken(token, into: database)
    }

    private static func insertRefreshToken(_ token: RefreshTokenRecord, into database: any SQLDatabase)
        async throws
    {
        try await database.query("""
            INSERT INTO refresh_tokens (id, grant_id, client_id, account_id, payload, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, .text(token.id), .text(token.context.grantID), .text(token.context.clientID),
            .text(token.context.accountID), .json(token.context), .date(token.createdAt), .date(token.expiresAt))
    }

    public func refreshToken(id: String) async throws -> RefreshTokenRecord? {
        try await database.query("""
            SELECT id, payload, created_at, expires_at, consumed_at FROM refresh_tokens WHERE id = ?
            """, .text(id)).first.map { row in
            RefreshTokenRecord(id: try row.string("id"), context: try row.json("payload"),
                               createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"),
                               consumedAt: row.optionalDate("consumed_at"))
        }
    }

    /// Ends every refresh token of a user (after a password reset, for example).
    public func deleteRefreshTokens(accountID: String) async throws {
        try await database.query("DELETE FROM refresh_tokens WHERE account_id = ?", .text(accountID))
    }
}
