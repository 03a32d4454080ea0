import Foundation
import SesameIdentity
import SesameOIDC

extension SQLStore: OrganizationStore, OrganizationPermissionStore {
    private static let organizationColumns = """
        organizations.id, organizations.name, organizations.description, organizations.custom_data,
        organizations.is_mfa_required, organizations.branding, organizations.created_at
        """
    static let organizationRoleColumns = """
        organization_roles.id, organization_roles.name, organization_roles.description, organization_roles.type,
        organization_roles.created_at
        """

    /// The membership table of a member kind, its member column, the role table and the member's id.
    private static func membership(_ member: PermissionSubject) -> (table: String, column: String, roles: String, id: String) {
        switch member {
        case .account(let id): ("organization_users", "user_id", "organization_user_roles", id)
        case .client(let id): ("organization_applications", "application_id", "organization_application_roles", id)
        }
    }

    private static func permissionTable(_ kind: OrganizationPermissionKind) -> String {
        kind == .organizationScopes ? "organization_role_scopes" : "organization_role_resource_scopes"
    }

    // MARK: Organizations

    public func insertOrganization(_ organization: Organization) async throws {
        try await writeQuery("""
            INSERT INTO organizations (id, name, description, custom_data, is_mfa_required, branding, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, Self.binds(organization))
    }

    public func organization(id: String) async throws -> Organization? {
        try await database.query("SELECT \(Self.organizationColumns) FROM organizations WHERE id = ?", .text(id))
            .first.map(Self.organization)
    }

    public func organizations(search: String?, offset: Int, limit: Int) async throws
        -> (organizations: [OrganizationListing], total: Int)
    {
        var filter = ""
        var binds: [SQLValue] = []
        if let search, !search.isEmpty {
            filter = "WHERE LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(description, '')) LIKE ? ESCAPE '\\'"
            let pattern = SQLValue.text("%" + Self.likeEscaped(search.lowercased()) + "%")
            binds = [pattern, pattern]
        }
        let total = try await database.query("SELECT COUNT(*) AS total FROM organizations \(filter)", binds).first?
            .int("total") ?? 0
        let rows = try await database.query("""
            SELECT \(Self.organizationColumns),
            (SELECT COUNT(*) FROM organization_users m WHERE m.organization_id = organizations.id) AS users_count
            FROM organizations \(filter) ORDER BY created_at DESC, id LIMIT ? OFFSET ?
            """, binds + [.integer(Int64(limit)), .integer(Int64(offset))])
        return (try rows.map { OrganizationListing(organization: try Self.organization($0),
                                                   usersCount: Int(try $0.int("users_count"))) }, Int(total))
    }

    public func updateOrganization(_ organization: Organization) async throws {
        defer { authorizationChanged() }
        let binds = Self.binds(organization)
        try await writeQuery("""
            UPDATE organizations SET name = ?, description = ?, custom_data = ?, is_mfa_required = ?, branding = ?,
            created_at = ? WHERE id = ?
            """, Array(binds.dropFirst()) + [binds[0]])
    }

    public func deleteOrganization(id: String) async throws {
        defer { authorizationChanged() }
        try await writeQuery("DELETE FROM organizations WHERE id = ?", .text(id))
    }

    // MARK: Template: scopes

    public func insertOrganizationScope(_ scope: OrganizationScope) async throws {
        try await insert("INSERT INTO organization_scopes (id, name, description, created_at) VALUES (?, ?, ?, ?)",
                         [.text(scope.id), .text(scope.name), .string(scope.description), .date(scope.createdAt)],
                         conflict: { _ in Self.scopeNameInUse(scope.name) })
    }

    private static func scopeNameInUse(_ name: String) -> IdentityError {
        IdentityError(.organizationScopeNameInUse, phrase: "organization_scope.name_in_use", ["name": name])
    }

    public func organizationScopes(search: String?, offset: Int, limit: Int) async throws
        -> (scopes: [OrganizationScope], total: Int)
    {
        let (filter, binds) = Self.nameFilter(search)
        let total = try await database.query("SELECT COUNT(*) AS total FROM organization_scopes \(filter)", binds)
            .first?.int("total") ?? 0
        let scopes = try await database.query("""
            SELECT id, name, description, created_at FROM organization_scopes \(filter) ORDER BY name LIMIT ? OFFSET ?
            """, binds + [.integer(Int64(limit)), .integer(Int64(offset))]).map(Self.scope)
        return (scopes, Int(total))
    }

    public func organizationScopes(ids: [String]) async throws -> [OrganizationScope] {
        guard !ids.isEmpty else { return [] }
        return try await database.query("""
            SELECT id, name, description, created_at FROM organization_scopes WHERE id IN (\(Self.placeholders(ids.count)))
            ORDER BY name
            """, ids.map { .text($0) }).map(Self.scope)
    }

    public func updateOrganizationScope(_ scope: OrganizationScope) async throws {
        defer { authorizationChanged() }
        do {
            try await writeQuery("UPDATE organization_scopes SET name = ?, description = ? WHERE id = ?",
                                     .text(scope.name), .string(scope.description), .text(scope.id))
        } catch {
            if Self.uniqueViolation(error) != nil { throw Self.scopeNameInUse(scope.name) }
            throw error
        }
    }

    public func deleteOrganizationScope(id: String) async throws {
        defer { authorizationChanged() }
        try await writeQuery("DELETE FROM organization_scopes WHERE id = ?", .text(id))
    }

    // MARK: Template: roles

    public func insertOrganizationRole(_ role: OrganizationRole, scopeIDs: [String], resourceScopeIDs: [String])
        async throws
    {
        var statements: [(String, [SQLValue])] = [(
            "INSERT INTO organization_roles (id, name, description, type, created_at) VALUES (?, ?, ?, ?, ?)",
            [.text(role.id), .text(role.name), .string(role.description), .text(role.type.rawValue),
             .date(role.createdAt)]
        )]
        for (kind, ids) in [(OrganizationPermissionKind.organizationScopes, scopeIDs), (.resourceScopes, resourceScopeIDs)] {
            for id in ids {
                statements.append(("INSERT INTO \(Self.permissionTable(kind)) (role_id, scope_id) VALUES (?, ?)",
                                   [.text(role.id), .text(id)]))
            }
        }
        do {
            try await write(statements)
        } catch {
            if Self.uniqueViolation(error) != nil { throw Self.roleNameInUse(role.name) }
            throw error
        }
    }

    private static func roleNameInUse(_ name: String) -> IdentityError {
        IdentityError(.organizationRoleNameInUse, phrase: "organization_role.name_in_use", ["name": name])
    }

    public func organizationRoles(search: String?, offset: Int, limit: Int) async throws
        -> (roles: [OrganizationRole], total: Int)
    {
        let (filter, binds) = Self.nameFilter(search)
        let total = try await database.query("SELECT COUNT(*) AS total FROM organization_roles \(filter)", binds)
            .first?.int("total") ?? 0
        let roles = try await database.query("""
            SELECT \(Self.organizationRoleColumns) FROM organization_roles \(filter) ORDER BY name LIMIT ? OFFSET ?
            """, binds + [.integer(Int64(limit)), .integer(Int64(offset))]).map(Self.organizationRole)
        return (roles, Int(total))
    }

    public func organizationRoles(ids: [String]) async throws -> [OrganizationRole] {
        guard !ids.isEmpty else { return [] }
        return try await database.query("""
            SELECT \(Self.organizationRoleColumns) FROM organization_roles WHERE id IN (\(Self.placeholders(ids.count))) ORDER BY name
            """, ids.map { .text($0) }).map(Self.organizationRole)
    }

    public func organizationRoles(names: [String]) async throws -> [OrganizationRole] {
        guard !names.isEmpty else { return [] }
        return try await database.query("""
            SELECT \(Self.organizationRoleColumns) FROM organization_roles WHERE name IN (\(Self.placeholders(names.count)))
            ORDER BY name
            """, names.map { .text($0) }).map(Self.organizationRole)
    }

    public func updateOrganizationRole(_ role: OrganizationRole) async throws {
        do {
            try await writeQuery("UPDATE organization_roles SET name = ?, description = ? WHERE id = ?",
                                     .text(role.name), .string(role.description), .text(role.id))
        } catch {
            if Self.uniqueViolation(error) != nil { throw Self.roleNameInUse(role.name) }
            throw error
        }
    }

    public func deleteOrganizationRole(id: String) async throws {
        defer { authorizationChanged() }
        try await writeQuery("DELETE FROM organization_roles WHERE id = ?", .text(id))
    }

    public func organizationScopes(ofRole roleID: String) async throws -> [OrganizationScope] {
        try await database.query("""
            SELECT s.id, s.name, s.description, s.created_at FROM organization_scopes s
            JOIN organization_role_scopes rs ON rs.scope_id = s.id WHERE rs.role_id = ? ORDER BY s.name
            """, .text(roleID)).map(Self.scope)
    }

    public func resourcePermissions(ofOrganizationRole roleID: String) async throws -> [Permission] {
        try await permissions(scopeIDs: try await database.query(
            "SELECT scope_id FROM organization_role_resource_scopes WHERE role_id = ?", .text(roleID)
        ).map { try $0.string("scope_id") })
    }

    public func setPermissions(_ kind: OrganizationPermissionKind, ofRole roleID: String, scopeIDs: [String],
                               replacing: Bool) async throws
    {
        defer { authorizationChanged() }
        let table = Self.permissionTable(kind)
        var statements: [(String, [SQLValue])] = replacing ? [("DELETE FROM \(table) WHERE role_id = ?", [.text(roleID)])] : []
        statements += scopeIDs.map {
            ("INSERT INTO \(table) (role_id, scope_id) VALUES (?, ?) ON CONFLICT DO NOTHING", [.text(roleID), .text($0)])
        }
        try await write(statements)
    }

    public func removePermission(_ kind: OrganizationPermissionKind, ofRole roleID: String, scopeID: String)
        async throws -> Bool
    {
        defer { authorizationChanged() }
        return try await !writeQuery("""
            DELETE FROM \(Self.permissionTable(kind)) WHERE role_id = ? AND scope_id = ? RETURNING scope_id
            """, .text(roleID), .text(scopeID)).isEmpty
    }

    // MARK: Members

    public func addMembers(_ members: [PermissionSubject], to organizationID: String,
                           replacing kind: OrganizationMemberKind?, roleIDs: [String]) async throws
    {
        defer { authorizationChanged() }
        var statements: [(String, [SQLValue])] = []
        if let kind {
            // Keep the ones named (and their roles); remove the other members of that kind.
            let (table, column, _, _) = Self.membership(kind == .users ? .account("") : .client(""))
            let kept = members.map { Self.membership($0).id }
            statements.append(kept.isEmpty
                ? ("DELETE FROM \(table) WHERE organization_id = ?", [.text(organizationID)])
                : ("DELETE FROM \(table) WHERE organization_id = ? AND \(column) NOT IN (\(Self.placeholders(kept.count)))",
                   [.text(organizationID)] + kept.map { .text($0) }))
        }
        for member in members {
            let (table, column, _, id) = Self.membership(member)
            statements.append(("INSERT INTO \(table) (organization_id, \(column)) VALUES (?, ?) ON CONFLICT DO NOTHING",
                               [.text(organizationID), .text(id)]))
            let rolesTable = Self.membership(member).roles
            for roleID in roleIDs {
                statements.append(("""
                    INSERT INTO \(rolesTable) (organization_id, \(column), role_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING
                    """, [.text(organizationID), .text(id), .text(roleID)]))
            }
        }
        try await write(statements)
    }

    public func removeMember(_ member: PermissionSubject, from organizationID: String) async throws -> Bool {
        defer { authorizationChanged() }
        let (table, column, _, id) = Self.membership(member)
        return try await !writeQuery("""
            DELETE FROM \(table) WHERE organization_id = ? AND \(column) = ? RETURNING organization_id
            """, .text(organizationID), .text(id)).isEmpty
    }

    public func isMember(_ member: PermissionSubject, of organizationID: String) async throws -> Bool {
        let (table, column, _, id) = Self.membership(member)
        return try await !database.query("SELECT 1 AS one FROM \(table) WHERE organization_id = ? AND \(column) = ?",
                                         .text(organizationID), .text(id)).isEmpty
    }

    public func memberUsers(of organizationID: String, search: String?, roleID: String?, offset: Int, limit: Int)
        async throws -> (members: [OrganizationMember<User>], total: Int)
    {
        var condition = "id IN (SELECT user_id FROM organization_users WHERE organization_id = ?)"
        var binds: [SQLValue] = [.text(organizationID)]
        if let roleID {
            condition += " AND id IN (SELECT user_id FROM organization_user_roles WHERE organization_id = ? AND role_id = ?)"
            binds += [.text(organizationID), .text(roleID)]
        }
        let (users, total) = try await pagedUsers(where: condition, binds, search: search, offset: offset, limit: limit)
        let roles = try await memberRoles(users.map { .account($0.id) }, in: organizationID)
        return (users.map { OrganizationMember(holder: $0, roles: roles[$0.id] ?? []) }, total)
    }

    public func memberApplications(of organizationID: String, offset: Int, limit: Int) async throws
        -> (members: [OrganizationMember<Client>], total: Int)
    {
        let condition = """
            applications.id IN (SELECT application_id FROM organization_applications WHERE organization_id = ?)
            """
        let total = try await database.query("SELECT COUNT(*) AS total FROM applications WHERE \(condition)",
                                             .text(organizationID)).first?.int("total") ?? 0
        let apps = try await database.query("""
            SELECT \(Self.clientColumns) FROM applications WHERE \(condition)
            ORDER BY applications.created_at, applications.id LIMIT ? OFFSET ?
            """, .text(organizationID), .integer(Int64(limit)), .integer(Int64(offset))).map(Self.clientFromRow)
        let roles = try await memberRoles(apps.map { .client($0.id) }, in: organizationID)
        return (apps.map { OrganizationMember(holder: $0, roles: roles[$0.id] ?? []) }, Int(total))
    }

    /// The roles of several members of one kind in one organization, by member id.
    private func memberRoles(_ members: [PermissionSubject], in organizationID: String) async throws
        -> [String: [OrganizationRole]]
    {
        guard let first = members.first else { return [:] }
        let (_, column, table, _) = Self.membership(first)
        let ids = members.map { Self.membership($0).id }
        var result: [String: [OrganizationRole]] = [:]
        for row in try await database.query("""
            SELECT h.\(column) AS member_id, \(Self.organizationRoleColumns) FROM \(table) h
            JOIN organization_roles ON organization_roles.id = h.role_id
            WHERE h.organization_id = ? AND h.\(column) IN (\(Self.placeholders(ids.count))) ORDER BY organization_roles.name
            """, [.text(organizationID)] + ids.map { .text($0) })
        {
            result[try row.string("member_id"), default: []].append(try Self.organizationRole(row))
        }
        return result
    }

    public func organizations(of member: PermissionSubject) async throws
        -> [(organization: Organization, roles: [OrganizationRole])]
    {
        let (table, column, rolesTable, id) = Self.membership(member)
        let organizations = try await database.query("""
            SELECT \(Self.organizationColumns) FROM organizations JOIN \(table) m ON m.organization_id = organizations.id
            WHERE m.\(column) = ? ORDER BY organizations.created_at, organizations.id
            """, .text(id)).map(Self.organization)
        var roles: [String: [OrganizationRole]] = [:]
        for row in try await database.query("""
            SELECT h.organization_id AS organization_id, \(Self.organizationRoleColumns) FROM \(rolesTable) h
            JOIN organization_roles ON organization_roles.id = h.role_id WHERE h.\(column) = ? ORDER BY organization_roles.name
            """, .text(id))
        {
            roles[try row.string("organization_id"), default: []].append(try Self.organizationRole(row))
        }
        return organizations.map { ($0, roles[$0.id] ?? []) }
    }

    public func organizationRoles(of member: PermissionSubject, in organizationID: String) async throws
        -> [OrganizationRole]
    {
        try await memberRoles([member], in: organizationID)[Self.membership(member).id] ?? []
    }

    public func assignOrganizationRoles(_ roleIDs: [String], to members: [PermissionSubject], in organizationID: String,
                                        replacing: Bool) async throws
    {
        defer { authorizationChanged() }
        var statements: [(String, [SQLValue])] = []
        for member in members {
            let (_, column, table, id) = Self.membership(member)
            if replacing {
                statements.append(("DELETE FROM \(table) WHERE organization_id = ? AND \(column) = ?",
                                   [.text(organizationID), .text(id)]))
            }
            for roleID in roleIDs {
                statements.append(("""
                    INSERT INTO \(table) (organization_id, \(column), role_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING
                    """, [.text(organizationID), .text(id), .text(roleID)]))
            }
        }
        try await write(statements)
    }

    public func removeOrganizationRole(_ roleID: String, from member: PermissionSubject, in organizationID: String)
        async throws -> Bool
    {
        defer { authorizationChanged() }
        let (_, column, table, id) = Self.membership(member)
        return try await !writeQuery("""
            DELETE FROM \(table) WHERE organization_id = ? AND \(column) = ? AND role_id = ? RETURNING role_id
            """, .text(organizationID), .text(id), .text(roleID)).isEmpty
    }

    // MARK: Consent (third-party applications)

    public func consentedOrganizations(applicationID: String, userID: String) async throws -> [Organization] {
        try await database.query("""
            SELECT \(Self.organizationColumns) FROM organizations
            JOIN application_user_consent_organizations c ON c.organization_id = organizations.id
            WHERE c.application_id = ? AND c.user_id = ? ORDER BY organizations.created_at, organizations.id
            """, .text(applicationID), .text(userID)).map(Self.organization)
    }

    public func setConsentedOrganizations(_ organizationIDs: [String], applicationID: String, userID: String,
                                          replacing: Bool) async throws
    {
        var statements: [(String, [SQLValue])] = replacing ? [(
            "DELETE FROM application_user_consent_organizations WHERE application_id = ? AND user_id = ?",
            [.text(applicationID), .text(userID)]
        )] : []
        statements += organizationIDs.map {
            ("""
             INSERT INTO application_user_consent_organizations (application_id, user_id, organization_id)
             VALUES (?, ?, ?) ON CONFLICT DO NOTHING
             """, [.text(applicationID), .text(userID), .text($0)])
        }
        try await write(statements)
    }

    public func removeConsentedOrganization(_ organizationID: String, applicationID: String, userID: String)
        async throws -> Bool
    {
        try await !writeQuery("""
            DELETE FROM application_user_consent_organizations
            WHERE application_id = ? AND user_id = ? AND organization_id = ? RETURNING organization_id
            """, .text(applicationID), .text(userID), .text(organizationID)).isEmpty
    }

    // MARK: Just in time

    public func justInTimeEmailDomains(of organizationID: String) async throws -> [String] {
        try await database.query("""
            SELECT email_domain FROM organization_jit_email_domains WHERE organization_id = ? ORDER BY email_domain
            """, .text(organizationID)).map { try $0.string("email_domain") }
    }

    public func justInTimeRoles(of organizationID: String) async throws -> [OrganizationRole] {
        try await database.query("""
            SELECT \(Self.organizationRoleColumns) FROM organization_roles JOIN organization_jit_roles j ON j.role_id = organization_roles.id
            WHERE j.organization_id = ? ORDER BY organization_roles.name
            """, .text(organizationID)).map(Self.organizationRole)
    }

    private static func justInTimeTable(_ kind: JustInTimeKind) -> (table: String, column: String) {
        kind == .emailDomains ? ("organization_jit_email_domains", "email_domain") : ("organization_jit_roles", "role_id")
    }

    public func setJustInTime(_ kind: JustInTimeKind, values: [String], of organizationID: String, replacing: Bool)
        async throws
    {
        let (table, column) = Self.justInTimeTable(kind)
        var statements: [(String, [SQLValue])] =
            replacing ? [("DELETE FROM \(table) WHERE organization_id = ?", [.text(organizationID)])] : []
        statements += values.map {
            ("INSERT INTO \(table) (organization_id, \(column)) VALUES (?, ?) ON CONFLICT DO NOTHING",
             [.text(organizationID), .text($0)])
        }
        try await write(statements)
    }

    public func removeJustInTime(_ kind: JustInTimeKind, value: String, of organizationID: String) async throws -> Bool {
        let (table, column) = Self.justInTimeTable(kind)
        return try await !writeQuery("""
            DELETE FROM \(table) WHERE organization_id = ? AND \(column) = ? RETURNING organization_id
            """, .text(organizationID), .text(value)).isEmpty
    }

    // MARK: The engine's question

    /// Membership, the organization's MFA rule and the permitted scopes in one query: organization scopes, or with
    /// `resourceID` that resource's scopes, from the member's roles in that organization.
    public func organizationGrant(of subject: PermissionSubject, organizationID: String, resourceID: String?)
        async throws -> OrganizationGrant?
    {
        let (table, column, rolesTable, id) = Self.membership(subject)
        let key = [table, id, organizationID, resourceID ?? ""].joined(separator: "\u{0}")
        return try await organizationCache.value(key) {
            let scopes = resourceID == nil
                ? "JOIN organization_role_scopes rs ON rs.role_id = h.role_id JOIN organization_scopes s ON s.id = rs.scope_id"
                : "JOIN organization_role_resource_scopes rs ON rs.role_id = h.role_id "
                    + "JOIN resource_scopes s ON s.id = rs.scope_id AND s.resource_id = ?"
            var binds: [SQLValue] = [.text(organizationID), .text(id)]
            if let resourceID { binds.append(.text(resourceID)) }
            binds += [.text(organizationID), .text(id)]
            // One query: a row without a name says it is a member (and whether the organization requires MFA);
            // the other rows are the scopes its roles there hold.
            let rows = try await database.query("""
                SELECT o.is_mfa_required AS mfa, NULL AS name FROM \(table) m
                JOIN organizations o ON o.id = m.organization_id WHERE m.organization_id = ? AND m.\(column) = ?
                UNION ALL SELECT 0 AS mfa, s.name AS name FROM \(rolesTable) h \(scopes)
                WHERE h.organization_id = ? AND h.\(column) = ?
                """, binds)
            guard let membership = rows.first(where: { $0.optionalString("name") == nil }) else { return nil }
            return OrganizationGrant(scopes: Set(rows.compactMap { $0.optionalString("name") }),
                                     requiresMFA: try membership.bool("mfa"))
        }
    }

    // MARK: Rows

    private static func nameFilter(_ search: String?) -> (String, [SQLValue]) {
        guard let search, !search.isEmpty else { return ("", []) }
        return ("WHERE LOWER(name) LIKE ? ESCAPE '\\'", [.text("%" + likeEscaped(search.lowercased()) + "%")])
    }

    private static func binds(_ organization: Organization) -> [SQLValue] {
        var branding = organization.branding.objectValue ?? [:]
        if let color = organization.color { branding["color"] = .string(color) }
        return [.text(organization.id), .text(organization.name), .string(organization.description),
                .text(organization.customData.encodedString()), .bool(organization.isMfaRequired),
                .text(JSONValue.object(branding).encodedString()), .date(organization.createdAt)]
    }

    private static func organization(_ row: SQLRow) throws -> Organization {
        var branding = try JSONValue.decode(Data(try row.string("branding").utf8)).objectValue ?? [:]
        let color = branding.removeValue(forKey: "color")?.stringValue
        return Organization(id: try row.string("id"), name: try row.string("name"),
                            description: row.optionalString("description"),
                            customData: try JSONValue.decode(Data(try row.string("custom_data").utf8)),
                            isMfaRequired: try row.bool("is_mfa_required"), branding: .object(branding), color: color,
                            createdAt: try row.date("created_at"))
    }

    private static func scope(_ row: SQLRow) throws -> OrganizationScope {
        OrganizationScope(id: try row.string("id"), name: try row.string("name"),
                          description: row.optionalString("description"), createdAt: try row.date("created_at"))
    }

    static func organizationRole(_ row: SQLRow) throws -> OrganizationRole {
        guard let type = RoleType(rawValue: try row.string("type")) else { throw StorageError.corrupt("type") }
        return OrganizationRole(id: try row.string("id"), name: try row.string("name"),
                                description: row.optionalString("description"), type: type,
                                createdAt: try row.date("created_at"))
    }
}
