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
            return try await userPage(visit, user, notice: visit.notice(request))
        }
        // An administrator removes one factor, or every factor (MFA reset: the user sets one up again at the next
        // sign-in when the policy asks). Recorded in the audit log as every Console change is.
        console.post("users/:id/mfa/:verificationId/delete") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            let user = try await runtime.users.user(id: context.parameters.get("id") ?? "")
            try await runtime.mfa.remove(userID: user.id, id: context.parameters.get("verificationId") ?? "",
                                         policy: try await runtime.signInExperience().mfa.policy, force: true)
            return visit.redirect("/console/users/\(user.id)", notice: "mfaRemoved")
        }
        console.post("users/:id/mfa/reset") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            let user = try await runtime.users.user(id: context.parameters.get("id") ?? "")
            _ = try await runtime.mfa.store.deleteMfaVerifications(userID: user.id)
            return visit.redirect("/console/users/\(user.id)", notice: "mfaReset")
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
                return try await userPage(visit, user, form: values, profileError: visit.text.message(error))
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
                return try await userPage(visit, user, passwordError: visit.text.message(error))
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
                          profileError: String? = nil, passwordError: String? = nil, notice: String? = nil)
        async throws -> Response
    {
        let factors = try await runtime.mfa.store.mfaVerifications(userID: user.id)
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
        model["hasMfaFactors"] = !factors.isEmpty
        model["mfaFactors"] = factors.map { factor -> [String: Any] in
            var detail: String?
            switch factor.kind {
            case .webAuthn(let credential): detail = credential.name ?? credential.agent
            case .backupCode(let codes):
                detail = visit.text.counted("mfaCodesLeft", codes.filter { $0.usedAt == nil }.count)
            case .totp: break
            }
            var row: [String: Any] = ["id": factor.id, "userID": user.id, "label": visit.t("mfaFactor." + factor.factor.rawValue),
                                      "createdAt": ConsoleVisit.format(factor.createdAt),
                                      "lastUsed": ConsoleVisit.format(factor.lastUsedAt)]
            row["detail"] = detail
            return row
        }
        model["profileError"] = profileError
        model["passwordError"] = passwordError
        return visit.page("user", title: Self.display(user), section: .users, model: model, notice: notice,
                          status: profileError == nil && passwordError == nil ? .ok : .badRequest)
    }

    static func display(_ user: User) -> String {
        user.name ?? user.username ?? user.primaryEmail ?? user.primaryPhone.map { "+" + $0 } ?? user.id
    }
}
