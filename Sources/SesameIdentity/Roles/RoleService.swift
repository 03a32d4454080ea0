import Foundation
import SesameOIDC

extension IdentityError.Code {
    /// Logto's codes for role rules, all answered with 422.
    public static let roleNameInUse = IdentityError.Code(rawValue: "role.name_in_use")
    public static let roleScopeExists = IdentityError.Code(rawValue: "role.scope_exists")
    public static let roleUserExists = IdentityError.Code(rawValue: "role.user_exists")
    public static let roleApplicationExists = IdentityError.Code(rawValue: "role.application_exists")
    public static let userInvalidRoleType = IdentityError.Code(rawValue: "user.invalid_role_type")
    public static let applicationInvalidType = IdentityError.Code(rawValue: "application.invalid_type")
    public static let applicationInvalidRoleType = IdentityError.Code(rawValue: "application.invalid_role_type")
    public static let managementScopesNotAssignable =
        IdentityError.Code(rawValue: "role.management_api_scopes_not_assignable_to_user_role")
    public static let builtInRoleProtected = IdentityError.Code(rawValue: "role.built_in_role_protected")
    public static let applicationCannotChangeOwnRoles =
        IdentityError.Code(rawValue: "application.cannot_change_own_roles")

    /// The codes the Management API answers with 422 Unprocessable Content.
    public static let unprocessable: Set<IdentityError.Code> = [
        .roleNameInUse, .roleScopeExists, .roleUserExists, .roleApplicationExists, .userInvalidRoleType,
        .applicationInvalidType, .applicationInvalidRoleType, .managementScopesNotAssignable, .builtInRoleProtected,
        .organizationScopeNameInUse, .organizationRoleNameInUse, .organizationRequireMembership,
        .organizationRoleNamesNotFound, .organizationInvalidRoleType, .applicationCannotChangeOwnRoles,
        .organizationInvitationPendingExists, .organizationInvitationEnded, .organizationInvitationEmailMismatch,
        .applicationThirdPartyOnly, .organizationInvitationAlreadyMember, .organizationInvitationAcceptedUserRequired,
    ]
}

/// Roles and who holds them (Logto's RBAC, `../design/logto-reference.md` §1): checks the rules, then lets
/// the store write. Rules: a role's name is unique; users hold `User` roles and machine-to-machine apps hold
/// `MachineToMachine` roles (the database refuses the other way round too); the Management API's permission
/// goes on `MachineToMachine` roles only; the built-in "Management API access" role can be neither deleted
/// nor emptied of that permission.
public struct RoleService: Sendable {
    public let store: any RoleStore
    public let users: any UserStore
    public let applications: any ApplicationStore
    /// The Management API's resource indicator (`https://default.logto.app/api`).
    public let managementIndicator: String
    public let now: @Sendable () -> Date

    /// The built-in role that `--management` assigns (created by migration 11).
    public static let managementRoleID = "management-api-access"
    /// The most ids one request may name.
    public static let maximumIDs = 500

    public init(store: any RoleStore, users: any UserStore, applications: any ApplicationStore,
                managementIndicator: String, now: @escaping @Sendable () -> Date = { Date() })
    {
        self.store = store
        self.users = users
        self.applications = applications
        self.managementIndicator = managementIndicator
        self.now = now
    }

    // MARK: Roles

    /// Creates a role holding the permissions `scopeIDs`, in one transaction. Throws `role.name_in_use` (422),
    /// `resource.scope_not_found` (404) for an unknown scope, `role.management_api_scopes_not_assignable_to_user_role`
    /// (422), and invalid input for a bad name or description, or `isDefault` on a machine-to-machine role.
    public func create(name: String, description: String, type: RoleType = .user, isDefault: Bool = false,
                       scopeIDs: [String] = []) async throws -> Role
    {
        let role = Role(id: SecureRandom.identifier(), name: try Self.validateText(name, field: "name"),
                        description: try Self.validateText(description, field: "description"), type: type,
                        isDefault: isDefault, createdAt: now())
        try Self.checkDefault(role)
        let scopeIDs = try Self.unique(scopeIDs)
        try checkPermissions(try await permissions(scopeIDs), for: role)
        try await store.insertRole(role, scopeIDs: scopeIDs)
        return role
    }

    /// Throws `role.not_found` (404).
    public func role(id: String) async throws -> Role {
        guard let role = try await store.role(id: id) else {
            throw IdentityError(.notFound, phrase: "role.not_found", ["id": id])
        }
        return role
    }

    /// The role named `name` (ASCII case aside), else nil.
    public func role(named name: String) async throws -> Role? {
        try await store.role(named: name.trimmingCharacters(in: .whitespacesAndNewlines)
            .precomposedStringWithCanonicalMapping)
    }

    public func roles(_ query: RoleQuery) async throws -> (roles: [RoleListing], total: Int) {
        try await store.roles(query)
    }

    /// Changes name, description or `isDefault` (nil leaves a value as it is); the type never changes.
    public func update(id: String, name: String?, description: String?, isDefault: Bool?) async throws -> Role {
        var role = try await role(id: id)
        if let name {
            let name = try Self.validateText(name, field: "name")
            // The built-in role keeps its name: scripts and `--management` find it by it.
            if role.id == Self.managementRoleID, name != role.name {
                throw IdentityError(.builtInRoleProtected, phrase: "role.built_in_role_protected")
            }
            role.name = name
        }
        if let description { role.description = try Self.validateText(description, field: "description") }
        if let isDefault { role.isDefault = isDefault }
        try Self.checkDefault(role)
        try await store.updateRole(role)
        return role
    }

    /// Deletes the role; the database removes it from every user and application and drops its permissions.
    public func delete(id: String) async throws {
        let role = try await role(id: id)
        if role.id == Self.managementRoleID {
            throw IdentityError(.builtInRoleProtected, phrase: "role.built_in_role_protected")
        }
        try await store.deleteRole(id: role.id)
    }

    // MARK: Permissions

    public func permissions(ofRole roleID: String) async throws -> [Permission] {
        try await store.permissions(ofRole: try await role(id: roleID).id)
    }

    /// Adds permissions; one the role holds already is `role.scope_exists` (422), as in Logto.
    public func addPermissions(roleID: String, scopeIDs: [String]) async throws {
        let role = try await role(id: roleID)
        let scopeIDs = try Self.unique(scopeIDs)
        guard !scopeIDs.isEmpty else { throw IdentityError.invalidInput(phrase: "input.ids_empty", ["field": "scopeIds"]) }
        let wanted = try await permissions(scopeIDs)
        try checkPermissions(wanted, for: role)
        let held = Set(try await store.permissions(ofRole: role.id).map(\.scope.id))
        if let existing = wanted.first(where: { held.contains($0.scope.id) }) {
            throw IdentityError(.roleScopeExists, phrase: "role.scope_exists", ["scope": existing.scope.name])
        }
        try await store.addPermissions(roleID: role.id, scopeIDs: scopeIDs)
    }

    /// Throws `role.permission_not_held` (404) when the role does not hold it.
    public func removePermission(roleID: String, scopeID: String) async throws {
        let role = try await role(id: roleID)
        if role.id == Self.managementRoleID,
           try await store.permissions(scopeIDs: [scopeID]).first?.resourceIndicator == managementIndicator
        {
            throw IdentityError(.builtInRoleProtected, phrase: "role.built_in_role_protected")
        }
        guard try await store.removePermission(roleID: role.id, scopeID: scopeID) else {
            throw IdentityError(.notFound, phrase: "role.permission_not_held", ["id": scopeID])
        }
    }

    // MARK: Holders

    /// The roles a user or an application holds. Throws 404 for an unknown one, and
    /// `application.invalid_type` (422) for an application that is not machine-to-machine.
    public func roles(heldBy subject: PermissionSubject) async throws -> [Role] {
        try await checkSubject(subject)
        return try await store.roles(heldBy: subject)
    }

    /// Gives roles to a user or an application; roles it holds already are skipped (Logto's
    /// `POST /api/users/{id}/roles`). Returns the ids added. Throws `user.invalid_role_type` or
    /// `application.invalid_role_type` (422) for a role of the other type, `role.not_found` (404).
    @discardableResult
    public func assign(roleIDs: [String], to subject: PermissionSubject) async throws -> [String] {
        let roles = try await checkedRoles(roleIDs, for: subject)
        let held = Set(try await store.roles(heldBy: subject).map(\.id))
        let added = roles.map(\.id).filter { !held.contains($0) }
        if !added.isEmpty { try await store.assign(roleIDs: added, to: subject) }
        return added
    }

    /// Makes `roleIDs` exactly the roles the user or application holds (Logto's `PUT`), in one transaction.
    public func replaceRoles(of subject: PermissionSubject, with roleIDs: [String]) async throws {
        let roles = try await checkedRoles(roleIDs, for: subject)
        try await store.replaceRoles(of: subject, with: roles.map(\.id))
    }

    /// Throws `role.not_held` (404) when the user or application does not hold the role.
    public func unassign(roleID: String, from subject: PermissionSubject) async throws {
        try await checkSubject(subject)
        let role = try await role(id: roleID)
        guard try await store.unassign(roleID: role.id, from: subject) else {
            throw IdentityError(.notFound, phrase: "role.not_held", ["id": roleID])
        }
    }

    /// Gives one role to several users (Logto's `POST /api/roles/{id}/users`): a user holding it already is
    /// `role.user_exists` (422) and nothing is written.
    public func addUsers(_ userIDs: [String], toRole roleID: String) async throws {
        try await addHolders(userIDs.map(PermissionSubject.account), toRole: roleID)
    }

    /// Gives one role to several applications: one holding it already is `role.application_exists` (422).
    public func addApplications(_ applicationIDs: [String], toRole roleID: String) async throws {
        try await addHolders(applicationIDs.map(PermissionSubject.client), toRole: roleID)
    }

    private func addHolders(_ subjects: [PermissionSubject], toRole roleID: String) async throws {
        let role = try await role(id: roleID)
        guard !subjects.isEmpty else {
            throw IdentityError.invalidInput(phrase: "input.ids_empty", ["field": role.type == .user ? "userIds" : "applicationIds"])
        }
        guard subjects.count <= Self.maximumIDs else {
            throw IdentityError.invalidInput(phrase: "input.too_many_ids", ["maximum": "\(Self.maximumIDs)"])
        }
        var seen = Set<PermissionSubject>()
        for subject in subjects where seen.insert(subject).inserted {
            try Self.checkType(role, for: subject)
            try await checkSubject(subject)
            if try await store.roles(heldBy: subject).contains(where: { $0.id == role.id }) {
                switch subject {
                case .account(let id): throw IdentityError(.roleUserExists, phrase: "role.user_exists", ["id": id])
                case .client(let id):
                    throw IdentityError(.roleApplicationExists, phrase: "role.application_exists", ["id": id])
                }
            }
        }
        try await store.assign(roleID: role.id, to: subjects.filter { seen.remove($0) != nil })
    }

    public func users(holdingRole roleID: String, search: String?, offset: Int, limit: Int) async throws
        -> (users: [User], total: Int)
    {
        try await store.users(holdingRole: try await role(id: roleID).id, search: search, offset: offset, limit: limit)
    }

    public func applications(holdingRole roleID: String, offset: Int, limit: Int) async throws
        -> (applications: [Client], total: Int)
    {
        try await store.applications(holdingRole: try await role(id: roleID).id, offset: offset, limit: limit)
    }

    // MARK: Checks

    private func checkSubject(_ subject: PermissionSubject) async throws {
        switch subject {
        case .account(let id):
            guard try await users.user(id: id) != nil else {
                throw IdentityError(.notFound, phrase: "user.not_found", ["id": id])
            }
        case .client(let id):
            guard let client = try await applications.client(id: id) else {
                throw IdentityError(.notFound, phrase: "application.not_found", ["id": id])
            }
            guard client.type == .machineToMachine else {
                throw IdentityError(.applicationInvalidType, phrase: "application.invalid_type")
            }
        }
    }

    private func checkedRoles(_ roleIDs: [String], for subject: PermissionSubject) async throws -> [Role] {
        try await checkSubject(subject)
        let ids = try Self.unique(roleIDs)
        let roles = try await store.roles(ids: ids)
        if let missing = ids.first(where: { id in !roles.contains { $0.id == id } }) {
            throw IdentityError(.notFound, phrase: "role.not_found", ["id": missing])
        }
        for role in roles { try Self.checkType(role, for: subject) }
        return ids.compactMap { id in roles.first { $0.id == id } }
    }

    private static func checkType(_ role: Role, for subject: PermissionSubject) throws {
        switch subject {
        case .account where role.type != .user:
            throw IdentityError(.userInvalidRoleType, phrase: "user.invalid_role_type", ["role": role.name])
        case .client where role.type != .machineToMachine:
            throw IdentityError(.applicationInvalidRoleType, phrase: "application.invalid_role_type",
                                ["role": role.name])
        default:
            break
        }
    }

    private func permissions(_ scopeIDs: [String]) async throws -> [Permission] {
        let found = try await store.permissions(scopeIDs: scopeIDs)
        if let missing = scopeIDs.first(where: { id in !found.contains { $0.scope.id == id } }) {
            throw IdentityError(.notFound, phrase: "resource.scope_not_found", ["id": missing])
        }
        return found
    }

    private func checkPermissions(_ permissions: [Permission], for role: Role) throws {
        if role.type == .user, permissions.contains(where: { $0.resourceIndicator == managementIndicator }) {
            throw IdentityError(.managementScopesNotAssignable,
                                phrase: "role.management_api_scopes_not_assignable_to_user_role")
        }
    }

    private static func checkDefault(_ role: Role) throws {
        if role.isDefault, role.type != .user {
            throw IdentityError.invalidInput(phrase: "role.default_for_user_roles_only")
        }
    }

    /// Trimmed and in Unicode NFC (so "café" typed two ways is one name), 1 to 128 characters, no control or
    /// invisible characters. Names are unique regardless of ASCII case (`LOWER(name)` indexes).
    static func validateText(_ raw: String, field: String) throws -> String {
        let value = raw.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCanonicalMapping
        guard (1...128).contains(value.count), !UserService.hasInvisibleCharacters(value) else {
            throw IdentityError.invalidInput(phrase: "role.text_invalid", ["field": field])
        }
        return value
    }

    /// The ids without repeats, in order; at most `maximumIDs`.
    public static func unique(_ ids: [String]) throws -> [String] {
        guard ids.count <= maximumIDs else {
            throw IdentityError.invalidInput(phrase: "input.too_many_ids", ["maximum": "\(maximumIDs)"])
        }
        var seen = Set<String>()
        return ids.filter { seen.insert($0).inserted }
    }
}
