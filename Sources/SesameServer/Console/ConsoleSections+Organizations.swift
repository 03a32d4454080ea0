import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// Organizations: the list with search and member counts, creation, and an organization's page with the tabs
/// Members (with their organization roles), Machine-to-machine apps, Invitations, Just-in-time and Settings; and
/// the Organization template (organization permissions and organization roles). Every change goes through the
/// same services as the Management API and is audit-logged as an `Admin.Change` (`ConsoleAuth`).
extension ConsoleSections {
    static let organizationsPerPage = 20

    enum OrganizationTab: String, CaseIterable {
        case members, applications, invitations, jit, settings
    }

    func registerOrganizations(on console: RouterGroup<SesameRequestContext>) {
        console.get("organizations") { request, context in
            let visit = visit(request, context)
            return try await organizationsPage(visit, request: request, notice: visit.notice(request))
        }
        console.post("organizations") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let name = try form.text("name") ?? ""
            let description = try form.text("description") ?? ""
            do {
                let organization = try await runtime.organizations.create(.init(
                    name: name, description: .some(description.isEmpty ? nil : description)))
                return visit.redirect("/console/organizations/\(organization.id)", notice: "created")
            } catch let error as IdentityError {
                return try await organizationsPage(visit, request: request, typed: ["name": name, "description": description],
                                                   error: visit.text.message(error))
            }
        }
        console.get("organizations/:id") { request, context in
            let visit = visit(request, context)
            let tab = try request.queryParameters().single("tab").flatMap(OrganizationTab.init(rawValue:)) ?? .members
            return try await organizationPage(visit, request: request, id: context.parameters.get("id") ?? "",
                                              tab: tab, notice: visit.notice(request))
        }
        console.post("organizations/:id/delete") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            try await runtime.organizations.delete(id: context.parameters.get("id") ?? "")
            return visit.redirect("/console/organizations", notice: "deleted")
        }
        organizationAction(console, "", tab: .settings, notice: "saved") { form, id, _ in
            let logo = try form.text("logoUrl") ?? ""
            let color = try form.text("color") ?? ""
            let description = try form.text("description") ?? ""
            var branding = try await runtime.organizations.organization(id: id).branding.objectValue ?? [:]
            branding["logoUrl"] = logo.isEmpty ? nil : .string(logo)
            _ = try await runtime.organizations.update(id: id, .init(
                name: try form.text("name") ?? "", description: .some(description.isEmpty ? nil : description),
                isMfaRequired: form.isChecked("isMfaRequired"), branding: .object(branding),
                color: .some(color.isEmpty ? nil : color)))
        }
        // Members and their organization roles.
        organizationAction(console, "/members", tab: .members, notice: "assigned") { form, id, _ in
            let user = try await findUser(try form.text("user") ?? "")
            let role = try form.text("role") ?? ""
            let names = role.isEmpty ? [] : [try await runtime.organizations.role(id: role).name]
            try await runtime.organizations.addMembers([.account(user.id)], to: id, roleNames: names)
        }
        organizationAction(console, "/members/:member/delete", tab: .members, notice: "removed") { _, id, context in
            try await runtime.organizations.removeMember(.account(context.parameters.get("member") ?? ""), from: id)
        }
        for (kind, subject, tab) in [("members", PermissionSubject.account, OrganizationTab.members),
                                     ("applications", PermissionSubject.client, .applications)]
        {
            organizationAction(console, "/\(kind)/:member/roles", tab: tab, notice: "assigned") { form, id, context in
                try await runtime.organizations.assignRoles(ids: [try form.text("role") ?? ""],
                                                            to: [subject(context.parameters.get("member") ?? "")], in: id)
            }
            organizationAction(console, "/\(kind)/:member/roles/:role/delete", tab: tab, notice: "removed") { _, id, context in
                try await runtime.organizations.removeRole(context.parameters.get("role") ?? "",
                                                           from: subject(context.parameters.get("member") ?? ""), in: id)
            }
        }
        // Machine-to-machine apps.
        organizationAction(console, "/applications", tab: .applications, notice: "assigned") { form, id, _ in
            let role = try form.text("role") ?? ""
            let names = role.isEmpty ? [] : [try await runtime.organizations.role(id: role).name]
            try await runtime.organizations.addMembers([.client(try form.text("application") ?? "")], to: id,
                                                       roleNames: names)
        }
        organizationAction(console, "/applications/:member/delete", tab: .applications, notice: "removed") { _, id, context in
            try await runtime.organizations.removeMember(.client(context.parameters.get("member") ?? ""), from: id)
        }
        // Invitations: sent through the email connector, with Sesame's own page as the link.
        organizationAction(console, "/invitations", tab: .invitations, notice: "invited") { form, id, _ in
            // Not a number reads as 0 days; the service refuses any expiry outside 1 to 90 days.
            let days = Int(try form.text("days") ?? "") ?? 0
            let role = try form.text("role") ?? ""
            _ = try await runtime.invite(
                organizationID: id, invitee: try form.text("email") ?? "", inviterID: nil,
                expiresAt: runtime.provider.now().addingTimeInterval(TimeInterval(days) * 86_400),
                roleIDs: role.isEmpty ? [] : [role], message: .init())
        }
        organizationAction(console, "/invitations/:invitation/resend", tab: .invitations, notice: "resent") { _, id, context in
            try await runtime.sendInvitation(try await invitation(context, in: id), link: nil, locale: nil)
        }
        organizationAction(console, "/invitations/:invitation/revoke", tab: .invitations, notice: "revoked") { _, id, context in
            _ = try await runtime.invitations.revoke(id: try await invitation(context, in: id).id)
        }
        // Just-in-time membership.
        organizationAction(console, "/jit/domains", tab: .jit, notice: "saved") { form, id, _ in
            _ = try await runtime.organizations.setJustInTimeDomains([try form.text("domain") ?? ""], of: id,
                                                                     replacing: false)
        }
        organizationAction(console, "/jit/domains/:value/delete", tab: .jit, notice: "removed") { _, id, context in
            try await runtime.organizations.removeJustInTime(.emailDomains, value: context.parameters.get("value") ?? "",
                                                             of: id)
        }
        organizationAction(console, "/jit/roles", tab: .jit, notice: "saved") { form, id, _ in
            try await runtime.organizations.setJustInTimeRoles([try form.text("role") ?? ""], of: id, replacing: false)
        }
        organizationAction(console, "/jit/roles/:value/delete", tab: .jit, notice: "removed") { _, id, context in
            try await runtime.organizations.removeJustInTime(.roles, value: context.parameters.get("value") ?? "", of: id)
        }
        registerOrganizationTemplate(on: console)
    }

    /// A form post on an organization's page: runs `change` with the form and the organization's id, then goes back
    /// to `tab` with `notice`; a refusal (an `IdentityError` other than an unknown organization) shows the tab again
    /// with the reason.
    private func organizationAction(
        _ console: RouterGroup<SesameRequestContext>, _ path: String, tab: OrganizationTab, notice: String,
        _ change: @escaping @Sendable (RequestParameters, String, SesameRequestContext) async throws -> Void
    ) {
        console.post(RouterPath("organizations/:id" + path)) { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let id = context.parameters.get("id") ?? ""
            let organization = try await runtime.organizations.organization(id: id)
            do {
                try await change(form, organization.id, context)
            } catch let error as IdentityError {
                return try await organizationPage(visit, request: request, id: id, tab: tab,
                                                  error: visit.text.message(error), status: Self.status(of: error))
            }
            return visit.redirect("/console/organizations/\(id)?tab=\(tab.rawValue)", notice: notice)
        }
    }

    /// A template model without its nil and empty-text values: Mustache takes `""` as true, so an empty
    /// description would still open its section.
    static func filled(_ values: [String: Any?]) -> [String: Any] {
        values.compactMapValues { value in
            if let text = value as? String, text.isEmpty { return nil }
            return value
        }
    }

    /// The invitation the path names, if it is one of this organization's; 404 `organization_invitation.not_found`.
    private func invitation(_ context: SesameRequestContext, in organizationID: String) async throws
        -> OrganizationInvitation
    {
        let invitation = try await runtime.invitations.invitation(id: context.parameters.get("invitation") ?? "")
        guard invitation.organizationID == organizationID else {
            throw IdentityError(.notFound, phrase: "organization_invitation.not_found", ["id": invitation.id])
        }
        return invitation
    }

    /// A user by id, email, username or phone; 404 `user.not_found`.
    func findUser(_ identifier: String) async throws -> User {
        var user = try await runtime.store.user(id: identifier)
        if user == nil, !identifier.isEmpty { user = try await runtime.store.user(identifier: identifier) }
        guard let user else { throw IdentityError(.notFound, phrase: "user.not_found", ["id": identifier]) }
        return user
    }

    private func organizationsPage(_ visit: ConsoleVisit, request: Request, typed: [String: String] = [:],
                                   error: String? = nil, notice: String? = nil) async throws -> Response
    {
        let query = try request.queryParameters()
        let pager = try ConsolePager(query, perPage: Self.organizationsPerPage)
        let search = try query.single("q")?.trimmingCharacters(in: .whitespaces) ?? ""
        let result = try await runtime.store.organizations(search: search.isEmpty ? nil : search, offset: pager.offset,
                                                           limit: pager.perPage)
        var model = pager.model(total: result.total, path: "/console/organizations",
                                filters: search.isEmpty ? [] : [("q", search)], text: visit.text,
                                countKey: "countOrganizations")
        model.merge([
            "q": search, "form": typed, "hasOrganizations": !result.organizations.isEmpty,
            "organizations": result.organizations.map { listing in
                Self.filled(["id": listing.organization.id, "name": listing.organization.name,
                             "description": listing.organization.description,
                             "members": visit.text.counted("countMembers", listing.usersCount)])
            },
        ]) { _, new in new }
        model["error"] = error
        return visit.page("organizations", title: visit.t("organizations"), section: .organizations, model: model,
                          notice: notice, status: error == nil ? .ok : .badRequest)
    }

    /// The status a refusal is answered with on a re-rendered page: the Management API's (404, 422, 429), 400 for
    /// invalid input.
    static func status(of error: IdentityError) -> HTTPResponse.Status {
        HTTPResponse.Status(code: ErrorMiddleware.status(of: error.code))
    }

    private func organizationPage(_ visit: ConsoleVisit, request: Request, id: String, tab: OrganizationTab,
                                  error: String? = nil, status: HTTPResponse.Status = .badRequest,
                                  notice: String? = nil) async throws -> Response
    {
        let organization = try await runtime.organizations.organization(id: id)
        let base = "/console/organizations/\(organization.id)"
        let roles = try await allOrganizationRoles()
        func options(_ type: RoleType, except held: [OrganizationRole] = []) -> [[String: String]] {
            roles.filter { role in role.type == type && !held.contains { $0.id == role.id } }
                .map { ["id": $0.id, "name": $0.name] }
        }
        var model: [String: Any] = [
            "organization": Self.filled(["id": organization.id, "name": organization.name,
                                         "description": organization.description,
                                         "isMfaRequired": organization.isMfaRequired,
                                         "logoUrl": organization.branding["logoUrl"]?.stringValue,
                                         "color": organization.color]),
            "tabs": OrganizationTab.allCases.map { item in
                ["href": "\(base)?tab=\(item.rawValue)", "isCurrent": item == tab,
                 "label": visit.t("organizationTab." + item.rawValue)] as [String: Any]
            },
        ]
        model["is" + tab.rawValue.prefix(1).uppercased() + String(tab.rawValue.dropFirst())] = true
        let query = try request.queryParameters()
        switch tab {
        case .members:
            let pager = try ConsolePager(query, perPage: Self.holdersPerPage)
            let result = try await runtime.store.memberUsers(of: organization.id, search: nil, roleID: nil,
                                                             offset: pager.offset, limit: pager.perPage)
            model.merge(pager.model(total: result.total, path: base, filters: [("tab", "members")], text: visit.text,
                                    countKey: "countMembers")) { _, new in new }
            model["members"] = result.members.map { member in
                Self.filled(["id": member.holder.id, "display": Self.display(member.holder),
                             "email": member.holder.primaryEmail,
                             "roles": member.roles.map { ["roleId": $0.id, "roleName": $0.name] },
                             "options": options(.user, except: member.roles),
                             "hasOptions": !options(.user, except: member.roles).isEmpty])
            }
            model["roleOptions"] = options(.user)
        case .applications:
            let result = try await runtime.store.memberApplications(of: organization.id, offset: 0, limit: 100)
            model["applications"] = result.members.map { member in
                ["id": member.holder.id, "name": member.holder.name,
                 "roles": member.roles.map { ["roleId": $0.id, "roleName": $0.name] },
                 "options": options(.machineToMachine, except: member.roles),
                 "hasOptions": !options(.machineToMachine, except: member.roles).isEmpty] as [String: Any]
            }
            let members = Set(result.members.map(\.holder.id))
            let candidates = try await runtime.store.clients()
                .filter { $0.type == .machineToMachine && !members.contains($0.id) }
            model["candidates"] = candidates.map { ["id": $0.id, "name": $0.name] }
            model["hasCandidates"] = !candidates.isEmpty
            model["roleOptions"] = options(.machineToMachine)
        case .invitations:
            let now = runtime.provider.now()
            let result = try await runtime.store.invitations(organizationID: organization.id, inviterID: nil,
                                                            invitee: nil, offset: 0, limit: 100)
            model["invitations"] = result.invitations.map { invitation in
                let status = invitation.status(at: now)
                return Self.filled(["id": invitation.id, "invitee": invitation.invitee, "status": status.rawValue,
                                    "statusLabel": visit.t("invitationStatus." + status.rawValue),
                                    "isPending": status == .pending,
                                    "roles": invitation.roles.map(\.name).joined(separator: ", "),
                                    "expires": Self.timestamp(invitation.expiresAt) + " UTC"])
            }
            model["roleOptions"] = options(.user)
            model["days"] = "7"
        case .jit:
            model["domains"] = try await runtime.store.justInTimeEmailDomains(of: organization.id)
            let jitRoles = try await runtime.store.justInTimeRoles(of: organization.id)
            model["jitRoles"] = jitRoles.map { ["id": $0.id, "name": $0.name] }
            model["jitOptions"] = options(.user, except: jitRoles)
            model["hasJitOptions"] = !options(.user, except: jitRoles).isEmpty
        case .settings:
            break
        }
        model["error"] = error
        return visit.page("organization", title: organization.name, section: .organizations, model: model,
                          notice: notice, status: error == nil ? .ok : status)
    }

    /// Every organization role, by name (the template is small; 1,000 at most are listed).
    private func allOrganizationRoles() async throws -> [OrganizationRole] {
        try await runtime.store.organizationRoles(search: nil, offset: 0, limit: 1000).roles
    }

    // MARK: Organization template

    private func registerOrganizationTemplate(on console: RouterGroup<SesameRequestContext>) {
        console.get("organization-template") { request, context in
            let visit = visit(request, context)
            return try await templatePage(visit, notice: visit.notice(request))
        }
        let actions: [(String, String, @Sendable (RequestParameters, SesameRequestContext) async throws -> Void)] = [
            ("scopes", "created", { form, _ in
                _ = try await runtime.organizations.createScope(name: try form.text("name") ?? "",
                                                                description: try form.text("description"))
            }),
            ("scopes/:id/delete", "deleted", { _, context in
                try await runtime.organizations.deleteScope(id: context.parameters.get("id") ?? "")
            }),
            ("roles", "created", { form, _ in
                let type: RoleType = try form.single("type") == RoleType.machineToMachine.rawValue ? .machineToMachine : .user
                _ = try await runtime.organizations.createRole(
                    name: try form.text("name") ?? "", description: try form.text("description"), type: type,
                    scopeIDs: form.all("organizationScope"), resourceScopeIDs: form.all("scope"))
            }),
            ("roles/:id/delete", "deleted", { _, context in
                try await runtime.organizations.deleteRole(id: context.parameters.get("id") ?? "")
            }),
        ]
        for (path, notice, change) in actions {
            console.post(RouterPath("organization-template/" + path)) { request, context in
                let visit = visit(request, context)
                let form = try await request.consoleForm(visit)
                do {
                    try await change(form, context)
                } catch let error as IdentityError {
                    return try await templatePage(visit, error: visit.text.message(error), status: Self.status(of: error))
                }
                return visit.redirect("/console/organization-template", notice: notice)
            }
        }
    }

    private func templatePage(_ visit: ConsoleVisit, error: String? = nil, status: HTTPResponse.Status = .badRequest,
                              notice: String? = nil) async throws -> Response
    {
        let scopes = try await runtime.store.organizationScopes(search: nil, offset: 0, limit: 1000).scopes
        var roles: [[String: Any]] = []
        for role in try await allOrganizationRoles() {
            let organizationScopes = try await runtime.store.organizationScopes(ofRole: role.id).map(\.name)
            let apiScopes = try await runtime.store.resourcePermissions(ofOrganizationRole: role.id).map(\.scope.name)
            roles.append(Self.filled(["id": role.id, "name": role.name, "description": role.description,
                                      "typeLabel": visit.t(role.type == .user ? "roleTypeUser" : "roleTypeM2M"),
                                      "permissions": (organizationScopes + apiScopes).joined(separator: ", ")]))
        }
        var model: [String: Any] = [
            "scopes": scopes.map { Self.filled(["id": $0.id, "name": $0.name, "description": $0.description]) },
            "hasScopes": !scopes.isEmpty,
            "roles": roles, "hasRoles": !roles.isEmpty,
            "groups": try await permissionGroups(forM2M: false),
        ]
        model["error"] = error
        return visit.page("organization-template", title: visit.t("organizationTemplate"), section: .organizationTemplate,
                          model: model, notice: notice, status: error == nil ? .ok : status)
    }
}
