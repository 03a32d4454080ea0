import Foundation
import HTTPTypes
import Hummingbird
import SesameConnectors
import SesameIdentity
import SesameOIDC
import SesameStorage

/// The admin Console at `/console`: first-run setup, sign-in, and the sections, each in a file of its own.
struct ConsoleRoutes: Sendable {
    let runtime: SesameRuntime
    let renderer = ConsoleRenderer()
    let cookies: CookieJar

    func register(on router: Router<SesameRequestContext>) {
        router.get("console/assets/console.css") { _, _ in Self.asset("console/console.css", type: "text/css") }
        router.get("console/assets/console.js") { _, _ in Self.asset("console/console.js", type: "text/javascript") }
        router.get("console/language") { request, _ in
            let query = try request.queryParameters()
            let language = try query.single("lang")
            guard let language, PhraseBook.consoleLocales.contains(language) else {
                throw OAuthError.invalidRequest("lang must be one of " + PhraseBook.consoleLocales.joined(separator: ", "))
            }
            return Responses.redirect(Self.safeNext(try query.single("next")), cookies: [
                cookies.set(ConsoleVisit.languageCookie, language, maxAge: 365 * 86400, path: ConsoleVisit.cookiePath),
            ])
        }
        router.get("console/setup") { request, context in try await setupPage(request, context) }
        router.post("console/setup") { request, context in try await setup(request, context) }
        router.get("console/sign-in") { request, context in try await signInPage(request, context) }
        router.post("console/sign-in") { request, context in try await signIn(request, context) }

        let console = router.group("console").add(middleware: ConsoleAuth(runtime: runtime, renderer: renderer, cookies: cookies))
        console.get { request, context in try await home(request, context) }
        console.post("sign-out") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            if let token = context.consoleSessionToken { try await runtime.administrators.endSession(token: token) }
            return Responses.redirect("/console/sign-in", cookies: [
                cookies.clear(ConsoleVisit.sessionCookie, path: ConsoleVisit.cookiePath, sameSite: "Strict"),
            ])
        }
        sections.registerApplications(on: console)
        sections.registerConnectors(on: console)
        sections.registerSignInExperience(on: console)
        sections.registerResources(on: console)
        sections.registerRoles(on: console)
        sections.registerOrganizations(on: console)
        sections.registerUsers(on: console)
        sections.registerAuditLog(on: console)
        // Any other Console address: a 404 inside the Console, with its navigation, not the hosted error page.
        console.get("**") { request, context in
            let visit = visit(request, context)
            return visit.page("message", title: visit.t("notFoundTitle"), model: [
                "heading": visit.t("notFoundTitle"), "text": visit.t("notFoundText"),
                "link": ["path": "/console", "label": visit.t("getStarted")],
            ], status: .notFound)
        }
    }

    var sections: ConsoleSections { ConsoleSections(runtime: runtime, renderer: renderer, cookies: cookies) }

    func visit(_ request: Request, _ context: SesameRequestContext) -> ConsoleVisit {
        sections.visit(request, context)
    }

    /// A file under `Resources/` (the Console's stylesheet or script), cached for an hour.
    static func asset(_ path: String, type: String) -> Response {
        let text = ServerResources.text(path) ?? ""
        return Response(status: .ok, headers: [.contentType: type + "; charset=utf-8", .cacheControl: "public, max-age=3600"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Only paths inside the Console: never an open redirect.
    static func safeNext(_ next: String?) -> String {
        guard let next, next == "/console" || next.hasPrefix("/console/") || next.hasPrefix("/console?"),
              !next.contains("//"), !next.contains("\\")
        else { return "/console" }
        return next
    }

    // MARK: First-run setup

    private func setupPage(_ request: Request, _ context: SesameRequestContext) async throws -> Response {
        let visit = visit(request, context)
        let token = try request.queryParameters().single("token") ?? ""
        guard try await runtime.administrators.isSetupTokenValid(token) else { return invalidSetupLink(visit) }
        return visit.page("setup", title: visit.t("setupTitle"), model: ["token": token])
    }

    private func setup(_ request: Request, _ context: SesameRequestContext) async throws -> Response {
        let visit = visit(request, context)
        let form = try await request.consoleForm(visit)
        let token = try form.single("token") ?? ""
        let username = try form.text("username") ?? ""
        let password = try form.single("password") ?? ""
        guard try await runtime.administrators.isSetupTokenValid(token) else { return invalidSetupLink(visit) }
        func retry(_ message: String) -> Response {
            visit.page("setup", title: visit.t("setupTitle"), model: ["token": token, "username": username,
                                                                      "error": message], status: .badRequest)
        }
        guard password == (try form.single("confirm") ?? "") else { return retry(visit.t("passwordsDiffer")) }
        let administrator: Administrator
        do {
            administrator = try await runtime.administrators.completeSetup(token: token, username: username,
                                                                           password: password)
        } catch let error as IdentityError where error.code != .invalidSetupLink {
            return retry(visit.text.message(error))
        } catch let error as IdentityError where error.code == .invalidSetupLink {
            return invalidSetupLink(visit)
        }
        runtime.audit.record(AuditEvent(key: "Admin.Setup", ip: context.clientIP,
                                        payload: ["administrator": .string(administrator.username)],
                                        createdAt: runtime.provider.now()))
        return try await startSession(administrator, visit: visit, next: "/console")
    }

    private func invalidSetupLink(_ visit: ConsoleVisit) -> Response {
        visit.page("message", title: visit.t("setupTitle"), model: [
            "heading": visit.t("setupLinkInvalid"), "text": visit.t("setupLinkInvalidText"),
            "link": ["path": "/console/sign-in", "label": visit.t("signIn")],
        ], status: .forbidden)
    }

    // MARK: Sign-in

    private func signInPage(_ request: Request, _ context: SesameRequestContext) async throws -> Response {
        var context = context
        // Already signed in: straight to the Console.
        if let token = request.cookie(ConsoleVisit.sessionCookie),
           try await runtime.administrators.administrator(sessionToken: token) != nil
        {
            return Responses.redirect(Self.safeNext(try request.queryParameters().single("next")))
        }
        context.consoleSessionToken = nil
        let visit = visit(request, context)
        return visit.page("sign-in", title: visit.t("signInTitle"), model: [
            "next": Self.safeNext(try request.queryParameters().single("next")),
            "needsSetup": try await runtime.administrators.needsSetup(),
        ], notice: visit.notice(request))
    }

    private func signIn(_ request: Request, _ context: SesameRequestContext) async throws -> Response {
        let visit = visit(request, context)
        let form = try await request.consoleForm(visit)
        let username = try form.text("username") ?? ""
        let password = try form.single("password") ?? ""
        let next = Self.safeNext(try form.single("next"))
        do {
            let administrator = try await runtime.administrators.authenticate(username: username, password: password,
                                                                              ip: context.clientIP)
            runtime.audit.record(AuditEvent(key: "Admin.SignIn.Success", ip: context.clientIP,
                                            payload: ["administrator": .string(administrator.username)],
                                            createdAt: runtime.provider.now()))
            return try await startSession(administrator, visit: visit, next: next)
        } catch let error as IdentityError {
            runtime.audit.record(AuditEvent(key: "Admin.SignIn.Failure", ip: context.clientIP,
                                            payload: ["administrator": .string(String(username.prefix(128)))],
                                            createdAt: runtime.provider.now()))
            let status: HTTPResponse.Status = error.code == .tooManyAttempts ? .tooManyRequests : .unauthorized
            let message = error.code == .tooManyAttempts ? visit.t("tooManyAttempts") : visit.t("wrongCredentials")
            return visit.page("sign-in", title: visit.t("signInTitle"), model: [
                "next": next, "username": username, "error": message,
                "needsSetup": try await runtime.administrators.needsSetup(),
            ], status: status)
        }
    }

    private func startSession(_ administrator: Administrator, visit: ConsoleVisit, next: String) async throws
        -> Response
    {
        let token = try await runtime.administrators.startSession(for: administrator)
        return Responses.redirect(next, cookies: [
            cookies.set(ConsoleVisit.sessionCookie, token, maxAge: Int(AdministratorService.sessionTTL),
                        path: ConsoleVisit.cookiePath, sameSite: "Strict"),
            cookies.clear(ConsoleVisit.csrfCookie, path: ConsoleVisit.cookiePath, sameSite: "Strict"),
        ])
    }

    // MARK: Get started

    private func home(_ request: Request, _ context: SesameRequestContext) async throws -> Response {
        let visit = visit(request, context)
        let enabled = try await runtime.connectors.enabledEmailConnector()
        let emailConnector = enabled.flatMap { runtime.connectors.registry.emailFactory(id: $0.id) }
            .map { $0.metadata.name[visit.text.language] ?? $0.metadata.name["en"] ?? $0.metadata.id }
        var model: [String: Any] = [
            "issuer": runtime.configuration.issuer,
            "discovery": runtime.configuration.issuer + "/.well-known/openid-configuration",
            "applicationCount": visit.text.counted("countApplications", try await runtime.store.clients().count),
            "userCount": visit.text.counted("countUsers", try await runtime.store.users(offset: 0, limit: 1).total),
        ]
        model["emailConnector"] = emailConnector
        return visit.page("home", title: visit.t("getStarted"), section: .home, model: model,
                          notice: visit.notice(request))
    }
}

/// The Console's sections; each `register...` lives in `ConsoleSections+<Section>.swift`.
struct ConsoleSections: Sendable {
    let runtime: SesameRuntime
    let renderer: ConsoleRenderer
    let cookies: CookieJar

    func visit(_ request: Request, _ context: SesameRequestContext) -> ConsoleVisit {
        ConsoleVisit.load(request, context: context, runtime: runtime, renderer: renderer, jar: cookies)
    }
}
