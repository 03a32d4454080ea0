import Foundation
import SesameOIDC

/// An organization (Logto's `organizations`): a tenant of a multi-tenant app, with members, member apps and
/// their organization roles.
public struct Organization: Sendable, Codable, Equatable {
    public var id: String
    /// 1 to 128 characters.
    public var name: String
    /// At most 256 characters.
    public var description: String?
    /// Any JSON object the app keeps with the organization (at most 4 KiB encoded).
    public var customData: JSONValue
    /// Members must have a second factor before they get an organization token.
    public var isMfaRequired: Bool
    /// `{"logoUrl", "darkLogoUrl", "favicon", "darkFavicon"}` and the like, kept as given (an object).
    public var branding: JSONValue
    /// `#RRGGBB` brand colour for the hosted pages, or nil.
    public var color: String?
    public var createdAt: Date

    public init(id: String, name: String, description: String? = nil, customData: JSONValue = [:],
                isMfaRequired: Bool = false, branding: JSONValue = [:], color: String? = nil, createdAt: Date)
    {
        self.id = id
        self.name = name
        self.description = description
        self.customData = customData
        self.isMfaRequired = isMfaRequired
        self.branding = branding
        self.color = color
        self.createdAt = createdAt
    }
}

/// A role of the organization template: holds organization scopes and API resource scopes; given to a
/// member user (`User`) or a member app (`MachineToMachine`) within one organization.
public struct OrganizationRole: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var description: String?
    public var type: RoleType
    public var createdAt: Date

    public init(id: String, name: String, description: String? = nil, type: RoleType = .user, createdAt: Date) {
        self.id = id
        self.name = name
        self.description = description
        self.type = type
        self.createdAt = createdAt
    }
}

/// A permission of the organization template (Logto's organization scope), e.g. `invite:member`.
public struct OrganizationScope: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var description: String?
    public var createdAt: Date

    public init(id: String, name: String, description: String? = nil, createdAt: Date) {
        self.id = id
        self.name = name
        self.description = description
        self.createdAt = createdAt
    }
}

/// An organization with its member count, for lists.
public struct OrganizationListing: Sendable, Equatable {
    public var organization: Organization
    public var usersCount: Int

    public init(organization: Organization, usersCount: Int) {
        self.organization = organization
        self.usersCount = usersCount
    }
}

/// A member (user or app) with the organization roles it holds there.
public struct OrganizationMember<Holder: Sendable & Equatable>: Sendable, Equatable {
    public var holder: Holder
    public var roles: [OrganizationRole]

    public init(holder: Holder, roles: [OrganizationRole]) {
        self.holder = holder
        self.roles = roles
    }
}

/// What just-in-time provisioning keeps per organization.
public enum JustInTimeKind: Sendable {
    case emailDomains, roles
}

/// Users or machine-to-machine apps, as members of organizations.
public enum OrganizationMemberKind: Sendable {
    case users, applications
}

/// Which kind of organization-template permission a role relation is about.
public enum OrganizationPermissionKind: Sendable {
    /// Organization scopes (`organization_role_scopes`).
    case organizationScopes
    /// API resource scopes (`organization_role_resource_scopes`: organization-level API resources).
    case resourceScopes
}

/// Organizations, the organization template and memberships. Implementations keep each multi-row change in
/// one transaction and let the database cascade deletions (an organization, a role, a scope, a resource, a user,
/// an app, a membership) to every relation.
public protocol OrganizationStore: Sendable {
    func insertOrganization(_ organization: Organization) async throws
    func organization(id: String) async throws -> Organization?
    /// Matching the name or description (case-insensitive), newest first, with member counts and the total.
    func organizations(search: String?, offset: Int, limit: Int) async throws
        -> (organizations: [OrganizationListing], total: Int)
    func updateOrganization(_ organization: Organization) async throws
    func deleteOrganization(id: String) async throws

    /// Throws `IdentityError` `organization_scope.name_in_use` (422) for a taken name.
    func insertOrganizationScope(_ scope: OrganizationScope) async throws
    func organizationScopes(search: String?, offset: Int, limit: Int) async throws
        -> (scopes: [OrganizationScope], total: Int)
    /// The scopes with one of `ids` (unknown ids left out).
    func organizationScopes(ids: [String]) async throws -> [OrganizationScope]
    func updateOrganizationScope(_ scope: OrganizationScope) async throws
    func deleteOrganizationScope(id: String) async throws

    /// Stores the role and its permissions in one transaction. Throws `organization_role.name_in_use` (422).
    func insertOrganizationRole(_ role: OrganizationRole, scopeIDs: [String], resourceScopeIDs: [String]) async throws
    func organizationRoles(search: String?, offset: Int, limit: Int) async throws
        -> (roles: [OrganizationRole], total: Int)
    /// The roles with one of `ids`, or (with `names`) one of those names; unknown ones left out.
    func organizationRoles(ids: [String]) async throws -> [OrganizationRole]
    func organizationRoles(names: [String]) async throws -> [OrganizationRole]
    func updateOrganizationRole(_ role: OrganizationRole) async throws
    func deleteOrganizationRole(id: String) async throws
    /// The organization scopes of a role, by name.
    func organizationScopes(ofRole roleID: String) async throws -> [OrganizationScope]
    /// The API resource scopes of a role, by resource then name.
    func resourcePermissions(ofOrganizationRole roleID: String) async throws -> [Permission]
    /// Adds (or, with `replacing`, makes exactly) the role's permissions of `kind`, in one transaction.
    func setPermissions(_ kind: OrganizationPermissionKind, ofRole roleID: String, scopeIDs: [String],
                        replacing: Bool) async throws
    /// False when the role did not hold it.
    func removePermission(_ kind: OrganizationPermissionKind, ofRole roleID: String, scopeID: String) async throws
        -> Bool

    /// Adds members (or, with `replacing`, makes them exactly the organization's members of that kind), with
    /// `roleIDs` (already checked) given to each, in one transaction; members already there keep their roles.
    func addMembers(_ members: [PermissionSubject], to organizationID: String, replacing: OrganizationMemberKind?,
                    roleIDs: [String]) async throws
    /// False when it was not a member. Its roles there go with it.
    func removeMember(_ member: PermissionSubject, from organizationID: String) async throws -> Bool
    func isMember(_ member: PermissionSubject, of organizationID: String) async throws -> Bool
    /// Member users (newest first, matching `search` like the users list) with their roles there, and the total;
    /// `roleID` keeps those holding that role.
    func memberUsers(of organizationID: String, search: String?, roleID: String?, offset: Int, limit: Int)
        async throws -> (members: [OrganizationMember<User>], total: Int)
    /// Member apps (oldest first) with their roles there, and the total.
    func memberApplications(of organizationID: String, offset: Int, limit: Int) async throws
        -> (members: [OrganizationMember<Client>], total: Int)
    /// The organizations `member` belongs to, oldest membership first, with its roles in each.
    func organizations(of member: PermissionSubject) async throws -> [(organization: Organization, roles: [OrganizationRole])]
    /// The roles `member` holds in the organization, by name.
    func organizationRoles(of member: PermissionSubject, in organizationID: String) async throws -> [OrganizationRole]
    /// Gives roles to members (each already a member), or with `replacing` makes them exactly each member's
    /// roles there; one transaction.
    func assignOrganizationRoles(_ roleIDs: [String], to members: [PermissionSubject], in organizationID: String,
                                 replacing: Bool) async throws
    /// The email domains whose new users join the organization just in time, sorted.
    func justInTimeEmailDomains(of organizationID: String) async throws -> [String]
    /// The organization roles those users get there, by name.
    func justInTimeRoles(of organizationID: String) async throws -> [OrganizationRole]
    /// Adds (or with `replacing` sets) the organization's just-in-time domains or role ids, in one transaction.
    func setJustInTime(_ kind: JustInTimeKind, values: [String], of organizationID: String, replacing: Bool)
        async throws
    /// False when it was not there.
    func removeJustInTime(_ kind: JustInTimeKind, value: String, of organizationID: String) async throws -> Bool
    /// False when the member did not hold it.
    func removeOrganizationRole(_ roleID: String, from member: PermissionSubject, in organizationID: String)
        async throws -> Bool
    /// The organizations the user let the (third-party) application see, oldest first.
    func consentedOrganizations(applicationID: String, userID: String) async throws -> [Organization]
    /// Adds (or with `replacing` makes exactly) the organizations the user lets the application see, each already
    /// checked to be one of the user's memberships; one transaction.
    func setConsentedOrganizations(_ organizationIDs: [String], applicationID: String, userID: String,
                                   replacing: Bool) async throws
    /// False when it was not consented.
    func removeConsentedOrganization(_ organizationID: String, applicationID: String, userID: String) async throws
        -> Bool
}
