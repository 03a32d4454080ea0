import Foundation
import SesameIdentity
import SesameOIDC

extension SQLStore: RoleStore, PermissionStore, AccountClaimsStore {
    private static let roleColumns = "roles.id, roles.name, roles.description, roles.type, roles.is_default, roles.created_at"

    /// The relation table, its holder column, and the holder's id.
    private static func relation(_ subject: PermissionSubject) -> (table: String, column: String, id: String) {
        switch subject {
        case .account(let id): ("users_roles", "user_id", id)
        case .client(let id): ("applications_roles", "application_id", id)
        }
    }

    /// One indexed query, cached for the configuration TTL (5 s by default) like applications and resources.
    public func permittedScopes(of subject: PermissionSubject, resourceID: String) async throws -> Set<String> {
        let (table, column, id) = Self.relation(subject)
        return try await permissionCache.value(table + "\u{0}" + id + "\u{0}" + resourceID) {
            Set(try await database.query("""
                SELECT DISTINCT s.name FROM \(table) h JOIN roles_scopes rs ON rs.role_id = h.role_id
                JOIN resource_scopes s ON s.id = rs.scope_id WHERE h.\(column) = ? AND s.resource_id = ?
                """, .text(id), .text(resourceID)).map { try $0.string("name") })
        } ?? []
    }

    public func insertRole(_ role: Role, scopeIDs: [String]) async throws {
        defer { authorizationChanged() }
        var statements: [(String, [SQLValue])] = [(
            "INSERT INTO roles (id, name, description, type, is_default, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(role.id), .text(role.name), .text(role.description), .text(role.type.rawValue),
             .bool(role.isDefault), .date(role.createdAt)]
        )]
        for scopeID in scopeIDs {
            statements.append(("INSERT INTO roles_scopes (role_id, scope_id) VALUES (?, ?)",
                               [.text(role.id), .text(scopeID)]))
        }
        do {
            try await write(statements)
        } catch {
            if Self.uniqueViolation(error) != nil { throw Self.nameInUse(role.name) }
            throw error
        }
    }

    private static func nameInUse(_ name: String) -> IdentityError {
        IdentityError(.roleNameInUse, phrase: "role.name_in_use", ["name": name])
    }

    public func role(id: String) async throws -> Role? {
        try await database.query("SELECT \(Self.roleColumns) FROM roles WHERE id = ?", .text(id)).first
            .map(Self.role)
    }

    public func role(named name: String) async throws -> Role? {
        try await database.query("SELECT \(Self.roleColumns) FROM roles WHERE LOWER(name) = LOWER(?)", .text(name))
            .first.map(Self.role)
    }

    public func roles(ids: [String]) async throws -> [Role] {
        guard !ids.isEmpty else { return [] }
        return try await database.query("""
            SELECT \(Self.roleColumns) FROM roles WHERE id IN (\(Self.placeholders(ids.count))) ORDER BY name
            """, ids.map { .text($0) }).map(Self.role)
    }

    public func roles(_ query: RoleQuery) async throws -> (roles: [RoleListing], total: Int) {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        if let type = query.type {
            conditions.append("roles.type = ?")
            binds.append(.text(type.rawValue))
        }
        if let search = query.search, !search.isEmpty {
            conditions.append("(LOWER(roles.name) LIKE ? ESCAPE '\\' OR LOWER(roles.description) LIKE ? ESCAPE '\\')")
            let pattern = SQLValue.text("%" + Self.likeEscaped(search.lowercased()) + "%")
            binds += [pattern, pattern]
        }
        if let excluding = query.excluding {
            let (table, column, id) = Self.relation(excluding)
            conditions.append("roles.id NOT IN (SELECT role_id FROM \(table) WHERE \(column) = ?)")
            binds.append(.text(id))
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let total = try await database.query("SELECT COUNT(*) AS total FROM roles \(filter)", binds).first?
            .int("total") ?? 0
        let rows = try await database.query("""
            SELECT \(Self.roleColumns),
            (SELECT COUNT(*) FROM users_roles ur WHERE ur.role_id = roles.id) AS users_count,
            (SELECT COUNT(*) FROM applications_roles ar WHERE ar.role_id = roles.id) AS applications_count
            FROM roles \(filter) ORDER BY roles.created_at, roles.id LIMIT ? OFFSET ?
            """, binds + [.integer(Int64(query.limit)), .integer(Int64(query.offset))])
        return (try rows.map { row in
            RoleListing(role: try Self.role(row), usersCount: Int(try row.int("users_count")),
                        applicationsCount: Int(try row.int("applications_count")))
        }, Int(total))
    }

    public func updateRole(_ role: Role) async throws {
        defer { authorizationChanged() }
        do {
            try await writeQuery("UPDATE roles SET name = ?, description = ?, is_default = ? WHERE id = ?",
                                     .text(role.name), .text(role.description), .bool(role.isDefault), .text(role.id))
        } catch {
            if Self.uniqueViolation(error) != nil { throw Self.nameInUse(role.name) }
            throw error
        }
    }

    public func deleteRole(id: String) async throws {
        defer { authorizationChanged() }
        try await writeQuery("DELETE FROM roles WHERE id = ?", .text(id))
    }

    public func permissions(ofRole roleID: String) async throws -> [Permission] {
        try await permissions(where: "s.id IN (SELECT scope_id FROM roles_scopes WHERE role_id = ?)", [.text(roleID)])
    }

    public func permissions(scopeIDs: [String]) async throws -> [Permission] {
        guard !scopeIDs.isEmpty else { return [] }
        return try await permissions(where: "s.id IN (\(Self.placeholders(scopeIDs.count)))", scopeIDs.map { .text($0) })
    }

    private func permissions(where condition: String, _ binds: [SQLValue]) async throws -> [Permission] {
        try await database.query("""
            SELECT s.id, s.name, s.description, r.id AS resource_id, r.name AS resource_name, r.indicator
            FROM resource_scopes s JOIN resources r ON r.id = s.resource_id WHERE \(condition)
            ORDER BY r.name, r.id, s.name
            """, binds).map { row in
            Permission(scope: ResourceScope(id: try row.string("id"), name: try row.string("name"),
                                            description: row.optionalString("description")),
                       resourceID: try row.string("resource_id"), resourceName: try row.string("resource_name"),
                       resourceIndicator: try row.string("indicator"))
        }
    }

    public func addPermissions(roleID: String, scopeIDs: [String]) async throws {
        defer { authorizationChanged() }
        try await write(scopeIDs.map {
            ("INSERT INTO roles_scopes (role_id, scope_id) VALUES (?, ?) ON CONFLICT DO NOTHING", [.text(roleID), .text($0)])
        })
    }

    public func removePermission(roleID: String, scopeID: String) async throws -> Bool {
        defer { authorizationChanged() }
        return try await !writeQuery("""
            DELETE FROM roles_scopes WHERE role_id = ? AND scope_id = ? RETURNING scope_id
            """, .text(roleID), .text(scopeID)).isEmpty
    }

    public func roles(heldBy subject: PermissionSubject) async throws -> [Role] {
        let (table, column, id) = Self.relation(subject)
        return try await database.query("""
            SELECT \(Self.roleColumns) FROM roles JOIN \(table) h ON h.role_id = roles.id WHERE h.\(column) = ?
            ORDER BY roles.name
            """, .text(id)).map(Self.role)
    }

    public func roleNames(ofUser userID: String) async throws -> [String] {
        try await roles(heldBy: .account(userID)).map(\.name)
    }

    public func assign(roleIDs: [String], to subject: PermissionSubject) async throws {
        defer { authorizationChanged() }
        let (table, column, id) = Self.relation(subject)
        try await write(roleIDs.map {
            ("INSERT INTO \(table) (\(column), role_id) VALUES (?, ?) ON CONFLICT DO NOTHING", [.text(id), .text($0)])
        })
    }

    public func assign(roleID: String, to subjects: [PermissionSubject]) async throws {
        defer { authorizationChanged() }
        try await write(subjects.map { subject in
            let (table, column, id) = Self.relation(subject)
            return ("INSERT INTO \(table) (\(column), role_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [.text(id), .text(roleID)])
        })
    }

    public func replaceRoles(of subject: PermissionSubject, with roleIDs: [String]) async throws {
        defer { authorizationChanged() }
        let (table, column, id) = Self.relation(subject)
        try await write([("DELETE FROM \(table) WHERE \(column) = ?", [.text(id)])] + roleIDs.map {
            // Two identical replaces racing both delete, then both insert: the second insert is a no-op.
            ("INSERT INTO \(table) (\(column), role_id) VALUES (?, ?) ON CONFLICT DO NOTHING", [.text(id), .text($0)])
        })
    }

    public func unassign(roleID: String, from subject: PermissionSubject) async throws -> Bool {
        defer { authorizationChanged() }
        let (table, column, id) = Self.relation(subject)
        return try await !writeQuery("""
            DELETE FROM \(table) WHERE \(column) = ? AND role_id = ? RETURNING role_id
            """, .text(id), .text(roleID)).isEmpty
    }

    public func users(holdingRole roleID: String, search: String?, offset: Int, limit: Int) async throws
        -> (users: [User], total: Int)
    {
        try await pagedUsers(where: "id IN (SELECT user_id FROM users_roles WHERE role_id = ?)", [.text(roleID)],
                             search: search, offset: offset, limit: limit)
    }

    public func applications(holdingRole roleID: String, offset: Int, limit: Int) async throws
        -> (applications: [Client], total: Int)
    {
        let condition = "applications.id IN (SELECT application_id FROM applications_roles WHERE role_id = ?)"
        let total = try await database.query("SELECT COUNT(*) AS total FROM applications WHERE \(condition)",
                                             .text(roleID)).first?.int("total") ?? 0
        let clients = try await database.query("""
            SELECT \(Self.clientColumns) FROM applications WHERE \(condition)
            ORDER BY applications.created_at, applications.id LIMIT ? OFFSET ?
            """, .text(roleID), .integer(Int64(limit)), .integer(Int64(offset))).map(Self.clientFromRow)
        return (clients, Int(total))
    }

    /// Cached like applications (read on token exchanges that issue extended claims).
    public func config(key: String) async throws -> String? {
        let cached = try await configCache.value(key) {
            try await database.query("SELECT value FROM configs WHERE key = ?", .text(key)).first?.string("value") ?? ""
        }
        return cached.flatMap { $0.isEmpty ? nil : $0 }
    }

    public func saveConfig(key: String, json: String) async throws {
        defer { configCache.removeAll() }
        try await writeQuery("""
            INSERT INTO configs (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """, .text(key), .text(json))
    }

    /// Links the built-in "Management API access" role to the Management API's `all` scope (idempotent; run at
    /// every start, since the resource is made at first start, after the migration that made the role).
    public func linkManagementRole(indicator: String) async throws {
        defer { authorizationChanged() }
        try await writeQuery("""
            INSERT INTO roles_scopes (role_id, scope_id)
            SELECT ?, s.id FROM resource_scopes s JOIN resources r ON r.id = s.resource_id
            WHERE r.indicator = ? AND s.name = 'all' ON CONFLICT DO NOTHING
            """, .text(RoleService.managementRoleID), .text(indicator))
    }


    private static func role(_ row: SQLRow) throws -> Role {
        guard let type = RoleType(rawValue: try row.string("type")) else { throw StorageError.corrupt("type") }
        return Role(id: try row.string("id"), name: try row.string("name"), description: try row.string("description"),
                    type: type, isDefault: try row.bool("is_default"), createdAt: try row.date("created_at"))
    }
}
