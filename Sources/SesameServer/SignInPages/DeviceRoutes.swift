import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC

/// The device authorization grant's pages (RFC 8628 §3.3): `/device` asks for the user code (prefilled from
/// `verification_uri_complete`), shows which application asks and asks the person to confirm it is their own device
/// (the remote-phishing defence of §5.4), then signs them in through the usual pages; `/device/done` tells how it
/// ended. Logto's path `/oidc/device` leads here too.
struct DeviceRoutes: Sendable {
    let runtime: SesameRuntime
    let pages: PageRenderer
    let cookies: CookieJar

    /// Wrong user codes per IP address, and in total across every address (RFC 8628 §5.1: with 34.6 bits a code is
    /// safe only while guesses are limited). Over either limit the page refuses every code until the window ends.
    static let ipRule = RateLimiter.Rule(limit: 20, window: 15 * 60)
    static let totalRule = RateLimiter.Rule(limit: 1000, window: 15 * 60)

    var provider: OIDCProvider { runtime.provider }

    func register(on router: Router<SesameRequestContext>) {
        router.get("device") { request, context in
            let visit = try await visit(request, context)
            let typed = try request.queryParameters().single("user_code")
            return entryPage(visit, userCode: typed.flatMap { UserCode.normalize($0).map(UserCode.display) })
        }
        router.post("device") { request, context in try await confirmPage(request, context) }
        router.post("device/confirm") { request, context in try await decide(request, context) }
        router.get("device/done") { request, context in
            let visit = try await visit(request, context)
            let result = OIDCProvider.DeviceResult(rawValue: try request.queryParameters().single("result") ?? "")
                ?? .expired
            let (title, lead) = switch result {
            case .approved: ("deviceApproved", "deviceApprovedLead")
            case .denied: ("deviceDenied", "deviceDeniedLead")
            case .expired: ("deviceExpired", "deviceExpiredLead")
            }
            return visit.page(pages, "message", title: visit.t(title), model: [
                "title": visit.t(title), "lead": visit.t(lead),
                "link": result == .approved ? nil : "/device", "linkText": visit.t("deviceStartAgain"),
            ].compactMapValues { $0 })
        }
        // Logto's verification URI (node-oidc-provider's), for devices configured against Logto.
        router.get("oidc/device") { request, _ in
            let query = request.uri.query.map { "?" + $0 } ?? ""
            return Responses.redirect("/device" + query)
        }
    }

    private func visit(_ request: Request, _ context: SesameRequestContext) async throws -> Visit {
        try await Visit.load(request, context: context, runtime: runtime, jar: cookies)
    }

    private func entryPage(_ visit: Visit, userCode: String?, error: String? = nil,
                           status: HTTPResponse.Status = .ok) -> Response
    {
        var model: [String: Any] = ["entry": true, "userCode": userCode ?? ""]
        model["error"] = error
        return visit.page(pages, "device", title: visit.t("deviceTitle"), model: model, status: status)
    }

    /// The typed code, checked against the attempt limits: the pending authorization and its app, or the page to
    /// show instead.
    private func lookUp(_ form: RequestParameters, _ visit: Visit) async throws
        -> Result<(authorization: DeviceAuthorization, client: Client, userCode: String), Refusal>
    {
        let typed = try form.single("user_code") ?? ""
        let ipKey = "device-code:ip:" + RateLimiter.addressKey(visit.clientIP)
        let totalKey = "device-code:total"
        let limiter = runtime.rateLimiter
        if try await limiter.isLimited(ipKey, rule: Self.ipRule) {
            return .failure(Refusal(key: "tooManyAttempts", status: .tooManyRequests))
        }
        if try await limiter.isLimited(totalKey, rule: Self.totalRule) {
            return .failure(Refusal(key: "tooManyAttempts", status: .tooManyRequests))
        }
        guard let (authorization, client) = try await provider.pendingDeviceAuthorization(userCode: typed),
              let normalized = UserCode.normalize(typed)
        else {
            try await limiter.record(ipKey, rule: Self.ipRule)
            try await limiter.record(totalKey, rule: Self.totalRule)
            return .failure(Refusal(key: "deviceCodeInvalid", status: .badRequest))
        }
        return .success((authorization, client, UserCode.display(normalized)))
    }

    struct Refusal: Error {
        let key: String
        let status: HTTPResponse.Status
    }

    /// `POST /device`: the code is live; ask the person to confirm the application and the code.
    private func confirmPage(_ request: Request, _ context: SesameRequestContext) async throws -> Response {
        let form = try await request.formParameters()
        let visit = try await visit(request, context)
        try visit.verifyCSRF(form)
        let typed = try form.single("user_code") ?? ""
        switch try await lookUp(form, visit) {
        case .failure(let refusal):
            return entryPage(visit, userCode: String(typed.prefix(64)), error: visit.t(refusal.key),
                             status: refusal.status)
        case .success(let found):
            let scopes = found.authorization.request.scopes.filter { $0 != StandardScope.openid }
                .map { SignInRoutes.describe($0, visit.t) }
            return visit.page(pages, "device", title: visit.t("deviceConfirmTitle", ["app": found.client.name]), model: [
                "confirm": true, "userCode": found.userCode,
                "heading": visit.t("deviceConfirmTitle", ["app": found.client.name]),
                "scopes": scopes, "hasScopes": !scopes.isEmpty,
            ])
        }
    }

    /// `POST /device/confirm`: approve (sign in, then the device is approved) or deny.
    private func decide(_ request: Request, _ context: SesameRequestContext) async throws -> Response {
        let form = try await request.formParameters()
        let visit = try await visit(request, context)
        try visit.verifyCSRF(form)
        let typed = try form.single("user_code") ?? ""
        if case .failure(let refusal) = try await lookUp(form, visit) {
            return entryPage(visit, userCode: String(typed.prefix(64)), error: visit.t(refusal.key),
                             status: refusal.status)
        }
        guard try form.single("decision") == "allow" else {
            return Responses.redirect(try await provider.denyDevice(userCode: typed))
        }
        let outcome = try await provider.startDeviceSignIn(userCode: typed,
                                                           sessionToken: request.cookie(CookieJar.session))
        return OIDCRoutes.response(to: outcome, provider: provider, pages: pages, cookies: cookies, look: visit.look)
    }
}
