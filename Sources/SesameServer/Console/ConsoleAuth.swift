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
        let response = try await next(request, context)
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
