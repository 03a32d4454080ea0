import Foundation
import HTTPTypes
import Hummingbird
import SesameConnectors
import SesameIdentity
import SesameOIDC
import SesameStorage

/// The Experience API (`/api/experience`), following Logto's: a custom sign-in UI starts an experience,
/// collects verifications (a password, an email code), identifies the user, fills the profile and submits.
/// It uses the same codes, password checks, limits and session completion as the hosted pages, and is
/// bound to the same browser cookie. JSON only: a cross-site form cannot send it.
struct ExperienceRoutes: Sendable {
    let runtime: SesameRuntime
    let pages: PageRenderer
    let cookies: CookieJar

    var engine: ExperienceEngine { ExperienceEngine(runtime: runtime) }

    func register(on router: Router<SesameRequestContext>) {
        let api = router.group("api/experience")
        api.put("") { request, context in
            try await handle(request, context) { session, body in
                try await engine.start(try Self.event(body["interactionEvent"]), session)
                return nil
            }
        }
        api.put("interaction-event") { request, context in
            try await handle(request, context) { session, body in
                try await engine.switchEvent(session, to: try Self.event(body["interactionEvent"]))
                return nil
            }
        }
        api.post("verification/verification-code") { request, context in
            try await handle(request, context) { session, body in
                let id = try await engine.sendCode(session, to: try Self.identifier(body["identifier"]))
                return ["verificationId": .string(id)]
            }
        }
        api.post("verification/verification-code/verify") { request, context in
            try await handle(request, context) { session, body in
                let id = try await engine.verifyCode(
                    session, id: try Self.string(body["verificationId"], "verificationId"),
                    identifier: try Self.identifier(body["identifier"]), code: try Self.string(body["code"], "code"))
                return ["verificationId": .string(id)]
            }
        }
        api.post("verification/password") { request, context in
            try await handle(request, context) { session, body in
                let id = try await engine.verifyPassword(session, identifier: try Self.identifier(body["identifier"]),
                                                         password: try Self.string(body["password"], "password"))
                return ["verificationId": .string(id)]
            }
        }
        api.post("identification") { request, context in
            try await handle(request, context) { session, body in
                try await engine.identify(session, verificationID: try Self.string(body["verificationId"], "verificationId"))
                return nil
            }
        }
        api.post("profile") { request, context in
            try await handle(request, context) { session, body in
                let value = try Self.string(body["value"], "value")
                switch body["type"]?.stringValue {
                case "username": try await engine.setProfile(session, username: value)
                case "password": try await engine.setProfile(session, password: value)
                case "name": try await engine.setProfile(session, name: value)
                default:
                    throw IdentityError.invalidInput(phrase: "input.one_of",
                                                     ["field": "type", "values": "username, password, name"])
                }
                return nil
            }
        }
        api.put("profile/password") { request, context in
            try await handle(request, context) { session, body in
                try await engine.setNewPassword(session, try Self.string(body["password"], "password"))
                return nil
            }
        }
        registerMfa(on: api)
        api.post("submit") { request, context in
            let visit = try await Visit.load(request, context: context, runtime: runtime, jar: cookies)
            switch try await engine.submit(ExperienceSession(visit: visit, store: runtime.store)) {
            case .passwordReset:
                return Response(status: .noContent, headers: Self.cookieHeaders(visit.cookies))
            case .needsMfa(let step):
                throw step.error
            case .signedIn(let user, let amr):
                let finished = try await visit.finishSignIn(user, amr: amr, request: request, pages: pages,
                                                            jar: cookies)
                let redirectTo = runtime.configuration.endpoint
                    + (visit.interactionToken != nil ? "/oidc/auth/resume" : "/sign-in")
                let headers = Self.cookieHeaders(visit.cookies + finished.headers[values: .setCookie])
                return Responses.json(["redirectTo": .string(redirectTo)], headers: headers)
            }
        }
    }

    /// Logto's MFA routes (`../design/logto-reference.md` §3): verify a factor the user has, or set one up and
    /// bind it with `profile/mfa`, or skip.
    private func registerMfa(on api: RouterGroup<SesameRequestContext>) {
        api.post("verification/totp/secret") { request, context in
            try await handle(request, context) { session, _ in
                let (id, secret, uri) = try await engine.createTotpSecret(session)
                return ["verificationId": .string(id), "secret": .string(secret),
                        "secretQrCode": .string(try Self.qrDataURL(uri))]
            }
        }
        api.post("verification/totp/verify") { request, context in
            try await handle(request, context) { session, body in
                let id = try await engine.verifyTotp(session, code: try Self.string(body["code"], "code"),
                                                     verificationID: try Self.optionalString(body["verificationId"]))
                return ["verificationId": .string(id)]
            }
        }
        api.post("verification/backup-code/generate") { request, context in
            try await handle(request, context) { session, _ in
                let (id, codes) = try await engine.generateBackupCodes(session)
                return ["verificationId": .string(id), "codes": .array(codes.map { .string($0) })]
            }
        }
        api.post("verification/backup-code/verify") { request, context in
            try await handle(request, context) { session, body in
                let id = try await engine.verifyBackupCode(session, code: try Self.string(body["code"], "code"))
                return ["verificationId": .string(id)]
            }
        }
        api.post("verification/web-authn/registration") { request, context in
            try await handle(request, context) { session, _ in
                let (id, options) = try await engine.webAuthnRegistration(session)
                return ["verificationId": .string(id), "registrationOptions": options]
            }
        }
        api.post("verification/web-authn/registration/verify") { request, context in
            try await handle(request, context) { session, body in
                let id = try await engine.verifyWebAuthnRegistration(
                    session, verificationID: try Self.string(body["verificationId"], "verificationId"),
                    payload: try Self.payload(body), agent: request.headers[.userAgent])
                return ["verificationId": .string(id)]
            }
        }
        api.post("verification/web-authn/authentication") { request, context in
            try await handle(request, context) { session, _ in
                let (id, options) = try await engine.webAuthnAuthentication(session)
                return ["verificationId": .string(id), "authenticationOptions": options]
            }
        }
        api.post("verification/web-authn/authentication/verify") { request, context in
            try await handle(request, context) { session, body in
                let id = try await engine.verifyWebAuthnAuthentication(
                    session, verificationID: try Self.string(body["verificationId"], "verificationId"),
                    payload: try Self.payload(body))
                return ["verificationId": .string(id)]
            }
        }
        // Passkeys as the first factor (Logto's sign-in-passkey verification): identification and submit follow.
        api.post("verification/sign-in-passkey/authentication") { request, context in
            try await handle(request, context) { session, _ in
                let (id, options) = try await engine.passkeySignInOptions(session)
                return ["verificationId": .string(id), "authenticationOptions": options]
            }
        }
        api.post("verification/sign-in-passkey/authentication/verify") { request, context in
            try await handle(request, context) { session, body in
                let id = try await engine.verifyPasskeySignIn(
                    session, verificationID: try Self.string(body["verificationId"], "verificationId"),
                    payload: try Self.payload(body))
                return ["verificationId": .string(id)]
            }
        }
        api.post("profile/mfa") { request, context in
            try await handle(request, context) { session, body in
                guard let raw = body["type"]?.stringValue, let factor = MfaFactor(rawValue: raw) else {
                    throw IdentityError.invalidInput(phrase: "input.one_of",
                                                     ["field": "type", "values": "Totp, WebAuthn, BackupCode"])
                }
                try await engine.bindMfa(session, factor: factor,
                                         verificationID: try Self.string(body["verificationId"], "verificationId"))
                return nil
            }
        }
        api.post("profile/mfa/mfa-skipped") { request, context in
            try await handle(request, context) { session, _ in
                try await engine.skipMfa(session)
                return nil
            }
        }
    }

    /// An `otpauth://` URI as a QR code in an SVG data URL (Logto answers a PNG data URL; both go in an `img`).
    static func qrDataURL(_ uri: String) throws -> String {
        let svg = try QRCode(uri).svg(scale: 4)
        return "data:image/svg+xml;base64," + Data(svg.utf8).base64EncodedString()
    }

    /// The WebAuthn credential a browser returned (`payload`, a JSON object).
    static func payload(_ body: JSONValue) throws -> JSONValue {
        guard let payload = body["payload"], payload.objectValue != nil else {
            throw IdentityError.invalidInput(phrase: "input.required", ["field": "payload"])
        }
        return payload
    }

    static func optionalString(_ value: JSONValue?) throws -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text.isEmpty ? nil : text
        default: throw IdentityError.invalidInput(phrase: "input.required", ["field": "verificationId"])
        }
    }

    /// Parses the JSON body, loads the visit, runs the step, and answers 200 with JSON or 204.
    private func handle(_ request: Request, _ context: SesameRequestContext,
                        _ step: (ExperienceSession, JSONValue) async throws -> JSONValue?) async throws -> Response
    {
        // Steps without parameters may come without a body, as Logto's own UI sends them.
        var body: JSONValue = [:]
        let hasBody = request.headers[.contentType] != nil ? true : try await request.bodyBytes().readableBytes > 0
        if hasBody {
            body = try await request.jsonObject()
        } else if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
            // Without a JSON body a cross-site form could send it: a browser's request must come from this origin.
            throw IdentityError.invalidInput(phrase: "input.json_content_type")
        }
        let visit = try await Visit.load(request, context: context, runtime: runtime, jar: cookies)
        let result = try await step(ExperienceSession(visit: visit, store: runtime.store), body)
        let headers = Self.cookieHeaders(visit.cookies)
        guard let result else { return Response(status: .noContent, headers: headers) }
        return Responses.json(result, headers: headers)
    }

    private static func cookieHeaders(_ cookies: [String]) -> HTTPFields {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return headers
    }

    static func event(_ value: JSONValue?) throws -> Experience.Event {
        guard let raw = value?.stringValue, let event = Experience.Event(rawValue: raw) else {
            throw IdentityError.invalidInput(phrase: "input.one_of", [
                "field": "interactionEvent", "values": "SignIn, Register, ForgotPassword",
            ])
        }
        return event
    }

    static func string(_ value: JSONValue?, _ name: String) throws -> String {
        guard let string = value?.stringValue, !string.isEmpty else {
            throw IdentityError.invalidInput(phrase: "input.required", ["field": name])
        }
        return string
    }

    static func identifier(_ value: JSONValue?) throws -> Experience.Identifier {
        guard let raw = value?["type"]?.stringValue, let type = SignInExperience.Identifier(rawValue: raw) else {
            throw IdentityError.invalidInput(phrase: "input.one_of",
                                             ["field": "identifier.type", "values": "email, phone, username"])
        }
        let text = try string(value?["value"], "identifier.value")
        return Experience.Identifier(type: type, value: type == .email ? try UserService.normalizeEmail(text) : text)
    }
}

/// One browser's experience state, keyed by the digest of its interaction (or form) cookie.
struct ExperienceSession: Sendable {
    let visit: Visit
    let store: SQLStore

    var key: String { SecretDigest.sha256Hex("experience:" + visit.binding) }

    /// The experience in progress, if any.
    func current() async throws -> Experience? {
        try await store.experience(id: key, now: visit.runtime.provider.now())
    }

    func load() async throws -> Experience {
        guard let experience = try await store.experience(id: key, now: visit.runtime.provider.now()) else {
            throw IdentityError(.notFound, phrase: "experience.not_started")
        }
        return experience
    }

    /// Saves the experience until `Experience.lifetime` after it started: saving it again never extends it.
    func save(_ experience: Experience) async throws {
        let started = experience.startedAt ?? visit.runtime.provider.now()
        try await store.saveExperience(experience, id: key, expiresAt: started.addingTimeInterval(Experience.lifetime))
    }

    func delete() async throws {
        try await store.deleteExperience(id: key)
    }
}
