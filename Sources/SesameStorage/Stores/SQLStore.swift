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
    /// Tenant settings by key (`configs`; "" for none), dropped when this process saves one.
    let configCache: ReadCache<String>
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
        configCache = ReadCache(ttl: configurationTTL)
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

    /// Drops every cached answer a change to roles, organizations, permissions or scopes can alter: the scopes a
    /// subject may hold, organization grants, and applications (their `canManage` comes from roles).
    func authorizationChanged() {
        permissionCache.removeAll()
        organizationCache.removeAll()
        clientCache.removeAll()
    }

    /// `?, ?, ...`: `count` placeholders for an `IN (...)` list.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// `term` with LIKE's wildcards and the escape character escaped, for `LIKE ? ESCAPE '\'`.
    static func likeEscaped(_ term: String) -> String {
        term.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    /// Runs a multi-row write in one transaction, as relation writes need under concurrency: a PostgreSQL deadlock
    /// or serialization failure (two writers locking the same rows in another order) is retried up to three times,
    /// and a foreign-key violation (something named was deleted by a concurrent request between the check and the
    /// write) becomes a 404 `input.reference_gone`, or with `retryingReferences` is retried once more.
    func write(_ statements: [(String, [SQLValue])], retryingReferences: Bool = false) async throws {
        try await writeTransaction(retryingReferences: retryingReferences) { database in
            for (sql, binds) in statements { try await database.query(sql, binds) }
        }
    }

    /// `write`'s transaction, retries and error handling for a write whose statements depend on each other's
    /// results: `body` runs again from the start on a retry.
    func writeTransaction<T: Sendable>(retryingReferences: Bool = false,
                                       _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await database.withTransaction(body)
            } catch {
                if Self.isTransient(error), attempt < 4 { continue }
                if Self.foreignKeyViolation(error) {
                    if retryingReferences, attempt < 3 { continue }
                    throw IdentityError(.notFound, phrase: "input.reference_gone")
                }
                throw error
            }
        }
    }

    /// One write statement with `write`'s handling; returns its rows (for `RETURNING`).
    @discardableResult
    func writeQuery(_ sql: String, _ binds: SQLValue...) async throws -> [SQLRow] {
        try await writeQuery(sql, binds)
    }

    @discardableResult
    func writeQuery(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await database.query(sql, binds)
            } catch {
                if Self.isTransient(error), attempt < 4 { continue }
                if Self.foreignKeyViolation(error) { throw IdentityError(.notFound, phrase: "input.reference_gone") }
                throw error
            }
        }
    }

    /// The constraint a PostgreSQL error names, if any (for logs: it holds no row values).
    public static func constraintName(_ error: any Error) -> String? {
        if let error = error as? PostgresTransactionError, let inner = error.closureError { return constraintName(inner) }
        return (error as? PSQLError)?.serverInfo?[.constraintName]
    }

    /// The PostgreSQL SQLSTATE of an error, looking inside transaction errors.
    public static func sqlState(_ error: any Error) -> String? {
        if let error = error as? PostgresTransactionError, let inner = error.closureError { return sqlState(inner) }
        return (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// A deadlock (40P01) or serialization failure (40001): the same transaction may succeed when run again.
    static func isTransient(_ error: any Error) -> Bool {
        ["40P01", "40001"].contains(sqlState(error) ?? "")
    }

    /// A foreign-key violation (23503, or SQLite's), on either database.
    static func foreignKeyViolation(_ error: any Error) -> Bool {
        if sqlState(error) == "23503" { return true }
        if let error = error as? SQLiteError {
            return error.reason == .constraintForeignKeyFailed || error.message.contains("FOREIGN KEY")
        }
        return false
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
                      "console_setup_tokens", "client_assertions"]
        {
            try await database.query("DELETE FROM \(table) WHERE expires_at < ?", cutoff)
        }
        // Device codes an hour after they expire: until then a late poll hears expired_token, not invalid_grant.
        try await database.query("DELETE FROM device_codes WHERE expires_at < ?", .date(now.addingTimeInterval(-3600)))
        // Sealed copies of client_secret_jwt secrets that expired (the digests stay listed until deleted, unusable).
        try await database.query("""
            DELETE FROM application_sealed_secrets WHERE EXISTS (SELECT 1 FROM application_secrets s
            WHERE s.application_id = application_sealed_secrets.application_id
            AND s.secret_hash = application_sealed_secrets.secret_hash AND s.expires_at < ?)
            AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.id = application_sealed_secrets.application_id
            AND a.secret_hash = application_sealed_secrets.secret_hash)
            """, cutoff)
    }
}

/// What logs and debuggers show of a store: its database's kind, never the secret's check value or cached rows.
extension SQLStore: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "SQLStore(\(database.dialect))" }
    public var debugDescription: String { description }
}
