import Foundation
import PostgresNIO
import SesameIdentity
import SesameOIDC
import SQLiteNIO

/// Every store protocol over one `SQLDatabase`, with the same SQL on SQLite and PostgreSQL.
public struct SQLStore: Sendable {
    public let database: any SQLDatabase
    /// Encrypts private keys (and later connector secrets) at rest.
    let secretBox: SecretBox
    let clientCache: ReadCache<Client>
    let resourceCache: ReadCache<APIResource>
    /// The scopes a subject's roles permit per resource (`permittedScopes`), read on every token request; every
    /// role, permission, assignment, scope or resource write through this process drops it.
    let permissionCache: ReadCache<Set<String>>
    /// Members' organization grants (`organizationGrant`), for organization tokens; dropped with the permissions.
    let organizationCache: ReadCache<OrganizationGrant>
    /// The check value of the secret `secretBox` was made from (`checkValue(for:)`): every write that seals
    /// compares it with the database's first, in its transaction. nil skips the comparison (tests).
    let secretCheck: String?

    /// `configurationTTL`: how long applications, API resources and role permissions are cached (0 turns caching
    /// off); another instance's change is seen within that time.
    /// `secret`: the secret `secretBox` was derived from, so writes that seal can prove it is still the
    /// database's (see `sealing`).
    public init(database: any SQLDatabase, secretBox: SecretBox, secret: String? = nil,
                configurationTTL: TimeInterval = 5)
    {
        self.database = database
        self.secretBox = secretBox
        secretCheck = secret.map(Self.checkValue(for:))
        clientCache = ReadCache(ttl: configurationTTL)
        resourceCache = ReadCache(ttl: configurationTTL)
        permissionCache = ReadCache(ttl: configurationTTL)
        organizationCache = ReadCache(ttl: configurationTTL)
    }

    /// Runs a write and turns a unique-constraint violation into the error `conflict` makes of its detail
    /// (an `IdentityError.conflict`).
    func insert(_ sql: String, _ binds: [SQLValue], conflict: (String) -> IdentityError) async throws {
        do {
            try await database.query(sql, binds)
        } catch {
            if let detail = Self.uniqueViolation(error) { throw conflict(detail) }
            throw error
        }
    }

    /// The constraint or column text of a unique violation, on either database.
    static func uniqueViolation(_ error: any Error) -> String? {
        if let error = error as? PostgresTransactionError, let inner = error.closureError {
            return uniqueViolation(inner)
        }
        if let error = error as? PSQLError, error.serverInfo?[.sqlState] == PostgresError.Code.uniqueViolation.raw {
            return error.serverInfo?[.constraintName] ?? error.serverInfo?[.detail] ?? "unique"
        }
        if let error = error as? SQLiteError, error.reason == .constraintUniqueFailed
            || error.reason == .constraintPrimaryKeyFailed || (error.reason == .constraint && error.message.contains("UNIQUE"))
        {
            return error.message
        }
        return nil
    }
}

extension SQLStore: ExpiryStore {
    public func deleteExpired(before now: Date) async throws {
        let cutoff = SQLValue.date(now)
        for table in ["interactions", "sessions", "authorization_codes", "access_tokens", "refresh_tokens",
                      "rate_limits", "verification_codes", "experiences", "console_sessions",
                      "console_setup_tokens"]
        {
            try await database.query("DELETE FROM \(table) WHERE expires_at < ?", cutoff)
        }
    }
}
