import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// The page an invitation's link opens, `/invitation/{id}`, in the invited organization's look. The invitee signs
/// in (or creates an account) with the invited address, comes back here and accepts; accepting while signed in
/// with another address is refused. The invitation's id is the only key (21 random characters); the page shows the
/// organization's name and the invited address, and nothing that is not already in the email.
///
/// - `GET /invitation/{id}`: the invitation and what to do next.
/// - `GET /invitation/{id}/continue?to=sign-in|register`: remembers this page (`_sesame_return`, 1 hour) and opens
///   the sign-in or registration page with the invited address filled in.
/// - `POST /invitation/{id}/accept` (CSRF): accepts for the signed-in user.
struct InvitationPageRoutes: Sendable {
    let runtime: SesameRuntime
    let pages: PageRenderer
    let cookies: CookieJar

    func register(on router: Router<SesameRequestContext>) {
        router.get("invitation/:id") { request, context in
            try await page(request, context)
        }
        router.get("invitation/:id/continue") { request, context in
            let id = context.parameters.get("id") ?? ""
            let invitation = try await runtime.store.invitation(id: id)
            guard let invitation, Self.isReturnPath("/invitation/" + id) else {
                return try await page(request, context)
            }
            let target = try request.queryParameters().single("to") == "register" ? "/register" : "/sign-in"
            let hint = invitation.invitee.addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed) ?? ""
            return Responses.redirect(target + "?login_hint=" + hint, cookies: [
                cookies.set(CookieJar.returnTo, "/invitation/" + id, maxAge: 3600),
            ])
        }
        router.post("invitation/:id/accept") { request, context in
            let form = try await request.formParameters()
            let id = context.parameters.get("id") ?? ""
            let visit = try await Visit.load(request, context: context, runtime: runtime, jar: cookies)
            try visit.verifyCSRF(form)
            guard let session = try await runtime.provider.session(token: request.cookie(CookieJar.session)) else {
                return try await page(request, context)
            }
            let accepted: OrganizationInvitation
            do {
                accepted = try await runtime.invitations.accept(id: id, userID: session.accountID)
            } catch let error as IdentityError where error.code != .notFound {
                return try await page(request, context, error: visit.t.message(error),
                                      status: error.code == .organizationInvitationEmailMismatch ? .forbidden : .conflict)
            }
            let organization = try await runtime.organizations.organization(id: accepted.organizationID)
            let look = try await Visit.load(request, context: context, runtime: runtime, jar: cookies,
                                            organizationID: organization.id)
            return look.page(pages, "message", title: look.t("invitationAccepted", ["organization": organization.name]),
                             model: ["title": look.t("invitationAccepted", ["organization": organization.name]),
                                     "lead": look.t("invitationAcceptedLead")])
        }
    }

    /// A path `_sesame_return` may hold: this page's, for an id of letters and digits (no open redirect).
    static func isReturnPath(_ path: String) -> Bool {
        guard path.hasPrefix("/invitation/") else { return false }
        let id = path.dropFirst("/invitation/".count)
        return (1...64).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    private func page(_ request: Request, _ context: SesameRequestContext, error: String? = nil,
                      status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let id = context.parameters.get("id") ?? ""
        let invitation = Self.isReturnPath("/invitation/" + id) ? try await runtime.store.invitation(id: id) : nil
        let visit = try await Visit.load(request, context: context, runtime: runtime, jar: cookies,
                                         organizationID: invitation?.organizationID)
        guard let invitation, invitation.status(at: runtime.provider.now()) == .pending,
              let organization = try await runtime.store.organization(id: invitation.organizationID)
        else {
            // Unknown (404), accepted, revoked and expired (410) invitations show the same words.
            return visit.page(pages, "message", title: visit.t("invitationEnded"),
                              model: ["title": visit.t("invitationEnded"), "lead": visit.t("invitationEndedLead")],
                              status: invitation == nil ? .notFound : .gone)
        }
        var model: [String: Any] = [
            "id": invitation.id,
            "title": visit.t("invitationTitle", ["organization": organization.name]),
            "lead": visit.t("invitationLead", ["organization": organization.name, "invitee": invitation.invitee]),
            "error": error as Any,
        ]
        let session = try await runtime.provider.session(token: request.cookie(CookieJar.session))
        let user = if let session { try await runtime.users.store.user(id: session.accountID) } else { nil as User? }
        if let user, user.primaryEmail?.lowercased() == invitation.invitee {
            model["canAccept"] = true
        } else {
            if let user {
                model["otherAccount"] = visit.t("invitationOtherAccount", [
                    "account": user.primaryEmail ?? user.username ?? user.id, "invitee": invitation.invitee,
                ])
            }
            model["needsAccount"] = true
            model["signInText"] = visit.t("invitationSignIn", ["invitee": invitation.invitee])
            model["signUpEnabled"] = SignInRoutes.options(visit.settings)["signUpEnabled"] as? Bool ?? false
        }
        return visit.page(pages, "invitation", title: model["title"] as? String ?? "", model: model, status: status)
    }
}

extension CharacterSet {
    /// What may stand unescaped in a query parameter's value (`&`, `=`, `+` and `#` escaped).
    static let urlQueryValueAllowed = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))
}
