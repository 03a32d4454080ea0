import Foundation
import SesameIdentity
import SesameOIDC

extension SQLStore: ResourceStore, ResourceAdminStore {
    public func insertResource(_ resource: APIResource) async throws {
        var statements: [(String, [SQLValue])] = [(
            "INSERT INTO resources (id, name, indicator, access_token_ttl, created_at) VALUES (?, ?, ?, ?, ?)",
            [.text(resource.id), .text(resource.name), .text(resource.indicator),
             .integer(Int64(resource.accessTokenTTL)), .date(resource.createdAt)]
        )]
        for scope in resource.scopes {
            statements.append((
                "INSERT INTO resource_scopes (id, resource_id, name, description) VALUES (?, ?, ?, ?)",
                [.text(scope.id), .text(resource.id), .text(scope.name), .string(scope.description)]
            ))
        }
        defer { resourceCache.removeAll() }
        do {
            try await database.transaction(statements)
        } catch {
            if Self.uniqueViolation(error) != nil {
                throw IdentityError(.conflict, phrase: "resource.indicator_taken", ["indicator": resource.indicator])
            }
            throw error
        }
    }

    public func resource(indicator: String) async throws -> APIResource? {
        try await resourceCache.value(indicator) {
            guard let row = try await database.query("""
                SELECT id, name, indicator, access_token_ttl, created_at FROM resources WHERE indicator = ?
                """, .text(indicator)).first
            else { return nil }
            return try await resource(row)
        }
    }

    public func resources() async throws -> [APIResource] {
        var resources: [APIResource] = []
        for row in try await database.query("""
            SELECT id, name, indicator, access_token_ttl, created_at FROM resources ORDER BY created_at, id
            """)
        {
            resources.append(try await resource(row))
        }
        return resources
    }

    public func resource(id: String) async throws -> APIResource? {
        guard let row = try await database.query("""
            SELECT id, name, indicator, access_token_ttl, created_at FROM resources WHERE id = ?
            """, .text(id)).first
        else { return nil }
        return try await resource(row)
    }

    public func updateResource(_ resource: APIResource) async throws {
        defer { resourceCache.removeAll() }
        try await database.query("UPDATE resources SET name = ?, access_token_ttl = ? WHERE id = ?",
                                 .text(resource.name), .integer(Int64(resource.accessTokenTTL)), .text(resource.id))
    }

    public func insertScope(_ scope: ResourceScope, resourceID: String) async throws {
        defer { resourceCache.removeAll() }
        try await insert("INSERT INTO resource_scopes (id, resource_id, name, description) VALUES (?, ?, ?, ?)",
                         [.text(scope.id), .text(resourceID), .text(scope.name), .string(scope.description)],
                         conflict: { _ in
                             IdentityError(.conflict, phrase: "resource.scope_exists", ["scope": scope.name])
                         })
    }

    public func deleteScope(id: String, resourceID: String) async throws {
        defer {
            resourceCache.removeAll()
            authorizationChanged()
        }
        try await database.query("DELETE FROM resource_scopes WHERE id = ? AND resource_id = ?", .text(id),
                                 .text(resourceID))
    }

    public func deleteResource(id: String) async throws {
        defer {
            resourceCache.removeAll()
            authorizationChanged()
        }
        try await database.transaction([
            ("DELETE FROM resource_scopes WHERE resource_id = ?", [.text(id)]),
            ("DELETE FROM resources WHERE id = ?", [.text(id)]),
        ])
    }

    private func resource(_ row: SQLRow) async throws -> APIResource {
        let id = try row.string("id")
        let scopes = try await database.query("""
            SELECT id, name, description FROM resource_scopes WHERE resource_id = ? ORDER BY name
            """, .text(id)).map { scope in
            ResourceScope(id: try scope.string("id"), name: try scope.string("name"),
                          description: scope.optionalString("description"))
        }
        return APIResource(id: id, name: try row.string("name"), indicator: try row.string("indicator"),
                           accessTokenTTL: Int(try row.int("access_token_ttl")), scopes: scopes,
                           createdAt: try row.date("created_at"))
    }
}
