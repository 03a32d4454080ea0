import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// What every hosted page needs to know about the request: the pending sign-in (if any), the settings,
/// the language and branding, and the CSRF binding.
struct Visit: Sendable {
    let runtime: SesameRuntime
    let interactionToken: String?
    let interaction: Interaction?
    let appName: String?
    let settings: SignInExperience
    let look: PageLook
    /// The cookie value CSRF tokens are bound to: the interaction, or a random cookie of the form's own.
    let binding: String
    /// Cookies to set with the response (the fresh CSRF cookie).
    let cookies: [String]
    let clientIP: String
    /// The address or username to prefill: the authorization request's `login_hint`, or without one the page's own
    /// `login_hint` query parameter (the invitation page sends the invited address that way).
    let loginHint: String?

    /// `organizationID`: the organization whose look the page takes when no authorization request names one.
    static func load(_ request: Request, context: SesameRequestContext, runtime: SesameRuntime, jar: CookieJar,
                     organizationID: String? = nil) async throws -> Visit
    {
        let token = request.cookie(CookieJar.interaction)
        let interaction = try await runtime.provider.interaction(token: token)
        var appName: String?
        if let interaction { appName = try await runtime.provider.storage.client(id: interaction.request.clientID)?.name }
        let settings = try await runtime.signInExperience()
        let localizer = Localizer(uiLocales: interaction?.request.uiLocales,
                                  acceptLanguage: request.headers[.acceptLanguage], offered: settings.languages)
        var branding = settings.branding
        if branding.appName == nil { branding.appName = appName }
        // Logto's `organization_id` at authorization: that organization's logo and colour (both checked when saved:
        // an https URL, a #RRGGBB colour); an unknown organization leaves the sign-in experience's own.
        if let id = interaction?.request.organizationID ?? organizationID,
           let organization = try await runtime.store.organization(id: id)
        {
            if let logo = organization.branding["logoUrl"]?.stringValue { branding.logoURL = logo }
            if let color = organization.color { branding.primaryColor = color }
        }
        var cookies: [String] = []
        var binding = interaction != nil ? token : request.cookie(CookieJar.csrf)
        if binding == nil {
            let fresh = SecureRandom.token()
            cookies.append(jar.set(CookieJar.csrf, fresh, maxAge: 3600))
            binding = fresh
        }
        var loginHint = interaction?.request.loginHint
        if interaction == nil, let hint = try? request.queryParameters().single("login_hint"), hint.count <= 254,
           !UserService.hasInvisibleCharacters(hint)
        {
            loginHint = hint
        }
        return Visit(runtime: runtime, interactionToken: interaction != nil ? token : nil, interaction: interaction,
                     appName: appName, settings: settings, look: PageLook(localizer: localizer, branding: branding),
                     binding: binding ?? "", cookies: cookies, clientIP: context.clientIP, loginHint: loginHint)
    }

    var t: Localizer { look.localizer }

    /// The password policy in a sentence, shown beside every new-password field.
    var passwordHint: String {
        let policy = settings.passwordPolicy
        var hint = t.book.counted("pages", "passwordHintLength", count: policy.minLength)
        if policy.characterTypes > 1 {
            hint += " " + t.book.counted("pages", "passwordHintTypes", count: policy.characterTypes)
        }
        return hint
    }

    var csrfToken: String { CSRF.token(runtime.csrf, binding: binding) }

    func verifyCSRF(_ form: RequestParameters) throws {
        try CSRF.verify(runtime.csrf, token: try form.single("csrf_token"), binding: binding)
    }

    /// Common model values for every page.
    func model(_ values: [String: Any] = [:]) -> [String: Any] {
        var model: [String: Any] = ["csrfToken": csrfToken, "canCancel": interaction != nil,
                                    "passwordHint": passwordHint]
        model["appName"] = appName
        for (key, value) in values { model[key] = value }
        return model
    }

    func page(_ pages: PageRenderer, _ template: String, title: String, model values: [String: Any] = [:],
              status: HTTPResponse.Status = .ok) -> Response
    {
        pages.page(template, title: title, model: model(values), look: look, status: status, cookies: cookies)
    }

    /// Where a submitted experience leads on the hosted pages: a finished sign-in, or the second-factor page.
    /// A password reset has its own page, shown by the caller.
    func conclude(_ outcome: ExperienceEngine.Outcome, request: Request, pages: PageRenderer, jar: CookieJar)
        async throws -> Response
    {
        switch outcome {
        case .signedIn(let user, let amr):
            return try await finishSignIn(user, amr: amr, request: request, pages: pages, jar: jar)
        case .needsMfa:
            return Responses.redirect("/sign-in/mfa", cookies: cookies)
        case .passwordReset:
            throw OAuthError.serverError()
        }
    }

    /// The user proved who they are: start the IdP session (with `amr`, RFC 8176) and resume the authorization
    /// request, or show the signed-in page when there is none.
    func finishSignIn(_ user: User, amr: [String], request: Request, pages: PageRenderer, jar: CookieJar)
        async throws -> Response
    {
        let provider = runtime.provider
        try await runtime.store.recordSignIn(userID: user.id, at: provider.now())
        let previous = request.cookie(CookieJar.session)
        let sessionCookie: (String) -> String = { jar.set(CookieJar.session, $0, maxAge: provider.configuration.sessionTTL) }
        guard let interactionToken else {
            let session = try await provider.startSession(accountID: user.id, previousSessionToken: previous, amr: amr)
            // Sent here from a page that asked for a signed-in user (an invitation): back to it.
            if let back = request.cookie(CookieJar.returnTo), back == "/account" || InvitationPageRoutes.isReturnPath(back) {
                return Responses.redirect(back, cookies: [sessionCookie(session), jar.clear(CookieJar.returnTo)])
            }
            return pages.page("message", title: t("signedIn"), model: ["title": t("signedIn"), "lead": t("signedInLead")],
                              look: look, cookies: [sessionCookie(session)])
        }
        let session = try await provider.completeLogin(interactionToken: interactionToken, accountID: user.id,
                                                       previousSessionToken: previous, amr: amr)
        return Responses.redirect("/oidc/auth/resume", cookies: [sessionCookie(session)])
    }
}
