import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC

/// Renders the hosted pages with settings that are not saved yet, for the Console's live preview:
/// `GET /preview/PAGE?settings=BASE64URL(JSON)&language=TAG` (any of the hosted pages' languages). Nothing is stored and no form works.
struct PreviewRoutes: Sendable {
    let runtime: SesameRuntime
    let signIn: SignInRoutes
    let codeFlows: CodeFlowRoutes
    let mfa: MfaPageRoutes

    static let pages = ["sign-in", "sign-in-code", "register", "forgot-password", "mfa-verify", "mfa-setup"]

    func register(on router: Router<SesameRequestContext>) {
        router.get("preview/:page") { request, context in
            let page = context.parameters.get("page") ?? ""
            guard Self.pages.contains(page) else {
                throw OAuthError(.notFound, "no preview for '\(page)' (pages: \(Self.pages.joined(separator: ", ")))",
                                 status: 404)
            }
            let query = try request.queryParameters()
            var settings = try await runtime.signInExperience()
            if let encoded = try query.single("settings") {
                guard let data = Base64URL.decode(encoded),
                      let decoded = try? JSONValue.decode(SignInExperience.self, from: data)
                else { throw OAuthError.invalidRequest("settings must be base64url-encoded sign-in experience JSON") }
                do {
                    try decoded.validate(canSendCode: { $0 == .email }, assetOrigin: runtime.configuration.endpoint)
                } catch let error as IdentityError {
                    throw OAuthError.invalidRequest(error.message)
                }
                settings = decoded
            }
            let language = try query.single("language")
            let localizer = Localizer(uiLocales: language, acceptLanguage: request.headers[.acceptLanguage],
                                      offered: settings.languages)
            let visit = Visit(runtime: runtime, interactionToken: nil, interaction: nil, appName: settings.branding.appName,
                              settings: settings, look: PageLook(localizer: localizer, branding: settings.branding, isPreview: true),
                              binding: "preview", cookies: [], clientIP: context.clientIP, loginHint: nil)
            var response: Response
            switch page {
            // The sign-in page opens as it would live: on the code form when email codes come first.
            case "sign-in" where SignInRoutes.isCodeFirst(settings): response = codeFlows.addressPage(.signIn, visit)
            case "sign-in": response = try await signIn.signInPage(visit)
            case "sign-in-code": response = codeFlows.addressPage(.signIn, visit)
            case "register" where CodeFlowRoutes.registersByUsername(settings): response = codeFlows.usernamePage(visit)
            case "register": response = codeFlows.addressPage(.register, visit)
            // The second-factor pages with the factors the settings offer (an example secret for the set-up).
            case "mfa-verify":
                response = mfa.verifyPage(visit, factors: settings.mfa.factors.isEmpty ? [.totp] : settings.mfa.factors)
            case "mfa-setup":
                let secret = MfaService.newTotpSecret()
                let uri = TOTP(secret: Base32.decode(secret) ?? []).uri(issuer: runtime.configuration.endpointHost,
                                                                        account: "preview@example.com")
                let offered = settings.mfa.primaryFactors.isEmpty ? [.totp] : settings.mfa.primaryFactors
                response = try mfa.setupPage(
                    visit, totp: offered.contains(.totp) ? ("preview", secret, uri) : nil,
                    webAuthn: offered.contains(.webAuthn), skippable: settings.mfa.policy.isSkippable)
            default: response = codeFlows.addressPage(.forgotPassword, visit)
            }
            // A preview may be framed by the Console on the same origin.
            response.headers[HTTPField.Name("X-Frame-Options")!] = "SAMEORIGIN"
            response.headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; "
                + "img-src 'self' https: data:; "
                + "form-action 'none'; frame-ancestors 'self'; base-uri 'none'"
            return response
        }
    }
}
