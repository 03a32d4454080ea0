import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// Users: search and pages, create, the profile, password reset, suspension and deletion.
extension ConsoleSections {
    static let usersPerPage = 20

    func registerUsers(on console: RouterGroup<SesameRequestContext>) {
        console.get("users") { request, context in
            let visit = visit(request, context)
            return try await usersPage(visit, request: request, notice: visit.notice(request))
        }
        console.post("users") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let fields = ["primaryEmail", "username", "name"]
            do {
                let policy = try await runtime.signInExperience().passwordPolicy
                let user = try await runtime.users.create(.init(
                    username: try form.text("username")?.nilIfEmpty, email: try form.text("primaryEmail")?.nilIfEmpty,
                    name: try form.text("name")?.nilIfEmpty, password: try form.single("password")?.nilIfEmpty),
                    policy: policy)
                return visit.redirect("/console/users/\(user.id)", notice: "created")
            } catch let error as IdentityError {
                var values: [String: String] = [:]
                for field in fields { values[field] = try form.text(field) ?? "" }
                return try await usersPage(visit, request: request, form: values, error: visit.text.message(error))
            }
        }
        console.get("users/:id") { request, context in
            let visit = visit(request, context)
            let user = try await runtime.users.user(id: context.parameters.get("id") ?? "")
            return userPage(visit, user, notice: visit.notice(request))
        }
        console.post("users/:id") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let user = try await runtime.users.user(id: context.parameters.get("id") ?? "")
            let changes = UserService.ProfileChanges(
                username: .some(try form.text("username")), email: .some(try form.text("primaryEmail")),
                phone: .some(try form.text("primaryPhone")), name: .some(try form.text("name")),
                avatar: .some(try form.text("avatar")))
            do {
                _ = try await runtime.users.update(id: user.id, changes)
            } catch let error as IdentityError {
                var values: [String: String] = [:]
                for field in ["primaryEmail", "username", "primaryPhone", "name", "avatar"] {
                    values[field] = try form.text(field) ?? ""
                }
                return userPage(visit, user, form: values, profileError: visit.text.message(error))
            }
            return visit.redirect("/console/users/\(user.id)", notice: "saved")
        }
        console.post("users/:id/password") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let user = try await runtime.users.user(id: context.parameters.get("id") ?? "")
            do {
                let policy = try await runtime.signInExperience().passwordPolicy
                _ = try await runtime.users.changePassword(userID: user.id, password: try form.single("newPassword") ?? "",
                                                           policy: policy)
            } catch let error as IdentityError {
                return userPage(visit, user, passwordError: visit.text.message(error))
            }
            // The reset ended every session and token (`changePassword`), as the end user's own recovery does.
            return visit.redirect("/console/users/\(user.id)", notice: "passwordReset")
        }
        for (action, suspended) in [("suspend", true), ("reactivate", false)] {
            console.post("users/:id/\(action)") { request, context in
                let visit = visit(request, context)
                _ = try await request.consoleForm(visit)
                let user = try await runtime.users.setSuspended(id: context.parameters.get("id") ?? "", suspended)
                return visit.redirect("/console/users/\(user.id)", notice: suspended ? "suspended" : "reactivated")
            }
        }
        console.post("users/:id/delete") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            try await runtime.users.delete(id: context.parameters.get("id") ?? "")
            return visit.redirect("/console/users", notice: "deleted")
        }
    }

    private func usersPage(_ visit: ConsoleVisit, request: Request, form: [String: String] = [:],
                           error: String? = nil, notice: String? = nil) async throws -> Response
    {
        let query = try request.queryParameters()
        let search = try query.text("search")?.nilIfEmpty
        let pager = try ConsolePager(query, perPage: Self.usersPerPage)
        let result = try await runtime.store.searchUsers(term: search, offset: pager.offset, limit: pager.perPage)
        var model = pager.model(total: result.total, path: "/console/users",
                                filters: search.map { [("search", $0)] } ?? [], text: visit.text, countKey: "countUsers")
        model.merge([
            "search": search ?? "", "hasUsers": !result.users.isEmpty,
            "users": result.users.map { user in
                ["id": user.id, "display": Self.display(user), "email": user.primaryEmail ?? "",
                 "username": user.username ?? "", "lastSignIn": ConsoleVisit.format(user.lastSignInAt),
                 "isSuspended": user.isSuspended] as [String: Any]
            },
            "form": form,
        ]) { _, new in new }
        model["error"] = error
        return visit.page("users", title: visit.t("users"), section: .users, model: model, notice: notice,
                          status: error == nil ? .ok : .badRequest)
    }

    private func userPage(_ visit: ConsoleVisit, _ user: User, form: [String: String]? = nil,
                          profileError: String? = nil, passwordError: String? = nil, notice: String? = nil) -> Response
    {
        var model: [String: Any] = [
            "display": Self.display(user),
            "profile": ["id": user.id, "isSuspended": user.isSuspended] as [String: Any],
            "createdAt": ConsoleVisit.format(user.createdAt), "lastSignIn": ConsoleVisit.format(user.lastSignInAt),
            "hasPassword": user.passwordHash != nil,
            "tabs": Self.holderTabs(visit, base: "/console/users/\(user.id)", first: "profile", isRoles: false),
            "form": form ?? [
                "primaryEmail": user.primaryEmail ?? "", "username": user.username ?? "",
                "primaryPhone": user.primaryPhone.map { "+" + $0 } ?? "", "name": user.name ?? "",
                "avatar": user.avatar ?? "",
            ],
        ]
        model["profileError"] = profileError
        model["passwordError"] = passwordError
        return visit.page("user", title: Self.display(user), section: .users, model: model, notice: notice,
                          status: profileError == nil && passwordError == nil ? .ok : .badRequest)
    }

    static func display(_ user: User) -> String {
        user.name ?? user.username ?? user.primaryEmail ?? user.primaryPhone.map { "+" + $0 } ?? user.id
    }
}
