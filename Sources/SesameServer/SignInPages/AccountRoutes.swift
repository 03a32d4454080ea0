import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// `/account`: a signed-in person's own page (their IdP session). Profile name, password (the current one, counted
/// with the sign-in form's failures; an account without one sets it), and second factors: add an authenticator app or a
/// passkey, rename or remove passkeys, make new backup codes, remove a factor (the last one is kept under a
/// `Mandatory` policy). Changes to the password and factors need a sign-in in the last ten minutes (a stolen
/// session cookie alone cannot add the thief's authenticator); older sessions are sent to sign in again and come
/// back. Every form carries the CSRF token; the passkey endpoints take JSON from this origin only.
struct AccountRoutes: Sendable {
    let runtime: SesameRuntime
    let pages: PageRenderer
    let cookies: CookieJar

    /// The notices `?notice=` may name (a fixed list: the page never echoes the query).
    static let notices: Set = ["nameSaved", "totpAdded", "passkeyAdded", "passkeyRenamed", "factorRemoved"]

    /// How recent a sign-in must be for password and factor changes, in seconds.
    static let recentSignIn: TimeInterval = 600

    struct Signed {
        let visit: Visit
        let session: Session
        let user: User
        var isRecent: Bool
    }

    func register(on router: Router<SesameRequestContext>) {
        router.get("account") { request, context in
            let notice = try request.queryParameters().single("notice")
            return try await withAccount(request, context) { signed in
                try await page(signed, notice: notice.flatMap { Self.notices.contains($0) ? $0 : nil })
            }
        }
        router.post("account/profile") { request, context in
            try await form(request, context, recent: false) { signed, form in
                let name = (try form.single("name") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                guard name.count <= 128, name.utf8.count <= 512, !UserService.hasInvisibleCharacters(name) else {
                    throw IdentityError.invalidInput(phrase: "account.name_invalid")
                }
                _ = try await runtime.users.update(id: signed.user.id, .init(name: .some(name)))
                return "nameSaved"
            }
        }
        router.post("account/password") { request, context in
            try await passwordChange(request, context)
        }
        router.get("account/mfa/totp") { request, context in
            try await withAccount(request, context, recent: true) { signed in try await totpPage(signed) }
        }
        router.post("account/mfa/totp") { request, context in
            try await form(request, context, recent: true) { signed, form in
                try Self.checkOffered(.totp, signed)
                guard let secret = try await pendingTotp(signed) else {
                    throw IdentityError(.invalidInput, phrase: "experience.verification_expired")
                }
                let step = try runtime.mfa.checkNewTotp(secret: secret.secret, code: try form.single("code") ?? "")
                try await runtime.mfa.addTotp(userID: signed.user.id, secret: secret.secret, lastUsedStep: step)
                try await runtime.store.deleteExperience(id: Self.stateKey(signed.session))
                audit("Mfa.Bind", signed, factor: .totp)
                return "totpAdded"
            } onError: { signed, message in try await totpPage(signed, error: message) }
        }
        router.post("account/mfa/backup-codes") { request, context in
            let form = try await request.formParameters()
            return try await withAccount(request, context, recent: true) { signed in
                try signed.visit.verifyCSRF(form)
                let codes = MfaService.newBackupCodes()
                do {
                    try Self.checkOffered(.backupCode, signed)
                    try await runtime.mfa.setBackupCodes(userID: signed.user.id, codes: codes, replacing: true)
                } catch let error as IdentityError {
                    return try await page(signed, error: signed.visit.t.message(error), status: .unprocessableContent)
                }
                audit("Mfa.Bind", signed, factor: .backupCode)
                return MfaPageRoutes.backupCodesPage(signed.visit, pages, codes: codes, verificationID: nil,
                                                     action: "/account")
            }
        }
        router.post("account/mfa/:id/rename") { request, context in
            try await form(request, context, recent: true) { signed, form in
                let name = (try form.single("name") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                guard (1...64).contains(name.count), name.utf8.count <= 256, !UserService.hasInvisibleCharacters(name) else {
                    throw IdentityError.invalidInput(phrase: "account.passkey_name_invalid")
                }
                guard try await runtime.mfa.store.renameWebAuthn(id: context.parameters.get("id") ?? "",
                                                                userID: signed.user.id, name: name)
                else { throw IdentityError(.notFound, phrase: "mfa.factor_not_found") }
                return "passkeyRenamed"
            }
        }
        router.post("account/mfa/:id/delete") { request, context in
            try await form(request, context, recent: true) { signed, _ in
                let id = context.parameters.get("id") ?? ""
                let factor = try await runtime.mfa.store.mfaVerifications(userID: signed.user.id)
                    .first { $0.id == id }?.factor
                try await runtime.mfa.remove(userID: signed.user.id, id: id, policy: signed.visit.settings.mfa.policy)
                audit("Mfa.Remove", signed, factor: factor)
                return "factorRemoved"
            }
        }
        // Passkeys: JSON from this origin, for `/assets/pages.js`.
        router.post("account/passkeys/registration") { request, context in
            try await json(request, context) { signed, _ in
                guard signed.visit.settings.mfa.factors.contains(.webAuthn) else {
                    throw IdentityError(.mfaFactorNotEnabled, phrase: "mfa.factor_not_enabled", ["factor": "WebAuthn"])
                }
                let challenge = SecureRandom.bytes(32)
                let options = try await ExperienceEngine(runtime: runtime)
                    .registrationOptions(for: signed.user, challenge: challenge, visit: signed.visit)
                var state = try await accountState(signed)
                let id = SecureRandom.identifier()
                state.updateMfa(for: signed.user.id) { mfa in
                    mfa.proofs.removeAll { $0.factor == .webAuthn }
                    mfa.proofs.append(.init(id: id, factor: .webAuthn, challenge: Base64URL.encode(challenge),
                                            isRegistration: true, createdAt: runtime.provider.now()))
                }
                try await saveState(state, signed)
                return ["verificationId": .string(id), "registrationOptions": options]
            }
        }
        router.post("account/passkeys/registration/verify") { request, context in
            try await json(request, context) { signed, body in
                var state = try await accountState(signed)
                let id = try ExperienceRoutes.string(body["verificationId"], "verificationId")
                let proof = try state.mfaProof(id, for: signed.user.id)
                guard let encoded = proof.challenge, let challenge = Base64URL.decode(encoded),
                      runtime.provider.now().timeIntervalSince(proof.createdAt)
                          <= ExperienceEngine.webAuthnChallengeLifetime
                else { throw IdentityError(.notFound, phrase: "experience.verification_not_found", ["id": id]) }
                // Single use, whatever the answer.
                state.updateMfa(for: signed.user.id) { $0.proofs.removeAll { $0.id == id } }
                try await saveState(state, signed)
                var credential: WebAuthnCredential
                do {
                    credential = try ExperienceEngine(runtime: runtime).relyingParty(signed.visit).verifyRegistration(
                        try ExperienceRoutes.payload(body), challenge: Array(challenge),
                        agent: request.headers[.userAgent])
                } catch let failure as WebAuthnRelyingParty.Failure {
                    throw ExperienceEngine.webAuthnError(failure)
                }
                credential.name = ExperienceEngine.passkeyName(agent: request.headers[.userAgent])
                try await runtime.mfa.store.insertMfaVerification(MfaVerification(
                    id: SecureRandom.identifier(), userID: signed.user.id, kind: .webAuthn(credential),
                    createdAt: runtime.provider.now()))
                audit("Mfa.Bind", signed, factor: .webAuthn)
                return nil
            }
        }
    }

    // MARK: Pages

    private func page(_ signed: Signed, notice: String? = nil, error: String? = nil,
                      status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let visit = signed.visit
        let settings = visit.settings.mfa
        let factors = try await runtime.mfa.store.mfaVerifications(userID: signed.user.id)
        let hasTotp = factors.contains { $0.factor == .totp }
        let rows = factors.map { factor -> [String: Any] in
            var row: [String: Any] = ["id": factor.id, "label": visit.t("accountFactor." + factor.factor.rawValue),
                                      "created": Self.date(factor.createdAt, visit),
                                      "lastUsed": factor.lastUsedAt.map { Self.date($0, visit) } ?? "—"]
            switch factor.kind {
            case .webAuthn(let credential):
                row["isPasskey"] = true
                row["name"] = credential.name ?? credential.agent.map { String($0.prefix(40)) } ?? ""
            case .backupCode(let codes):
                row["detail"] = visit.t.book.counted("pages", "accountCodesLeft", count: codes.filter { $0.usedAt == nil }.count)
            case .totp:
                break
            }
            return row
        }
        var model: [String: Any] = [
            "title": visit.t("accountTitle"), "name": signed.user.name ?? "",
            "identifier": signed.user.primaryEmail ?? signed.user.username ?? signed.user.primaryPhone ?? "",
            "hasPassword": signed.user.passwordHash != nil, "factors": rows, "hasFactors": !rows.isEmpty,
            "mfaOffered": !settings.factors.isEmpty,
            "canAddTotp": settings.factors.contains(.totp) && !hasTotp,
            "canAddPasskey": settings.factors.contains(.webAuthn),
            "canMakeBackupCodes": settings.factors.contains(.backupCode)
                && factors.contains { $0.factor != .backupCode },
            "isRecent": signed.isRecent, "passwordLabel": visit.t("newPassword"),
        ]
        model["notice"] = notice.map { visit.t("accountNotice." + $0) }
        model["error"] = error
        return visit.page(pages, "account", title: visit.t("accountTitle"), model: model, status: status)
    }

    private func totpPage(_ signed: Signed, error: String? = nil) async throws -> Response {
        do {
            try Self.checkOffered(.totp, signed)
            if try await runtime.mfa.factors(userID: signed.user.id).contains(.totp) {
                throw IdentityError(.totpAlreadyInUse, phrase: "mfa.totp_already_in_use")
            }
        } catch let refused as IdentityError {
            return try await page(signed, error: signed.visit.t.message(refused), status: .badRequest)
        }
        let pending = try await pendingOrNewTotp(signed)
        let uri = ExperienceEngine.totpURI(secret: pending.secret, user: signed.user, runtime: runtime)
        var errors: [String: String] = [:]
        errors["totpError"] = error
        return try MfaPageRoutes(runtime: runtime, pages: pages, cookies: cookies).setupPage(
            signed.visit, totp: (pending.id, pending.secret, uri), webAuthn: false, skippable: false, errors: errors,
            status: error == nil ? .ok : .badRequest, action: "/account/mfa/totp", back: "/account")
    }

    /// A factor can be set up here only while the settings offer it.
    static func checkOffered(_ factor: MfaFactor, _ signed: Signed) throws {
        guard signed.visit.settings.mfa.factors.contains(factor) else {
            throw IdentityError(.mfaFactorNotEnabled, phrase: "mfa.factor_not_enabled", ["factor": factor.rawValue])
        }
    }

    static func date(_ date: Date, _ visit: Visit) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: visit.t.language)
        formatter.dateStyle = .medium
        formatter.timeStyle = .short
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date) + " UTC"
    }

    // MARK: Password

    private func passwordChange(_ request: Request, _ context: SesameRequestContext) async throws -> Response {
        let form = try await request.formParameters()
        // A recent sign-in (with its second factor) as for factors: an old session and a leaked password are not
        // enough to lock the owner out.
        return try await withAccount(request, context, recent: true) { signed in
            try signed.visit.verifyCSRF(form)
            let visit = signed.visit
            let new = try form.single("newPassword") ?? ""
            do {
                if signed.user.passwordHash != nil {
                    let current = try form.single("currentPassword") ?? ""
                    // The sign-in form's counts: a guess here is a guess there.
                    let gate = PasswordAttemptGate(limiter: runtime.rateLimiter, scope: "sign-in",
                                                   accountRule: SignInRoutes.accountRule, ipRule: SignInRoutes.ipRule)
                    _ = try await gate.attempt(account: signed.user.id, ip: visit.clientIP) {
                        try await runtime.users.authenticate(signed.user, password: current,
                                                             cost: visit.settings.passwordPolicy.bcryptCost)
                    }
                }
                // The new password ends every session and token of the account, this one too.
                _ = try await runtime.users.changePassword(userID: signed.user.id, password: new,
                                                           policy: visit.settings.passwordPolicy)
            } catch let error as IdentityError {
                let status: HTTPResponse.Status = error.code == .tooManyAttempts ? .tooManyRequests : .badRequest
                let message = error.code == .invalidCredentials ? visit.t("accountWrongPassword") : visit.t.message(error)
                return try await page(signed, error: message, status: status)
            }
            runtime.audit.record(AuditEvent(key: "Account.Password.Update", userID: signed.user.id, ip: visit.clientIP,
                                            createdAt: runtime.provider.now()))
            return visit.page(pages, "message", title: visit.t("passwordChangedTitle"), model: [
                "title": visit.t("passwordChangedTitle"), "lead": visit.t("accountPasswordChanged"),
                "link": "/account", "linkText": visit.t("signIn"),
            ])
        }
    }

    // MARK: Plumbing

    /// Runs `body` for the signed-in person, or sends them to sign in (and back here). With `recent`, a sign-in
    /// older than `recentSignIn` sends them to sign in again first.
    private func withAccount(_ request: Request, _ context: SesameRequestContext, recent: Bool = false,
                             _ body: (Signed) async throws -> Response) async throws -> Response
    {
        let visit = try await Visit.load(request, context: context, runtime: runtime, jar: cookies)
        guard let session = try await runtime.provider.session(token: request.cookie(CookieJar.session)),
              let user = try await runtime.store.user(id: session.accountID), !user.isSuspended
        else {
            return Responses.redirect("/sign-in", cookies: visit.cookies + [cookies.set(CookieJar.returnTo, "/account",
                                                                                          maxAge: 3600)])
        }
        let signed = Signed(visit: visit, session: session, user: user,
                            isRecent: runtime.provider.now().timeIntervalSince(session.authTime) <= Self.recentSignIn)
        if recent, !signed.isRecent { return try signInAgain(signed) }
        return try await body(signed)
    }

    /// To sign in again: the sign-in page, then back to the account page.
    private func signInAgain(_ signed: Signed) throws -> Response {
        Responses.redirect("/sign-in", cookies: signed.visit.cookies + [cookies.set(CookieJar.returnTo, "/account",
                                                                                     maxAge: 3600)])
    }

    /// A form post: CSRF, then `change` (which returns the notice key); errors show on the account page (or
    /// `onError`'s page).
    private func form(_ request: Request, _ context: SesameRequestContext, recent: Bool,
                      _ change: (Signed, RequestParameters) async throws -> String,
                      onError: ((Signed, String) async throws -> Response)? = nil) async throws -> Response
    {
        let form = try await request.formParameters()
        return try await withAccount(request, context, recent: recent) { signed in
            try signed.visit.verifyCSRF(form)
            do {
                let notice = try await change(signed, form)
                return Responses.redirect("/account?notice=" + notice, cookies: signed.visit.cookies)
            } catch let error as IdentityError {
                if let onError { return try await onError(signed, signed.visit.t.message(error)) }
                let status: HTTPResponse.Status = switch error.code {
                case .notFound: .notFound
                case .mfaLastFactorRequired: .unprocessableContent
                default: .badRequest
                }
                return try await page(signed, error: signed.visit.t.message(error), status: status)
            }
        }
    }

    /// JSON from this origin (a browser's `Sec-Fetch-Site` must say so), for a recent sign-in.
    private func json(_ request: Request, _ context: SesameRequestContext,
                      _ body: (Signed, JSONValue) async throws -> JSONValue?) async throws -> Response
    {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin" {
            throw IdentityError.invalidInput(phrase: "input.json_content_type")
        }
        let parsed = try await request.jsonObject()
        let visit = try await Visit.load(request, context: context, runtime: runtime, jar: cookies)
        guard let session = try await runtime.provider.session(token: request.cookie(CookieJar.session)),
              let user = try await runtime.store.user(id: session.accountID), !user.isSuspended
        else { throw IdentityError(.notFound, phrase: "account.signed_out") }
        guard runtime.provider.now().timeIntervalSince(session.authTime) <= Self.recentSignIn else {
            throw IdentityError(.invalidInput, phrase: "account.sign_in_again")
        }
        let result = try await body(Signed(visit: visit, session: session, user: user, isRecent: true), parsed)
        guard let result else { return Response(status: .noContent, headers: [.cacheControl: "no-store"]) }
        return Responses.json(result, headers: [.cacheControl: "no-store"])
    }

    /// The account page's short-lived state (a TOTP secret being set up, a passkey challenge), kept like an
    /// experience under a key of the IdP session.
    static func stateKey(_ session: Session) -> String { SecretDigest.sha256Hex("account:" + session.id) }

    private func accountState(_ signed: Signed) async throws -> Experience {
        let now = runtime.provider.now()
        if let state = try await runtime.store.experience(id: Self.stateKey(signed.session), now: now) { return state }
        var fresh = Experience(event: .signIn, startedAt: now)
        fresh.identifiedUserID = signed.user.id
        return fresh
    }

    private func saveState(_ state: Experience, _ signed: Signed) async throws {
        try await runtime.store.saveExperience(state, id: Self.stateKey(signed.session),
                                               expiresAt: (state.startedAt ?? runtime.provider.now())
                                                   .addingTimeInterval(Experience.lifetime))
    }

    /// The TOTP secret being set up on this page (so a reload shows the same QR code), or a new one.
    private func pendingOrNewTotp(_ signed: Signed) async throws -> (id: String, secret: String) {
        if let pending = try await pendingTotp(signed) { return pending }
        var state = try await accountState(signed)
        let secret = MfaService.newTotpSecret()
        let sealed = try runtime.mfa.box.seal(Data(secret.utf8))
        let id = SecureRandom.identifier()
        let now = runtime.provider.now()
        state.updateMfa(for: signed.user.id) { mfa in
            mfa.proofs.removeAll { $0.factor == .totp }
            mfa.proofs.append(.init(id: id, factor: .totp, sealedSecret: sealed, isRegistration: true, createdAt: now))
        }
        try await saveState(state, signed)
        return (id, secret)
    }

    private func pendingTotp(_ signed: Signed) async throws -> (id: String, secret: String)? {
        let state = try await accountState(signed)
        guard let proof = state.mfaState(for: signed.user.id).proofs.last(where: { $0.factor == .totp }),
              let sealed = proof.sealedSecret
        else { return nil }
        let secret = try runtime.mfa.box.open(sealed, subject: "a TOTP secret being set up")
        return (proof.id, String(decoding: secret, as: UTF8.self))
    }

    private func audit(_ key: String, _ signed: Signed, factor: MfaFactor?) {
        var payload: [String: JSONValue] = ["via": "account"]
        if let factor { payload["factor"] = .string(factor.rawValue) }
        runtime.audit.record(AuditEvent(key: key, userID: signed.user.id, ip: signed.visit.clientIP,
                                        payload: .object(payload), createdAt: runtime.provider.now()))
    }
}
