import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// Guards the Console: only a Console session (its own cookie, its own table) gets in. An end user's IdP
/// session or a Management API token means nothing here. Successful changes are audited with who made them.
struct ConsoleAuth: RouterMiddleware {
    typealias Context = SesameRequestContext
    let runtime: SesameRuntime
    let renderer: ConsoleRenderer
    let cookies: CookieJar

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let token = request.cookie(ConsoleVisit.sessionCookie)
        guard let administrator = try await runtime.administrators.administrator(sessionToken: token) else {
            var target = request.uri.path
            if let query = request.uri.query, !query.isEmpty { target += "?" + query }
            let location = request.method == .get
                ? "/console/sign-in?next=" + RequestParameters.encode(target) : "/console/sign-in"
            return Responses.redirect(location)
        }
        var context = context
        context.administrator = administrator
        context.consoleSessionToken = token
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as IdentityError {
            // A refused or vanished thing (an unknown id, a rule) reads as a Console page, with its navigation.
            let visit = ConsoleVisit.load(request, context: context, runtime: runtime, renderer: renderer, jar: cookies)
            let notFound = error.code == .notFound
            return visit.page("message", title: visit.t(notFound ? "notFoundTitle" : "errorTitle"), model: [
                "heading": visit.t(notFound ? "notFoundTitle" : "errorTitle"), "text": visit.text.message(error),
                "link": ["path": "/console", "label": visit.t("getStarted")],
            ], status: HTTPResponse.Status(code: ErrorMiddleware.status(of: error.code)))
        }
        if request.method == .post, response.status.code < 400, !request.uri.path.hasSuffix("/preview") {
            runtime.audit.record(AuditEvent(
                key: "Admin.Change", ip: context.clientIP,
                payload: ["via": "console", "administrator": .string(administrator.username),
                          "method": .string(request.method.rawValue), "path": .string(request.uri.path)],
                createdAt: runtime.provider.now()))
        }
        return response
    }
}
