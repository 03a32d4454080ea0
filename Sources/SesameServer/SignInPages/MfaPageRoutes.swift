import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// The hosted second-factor pages: after the first factor, `/sign-in/mfa` asks for a factor the user has (a code
/// from the authenticator app, or a backup code), or sets one up (a QR code and the secret as text, then backup
/// codes shown once), or lets the user skip where the policy allows. Every form is CSRF-protected and drives
/// the same `ExperienceEngine` steps as the Experience API.
struct MfaPageRoutes: Sendable {
    let runtime: SesameRuntime
    let pages: PageRenderer
    let cookies: CookieJar

    var engine: ExperienceEngine { ExperienceEngine(runtime: runtime) }

    func register(on router: Router<SesameRequestContext>) {
        router.get("assets/pages.js") { _, _ in ConsoleRoutes.asset("pages/pages.js", type: "text/javascript") }
        router.get("sign-in/mfa") { request, context in
            try await page(try await visit(request, context), request: request)
        }
        router.post("sign-in/mfa/totp") { request, context in
            try await step(request, context, errorKey: "totpError") { session, form in
                _ = try await engine.verifyTotp(session, code: try form.single("code") ?? "", verificationID: nil)
            }
        }
        router.post("sign-in/mfa/backup-code") { request, context in
            try await step(request, context, errorKey: "backupError") { session, form in
                _ = try await engine.verifyBackupCode(session, code: try form.single("code") ?? "")
            }
        }
        router.post("sign-in/mfa/setup") { request, context in
            try await step(request, context, errorKey: "totpError") { session, form in
                let id = try form.single("verificationId") ?? ""
                _ = try await engine.verifyTotp(session, code: try form.single("code") ?? "", verificationID: id)
                try await engine.bindMfa(session, factor: .totp, verificationID: id)
            }
        }
        router.post("sign-in/mfa/backup-codes") { request, context in
            try await step(request, context, errorKey: "backupError") { session, form in
                try await engine.bindMfa(session, factor: .backupCode, verificationID: try form.single("verificationId") ?? "")
            }
        }
        router.post("sign-in/mfa/skip") { request, context in
            try await step(request, context, errorKey: "skipError") { session, _ in
                try await engine.skipMfa(session)
            }
        }
    }

    private func visit(_ request: Request, _ context: SesameRequestContext) async throws -> Visit {
        try await Visit.load(request, context: context, runtime: runtime, jar: cookies)
    }

    /// Runs one form's step, then submits (which finishes the sign-in or names the next step); an error shows the
    /// page again with the message under `errorKey`.
    private func step(_ request: Request, _ context: SesameRequestContext, errorKey: String,
                      _ body: (ExperienceSession, RequestParameters) async throws -> Void) async throws -> Response
    {
        let form = try await request.formParameters()
        let visit = try await visit(request, context)
        try visit.verifyCSRF(form)
        let session = ExperienceSession(visit: visit, store: runtime.store)
        do {
            try await body(session, form)
        } catch let error as IdentityError where error.code != .notFound || error.phrase == "mfa.factor_not_set_up" {
            let status: HTTPResponse.Status = error.code == .tooManyAttempts ? .tooManyRequests : .badRequest
            return try await page(visit, request: request, errors: [errorKey: visit.t.message(error)], status: status)
        } catch let error as IdentityError where error.code == .notFound {
            // The experience or the set-up is gone (expired, or finished in another tab): start again.
            return Responses.redirect("/sign-in", cookies: visit.cookies)
        }
        return try await page(visit, request: request)
    }

    /// The page for the step the sign-in is at, or the finished sign-in when nothing is left.
    private func page(_ visit: Visit, request: Request, errors: [String: String] = [:],
                      status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let session = ExperienceSession(visit: visit, store: runtime.store)
        guard let experience = try await session.current(), experience.event == .signIn,
              experience.identifiedUserID != nil
        else { return Responses.redirect("/sign-in", cookies: visit.cookies) }
        let user: User
        let step: ExperienceEngine.MfaStep?
        do {
            user = try await engine.mfaUser(experience)
            step = try await engine.mfaStep(experience, user: user, visit: visit)
        } catch let error as IdentityError where error.code == .invalidInput {
            // The first factor is no longer fresh: sign in again.
            return Responses.redirect("/sign-in", cookies: visit.cookies)
        }
        guard let step else {
            return try await visit.conclude(try await engine.submit(session), request: request, pages: pages, jar: cookies)
        }
        switch step {
        case .verify(let factors):
            return verifyPage(visit, factors: factors, errors: errors, status: status)
        case .enrol(let factors, let skippable):
            var totp: (id: String, secret: String, uri: String)?
            if factors.contains(.totp) {
                // The set-up in progress, if any, so a reload shows the same QR code.
                let pending = experience.mfaState(for: user.id).proofs.last { $0.factor == .totp && $0.isRegistration }
                if let pending, let secret = try engine.pendingTotpSecret(experience, id: pending.id) {
                    totp = (pending.id, secret, "")
                } else {
                    totp = try await engine.createTotpSecret(session)
                }
                let secret = totp?.secret ?? ""
                totp?.uri = ExperienceEngine.totpURI(secret: secret, user: user, runtime: runtime)
            }
            return try setupPage(visit, totp: totp, webAuthn: factors.contains(.webAuthn), skippable: skippable,
                                 errors: errors, status: status)
        case .backupCodes:
            var pending = try engine.pendingBackupCodes(experience)
            if pending == nil { pending = try await engine.generateBackupCodes(session) }
            guard let pending else { throw OAuthError.serverError() }
            return Self.backupCodesPage(visit, pages, codes: pending.codes, verificationID: pending.id, errors: errors,
                                        status: status)
        }
    }

    /// Asks for one of `factors` (the live page, and the Console's preview).
    func verifyPage(_ visit: Visit, factors: [MfaFactor], errors: [String: String] = [:],
                    status: HTTPResponse.Status = .ok) -> Response
    {
        var model: [String: Any] = errors
        model["title"] = visit.t("mfaVerifyTitle")
        model["totp"] = factors.contains(.totp)
        model["webAuthn"] = factors.contains(.webAuthn)
        model["backupCode"] = factors.contains(.backupCode)
        model["lead"] = visit.t(factors.contains(.totp) ? "mfaVerifyLead"
            : factors.contains(.webAuthn) ? "mfaPasskeyVerifyLead" : "mfaBackupOnlyLead")
        return visit.page(pages, "mfa-verify", title: visit.t("mfaVerifyTitle"), model: model, status: status)
    }

    /// Sets a factor up: a passkey (`webAuthn`), and TOTP with the QR code of its URI, the secret as text and the
    /// first code (the live page, and the preview).
    /// `action`: where the first code goes; `back`: the page to return to (the sign-in page when nil).
    func setupPage(_ visit: Visit, totp: (id: String, secret: String, uri: String)?, webAuthn: Bool, skippable: Bool,
                   errors: [String: String] = [:], status: HTTPResponse.Status = .ok,
                   action: String = "/sign-in/mfa/setup", back: String? = nil) throws -> Response
    {
        var model: [String: Any] = errors
        model["setupAction"] = action
        model["accountBack"] = back
        model["title"] = visit.t("mfaSetupTitle")
        model["skippable"] = skippable
        model["webAuthn"] = webAuthn
        model["totp"] = totp != nil
        if let totp {
            model["verificationId"] = totp.id
            model["secret"] = Self.grouped(totp.secret)
            model["qrCode"] = try QRCode(totp.uri).svg(scale: 4, title: visit.t("mfaQrTitle"))
        }
        return visit.page(pages, "mfa-setup", title: visit.t("mfaSetupTitle"), model: model, status: status)
    }

    /// Backup codes shown once, with a text-file download. With `verificationID` (a sign-in), a button keeps them
    /// and goes on; without (the account page, where they are kept already), a link goes back to `action`.
    static func backupCodesPage(_ visit: Visit, _ pages: PageRenderer, codes: [String], verificationID: String?,
                                errors: [String: String] = [:], status: HTTPResponse.Status = .ok,
                                action: String? = nil) -> Response
    {
        var model: [String: Any] = errors
        model["title"] = visit.t("mfaBackupTitle")
        model["verificationId"] = verificationID
        model["accountBack"] = action
        model["codes"] = codes
        let text = codes.joined(separator: "\n") + "\n"
        model["download"] = "data:text/plain;charset=utf-8," + (text.addingPercentEncoding(
            withAllowedCharacters: .alphanumerics) ?? "")
        return visit.page(pages, "mfa-backup-codes", title: visit.t("mfaBackupTitle"), model: model, status: status)
    }

    /// A secret in groups of four, as authenticator apps print them.
    static func grouped(_ secret: String) -> String {
        stride(from: 0, to: secret.count, by: 4).map { start in
            let from = secret.index(secret.startIndex, offsetBy: start)
            return String(secret[from..<(secret.index(from, offsetBy: 4, limitedBy: secret.endIndex) ?? secret.endIndex)])
        }.joined(separator: " ")
    }
}
