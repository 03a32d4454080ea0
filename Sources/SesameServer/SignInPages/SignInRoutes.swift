import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// The hosted sign-in page (identifier and password), cancel, and the consent page. They complete the
/// engine's interaction and send the browser back to `/oidc/auth/resume`.
struct SignInRoutes: Sendable {
    let runtime: SesameRuntime
    let pages: PageRenderer
    let cookies: CookieJar

    /// Failed passwords per account and per IP before the form refuses for the rest of the window.
    static let accountRule = RateLimiter.Rule(limit: 10, window: 15 * 60)
    static let ipRule = RateLimiter.Rule(limit: 50, window: 15 * 60)

    var provider: OIDCProvider { runtime.provider }

    func register(on router: Router<SesameRequestContext>) {
        router.get("sign-in") { request, context in
            let visit = try await visit(request, context)
            // The first sign-in method decides the first page: a code form when codes are primary.
            if Self.isCodeFirst(visit.settings), try request.queryParameters().single("method") != "password" {
                return CodeFlowRoutes(runtime: runtime, pages: pages, cookies: cookies)
                    .addressPage(.signIn, visit, identifier: visit.loginHint)
            }
            return try await signInPage(visit)
        }
        router.post("sign-in") { request, context in try await signIn(request, context: context) }
        router.post("sign-in/cancel") { request, context in try await cancel(request, context: context) }
        router.get("consent") { request, context in try await consentPage(request, context: context) }
        router.post("consent") { request, context in try await consent(request, context: context) }
    }

    private func visit(_ request: Request, _ context: SesameRequestContext) async throws -> Visit {
        try await Visit.load(request, context: context, runtime: runtime, jar: cookies)
    }

    /// Whether the first sign-in method puts the email code before the password.
    static func isCodeFirst(_ settings: SignInExperience) -> Bool {
        guard let first = settings.signIn.methods.first else { return false }
        return first.identifier == .email && first.verificationCode && (!first.isPasswordPrimary || !first.password)
    }

    /// What the sign-in page offers, from the settings.
    static func options(_ settings: SignInExperience) -> [String: Any] {
        let passwordIdentifiers = settings.signIn.methods.filter(\.password).map(\.identifier)
        let passkeys = settings.passkeySignIn.enabled && settings.mfa.factors.contains(.webAuthn)
        return [
            "passwordEnabled": !passwordIdentifiers.isEmpty,
            "codeEnabled": settings.method(for: .email)?.verificationCode ?? false,
            "forgotEnabled": settings.method(for: .email)?.password ?? false,
            "signUpEnabled": settings.signUp.identifiers.contains(.email) || settings.signUp.identifiers.contains(.username),
            "passkeyEnabled": passkeys,
            "passkeyButton": passkeys && settings.passkeySignIn.showPasskeyButton,
            "passkeyAutofill": passkeys && settings.passkeySignIn.allowAutofill,
        ]
    }

    func signInPage(_ visit: Visit, identifier: String? = nil, error: String? = nil,
                            status: HTTPResponse.Status = .ok) async throws -> Response
    {
        var model = Self.options(visit.settings)
        let passwordIdentifiers = visit.settings.signIn.methods.filter(\.password).map(\.identifier)
        model["identifierLabel"] = passwordIdentifiers.contains(.username) && passwordIdentifiers.contains(.email)
            ? visit.t("identifier") : passwordIdentifiers.contains(.email) ? visit.t("email") : visit.t("identifier")
        model["identifier"] = identifier ?? visit.loginHint
        model["error"] = error
        return visit.page(pages, "sign-in", title: visit.t("signIn"), model: model, status: status)
    }

    private func signIn(_ request: Request, context: SesameRequestContext) async throws -> Response {
        let form = try await request.formParameters()
        let visit = try await visit(request, context)
        try visit.verifyCSRF(form)
        let identifier = (try form.single("identifier") ?? "").trimmingCharacters(in: .whitespaces)
        let password = try form.single("password") ?? ""
        guard !identifier.isEmpty, !password.isEmpty else {
            return try await signInPage(visit, identifier: identifier, error: visit.t("missingCredentials"),
                                        status: .badRequest)
        }
        // The same steps as the Experience API: verify the password, identify, submit.
        let kind: SignInExperience.Identifier = identifier.contains("@") ? .email : .username
        let engine = ExperienceEngine(runtime: runtime)
        let session = ExperienceSession(visit: visit, store: runtime.store)
        let outcome: ExperienceEngine.Outcome
        do {
            try await engine.start(.signIn, session)
            let verification = try await engine.verifyPassword(
                session, identifier: .init(type: kind, value: kind == .email ? identifier.lowercased() : identifier),
                password: password)
            try await engine.identify(session, verificationID: verification)
            outcome = try await engine.submit(session)
        } catch let error as IdentityError where error.code == .mfaFactorNotEnabled {
            // The application demands two factors and none is offered: say so.
            return try await signInPage(visit, identifier: identifier, error: visit.t.message(error), status: .forbidden)
        } catch let error as IdentityError {
            let (key, status): (String, HTTPResponse.Status) = switch error.code {
            case .methodDisabled: ("methodOff", .badRequest)
            case .tooManyAttempts: ("tooManyAttempts", .tooManyRequests)
            case .suspended: ("suspended", .unauthorized)
            default: ("wrongCredentials", .unauthorized)
            }
            return try await signInPage(visit, identifier: identifier, error: visit.t(key), status: status)
        }
        return try await visit.conclude(outcome, request: request, pages: pages, jar: cookies)
    }

    private func cancel(_ request: Request, context: SesameRequestContext) async throws -> Response {
        let form = try await request.formParameters()
        let visit = try await visit(request, context)
        try visit.verifyCSRF(form)
        guard let token = visit.interactionToken else { throw OAuthError.sessionExpired }
        let location = try await provider.abortInteraction(interactionToken: token)
        return Responses.redirect(location, cookies: [cookies.clear(CookieJar.interaction)])
    }

    private func consentPage(_ request: Request, context: SesameRequestContext) async throws -> Response {
        let visit = try await visit(request, context)
        guard let interaction = visit.interaction, let accountID = interaction.accountID, let appName = visit.appName
        else { throw OAuthError.sessionExpired }
        // What accepting records: the OIDC scopes and, per API, the requested permissions the user's roles hold.
        guard let token = visit.interactionToken else { throw OAuthError.sessionExpired }
        let details = try await provider.prepareConsent(interactionToken: token)
        // Asked for the organizations scope: the user picks which of their organizations the app may see.
        let organizations = interaction.request.scopes.contains(OrganizationToken.organizationsScope)
            ? try await runtime.store.organizations(of: .account(accountID)).map(\.organization) : []
        return visit.page(pages, "consent", title: "\(visit.t("authorize")) \(appName)", model: [
            "organizations": organizations.map { ["id": $0.id, "name": $0.name] },
            "hasOrganizations": !organizations.isEmpty,
            "organizationsHeading": visit.t("consentOrganizations", ["app": appName]),
            "scopes": details.scopes.map { Self.describe($0, visit.t) },
            "apis": details.permissions.map { group in
                ["heading": visit.t("consent.api", ["resource": group.resource.name]),
                 "permissions": group.scopes.map { scope in
                     ["name": scope.name, "description": scope.description ?? ""]
                 }] as [String: Any]
            },
        ])
    }

    private func consent(_ request: Request, context: SesameRequestContext) async throws -> Response {
        let form = try await request.formParameters()
        let visit = try await visit(request, context)
        try visit.verifyCSRF(form)
        guard let token = visit.interactionToken else { throw OAuthError.sessionExpired }
        guard try form.single("decision") == "allow" else {
            let location = try await provider.abortInteraction(interactionToken: token)
            return Responses.redirect(location, cookies: [cookies.clear(CookieJar.interaction)])
        }
        try await provider.completeConsent(interactionToken: token,
                                           organizationIDs: Array(form.all("organizationIds").prefix(100)))
        return Responses.redirect("/oidc/auth/resume")
    }

    static func describe(_ scope: String, _ t: Localizer) -> String {
        ["openid", "profile", "email", "phone", "offline_access", "roles"].contains(scope)
            ? t("scope." + scope) : t("scope.other", ["scope": scope])
    }
}
