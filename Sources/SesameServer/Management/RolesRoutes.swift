import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// `/api/roles`, `/api/users/{id}/roles`, `/api/applications/{id}/roles` and `/api/configs/id-token`, with
/// Logto's paths, bodies, status codes and error codes (`../design/logto-reference.md` §1).
struct RolesRoutes: Sendable {
    let runtime: SesameRuntime

    func register(on api: RouterGroup<SesameRequestContext>) {
        let roles = runtime.roles
        api.get("roles") { request, _ in
            let (offset, limit) = try ManagementInput.page(request)
            let query = try request.queryParameters()
            var filter = RoleQuery(search: try query.single("search"), offset: offset, limit: limit)
            if let type = try query.single("type") {
                guard let value = RoleType(rawValue: type) else {
                    throw IdentityError.invalidInput(phrase: "role.type_invalid", ["type": type])
                }
                filter.type = value
            }
            if let user = try query.single("excludeUserId") { filter.excluding = .account(user) }
            if let app = try query.single("excludeApplicationId") {
                guard filter.excluding == nil else {
                    throw IdentityError.invalidInput(phrase: "role.exclude_one_holder")
                }
                filter.excluding = .client(app)
            }
            let result = try await roles.roles(filter)
            // Logto's list shape: up to three holders of each role, for avatars in a list.
            var items: [JSONValue] = []
            for listing in result.roles {
                var object = Self.json(listing).objectValue ?? [:]
                let users = listing.usersCount == 0 ? []
                    : try await roles.users(holdingRole: listing.role.id, search: nil, offset: 0, limit: 3).users
                let apps = listing.applicationsCount == 0 ? []
                    : try await roles.applications(holdingRole: listing.role.id, offset: 0, limit: 3).applications
                object["featuredUsers"] = .array(users.map { user in
                    ["id": .string(user.id), "avatar": user.avatar.map { .string($0) } ?? .null,
                     "name": user.name.map { .string($0) } ?? .null]
                })
                object["featuredApplications"] = .array(apps.map { app in
                    ["id": .string(app.id), "name": .string(app.name), "type": .string(app.type.rawValue)]
                })
                items.append(.object(object))
            }
            return Responses.json(.array(items), headers: ManagementInput.total(result.total))
        }
        api.post("roles") { request, _ in
            let body = try await ManagementInput.body(request)
            try ManagementInput.allowOnly(body, ["name", "description", "type", "isDefault", "scopeIds"])
            let type = try ManagementInput.roleType(body)
            let role = try await roles.create(
                name: try ManagementInput.requiredString(body, "name"),
                description: try ManagementInput.requiredString(body, "description"), type: type,
                isDefault: try ManagementInput.optionalBool(body, "isDefault") ?? false,
                scopeIDs: try ManagementInput.stringList(body["scopeIds"], "scopeIds") ?? [])
            return Responses.json(Self.json(role))
        }
        api.get("roles/:id") { _, context in
            Responses.json(Self.json(try await roles.role(id: Self.id(context))))
        }
        api.patch("roles/:id") { request, context in
            let body = try await ManagementInput.body(request)
            try ManagementInput.allowOnly(body, ["name", "description", "isDefault"])
            let role = try await roles.update(
                id: Self.id(context), name: try ManagementInput.optionalString(body, "name") ?? nil,
                description: try ManagementInput.optionalString(body, "description") ?? nil,
                isDefault: try ManagementInput.optionalBool(body, "isDefault"))
            return Responses.json(Self.json(role))
        }
        api.delete("roles/:id") { _, context in
            try await roles.delete(id: Self.id(context))
            return Response(status: .noContent)
        }

        // Permissions
        api.get("roles/:id/scopes") { _, context in
            let permissions = try await roles.permissions(ofRole: Self.id(context))
            return Responses.json(.array(permissions.map(Self.json)), headers: ManagementInput.total(permissions.count))
        }
        api.post("roles/:id/scopes") { request, context in
            let ids = try await ManagementInput.ids(request, "scopeIds")
            try await roles.addPermissions(roleID: Self.id(context), scopeIDs: ids)
            return Responses.json(.array(try await roles.permissions(ofRole: Self.id(context)).map(Self.json)),
                                  status: .created)
        }
        api.delete("roles/:id/scopes/:scopeId") { _, context in
            try await roles.removePermission(roleID: Self.id(context),
                                             scopeID: context.parameters.get("scopeId") ?? "")
            return Response(status: .noContent)
        }

        // Holders of one role
        api.get("roles/:id/users") { request, context in
            let (offset, limit) = try ManagementInput.page(request)
            let result = try await roles.users(holdingRole: Self.id(context),
                                               search: try request.queryParameters().single("search"),
                                               offset: offset, limit: limit)
            return Responses.json(.array(result.users.map(UsersRoutes.json)), headers: ManagementInput.total(result.total))
        }
        api.post("roles/:id/users") { request, context in
            try await roles.addUsers(try await ManagementInput.ids(request, "userIds"), toRole: Self.id(context))
            return Response(status: .created)
        }
        api.delete("roles/:id/users/:userId") { _, context in
            try await roles.unassign(roleID: Self.id(context), from: .account(context.parameters.get("userId") ?? ""))
            return Response(status: .noContent)
        }
        api.get("roles/:id/applications") { request, context in
            let (offset, limit) = try ManagementInput.page(request)
            let result = try await roles.applications(holdingRole: Self.id(context), offset: offset, limit: limit)
            return Responses.json(.array(result.applications.map {
                ApplicationsRoutes.json($0, defaultAlgorithm: runtime.configuration.defaultSigningAlgorithm)
            }),
                                  headers: ManagementInput.total(result.total))
        }
        api.post("roles/:id/applications") { request, context in
            try await roles.addApplications(try await ManagementInput.ids(request, "applicationIds"), toRole: Self.id(context))
            return Response(status: .created)
        }
        api.delete("roles/:id/applications/:applicationId") { _, context in
            try Self.refuseSelf(context.parameters.get("applicationId"), context)
            try await roles.unassign(roleID: Self.id(context),
                                     from: .client(context.parameters.get("applicationId") ?? ""))
            return Response(status: .noContent)
        }

        // Roles of one user or application
        for (path, subject) in [("users", PermissionSubject.account), ("applications", PermissionSubject.client)] {
            api.get("\(path)/:id/roles") { _, context in
                let held = try await roles.roles(heldBy: subject(Self.id(context)))
                return Responses.json(.array(held.map(Self.json)), headers: ManagementInput.total(held.count))
            }
            api.post("\(path)/:id/roles") { request, context in
                let ids = try RoleService.unique(try await ManagementInput.ids(request, "roleIds"))
                let added = try await roles.assign(roleIDs: ids, to: subject(Self.id(context)))
                return Responses.json(["roleIds": Self.strings(ids), "addedRoleIds": Self.strings(added)],
                                      status: .created)
            }
            api.put("\(path)/:id/roles") { request, context in
                if path == "applications" { try Self.refuseSelf(Self.id(context), context) }
                let ids = try RoleService.unique(try await ManagementInput.ids(request, "roleIds", allowEmpty: true))
                try await roles.replaceRoles(of: subject(Self.id(context)), with: ids)
                return Responses.json(["roleIds": Self.strings(ids)])
            }
            api.delete("\(path)/:id/roles/:roleId") { _, context in
                if path == "applications" { try Self.refuseSelf(Self.id(context), context) }
                try await roles.unassign(roleID: context.parameters.get("roleId") ?? "",
                                         from: subject(Self.id(context)))
                return Response(status: .noContent)
            }
        }

        api.get("configs/id-token") { _, _ in
            Responses.json(Self.json(try await runtime.store.idTokenConfig()))
        }
        api.put("configs/id-token") { request, _ in
            let body = try await ManagementInput.body(request)
            try ManagementInput.allowOnly(body, ["enabledExtendedClaims"])
            guard let claims = try ManagementInput.stringList(body["enabledExtendedClaims"], "enabledExtendedClaims")
            else { throw IdentityError.invalidInput(phrase: "input.required", ["field": "enabledExtendedClaims"]) }
            let saved = try await runtime.store.saveIDTokenConfig(IDTokenConfig(enabledExtendedClaims: claims))
            return Responses.json(Self.json(saved))
        }
    }

    /// The calling application may not take roles from itself: that could end its own Management API access
    /// in the middle of a script, as deleting itself would (which is refused too).
    private static func refuseSelf(_ applicationID: String?, _ context: SesameRequestContext) throws {
        if let applicationID, applicationID == context.managementClientID {
            throw IdentityError(.applicationCannotChangeOwnRoles, phrase: "application.cannot_change_own_roles")
        }
    }

    private static func id(_ context: SesameRequestContext) -> String {
        context.parameters.get("id") ?? ""
    }


    private static func strings(_ values: [String]) -> JSONValue {
        .array(values.map { .string($0) })
    }


    static func json(_ role: Role) -> JSONValue {
        ["id": .string(role.id), "name": .string(role.name), "description": .string(role.description),
         "type": .string(role.type.rawValue), "isDefault": .bool(role.isDefault),
         "createdAt": ManagementInput.epochMilliseconds(role.createdAt)]
    }

    static func json(_ listing: RoleListing) -> JSONValue {
        var object = json(listing.role).objectValue ?? [:]
        object["usersCount"] = .int(Int64(listing.usersCount))
        object["applicationsCount"] = .int(Int64(listing.applicationsCount))
        return .object(object)
    }

    /// A scope with its resource attached (Logto's `ScopeResponse`).
    static func json(_ permission: Permission) -> JSONValue {
        var object = SettingsRoutes.json(permission.scope, resourceID: permission.resourceID).objectValue ?? [:]
        object["resource"] = ["id": .string(permission.resourceID), "name": .string(permission.resourceName),
                              "indicator": .string(permission.resourceIndicator)]
        return .object(object)
    }

    static func json(_ config: IDTokenConfig) -> JSONValue {
        ["enabledExtendedClaims": strings(config.enabledExtendedClaims)]
    }
}
