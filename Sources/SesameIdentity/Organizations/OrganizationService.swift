import Foundation
import SesameOIDC

extension IdentityError.Code {
    public static let organizationScopeNameInUse = IdentityError.Code(rawValue: "organization_scope.name_in_use")
    public static let organizationRoleNameInUse = IdentityError.Code(rawValue: "organization_role.name_in_use")
    /// The user or app is not a member of the organization (Logto's code, 422).
    public static let organizationRequireMembership = IdentityError.Code(rawValue: "organization.require_membership")
    public static let organizationRoleNamesNotFound = IdentityError.Code(rawValue: "organization.role_names_not_found")
    public static let organizationInvalidRoleType = IdentityError.Code(rawValue: "organization.invalid_role_type")
    /// Consent to organizations is for third-party applications only (Logto's code, 422).
    public static let applicationThirdPartyOnly = IdentityError.Code(rawValue: "application.third_party_application_only")
}

/// Organizations and the organization template (Logto, `../design/logto-reference.md` §2): checks the rules,
/// then lets the store write. Rules: names are 1 to 128 characters; member users hold `User` organization
/// roles and member apps (machine-to-machine only) hold `MachineToMachine` ones, and only where they are
/// members; the Management API's permission never goes on an organization role.
public struct OrganizationService: Sendable {
    public let store: any OrganizationStore
    public let roles: RoleService
    public let now: @Sendable () -> Date

    public init(store: any OrganizationStore, roles: RoleService, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.roles = roles
        self.now = now
    }

    // MARK: Organizations

    /// What `create` and `update` take; nil leaves a value as it is (`.some(nil)` clears an optional one).
    public struct Fields: Sendable {
        public var name: String?
        public var description: String??
        public var customData: JSONValue?
        public var isMfaRequired: Bool?
        public var branding: JSONValue?
        public var color: String??

        public init(name: String? = nil, description: String?? = nil, customData: JSONValue? = nil,
                    isMfaRequired: Bool? = nil, branding: JSONValue? = nil, color: String?? = nil)
        {
            self.name = name
            self.description = description
            self.customData = customData
            self.isMfaRequired = isMfaRequired
            self.branding = branding
            self.color = color
        }
    }

    /// Throws invalid input for a missing or bad name, a description over 256 characters, custom data that is
    /// not an object or over 4 KiB, branding that is not an object of https URLs, a colour not `#RRGGBB`.
    public func create(_ fields: Fields) async throws -> Organization {
        guard fields.name != nil else { throw IdentityError.invalidInput(phrase: "input.required", ["field": "name"]) }
        var organization = Organization(id: SecureRandom.identifier(length: 12), name: "", createdAt: now())
        try apply(fields, to: &organization)
        try await store.insertOrganization(organization)
        return organization
    }

    public func organization(id: String) async throws -> Organization {
        guard let organization = try await store.organization(id: id) else {
            throw IdentityError(.notFound, phrase: "organization.not_found", ["id": id])
        }
        return organization
    }

    public func update(id: String, _ fields: Fields) async throws -> Organization {
        var organization = try await organization(id: id)
        try apply(fields, to: &organization)
        try await store.updateOrganization(organization)
        return organization
    }

    /// Deletes the organization with its memberships and their roles.
    public func delete(id: String) async throws {
        try await store.deleteOrganization(id: try await organization(id: id).id)
    }

    private func apply(_ fields: Fields, to organization: inout Organization) throws {
        if let name = fields.name { organization.name = try RoleService.validateText(name, field: "name") }
        if let description = fields.description {
            let text = description?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
            if let text, text.count > 256 || UserService.hasInvisibleCharacters(text.replacingOccurrences(of: "\n", with: " ")) {
                throw IdentityError.invalidInput(phrase: "organization.description_invalid")
            }
            organization.description = text
        }
        if let data = fields.customData {
            guard data.objectValue != nil, data.encoded().count <= 4096 else {
                throw IdentityError.invalidInput(phrase: "organization.custom_data_invalid")
            }
            organization.customData = data
        }
        if let required = fields.isMfaRequired { organization.isMfaRequired = required }
        if let branding = fields.branding {
            guard let object = branding.objectValue, object.count <= 8, object.allSatisfy({ key, value in
                ["logoUrl", "darkLogoUrl", "favicon", "darkFavicon"].contains(key)
                    && (value == .null || value.stringValue.map(Self.isHTTPSURL) == true)
            }) else { throw IdentityError.invalidInput(phrase: "organization.branding_invalid") }
            organization.branding = .object(object.filter { $0.value != .null })
        }
        if let color = fields.color {
            if let color, color.wholeMatch(of: /#[0-9A-Fa-f]{6}/) == nil {
                throw IdentityError.invalidInput(phrase: "organization.color_invalid")
            }
            organization.color = color
        }
    }

    static func isHTTPSURL(_ value: String) -> Bool {
        guard value.count <= 2048, let url = URL(string: value), url.scheme?.lowercased() == "https",
              url.host?.isEmpty == false
        else { return false }
        return true
    }

    // MARK: Template

    public func createScope(name: String, description: String?) async throws -> OrganizationScope {
        let scope = OrganizationScope(id: SecureRandom.identifier(), name: try Self.validateScopeName(name),
                                      description: try Self.validateDescription(description), createdAt: now())
        try await store.insertOrganizationScope(scope)
        return scope
    }

    public func scope(id: String) async throws -> OrganizationScope {
        guard let scope = try await store.organizationScopes(ids: [id]).first else {
            throw IdentityError(.notFound, phrase: "organization_scope.not_found", ["id": id])
        }
        return scope
    }

    public func updateScope(id: String, name: String?, description: String??) async throws -> OrganizationScope {
        var scope = try await scope(id: id)
        if let name { scope.name = try Self.validateScopeName(name) }
        if let description { scope.description = try Self.validateDescription(description) }
        try await store.updateOrganizationScope(scope)
        return scope
    }

    public func deleteScope(id: String) async throws {
        try await store.deleteOrganizationScope(id: try await scope(id: id).id)
    }

    /// Creates an organization role with organization scopes and API resource scopes, in one transaction.
    public func createRole(name: String, description: String?, type: RoleType = .user, scopeIDs: [String] = [],
                           resourceScopeIDs: [String] = []) async throws -> OrganizationRole
    {
        let role = OrganizationRole(id: SecureRandom.identifier(), name: try RoleService.validateText(name, field: "name"),
                                    description: try Self.validateDescription(description), type: type, createdAt: now())
        let scopeIDs = try RoleService.unique(scopeIDs)
        let resourceScopeIDs = try RoleService.unique(resourceScopeIDs)
        try await checkScopes(.organizationScopes, scopeIDs)
        try await checkScopes(.resourceScopes, resourceScopeIDs)
        try await store.insertOrganizationRole(role, scopeIDs: scopeIDs, resourceScopeIDs: resourceScopeIDs)
        return role
    }

    public func role(id: String) async throws -> OrganizationRole {
        guard let role = try await store.organizationRoles(ids: [id]).first else {
            throw IdentityError(.notFound, phrase: "organization_role.not_found", ["id": id])
        }
        return role
    }

    public func updateRole(id: String, name: String?, description: String??) async throws -> OrganizationRole {
        var role = try await role(id: id)
        if let name { role.name = try RoleService.validateText(name, field: "name") }
        if let description { role.description = try Self.validateDescription(description) }
        try await store.updateOrganizationRole(role)
        return role
    }

    public func deleteRole(id: String) async throws {
        try await store.deleteOrganizationRole(id: try await role(id: id).id)
    }

    /// Adds (or with `replacing` sets) a role's organization scopes or API resource scopes.
    public func setPermissions(_ kind: OrganizationPermissionKind, ofRole roleID: String, scopeIDs: [String],
                               replacing: Bool) async throws
    {
        let role = try await role(id: roleID)
        let ids = try RoleService.unique(scopeIDs)
        try await checkScopes(kind, ids)
        try await store.setPermissions(kind, ofRole: role.id, scopeIDs: ids, replacing: replacing)
    }

    public func removePermission(_ kind: OrganizationPermissionKind, ofRole roleID: String, scopeID: String) async throws {
        let role = try await role(id: roleID)
        guard try await store.removePermission(kind, ofRole: role.id, scopeID: scopeID) else {
            throw IdentityError(.notFound, phrase: "role.permission_not_held", ["id": scopeID])
        }
    }

    private func checkScopes(_ kind: OrganizationPermissionKind, _ ids: [String]) async throws {
        switch kind {
        case .organizationScopes:
            let found = Set(try await store.organizationScopes(ids: ids).map(\.id))
            if let missing = ids.first(where: { !found.contains($0) }) {
                throw IdentityError(.notFound, phrase: "organization_scope.not_found", ["id": missing])
            }
        case .resourceScopes:
            let found = try await roles.store.permissions(scopeIDs: ids)
            if let missing = ids.first(where: { id in !found.contains { $0.scope.id == id } }) {
                throw IdentityError(.notFound, phrase: "resource.scope_not_found", ["id": missing])
            }
            if found.contains(where: { $0.resourceIndicator == roles.managementIndicator }) {
                throw IdentityError(.managementScopesNotAssignable, phrase: "organization_role.management_scope")
            }
        }
    }

    static func validateScopeName(_ raw: String) throws -> String {
        let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...128).contains(value.count), !value.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "\\" }),
              !UserService.hasInvisibleCharacters(value)
        else { throw IdentityError.invalidInput(phrase: "resource.scope_name_invalid", ["scope": raw]) }
        return value
    }

    static func validateDescription(_ raw: String?) throws -> String? {
        guard let text = raw?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty else { return nil }
        guard text.count <= 256, !UserService.hasInvisibleCharacters(text) else {
            throw IdentityError.invalidInput(phrase: "organization.description_invalid")
        }
        return text
    }

    // MARK: Just in time

    /// Adds (or with `replacing` sets) email domains whose newly registered users (with a verified address there)
    /// join the organization. Domains are lowercased; `*` and `@` are refused.
    public func setJustInTimeDomains(_ domains: [String], of organizationID: String, replacing: Bool) async throws
        -> [String]
    {
        let organization = try await organization(id: organizationID)
        let values = try RoleService.unique(try domains.map(Self.validateDomain))
        try await store.setJustInTime(.emailDomains, values: values, of: organization.id, replacing: replacing)
        return values
    }

    /// Adds (or with `replacing` sets) the `User` organization roles those users get.
    public func setJustInTimeRoles(_ roleIDs: [String], of organizationID: String, replacing: Bool) async throws {
        let organization = try await organization(id: organizationID)
        let roles = try await userRoles(ids: roleIDs)
        try await store.setJustInTime(.roles, values: roles.map(\.id), of: organization.id, replacing: replacing)
    }

    /// The `User` organization roles with these ids (duplicates dropped), for what members get (just-in-time,
    /// invitations). Throws 404 `organization_role.not_found` for an unknown id and `organization.invalid_role_type`
    /// (422) for a `MachineToMachine` role.
    public func userRoles(ids roleIDs: [String]) async throws -> [OrganizationRole] {
        let ids = try RoleService.unique(roleIDs)
        let found = try await store.organizationRoles(ids: ids)
        if let missing = ids.first(where: { id in !found.contains { $0.id == id } }) {
            throw IdentityError(.notFound, phrase: "organization_role.not_found", ["id": missing])
        }
        if let wrong = found.first(where: { $0.type != .user }) {
            throw IdentityError(.organizationInvalidRoleType, phrase: "organization.invalid_role_type", ["role": wrong.name])
        }
        return found
    }

    public func removeJustInTime(_ kind: JustInTimeKind, value: String, of organizationID: String) async throws {
        let organization = try await organization(id: organizationID)
        let key = kind == .emailDomains ? value.lowercased() : value
        guard try await store.removeJustInTime(kind, value: key, of: organization.id) else {
            throw IdentityError(.notFound, phrase: "organization.jit_value_not_found", ["value": value])
        }
    }

    /// A lowercase DNS name of at least two labels, at most 253 characters.
    static func validateDomain(_ raw: String) throws -> String {
        let value = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let labels = value.split(separator: ".", omittingEmptySubsequences: false)
        guard value.count <= 253, labels.count >= 2, labels.allSatisfy({ label in
            (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }) else { throw IdentityError.invalidInput(phrase: "organization.email_domain_invalid", ["domain": raw]) }
        return value
    }

    // MARK: Members

    /// Adds users or apps as members (with `replacing`, makes them exactly the members of that kind). Throws
    /// 404 for an unknown one and `application.invalid_type` (422) for an app that is not machine-to-machine.
    /// With `roleNames`, each member also gets those organization roles, in the same transaction (Throws
    /// `organization.role_names_not_found` and `organization.invalid_role_type`, 422, before anything is written.)
    public func addMembers(_ members: [PermissionSubject], to organizationID: String,
                           replacing kind: OrganizationMemberKind? = nil, roleNames: [String] = []) async throws
    {
        let organization = try await organization(id: organizationID)
        let members = try unique(members)
        for member in members { try await checkHolder(member) }
        let names = try RoleService.unique(roleNames)
        let roles = try await store.organizationRoles(names: names)
        let unknown = names.filter { name in !roles.contains { $0.name == name } }
        if !unknown.isEmpty {
            throw IdentityError(.organizationRoleNamesNotFound, phrase: "organization.role_names_not_found",
                                ["names": unknown.joined(separator: ", ")])
        }
        for member in members {
            let wanted: RoleType = if case .account = member { .user } else { .machineToMachine }
            if let wrong = roles.first(where: { $0.type != wanted }) {
                throw IdentityError(.organizationInvalidRoleType, phrase: "organization.invalid_role_type",
                                    ["role": wrong.name])
            }
        }
        try await store.addMembers(members, to: organization.id, replacing: kind, roleIDs: roles.map(\.id))
    }

    public func removeMember(_ member: PermissionSubject, from organizationID: String) async throws {
        let organization = try await organization(id: organizationID)
        guard try await store.removeMember(member, from: organization.id) else {
            throw IdentityError(.notFound, phrase: "organization.member_not_found", ["id": Self.id(of: member)])
        }
    }

    /// The roles a member holds in the organization. Throws `organization.require_membership` (422).
    public func roles(of member: PermissionSubject, in organizationID: String) async throws -> [OrganizationRole] {
        let organization = try await organization(id: organizationID)
        try await checkMembership(member, organization.id)
        return try await store.organizationRoles(of: member, in: organization.id)
    }

    /// Gives roles (by id, or by name with `roleNames`) to members of the organization, or with `replacing`
    /// makes them exactly their roles there. Throws `organization.require_membership` (422) for a non-member,
    /// `organization.role_names_not_found` (422), `organization.invalid_role_type` (422).
    public func assignRoles(ids roleIDs: [String], names roleNames: [String] = [], to members: [PermissionSubject],
                            in organizationID: String, replacing: Bool = false) async throws
    {
        let organization = try await organization(id: organizationID)
        let members = try unique(members)
        let ids = try RoleService.unique(roleIDs)
        var found = try await store.organizationRoles(ids: ids)
        if let missing = ids.first(where: { id in !found.contains { $0.id == id } }) {
            throw IdentityError(.notFound, phrase: "organization_role.not_found", ["id": missing])
        }
        let names = try RoleService.unique(roleNames)
        let named = try await store.organizationRoles(names: names)
        let unknown = names.filter { name in !named.contains { $0.name == name } }
        if !unknown.isEmpty {
            throw IdentityError(.organizationRoleNamesNotFound, phrase: "organization.role_names_not_found",
                                ["names": unknown.joined(separator: ", ")])
        }
        found += named.filter { role in !found.contains { $0.id == role.id } }
        for member in members {
            try await checkMembership(member, organization.id)
            let wanted: RoleType = if case .account = member { .user } else { .machineToMachine }
            if let wrong = found.first(where: { $0.type != wanted }) {
                throw IdentityError(.organizationInvalidRoleType, phrase: "organization.invalid_role_type",
                                    ["role": wrong.name])
            }
        }
        try await store.assignOrganizationRoles(found.map(\.id), to: members, in: organization.id, replacing: replacing)
    }

    public func removeRole(_ roleID: String, from member: PermissionSubject, in organizationID: String) async throws {
        let organization = try await organization(id: organizationID)
        try await checkMembership(member, organization.id)
        guard try await store.removeOrganizationRole(roleID, from: member, in: organization.id) else {
            throw IdentityError(.notFound, phrase: "role.not_held", ["id": roleID])
        }
    }

    /// The organizations a user or an app belongs to, with its roles in each. Throws 404 for an unknown one.
    public func organizations(of member: PermissionSubject) async throws
        -> [(organization: Organization, roles: [OrganizationRole])]
    {
        try await checkHolder(member)
        return try await store.organizations(of: member)
    }

    // MARK: Consent (third-party applications)

    /// The organizations the user let the third-party application see. Throws 404 for an unknown application or
    /// user, `application.third_party_application_only` (422) for a first-party application.
    public func consentedOrganizations(applicationID: String, userID: String) async throws -> [Organization] {
        try await checkConsentParties(applicationID: applicationID, userID: userID)
        return try await store.consentedOrganizations(applicationID: applicationID, userID: userID)
    }

    /// Adds (or with `replacing` makes exactly) the organizations the user lets the third-party application see.
    /// Throws as `consentedOrganizations`, 404 for an unknown organization, and `organization.require_membership`
    /// (422) for one the user is not a member of; nothing is written then.
    public func setConsentedOrganizations(_ organizationIDs: [String], applicationID: String, userID: String,
                                          replacing: Bool) async throws
    {
        try await checkConsentParties(applicationID: applicationID, userID: userID)
        let ids = try RoleService.unique(organizationIDs)
        for id in ids {
            let organization = try await organization(id: id)
            guard try await store.isMember(.account(userID), of: organization.id) else {
                throw IdentityError(.organizationRequireMembership, phrase: "organization.require_membership",
                                    ["id": userID])
            }
        }
        try await store.setConsentedOrganizations(ids, applicationID: applicationID, userID: userID,
                                                  replacing: replacing)
    }

    public func removeConsentedOrganization(_ organizationID: String, applicationID: String, userID: String)
        async throws
    {
        try await checkConsentParties(applicationID: applicationID, userID: userID)
        guard try await store.removeConsentedOrganization(organizationID, applicationID: applicationID, userID: userID)
        else { throw IdentityError(.notFound, phrase: "organization.not_found", ["id": organizationID]) }
    }

    private func checkConsentParties(applicationID: String, userID: String) async throws {
        guard let app = try await roles.applications.client(id: applicationID) else {
            throw IdentityError(.notFound, phrase: "application.not_found", ["id": applicationID])
        }
        guard app.isThirdParty else {
            throw IdentityError(.applicationThirdPartyOnly, phrase: "application.third_party_only")
        }
        guard try await roles.users.user(id: userID) != nil else {
            throw IdentityError(.notFound, phrase: "user.not_found", ["id": userID])
        }
    }

    private func checkMembership(_ member: PermissionSubject, _ organizationID: String) async throws {
        guard try await store.isMember(member, of: organizationID) else {
            throw IdentityError(.organizationRequireMembership, phrase: "organization.require_membership",
                                ["id": Self.id(of: member)])
        }
    }

    private func checkHolder(_ member: PermissionSubject) async throws {
        switch member {
        case .account(let id):
            guard try await roles.users.user(id: id) != nil else {
                throw IdentityError(.notFound, phrase: "user.not_found", ["id": id])
            }
        case .client(let id):
            guard let app = try await roles.applications.client(id: id) else {
                throw IdentityError(.notFound, phrase: "application.not_found", ["id": id])
            }
            guard app.type == .machineToMachine else {
                throw IdentityError(.applicationInvalidType, phrase: "application.invalid_type")
            }
        }
    }

    private func unique(_ members: [PermissionSubject]) throws -> [PermissionSubject] {
        guard members.count <= RoleService.maximumIDs else {
            throw IdentityError.invalidInput(phrase: "input.too_many_ids", ["maximum": "\(RoleService.maximumIDs)"])
        }
        var seen = Set<PermissionSubject>()
        return members.filter { seen.insert($0).inserted }
    }

    static func id(of member: PermissionSubject) -> String {
        switch member {
        case .account(let id), .client(let id): id
        }
    }
}
