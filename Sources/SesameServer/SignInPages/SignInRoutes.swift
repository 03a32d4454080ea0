import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC

/// The hosted sign-in and consent pages (interim: identifier and password). They complete the engine's
/// interaction and send the browser back to `/oidc/auth/resume`.
struct SignInRoutes: Sendable {
    let runtime: SesameRuntime
    let pages: PageRenderer
    let cookies: CookieJar

    /// Failed passwords per account and per IP before the form refuses for the rest of the window.
    static let accountRule = RateLimiter.Rule(limit: 10, window: 15 * 60)
    static let ipRule = RateLimiter.Rule(limit: 50, window: 15 * 60)

    var provider: OIDCProvider { runtime.provider }

    func register(on router: Router<SesameRequestContext>) {
        router.get("sign-in") { request, _ in try await signInPage(request) }
        router.post("sign-in") { request, context in try await signIn(request, context: context) }
        router.post("sign-in/cancel") { request, _ in try await cancel(request) }
        router.get("consent") { request, _ in try await consentPage(request) }
        router.post("consent") { request, _ in try await consent(request) }
    }

    private func signInPage(_ request: Request, identifier: String? = nil, error: String? = nil,
                            status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let token = request.cookie(CookieJar.interaction)
        let interaction = try await provider.interaction(token: token)
        // Without a pending sign-in, the form is bound to a random cookie of its own (no login CSRF).
        var cookies: [String] = []
        var binding = token ?? request.cookie(CookieJar.csrf)
        if binding == nil {
            let fresh = SecureRandom.token()
            cookies.append(self.cookies.set(CookieJar.csrf, fresh, maxAge: 3600))
            binding = fresh
        }
        var model: [String: Any] = [
            "csrfToken": CSRF.token(runtime.csrf, binding: binding ?? ""), "canCancel": interaction != nil,
        ]
        if let interaction, let client = try await provider.storage.client(id: interaction.request.clientID) {
            model["appName"] = client.name
        }
        model["identifier"] = identifier ?? interaction?.request.loginHint
        model["error"] = error
        return pages.page("sign-in", title: "Sign in", model: model, status: status, cookies: cookies)
    }

    private func signIn(_ request: Request, context: SesameRequestContext) async throws -> Response {
        let form = try await request.formParameters()
        let interactionToken = request.cookie(CookieJar.interaction)
        try CSRF.verify(runtime.csrf, token: try form.single("csrf_token"),
                        binding: interactionToken ?? request.cookie(CookieJar.csrf) ?? "")
        let identifier = (try form.single("identifier") ?? "").trimmingCharacters(in: .whitespaces)
        let password = try form.single("password") ?? ""
        guard !identifier.isEmpty, !password.isEmpty else {
            return try await signInPage(request, identifier: identifier,
                                        error: "Enter your username or email and your password.", status: .badRequest)
        }
        let accountKey = "sign-in:account:" + SecretDigest.sha256Hex(identifier.lowercased())
        let ipKey = "sign-in:ip:" + context.clientIP
        let limiter = runtime.rateLimiter
        let isAccountLimited = try await limiter.isLimited(accountKey, rule: Self.accountRule)
        let isIPLimited = try await limiter.isLimited(ipKey, rule: Self.ipRule)
        if isAccountLimited || isIPLimited {
            return try await signInPage(request, identifier: identifier,
                                        error: "Too many failed attempts. Wait 15 minutes and try again.",
                                        status: .tooManyRequests)
        }
        let user: User
        do {
            user = try await runtime.users.authenticate(identifier: identifier, password: password)
        } catch let error as IdentityError {
            if error.code == .invalidCredentials {
                try await limiter.record(accountKey, rule: Self.accountRule)
                try await limiter.record(ipKey, rule: Self.ipRule)
            }
            return try await signInPage(request, identifier: identifier, error: error.code == .suspended
                ? "This account is suspended. Contact the administrator."
                : "The username, email or password is incorrect.", status: .unauthorized)
        }
        try await limiter.reset(accountKey)
        let previous = request.cookie(CookieJar.session)
        guard let interactionToken, try await provider.interaction(token: interactionToken) != nil else {
            // No pending authorization request: sign in to Sesame itself.
            let session = try await provider.startSession(accountID: user.id, previousSessionToken: previous)
            return pages.page("signed-in", title: "Signed in", model: [:], cookies: [sessionCookie(session)])
        }
        let session = try await provider.completeLogin(interactionToken: interactionToken, accountID: user.id,
                                                       previousSessionToken: previous)
        return Responses.redirect("/oidc/auth/resume", cookies: [sessionCookie(session)])
    }

    private func cancel(_ request: Request) async throws -> Response {
        let form = try await request.formParameters()
        let token = request.cookie(CookieJar.interaction)
        try CSRF.verify(runtime.csrf, token: try form.single("csrf_token"), binding: token ?? "")
        guard let token else { throw OAuthError.sessionExpired }
        let location = try await provider.abortInteraction(interactionToken: token)
        return Responses.redirect(location, cookies: [cookies.clear(CookieJar.interaction)])
    }

    private func consentPage(_ request: Request) async throws -> Response {
        let token = request.cookie(CookieJar.interaction)
        guard let interaction = try await provider.interaction(token: token), interaction.accountID != nil,
              let client = try await provider.storage.client(id: interaction.request.clientID)
        else { throw OAuthError.sessionExpired }
        let scopes = interaction.request.scopes.map(Self.describe)
        return pages.page("consent", title: "Authorize \(client.name)", model: [
            "appName": client.name, "scopes": scopes, "csrfToken": CSRF.token(runtime.csrf, binding: token ?? ""),
        ])
    }

    private func consent(_ request: Request) async throws -> Response {
        let form = try await request.formParameters()
        let token = request.cookie(CookieJar.interaction)
        try CSRF.verify(runtime.csrf, token: try form.single("csrf_token"), binding: token ?? "")
        guard let token else { throw OAuthError.sessionExpired }
        guard try form.single("decision") == "allow" else {
            let location = try await provider.abortInteraction(interactionToken: token)
            return Responses.redirect(location, cookies: [cookies.clear(CookieJar.interaction)])
        }
        try await provider.completeConsent(interactionToken: token)
        return Responses.redirect("/oidc/auth/resume")
    }

    private func sessionCookie(_ token: String) -> String {
        cookies.set(CookieJar.session, token, maxAge: provider.configuration.sessionTTL)
    }

    static func describe(_ scope: String) -> String {
        switch scope {
        case "openid": "Sign you in with your account"
        case "profile": "See your name, username and picture"
        case "email": "See your email address"
        case "phone": "See your phone number"
        case "offline_access": "Keep you signed in (refresh tokens)"
        default: "Use the permission \u{201C}\(scope)\u{201D}"
        }
    }
}
