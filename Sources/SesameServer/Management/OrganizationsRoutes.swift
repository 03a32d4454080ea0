import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// `/api/organizations`, `/api/organization-roles`, `/api/organization-scopes`, `/api/users/{id}/organizations`
/// and `/api/applications/{id}/organizations`, with Logto's paths, bodies and codes (`logto-reference.md` §2).
struct OrganizationsRoutes: Sendable {
    let runtime: SesameRuntime

    func register(on api: RouterGroup<SesameRequestContext>) {
        let service = runtime.organizations
        api.get("organizations") { request, _ in
            let (offset, limit) = try ManagementInput.page(request)
            let query = try request.queryParameters()
            let result = try await runtime.store.organizations(search: try query.single("q"), offset: offset,
                                                               limit: limit)
            var items: [JSONValue] = []
            let featured = try query.single("showFeatured") == "true"
            for listing in result.organizations {
                var object = Self.json(listing.organization).objectValue ?? [:]
                object["usersCount"] = .int(Int64(listing.usersCount))
                if featured {
                    let members = try await runtime.store.memberUsers(of: listing.organization.id, search: nil,
                                                                      roleID: nil, offset: 0, limit: 3).members
                    object["featuredUsers"] = .array(members.map { member in
                        ["id": .string(member.holder.id), "avatar": member.holder.avatar.map { .string($0) } ?? .null,
                         "name": member.holder.name.map { .string($0) } ?? .null]
                    })
                }
                items.append(.object(object))
            }
            return Responses.json(.array(items), headers: ManagementInput.total(result.total))
        }
        api.post("organizations") { request, _ in
            let organization = try await service.create(try await Self.fields(request, creating: true))
            return Responses.json(Self.json(organization), status: .created)
        }
        api.get("organizations/:id") { _, context in
            Responses.json(Self.json(try await service.organization(id: Self.id(context))))
        }
        api.patch("organizations/:id") { request, context in
            Responses.json(Self.json(try await service.update(id: Self.id(context),
                                                               try await Self.fields(request, creating: false))))
        }
        api.delete("organizations/:id") { _, context in
            try await service.delete(id: Self.id(context))
            return Response(status: .noContent)
        }

        // The organizations a user let a third-party application see (Logto's consent organizations).
        let consent = "applications/:id/users/:userId/consent-organizations"
        api.get(RouterPath(consent)) { _, context in
            let organizations = try await service.consentedOrganizations(
                applicationID: Self.id(context), userID: context.parameters.get("userId") ?? "")
            // Logto's shape: an object, not a list.
            return Responses.json(["organizations": .array(organizations.map(Self.json))])
        }
        for (method, replacing) in [(HTTPRequest.Method.post, false), (.put, true)] {
            api.on(RouterPath(consent), method: method) { request, context in
                let ids = try await ManagementInput.ids(request, "organizationIds", allowEmpty: replacing)
                try await service.setConsentedOrganizations(ids, applicationID: Self.id(context),
                                                            userID: context.parameters.get("userId") ?? "",
                                                            replacing: replacing)
                return Response(status: replacing ? .noContent : .created)
            }
        }
        api.delete(RouterPath(consent + "/:organizationId")) { _, context in
            try await service.removeConsentedOrganization(context.parameters.get("organizationId") ?? "",
                                                          applicationID: Self.id(context),
                                                          userID: context.parameters.get("userId") ?? "")
            return Response(status: .noContent)
        }

        // Members: users and machine-to-machine apps, and their roles there.
        for (path, field, kind) in [("users", "userIds", PermissionSubject.account),
                                    ("applications", "applicationIds", PermissionSubject.client)]
        {
            api.get("organizations/:id/\(path)") { request, context in
                let (offset, limit) = try ManagementInput.page(request)
                let organization = try await service.organization(id: Self.id(context))
                if path == "users" {
                    let query = try request.queryParameters()
                    let result = try await runtime.store.memberUsers(
                        of: organization.id, search: try query.single("q"),
                        roleID: try query.single("organizationRoleId"), offset: offset, limit: limit)
                    return Responses.json(.array(result.members.map { member in
                        var object = UsersRoutes.json(member.holder).objectValue ?? [:]
                        object["organizationRoles"] = Self.roleRefs(member.roles)
                        return .object(object)
                    }), headers: ManagementInput.total(result.total))
                }
                let result = try await runtime.store.memberApplications(of: organization.id, offset: offset,
                                                                        limit: limit)
                return Responses.json(.array(result.members.map { member in
                    var object = ApplicationsRoutes.json(member.holder,
                                                           defaultAlgorithm: runtime.configuration.defaultSigningAlgorithm).objectValue ?? [:]
                    object["organizationRoles"] = Self.roleRefs(member.roles)
                    return .object(object)
                }), headers: ManagementInput.total(result.total))
            }
            api.post("organizations/:id/\(path)") { request, context in
                let ids = try await ManagementInput.ids(request, field)
                try await service.addMembers(ids.map(kind), to: Self.id(context))
                return Responses.json([.init(field): .array(ids.map { .string($0) })], status: .created)
            }
            api.put("organizations/:id/\(path)") { request, context in
                let ids = try await ManagementInput.ids(request, field, allowEmpty: true)
                try await service.addMembers(ids.map(kind), to: Self.id(context),
                                             replacing: path == "users" ? .users : .applications)
                return Response(status: .noContent)
            }
            api.delete("organizations/:id/\(path)/:member") { _, context in
                try await service.removeMember(kind(context.parameters.get("member") ?? ""), from: Self.id(context))
                return Response(status: .noContent)
            }
            api.post("organizations/:id/\(path)/roles") { request, context in
                let body = try await ManagementInput.body(request)
                try ManagementInput.allowOnly(body, [field, "organizationRoleIds"])
                let members = try Self.required(body, field)
                let roleIDs = try Self.required(body, "organizationRoleIds")
                try await service.assignRoles(ids: roleIDs, to: members.map(kind), in: Self.id(context))
                return Response(status: .created)
            }
            api.get("organizations/:id/\(path)/:member/roles") { _, context in
                let roles = try await service.roles(of: kind(context.parameters.get("member") ?? ""),
                                                    in: Self.id(context))
                return Responses.json(.array(roles.map(Self.json)), headers: ManagementInput.total(roles.count))
            }
            for (method, replacing) in [(HTTPRequest.Method.post, false), (.put, true)] {
                api.on("organizations/:id/\(path)/:member/roles", method: method) { request, context in
                    let body = try await ManagementInput.body(request)
                    try ManagementInput.allowOnly(body, ["organizationRoleIds", "organizationRoleNames"])
                    let ids = try ManagementInput.stringList(body["organizationRoleIds"], "organizationRoleIds") ?? []
                    let names = try ManagementInput.stringList(body["organizationRoleNames"], "organizationRoleNames") ?? []
                    if !replacing, ids.isEmpty, names.isEmpty {
                        throw IdentityError.invalidInput(phrase: "input.ids_empty", ["field": "organizationRoleIds"])
                    }
                    try await service.assignRoles(ids: ids, names: names,
                                                  to: [kind(context.parameters.get("member") ?? "")],
                                                  in: Self.id(context), replacing: replacing)
                    return Response(status: replacing ? .noContent : .created)
                }
            }
            api.delete("organizations/:id/\(path)/:member/roles/:roleId") { _, context in
                try await service.removeRole(context.parameters.get("roleId") ?? "",
                                             from: kind(context.parameters.get("member") ?? ""), in: Self.id(context))
                return Response(status: .noContent)
            }
            // The reverse lookup: /api/users/{id}/organizations, /api/applications/{id}/organizations.
            api.get("\(path)/:id/organizations") { _, context in
                let memberships = try await service.organizations(of: kind(Self.id(context)))
                return Responses.json(.array(memberships.map { membership in
                    var object = Self.json(membership.organization).objectValue ?? [:]
                    object["organizationRoles"] = Self.roleRefs(membership.roles)
                    return .object(object)
                }), headers: ManagementInput.total(memberships.count))
            }
        }
        api.get("organizations/:id/users/:member/scopes") { _, context in
            let organization = try await service.organization(id: Self.id(context))
            let member = PermissionSubject.account(context.parameters.get("member") ?? "")
            _ = try await service.roles(of: member, in: organization.id)  // 404 / 422 for a non-member
            var scopes: [OrganizationScope] = []
            for role in try await runtime.store.organizationRoles(of: member, in: organization.id) {
                for scope in try await runtime.store.organizationScopes(ofRole: role.id)
                where !scopes.contains(where: { $0.id == scope.id }) {
                    scopes.append(scope)
                }
            }
            return Responses.json(.array(scopes.sorted { $0.name < $1.name }.map(Self.json)))
        }

        registerJustInTime(on: api)
        registerTemplate(on: api)
    }

    /// `/api/organizations/{id}/jit/email-domains` and `/jit/roles`: who joins on registration, with which roles.
    private func registerJustInTime(on api: RouterGroup<SesameRequestContext>) {
        let service = runtime.organizations
        api.get("organizations/:id/jit/email-domains") { _, context in
            let organization = try await service.organization(id: Self.id(context))
            let domains = try await runtime.store.justInTimeEmailDomains(of: organization.id)
            return Responses.json(.array(domains.map { Self.json(domain: $0, organizationID: organization.id) }),
                                  headers: ManagementInput.total(domains.count))
        }
        api.post("organizations/:id/jit/email-domains") { request, context in
            let body = try await ManagementInput.body(request)
            try ManagementInput.allowOnly(body, ["emailDomain"])
            let domain = try ManagementInput.requiredString(body, "emailDomain")
            let saved = try await service.setJustInTimeDomains([domain], of: Self.id(context), replacing: false)
            return Responses.json(Self.json(domain: saved.first ?? domain, organizationID: Self.id(context)),
                                  status: .created)
        }
        api.put("organizations/:id/jit/email-domains") { request, context in
            let domains = try await ManagementInput.ids(request, "emailDomains", allowEmpty: true)
            _ = try await service.setJustInTimeDomains(domains, of: Self.id(context), replacing: true)
            return Response(status: .noContent)
        }
        api.delete("organizations/:id/jit/email-domains/:domain") { _, context in
            try await service.removeJustInTime(.emailDomains, value: context.parameters.get("domain") ?? "",
                                               of: Self.id(context))
            return Response(status: .noContent)
        }
        api.get("organizations/:id/jit/roles") { _, context in
            let organization = try await service.organization(id: Self.id(context))
            let roles = try await runtime.store.justInTimeRoles(of: organization.id)
            return Responses.json(.array(roles.map(Self.json)), headers: ManagementInput.total(roles.count))
        }
        for (method, replacing) in [(HTTPRequest.Method.post, false), (.put, true)] {
            api.on("organizations/:id/jit/roles", method: method) { request, context in
                let ids = try await ManagementInput.ids(request, "organizationRoleIds", allowEmpty: replacing)
                try await service.setJustInTimeRoles(ids, of: Self.id(context), replacing: replacing)
                return Response(status: replacing ? .noContent : .created)
            }
        }
        api.delete("organizations/:id/jit/roles/:roleId") { _, context in
            try await service.removeJustInTime(.roles, value: context.parameters.get("roleId") ?? "",
                                               of: Self.id(context))
            return Response(status: .noContent)
        }
    }

    private static func json(domain: String, organizationID: String) -> JSONValue {
        ["organizationId": .string(organizationID), "emailDomain": .string(domain)]
    }

    /// `/api/organization-scopes` and `/api/organization-roles` (the organization template).
    private func registerTemplate(on api: RouterGroup<SesameRequestContext>) {
        let service = runtime.organizations
        api.get("organization-scopes") { request, _ in
            let (offset, limit) = try ManagementInput.page(request)
            let result = try await runtime.store.organizationScopes(search: try request.queryParameters().single("q"),
                                                                    offset: offset, limit: limit)
            return Responses.json(.array(result.scopes.map(Self.json)), headers: ManagementInput.total(result.total))
        }
        api.post("organization-scopes") { request, _ in
            let body = try await ManagementInput.body(request)
            try ManagementInput.allowOnly(body, ["name", "description"])
            let scope = try await service.createScope(name: try ManagementInput.requiredString(body, "name"),
                                                      description: try ManagementInput.optionalString(body, "description") ?? nil)
            return Responses.json(Self.json(scope), status: .created)
        }
        api.get("organization-scopes/:id") { _, context in
            Responses.json(Self.json(try await service.scope(id: Self.id(context))))
        }
        api.patch("organization-scopes/:id") { request, context in
            let body = try await ManagementInput.body(request)
            try ManagementInput.allowOnly(body, ["name", "description"])
            return Responses.json(Self.json(try await service.updateScope(
                id: Self.id(context), name: try ManagementInput.optionalString(body, "name") ?? nil,
                description: try ManagementInput.optionalString(body, "description"))))
        }
        api.delete("organization-scopes/:id") { _, context in
            try await service.deleteScope(id: Self.id(context))
            return Response(status: .noContent)
        }

        api.get("organization-roles") { request, _ in
            let (offset, limit) = try ManagementInput.page(request)
            let result = try await runtime.store.organizationRoles(search: try request.queryParameters().single("q"),
                                                                   offset: offset, limit: limit)
            var items: [JSONValue] = []
            for role in result.roles {
                var object = Self.json(role).objectValue ?? [:]
                object["scopes"] = .array(try await runtime.store.organizationScopes(ofRole: role.id).map(Self.json))
                object["resourceScopes"] = .array(try await runtime.store.resourcePermissions(ofOrganizationRole: role.id)
                    .map(RolesRoutes.json))
                items.append(.object(object))
            }
            return Responses.json(.array(items), headers: ManagementInput.total(result.total))
        }
        api.post("organization-roles") { request, _ in
            let body = try await ManagementInput.body(request)
            try ManagementInput.allowOnly(body, ["name", "description", "type", "organizationScopeIds", "resourceScopeIds"])
            let type = try ManagementInput.roleType(body)
            let role = try await service.createRole(
                name: try ManagementInput.requiredString(body, "name"),
                description: try ManagementInput.optionalString(body, "description") ?? nil, type: type,
                scopeIDs: try ManagementInput.stringList(body["organizationScopeIds"], "organizationScopeIds") ?? [],
                resourceScopeIDs: try ManagementInput.stringList(body["resourceScopeIds"], "resourceScopeIds") ?? [])
            return Responses.json(Self.json(role), status: .created)
        }
        api.get("organization-roles/:id") { _, context in
            Responses.json(Self.json(try await service.role(id: Self.id(context))))
        }
        api.patch("organization-roles/:id") { request, context in
            let body = try await ManagementInput.body(request)
            try ManagementInput.allowOnly(body, ["name", "description"])
            return Responses.json(Self.json(try await service.updateRole(
                id: Self.id(context), name: try ManagementInput.optionalString(body, "name") ?? nil,
                description: try ManagementInput.optionalString(body, "description"))))
        }
        api.delete("organization-roles/:id") { _, context in
            try await service.deleteRole(id: Self.id(context))
            return Response(status: .noContent)
        }
        for (path, field, kind) in [("scopes", "organizationScopeIds", OrganizationPermissionKind.organizationScopes),
                                    ("resource-scopes", "scopeIds", .resourceScopes)]
        {
            api.get("organization-roles/:id/\(path)") { _, context in
                let role = try await service.role(id: Self.id(context))
                if kind == .organizationScopes {
                    let scopes = try await runtime.store.organizationScopes(ofRole: role.id)
                    return Responses.json(.array(scopes.map(Self.json)), headers: ManagementInput.total(scopes.count))
                }
                let permissions = try await runtime.store.resourcePermissions(ofOrganizationRole: role.id)
                return Responses.json(.array(permissions.map(RolesRoutes.json)), headers: ManagementInput.total(permissions.count))
            }
            for (method, replacing) in [(HTTPRequest.Method.post, false), (.put, true)] {
                api.on("organization-roles/:id/\(path)", method: method) { request, context in
                    let ids = try await ManagementInput.ids(request, field, allowEmpty: replacing)
                    try await service.setPermissions(kind, ofRole: Self.id(context), scopeIDs: ids, replacing: replacing)
                    return Response(status: replacing ? .noContent : .created)
                }
            }
            api.delete("organization-roles/:id/\(path)/:scopeId") { _, context in
                try await service.removePermission(kind, ofRole: Self.id(context),
                                                   scopeID: context.parameters.get("scopeId") ?? "")
                return Response(status: .noContent)
            }
        }
    }

    // MARK: Input and output

    private static func id(_ context: SesameRequestContext) -> String {
        context.parameters.get("id") ?? ""
    }


    private static func required(_ body: JSONValue, _ field: String) throws -> [String] {
        guard let ids = try ManagementInput.stringList(body[field], field) else {
            throw IdentityError.invalidInput(phrase: "input.required", ["field": field])
        }
        guard !ids.isEmpty else { throw IdentityError.invalidInput(phrase: "input.ids_empty", ["field": field]) }
        return ids
    }


    private static func fields(_ request: Request, creating: Bool) async throws -> OrganizationService.Fields {
        let body = try await ManagementInput.body(request)
        try ManagementInput.allowOnly(body, ["name", "description", "customData", "isMfaRequired", "color", "branding"])
        var fields = OrganizationService.Fields()
        fields.name = try ManagementInput.optionalString(body, "name") ?? nil
        if creating, fields.name == nil { throw IdentityError.invalidInput(phrase: "input.required", ["field": "name"]) }
        fields.description = try ManagementInput.optionalString(body, "description")
        fields.color = try ManagementInput.optionalString(body, "color")
        fields.isMfaRequired = try ManagementInput.optionalBool(body, "isMfaRequired")
        for key in ["customData", "branding"] {
            guard let value = body[key] else { continue }
            guard value.objectValue != nil else {
                throw IdentityError.invalidInput(phrase: "input.must_be_object", ["field": key])
            }
            if key == "customData" { fields.customData = value } else { fields.branding = value }
        }
        return fields
    }

    static func json(_ organization: Organization) -> JSONValue {
        ["id": .string(organization.id), "name": .string(organization.name),
         "description": organization.description.map { .string($0) } ?? .null,
         "customData": organization.customData, "isMfaRequired": .bool(organization.isMfaRequired),
         "color": organization.color.map { .string($0) } ?? .null, "branding": organization.branding,
         "createdAt": ManagementInput.epochMilliseconds(organization.createdAt)]
    }

    static func json(_ role: OrganizationRole) -> JSONValue {
        ["id": .string(role.id), "name": .string(role.name), "description": role.description.map { .string($0) } ?? .null,
         "type": .string(role.type.rawValue), "createdAt": ManagementInput.epochMilliseconds(role.createdAt)]
    }

    static func json(_ scope: OrganizationScope) -> JSONValue {
        ["id": .string(scope.id), "name": .string(scope.name),
         "description": scope.description.map { .string($0) } ?? .null,
         "createdAt": ManagementInput.epochMilliseconds(scope.createdAt)]
    }

    private static func roleRefs(_ roles: [OrganizationRole]) -> JSONValue {
        .array(roles.map { ["id": .string($0.id), "name": .string($0.name)] })
    }
}
