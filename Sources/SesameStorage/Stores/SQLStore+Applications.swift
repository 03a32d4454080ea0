import Foundation
import SesameIdentity
import SesameOIDC

extension SQLStore: ClientStore, ApplicationStore {
    private static let columns = """
        id, name, description, type, secret_hash, redirect_uris, post_logout_redirect_uris, is_third_party, created_at,
        id_token_signed_response_alg
        """
    /// The columns read back, with `can_manage`: whether one of the app's roles holds the Management API's
    /// `all` permission.
    static let clientColumns = """
        applications.id, applications.name, applications.description, applications.type, applications.secret_hash,
        applications.redirect_uris, applications.post_logout_redirect_uris, applications.is_third_party,
        applications.created_at, applications.id_token_signed_response_alg, CASE WHEN EXISTS (
            SELECT 1 FROM applications_roles ar JOIN roles_scopes rs ON rs.role_id = ar.role_id
            JOIN resource_scopes s ON s.id = rs.scope_id JOIN resources r ON r.id = s.resource_id
            WHERE ar.application_id = applications.id AND r.indicator = 'https://default.logto.app/api'
            AND s.name = 'all') THEN 1 ELSE 0 END AS can_manage
        """

    /// Inserts the application; with `canManage`, it gets the built-in "Management API access" role in the
    /// same transaction.
    public func insertClient(_ client: Client) async throws {
        defer { clientCache.removeAll() }
        var statements: [(String, [SQLValue])] = [
            ("INSERT INTO applications (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", Self.binds(client)),
        ]
        if client.canManage {
            statements.append(("INSERT INTO applications_roles (application_id, role_id) VALUES (?, ?)",
                               [.text(client.id), .text(RoleService.managementRoleID)]))
        }
        do {
            try await database.transaction(statements)
        } catch {
            if Self.uniqueViolation(error) != nil { throw IdentityError(.conflict, phrase: "application.id_taken") }
            throw error
        }
    }

    public func client(id: String) async throws -> Client? {
        try await clientCache.value(id) {
            guard var client = try await database.query("SELECT \(Self.clientColumns) FROM applications WHERE id = ?",
                                                        .text(id)).first.map(Self.clientFromRow)
            else { return nil }
            client.secrets = try await secrets(condition: "application_id = ?", [.text(id)])[id] ?? []
            return client
        }
    }

    public func clients() async throws -> [Client] {
        let secrets = try await secrets(condition: "1 = 1", [])
        return try await database.query("SELECT \(Self.clientColumns) FROM applications ORDER BY created_at, id").map {
            var client = try Self.clientFromRow($0)
            client.secrets = secrets[client.id] ?? []
            return client
        }
    }

    public func insertClientSecret(_ secret: ClientSecret, applicationID: String) async throws {
        defer { clientCache.removeAll() }
        try await insert("""
            INSERT INTO application_secrets (application_id, name, secret_hash, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?)
            """, [.text(applicationID), .text(secret.name), .text(secret.hash), .date(secret.createdAt),
                  .date(secret.expiresAt)],
            conflict: { _ in IdentityError(.conflict, phrase: "application.secret_name_taken", ["name": secret.name]) })
    }

    public func deleteClientSecret(name: String, applicationID: String) async throws -> Bool {
        defer { clientCache.removeAll() }
        return try await !database.query("""
            DELETE FROM application_secrets WHERE application_id = ? AND name = ? RETURNING name
            """, .text(applicationID), .text(name)).isEmpty
    }

    /// Named secrets by application, oldest first.
    private func secrets(condition: String, _ binds: [SQLValue]) async throws -> [String: [ClientSecret]] {
        var result: [String: [ClientSecret]] = [:]
        for row in try await database.query("""
            SELECT application_id, name, secret_hash, created_at, expires_at FROM application_secrets
            WHERE \(condition) ORDER BY created_at, name
            """, binds)
        {
            result[try row.string("application_id"), default: []].append(ClientSecret(
                name: try row.string("name"), hash: try row.string("secret_hash"), createdAt: try row.date("created_at"),
                expiresAt: row.optionalDate("expires_at")))
        }
        return result
    }

    public func updateClient(_ client: Client) async throws {
        defer { clientCache.removeAll() }
        let binds = Self.binds(client)
        try await database.query("""
            UPDATE applications SET name = ?, description = ?, type = ?, secret_hash = ?, redirect_uris = ?,
            post_logout_redirect_uris = ?, is_third_party = ?, created_at = ?, id_token_signed_response_alg = ? WHERE id = ?
            """, Array(binds.dropFirst()) + [binds[0]])
    }

    public func deleteClient(id: String) async throws {
        defer { clientCache.removeAll() }
        try await database.transaction([
            ("DELETE FROM application_secrets WHERE application_id = ?", [.text(id)]),
            ("DELETE FROM applications WHERE id = ?", [.text(id)]),
        ])
    }

    private static func binds(_ client: Client) -> [SQLValue] {
        [.text(client.id), .text(client.name), .string(client.description), .text(client.type.rawValue),
         .string(client.secretHash), .json(client.redirectURIs), .json(client.postLogoutRedirectURIs),
         .bool(client.isThirdParty), .date(client.createdAt), .string(client.idTokenSignedResponseAlg?.rawValue)]
    }

    static func clientFromRow(_ row: SQLRow) throws -> Client {
        guard let type = ApplicationType(rawValue: try row.string("type")) else { throw StorageError.corrupt("type") }
        return Client(
            id: try row.string("id"), name: try row.string("name"), description: row.optionalString("description"),
            type: type, secretHash: row.optionalString("secret_hash"), redirectURIs: try row.json("redirect_uris"),
            postLogoutRedirectURIs: try row.json("post_logout_redirect_uris"),
            isThirdParty: try row.bool("is_third_party"), canManage: try row.bool("can_manage"),
            createdAt: try row.date("created_at"),
            idTokenSignedResponseAlg: try row.optionalString("id_token_signed_response_alg").map {
                guard let algorithm = SigningAlgorithm(rawValue: $0) else {
                    throw StorageError.corrupt("id_token_signed_response_alg")
                }
                return algorithm
            })
    }
}
