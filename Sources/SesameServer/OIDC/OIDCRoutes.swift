import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC

/// The protocol endpoints under `/oidc`, at the paths Logto (node-oidc-provider) uses.
struct OIDCRoutes: Sendable {
    let runtime: SesameRuntime
    let pages: PageRenderer
    let cookies: CookieJar
    let documents = DocumentCache()
    let clientGuard: ClientAuthenticationGuard

    var provider: OIDCProvider { runtime.provider }

    /// Device authorization requests per IP address (RFC 8628 §3.1): every one stores a device code for 10 minutes.
    static let deviceAuthorizationRule = RateLimiter.Rule(limit: 60, window: 5 * 60)

    func register(on router: Router<SesameRequestContext>) {
        let oidc = router.group("oidc")
        oidc.get(".well-known/openid-configuration") { _, _ in
            try await cachedDocument("discovery", path: "/oidc/.well-known/openid-configuration",
                                     contentType: "application/json; charset=utf-8") {
                try await provider.discoveryDocument()
            }
        }
        oidc.get("jwks") { _, _ in
            try await cachedDocument("jwks", path: "/oidc/jwks", contentType: "application/jwk-set+json") {
                try await provider.jwks()
            }
        }
        oidc.get("auth") { request, _ in try await authorize(request) }
        oidc.post("auth") { request, _ in try await authorize(request) }
        oidc.get("auth/resume") { request, _ in
            try await answer(provider.resume(interactionToken: request.cookie(CookieJar.interaction),
                                             sessionToken: request.cookie(CookieJar.session)))
        }
        oidc.post("token") { request, context in
            let params = try await request.formParameters()
            return try await clientGuard.run(ip: context.clientIP, logger: context.logger) {
                let response = try await provider.token(params, authorization: request.headers[.authorization])
                let grant = params["grant_type"] ?? "unknown"
                let authenticated = request.headers[.authorization] != nil || params["client_secret"] != nil
                runtime.metrics.tokenGranted(grantType: grant, clientKind: authenticated ? "confidential" : "public")
                let client = params["client_id"] ?? Self.basicClientID(request.headers[.authorization])
                if grant == GrantType.clientCredentials.rawValue {
                    // Machine grants can run at thousands a second: one event per client and second, with a count.
                    runtime.audit.count(key: "Token." + grant, applicationID: client, ip: context.clientIP)
                } else {
                    runtime.audit.record(AuditEvent(key: "Token." + grant, applicationID: client, ip: context.clientIP,
                                                    createdAt: provider.now()))
                }
                return Responses.oauth(response)
            }
        }
        oidc.post("device/auth") { request, context in
            let params = try await request.formParameters()
            // Each request stores a row: a bound per address keeps a script from filling the table.
            let hits = try await runtime.rateLimiter.hit("device-auth:ip:" + RateLimiter.addressKey(context.clientIP),
                                                         rule: Self.deviceAuthorizationRule)
            guard hits <= Self.deviceAuthorizationRule.limit else {
                throw OAuthError(.invalidRequest, "too many device authorization requests; try again later", status: 429)
            }
            return try await clientGuard.run(ip: context.clientIP, logger: context.logger) {
                let response = try await provider.deviceAuthorization(params,
                                                                      authorization: request.headers[.authorization])
                let client = params["client_id"] ?? Self.basicClientID(request.headers[.authorization])
                runtime.audit.record(AuditEvent(key: "Device.Authorization", applicationID: client,
                                                ip: context.clientIP, createdAt: provider.now()))
                return Responses.oauth(response)
            }
        }
        oidc.get("me") { request, _ in
            Responses.oauth(try await provider.userInfo(authorization: request.headers[.authorization], form: nil))
        }
        oidc.post("me") { request, _ in
            let hasBody = request.headers[.contentType] != nil
            return Responses.oauth(try await provider.userInfo(
                authorization: request.headers[.authorization],
                form: hasBody ? try await request.formParameters() : nil))
        }
        oidc.post("token/introspection") { request, context in
            let params = try await request.formParameters()
            return try await clientGuard.run(ip: context.clientIP, logger: context.logger) {
                Responses.oauth(try await provider.introspect(params, authorization: request.headers[.authorization]))
            }
        }
        oidc.post("token/revocation") { request, context in
            let params = try await request.formParameters()
            return try await clientGuard.run(ip: context.clientIP, logger: context.logger) {
                Responses.oauth(try await provider.revoke(params, authorization: request.headers[.authorization]))
            }
        }
        oidc.get("session/end") { request, _ in try await endSession(request) }
        // HEAD is answered wherever GET is, by running GET without the body, except here: these GETs act
        // (issue a code, spend an interaction, end a session), and a HEAD must not (RFC 9110 §9.2.1).
        for path in ["auth", "auth/resume", "session/end"] {
            oidc.head(RouterPath(path)) { _, _ in
                var headers = HTTPFields()
                headers[.allow] = path == "auth/resume" ? "GET" : "GET, POST"
                return Response(status: .methodNotAllowed, headers: headers)
            }
        }
        oidc.post("session/end") { request, _ in try await endSession(request) }
        oidc.post("session/end/confirm") { request, _ in try await confirmEndSession(request) }
    }

    /// Serves a document built from the key set, and publishes it for `PublishedDocumentHandler` to answer the next
    /// requests for `path` with (for a second).
    private func cachedDocument(_ name: String, path: String, contentType: String,
                                build: () async throws -> JSONValue) async throws -> Response
    {
        let body = try await documents.body(name, keys: try await provider.keys.snapshot(), build: build)
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "public, max-age=\(provider.configuration.jwksMaxAge)"
        runtime.publishedDocuments.publish(path: path, body: body, contentType: contentType,
                                           cacheControl: headers[.cacheControl] ?? "")
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    /// The client id of a Basic authorization header, for the audit log (the secret is not read).
    static func basicClientID(_ header: String?) -> String? {
        guard let header, header.lowercased().hasPrefix("basic "),
              let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return RequestParameters.decode(text[..<colon])
    }

    /// The language (from `ui_locales`, then `Accept-Language`) and branding of a page shown here.
    private func look(_ request: Request, uiLocales: String? = nil) async throws -> PageLook {
        let settings = try await runtime.signInExperience()
        return PageLook(localizer: Localizer(uiLocales: uiLocales, acceptLanguage: request.headers[.acceptLanguage],
                                             offered: settings.languages),
                        branding: settings.branding)
    }

    private func authorize(_ request: Request) async throws -> Response {
        let params: RequestParameters
        do {
            params = try await request.requestParameters()
        } catch let error as OAuthError {
            return pages.error(error, look: try await look(request))
        }
        let outcome = try await provider.authorize(params, sessionToken: request.cookie(CookieJar.session))
        if case .errorPage(let error) = outcome {
            return pages.error(error, look: try await look(request, uiLocales: params["ui_locales"]))
        }
        return answer(outcome)
    }

    /// Maps the engine's decision to HTTP: a redirect, an error page, or the sign-in / consent page.
    private func answer(_ outcome: AuthorizationOutcome) -> Response {
        Self.response(to: outcome, provider: provider, pages: pages, cookies: cookies)
    }

    /// An authorization outcome in HTTP (also the device flow's, `DeviceRoutes`): a redirect that ends the
    /// interaction cookie, an error page in `look`, or the sign-in or consent page with the interaction's cookie.
    static func response(to outcome: AuthorizationOutcome, provider: OIDCProvider, pages: PageRenderer,
                         cookies: CookieJar, look: PageLook = .standard) -> Response
    {
        switch outcome {
        case .redirect(let location):
            return Responses.redirect(location, cookies: [cookies.clear(CookieJar.interaction)])
        case .errorPage(let error):
            return pages.error(error, look: look)
        case .interaction(let ticket):
            let path = ticket.step == .login ? "/sign-in" : "/consent"
            let maxAge = Int(ticket.interaction.expiresAt.timeIntervalSince(provider.now()))
            return Responses.redirect(path, cookies: [cookies.set(CookieJar.interaction, ticket.token,
                                                                  maxAge: max(maxAge, 0))])
        }
    }

    private func endSession(_ request: Request) async throws -> Response {
        let sessionToken = request.cookie(CookieJar.session)
        switch try await provider.endSession(try await request.requestParameters(), sessionToken: sessionToken) {
        case .signedOut(let redirect):
            return try await signedOut(redirect, request: request)
        case .confirm(let logout):
            var model: [String: Any] = ["csrfToken": CSRF.token(runtime.csrf, binding: sessionToken ?? "")]
            model["clientID"] = logout.clientID
            model["clientName"] = logout.clientName
            model["postLogoutRedirectURI"] = logout.postLogoutRedirectURI
            model["state"] = logout.state
            let look = try await look(request, uiLocales: try await request.requestParameters()["ui_locales"])
            return pages.page("logout", title: look.localizer("signOut"), model: model, look: look)
        }
    }

    private func confirmEndSession(_ request: Request) async throws -> Response {
        let params = try await request.formParameters()
        let sessionToken = request.cookie(CookieJar.session)
        try CSRF.verify(runtime.csrf, token: try params.single("csrf_token"), binding: sessionToken ?? "")
        let logout = try await provider.checkLogoutRequest(params)
        return try await signedOut(try await provider.finishLogout(logout, sessionToken: sessionToken), request: request)
    }

    private func signedOut(_ redirect: String?, request: Request) async throws -> Response {
        let clear = cookies.clear(CookieJar.session)
        if let redirect { return Responses.redirect(redirect, cookies: [clear]) }
        let look = try await look(request)
        return pages.page("signed-out", title: look.localizer("signedOut"), model: [:], look: look, cookies: [clear])
    }
}

/// CSRF tokens bound to a cookie value (the interaction or the session): an HMAC under a key derived
/// from SESAME_SECRET, so any instance can check them and a token from one browser fails in another.
enum CSRF {
    static func token(_ box: SecretBox, binding: String) -> String {
        box.mac("csrf:" + binding)
    }

    static func verify(_ box: SecretBox, token: String?, binding: String) throws {
        guard let token, !binding.isEmpty, SecretDigest.constantTimeEquals(token, box.mac("csrf:" + binding)) else {
            throw OAuthError(.invalidCSRF, "the form has expired or was not sent from this page; go back and try again",
                             status: 403)
        }
    }
}
