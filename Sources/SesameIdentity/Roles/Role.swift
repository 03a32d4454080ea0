import Foundation
import SesameOIDC

/// Who a role is for (Logto's `RoleType`): end users, or machine-to-machine applications.
public enum RoleType: String, Sendable, Codable, CaseIterable {
    case user = "User"
    case machineToMachine = "MachineToMachine"
}

/// A named set of API permissions (Logto's `roles` table). Users hold `User` roles; machine-to-machine
/// applications hold `MachineToMachine` roles.
public struct Role: Sendable, Codable, Equatable {
    public var id: String
    /// Unique among roles, 1 to 128 characters.
    public var name: String
    /// 1 to 128 characters (required, as in Logto).
    public var description: String
    public var type: RoleType
    /// Given to every new user, whichever way the user is created (`User` roles only).
    public var isDefault: Bool
    public var createdAt: Date

    public init(id: String, name: String, description: String, type: RoleType, isDefault: Bool = false,
                createdAt: Date)
    {
        self.id = id
        self.name = name
        self.description = description
        self.type = type
        self.isDefault = isDefault
        self.createdAt = createdAt
    }
}

/// A role in a list, with how many users and applications hold it.
public struct RoleListing: Sendable, Equatable {
    public var role: Role
    public var usersCount: Int
    public var applicationsCount: Int

    public init(role: Role, usersCount: Int, applicationsCount: Int) {
        self.role = role
        self.usersCount = usersCount
        self.applicationsCount = applicationsCount
    }
}

/// One permission: a scope and the API resource that defines it.
public struct Permission: Sendable, Equatable {
    public var scope: ResourceScope
    public var resourceID: String
    public var resourceName: String
    public var resourceIndicator: String

    public init(scope: ResourceScope, resourceID: String, resourceName: String, resourceIndicator: String) {
        self.scope = scope
        self.resourceID = resourceID
        self.resourceName = resourceName
        self.resourceIndicator = resourceIndicator
    }
}

/// Filters for `RoleStore.roles`.
public struct RoleQuery: Sendable, Equatable {
    public var type: RoleType?
    /// Matches the name or the description, case-insensitively.
    public var search: String?
    /// Leaves out the roles this user or application already holds (Logto's `excludeUserId`,
    /// `excludeApplicationId`), for "assign" pickers.
    public var excluding: PermissionSubject?
    public var offset: Int
    public var limit: Int

    public init(type: RoleType? = nil, search: String? = nil, excluding: PermissionSubject? = nil, offset: Int = 0,
                limit: Int = 100)
    {
        self.type = type
        self.search = search
        self.excluding = excluding
        self.offset = offset
        self.limit = limit
    }
}

/// Roles and their relations. Implementations keep every multi-row change in one transaction and let the
/// database cascade deletions of roles, scopes, resources, users and applications to the relations.
public protocol RoleStore: Sendable {
    /// Stores the role and its permissions together. Throws `IdentityError` `role.name_in_use` for a taken name.
    func insertRole(_ role: Role, scopeIDs: [String]) async throws
    func role(id: String) async throws -> Role?
    /// The role whose name equals `name` regardless of ASCII case.
    func role(named name: String) async throws -> Role?
    /// The matching roles (by creation, oldest first) and their total.
    func roles(_ query: RoleQuery) async throws -> (roles: [RoleListing], total: Int)
    /// Every role with one of `ids` (unknown ids are left out).
    func roles(ids: [String]) async throws -> [Role]
    /// Saves name, description and `isDefault`. Throws `role.name_in_use` for a taken name.
    func updateRole(_ role: Role) async throws
    func deleteRole(id: String) async throws
    /// The role's permissions, ordered by resource name then scope name.
    func permissions(ofRole roleID: String) async throws -> [Permission]
    /// The permissions with one of `scopeIDs` (unknown ids are left out).
    func permissions(scopeIDs: [String]) async throws -> [Permission]
    /// Adds permissions already checked; ones the role holds are skipped.
    func addPermissions(roleID: String, scopeIDs: [String]) async throws
    /// False when the role did not hold it.
    func removePermission(roleID: String, scopeID: String) async throws -> Bool
    /// The roles `subject` holds, by name.
    func roles(heldBy subject: PermissionSubject) async throws -> [Role]
    /// Gives `roleIDs` to `subject`; roles it holds already are skipped.
    func assign(roleIDs: [String], to subject: PermissionSubject) async throws
    /// Gives one role to several users or applications, in one transaction; holders it has already are skipped.
    func assign(roleID: String, to subjects: [PermissionSubject]) async throws
    /// Makes `roleIDs` exactly the roles `subject` holds, in one transaction.
    func replaceRoles(of subject: PermissionSubject, with roleIDs: [String]) async throws
    /// False when `subject` did not hold the role.
    func unassign(roleID: String, from subject: PermissionSubject) async throws -> Bool
    /// The users holding the role, newest first, and their total.
    func users(holdingRole roleID: String, search: String?, offset: Int, limit: Int) async throws
        -> (users: [User], total: Int)
    /// The applications holding the role, oldest first, and their total.
    func applications(holdingRole roleID: String, offset: Int, limit: Int) async throws
        -> (applications: [Client], total: Int)
}
