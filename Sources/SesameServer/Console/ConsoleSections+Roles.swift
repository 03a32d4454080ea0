import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// Roles: the list, creation with permissions picked per API resource, and a role's page with the tabs
/// Permissions, Users and Machine-to-machine apps; the Roles tabs of the user and application pages.
extension ConsoleSections {
    static let holdersPerPage = 20

    enum RoleTab: String, CaseIterable {
        case permissions, users, applications
    }

    func registerRoles(on console: RouterGroup<SesameRequestContext>) {
        console.get("roles") { request, context in
            let visit = visit(request, context)
            return try await rolesPage(visit, request: request, notice: visit.notice(request))
        }
        console.post("roles") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let type: RoleType = try form.single("type") == RoleType.machineToMachine.rawValue ? .machineToMachine : .user
            do {
                let role = try await runtime.roles.create(
                    name: try form.text("name") ?? "", description: try form.text("description") ?? "", type: type,
                    isDefault: form.isChecked("isDefault"), scopeIDs: form.all("scope"))
                return visit.redirect("/console/roles/\(role.id)", notice: "created")
            } catch let error as IdentityError {
                return try await rolesPage(visit, request: request, form: [
                    "name": try form.text("name") ?? "", "description": try form.text("description") ?? "",
                    "isM2M": type == .machineToMachine, "isDefault": form.isChecked("isDefault"),
                    "checked": Set(form.all("scope")),
                ], error: visit.text.message(error))
            }
        }
        console.get("roles/:id") { request, context in
            let visit = visit(request, context)
            return try await rolePage(visit, request: request, id: context.parameters.get("id") ?? "",
                                      notice: visit.notice(request))
        }
        console.post("roles/:id") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let id = context.parameters.get("id") ?? ""
            do {
                _ = try await runtime.roles.update(id: id, name: try form.text("name") ?? "",
                                                   description: try form.text("description") ?? "",
                                                   isDefault: form.isChecked("isDefault"))
            } catch let error as IdentityError where error.code != .notFound {
                return try await rolePage(visit, request: request, id: id, settingsError: visit.text.message(error))
            }
            return visit.redirect("/console/roles/\(id)", notice: "saved")
        }
        console.post("roles/:id/delete") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            let id = context.parameters.get("id") ?? ""
            do {
                try await runtime.roles.delete(id: id)
            } catch let error as IdentityError where error.code != .notFound {
                return try await rolePage(visit, request: request, id: id, settingsError: visit.text.message(error))
            }
            return visit.redirect("/console/roles", notice: "deleted")
        }
        console.post("roles/:id/permissions") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let id = context.parameters.get("id") ?? ""
            do {
                try await runtime.roles.addPermissions(roleID: id, scopeIDs: form.all("scope"))
            } catch let error as IdentityError where error.code != .notFound || !form.all("scope").isEmpty {
                return try await rolePage(visit, request: request, id: id, tabError: visit.text.message(error))
            }
            return visit.redirect("/console/roles/\(id)", notice: "saved")
        }
        console.post("roles/:id/permissions/:scope/delete") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            let id = context.parameters.get("id") ?? ""
            do {
                try await runtime.roles.removePermission(roleID: id, scopeID: context.parameters.get("scope") ?? "")
            } catch let error as IdentityError where error.code != .notFound {
                return try await rolePage(visit, request: request, id: id, tabError: visit.text.message(error))
            }
            return visit.redirect("/console/roles/\(id)", notice: "removed")
        }
        console.post("roles/:id/users") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let id = context.parameters.get("id") ?? ""
            let identifier = try form.text("user") ?? ""
            do {
                try await runtime.roles.addUsers([try await findUser(identifier).id], toRole: id)
            } catch let error as IdentityError {
                return try await rolePage(visit, request: request, id: id, tab: .users,
                                          tabError: visit.text.message(error), typed: identifier)
            }
            return visit.redirect("/console/roles/\(id)?tab=users", notice: "assigned")
        }
        console.post("roles/:id/applications") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let id = context.parameters.get("id") ?? ""
            do {
                try await runtime.roles.addApplications([try form.text("application") ?? ""], toRole: id)
            } catch let error as IdentityError {
                return try await rolePage(visit, request: request, id: id, tab: .applications,
                                          tabError: visit.text.message(error))
            }
            return visit.redirect("/console/roles/\(id)?tab=applications", notice: "assigned")
        }
        // Taking a role from a holder, from the role's page or from the holder's.
        for (kind, subject, tab) in [("users", PermissionSubject.account, RoleTab.users),
                                     ("applications", PermissionSubject.client, RoleTab.applications)]
        {
            console.post("roles/:id/\(kind)/:holder/delete") { request, context in
                let visit = visit(request, context)
                _ = try await request.consoleForm(visit)
                let id = context.parameters.get("id") ?? ""
                try await runtime.roles.unassign(roleID: id, from: subject(context.parameters.get("holder") ?? ""))
                return visit.redirect("/console/roles/\(id)?tab=\(tab.rawValue)", notice: "removed")
            }
            console.get("\(kind)/:id/roles") { request, context in
                let visit = visit(request, context)
                return try await holderRolesPage(visit, subject(context.parameters.get("id") ?? ""),
                                                 notice: visit.notice(request))
            }
            console.post("\(kind)/:id/roles") { request, context in
                let visit = visit(request, context)
                let form = try await request.consoleForm(visit)
                let id = context.parameters.get("id") ?? ""
                do {
                    try await runtime.roles.assign(roleIDs: [try form.text("role") ?? ""], to: subject(id))
                } catch let error as IdentityError {
                    return try await holderRolesPage(visit, subject(id), error: visit.text.message(error))
                }
                return visit.redirect("/console/\(kind)/\(id)/roles", notice: "assigned")
            }
            console.post("\(kind)/:id/roles/:role/delete") { request, context in
                let visit = visit(request, context)
                _ = try await request.consoleForm(visit)
                let id = context.parameters.get("id") ?? ""
                try await runtime.roles.unassign(roleID: context.parameters.get("role") ?? "", from: subject(id))
                return visit.redirect("/console/\(kind)/\(id)/roles", notice: "removed")
            }
        }
    }

    /// The permission picker: every API resource with its scopes, those in `checked` ticked and those in
    /// `held` left out; the Management API's only for machine-to-machine roles (`forM2M`, nil: both).
    func permissionGroups(checked: Set<String> = [], held: Set<String> = [], forM2M: Bool?) async throws
        -> [[String: Any]]
    {
        try await runtime.store.resources().compactMap { resource in
            let isManagement = resource.indicator == runtime.roles.managementIndicator
            if isManagement, forM2M == false { return nil }
            let scopes = resource.scopes.filter { !held.contains($0.id) }
            guard !scopes.isEmpty else { return nil }
            return ["name": resource.name, "indicator": resource.indicator, "isManagement": isManagement,
                    "scopes": scopes.map { scope in
                        ["id": scope.id, "name": scope.name, "description": scope.description ?? "",
                         "checked": checked.contains(scope.id)] as [String: Any]
                    }] as [String: Any]
        }
    }

    private func rolesPage(_ visit: ConsoleVisit, request: Request, form: [String: Any] = [:],
                           error: String? = nil, notice: String? = nil) async throws -> Response
    {
        let query = try request.queryParameters()
        let pager = try ConsolePager(query, perPage: Self.usersPerPage)
        let result = try await runtime.roles.roles(RoleQuery(offset: pager.offset, limit: pager.perPage))
        var model = pager.model(total: result.total, path: "/console/roles", filters: [], text: visit.text,
                                countKey: "countRoles")
        model.merge([
            "hasRoles": !result.roles.isEmpty,
            "roles": result.roles.map { listing in
                ["id": listing.role.id, "name": listing.role.name, "description": listing.role.description,
                 "typeLabel": visit.t(listing.role.type == .user ? "roleTypeUser" : "roleTypeM2M"),
                 "isDefault": listing.role.isDefault,
                 "users": visit.text.counted("countUsers", listing.usersCount),
                 "applications": visit.text.counted("countApplications", listing.applicationsCount)] as [String: Any]
            },
            "form": form,
            "groups": try await permissionGroups(checked: form["checked"] as? Set<String> ?? [], forM2M: nil),
        ]) { _, new in new }
        model["error"] = error
        return visit.page("roles", title: visit.t("roles"), section: .roles, model: model, notice: notice,
                          status: error == nil ? .ok : .badRequest)
    }

    private func rolePage(_ visit: ConsoleVisit, request: Request, id: String, tab requested: RoleTab? = nil,
                          settingsError: String? = nil, tabError: String? = nil, typed: String = "",
                          notice: String? = nil) async throws -> Response
    {
        let role = try await runtime.roles.role(id: id)
        let query = try request.queryParameters()
        let asked = try query.single("tab").flatMap(RoleTab.init(rawValue:))
        var tab = requested ?? asked ?? .permissions
        if tab == .users, role.type != .user { tab = .permissions }
        if tab == .applications, role.type != .machineToMachine { tab = .permissions }
        let isBuiltIn = role.id == RoleService.managementRoleID
        var model: [String: Any] = [
            "role": ["id": role.id, "name": role.name, "description": role.description, "isDefault": role.isDefault,
                     "isUser": role.type == .user, "isBuiltIn": isBuiltIn,
                     "typeLabel": visit.t(role.type == .user ? "roleTypeUser" : "roleTypeM2M")] as [String: Any],
            "tabs": [RoleTab.permissions, role.type == .user ? .users : .applications].map { item in
                ["href": "/console/roles/\(role.id)?tab=\(item.rawValue)", "isCurrent": item == tab,
                 "label": visit.t("roleTab." + item.rawValue)] as [String: Any]
            },
            "typed": typed,
        ]
        switch tab {
        case .permissions:
            let permissions = try await runtime.roles.permissions(ofRole: role.id)
            model["isPermissions"] = true
            model["permissions"] = permissions.map { permission in
                ["id": permission.scope.id, "name": permission.scope.name,
                 "description": permission.scope.description ?? "", "resource": permission.resourceName,
                 "isLocked": isBuiltIn && permission.resourceIndicator == runtime.roles.managementIndicator]
                    as [String: Any]
            }
            let groups = try await permissionGroups(held: Set(permissions.map(\.scope.id)),
                                                    forM2M: role.type == .machineToMachine)
            model["groups"] = groups
            model["hasGroups"] = !groups.isEmpty
        case .users:
            let pager = try ConsolePager(query, perPage: Self.holdersPerPage)
            let result = try await runtime.roles.users(holdingRole: role.id, search: nil, offset: pager.offset,
                                                       limit: pager.perPage)
            model.merge(pager.model(total: result.total, path: "/console/roles/\(role.id)",
                                    filters: [("tab", "users")], text: visit.text, countKey: "countUsers")) { _, new in new }
            model["isUsers"] = true
            model["users"] = result.users.map { user in
                ["id": user.id, "display": Self.display(user), "email": user.primaryEmail ?? ""]
            }
        case .applications:
            let pager = try ConsolePager(query, perPage: Self.holdersPerPage)
            let result = try await runtime.roles.applications(holdingRole: role.id, offset: pager.offset,
                                                              limit: pager.perPage)
            model.merge(pager.model(total: result.total, path: "/console/roles/\(role.id)",
                                    filters: [("tab", "applications")], text: visit.text,
                                    countKey: "countApplications")) { _, new in new }
            let holding = Set(result.applications.map(\.id))
            model["isApplications"] = true
            model["applications"] = result.applications.map { ["id": $0.id, "name": $0.name] }
            let candidates = try await runtime.store.clients()
                .filter { $0.type == .machineToMachine && !holding.contains($0.id) }
            model["candidates"] = candidates.map { ["id": $0.id, "name": $0.name] }
            model["hasCandidates"] = !candidates.isEmpty
        }
        model["settingsError"] = settingsError
        model["tabError"] = tabError
        return visit.page("role", title: role.name, section: .roles, model: model, notice: notice,
                          status: settingsError == nil && tabError == nil ? .ok : .badRequest)
    }

    /// The Roles tab of a user's or a machine-to-machine application's page: the roles held, and a picker of
    /// the roles of the right type not held yet.
    private func holderRolesPage(_ visit: ConsoleVisit, _ subject: PermissionSubject, error: String? = nil,
                                 notice: String? = nil) async throws -> Response
    {
        let held = try await runtime.roles.roles(heldBy: subject)
        let type: RoleType
        let base: String
        let title: String
        let section: ConsoleSection
        switch subject {
        case .account(let id):
            let user = try await runtime.users.user(id: id)
            (type, base, title, section) = (.user, "/console/users/\(id)", Self.display(user), .users)
        case .client(let id):
            let app = try await runtime.applications.application(id: id)
            (type, base, title, section) = (.machineToMachine, "/console/applications/\(id)", app.name, .applications)
        }
        let candidates = try await runtime.roles.roles(RoleQuery(type: type, excluding: subject, limit: 100)).roles
        var model: [String: Any] = [
            "display": title, "base": base, "back": section.path, "backLabel": visit.t(section.textKey),
            "tabs": Self.holderTabs(visit, base: base, first: type == .user ? "profile" : "settings", isRoles: true),
            "heldRoles": held.map { ["id": $0.id, "name": $0.name, "description": $0.description] },
            "hasRoles": !held.isEmpty,
            "candidates": candidates.map { ["id": $0.role.id, "name": $0.role.name] },
            "hasCandidates": !candidates.isEmpty,
        ]
        model["error"] = error
        return visit.page("holder-roles", title: title + " · " + visit.t("roles"), section: section, model: model,
                          notice: notice, status: error == nil ? .ok : .badRequest)
    }

    /// `Profile`/`Settings` and `Roles` tabs for the user and application pages.
    static func holderTabs(_ visit: ConsoleVisit, base: String, first: String, isRoles: Bool) -> [[String: Any]] {
        [["href": base, "label": visit.t(first), "isCurrent": !isRoles],
         ["href": base + "/roles", "label": visit.t("roles"), "isCurrent": isRoles]]
    }
}
