import Foundation
import SesameIdentity
import SesameOIDC

extension SQLStore: ClientStore, ApplicationStore {
    private static let columns = """
        id, name, description, type, secret_hash, redirect_uris, post_logout_redirect_uris, is_third_party, created_at,
        can_manage
        """

    public func insertClient(_ client: Client) async throws {
        defer { clientCache.removeAll() }
        try await insert("INSERT INTO applications (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         Self.binds(client),
                         conflict: { _ in IdentityError(.conflict, phrase: "application.id_taken") })
    }

    public func client(id: String) async throws -> Client? {
        try await clientCache.value(id) {
            guard var client = try await database.query("SELECT \(Self.columns) FROM applications WHERE id = ?",
                                                        .text(id)).first.map(Self.client)
            else { return nil }
            client.secrets = try await secrets(condition: "application_id = ?", [.text(id)])[id] ?? []
            return client
        }
    }

    public func clients() async throws -> [Client] {
        let secrets = try await secrets(condition: "1 = 1", [])
        return try await database.query("SELECT \(Self.columns) FROM applications ORDER BY created_at, id").map {
            var client = try Self.client($0)
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
            post_logout_redirect_uris = ?, is_third_party = ?, created_at = ?, can_manage = ? WHERE id = ?
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
         .bool(client.isThirdParty), .date(client.createdAt), .bool(client.canManage)]
    }

    private static func client(_ row: SQLRow) throws -> Client {
        guard let type = ApplicationType(rawValue: try row.string("type")) else { throw StorageError.corrupt("type") }
        return Client(
            id: try row.string("id"), name: try row.string("name"), description: row.optionalString("description"),
            type: type, secretHash: row.optionalString("secret_hash"), redirectURIs: try row.json("redirect_uris"),
            postLogoutRedirectURIs: try row.json("post_logout_redirect_uris"),
            isThirdParty: try row.bool("is_third_party"), canManage: try row.bool("can_manage"),
            createdAt: try row.date("created_at"))
    }
}
