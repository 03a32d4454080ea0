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
                         Self.binds(client), conflict: { _ in "an application with this id exists" })
    }

    public func client(id: String) async throws -> Client? {
        try await clientCache.value(id) {
            try await database.query("SELECT \(Self.columns) FROM applications WHERE id = ?", .text(id)).first
                .map(Self.client)
        }
    }

    public func clients() async throws -> [Client] {
        try await database.query("SELECT \(Self.columns) FROM applications ORDER BY created_at, id").map(Self.client)
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
        try await database.query("DELETE FROM applications WHERE id = ?", .text(id))
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
