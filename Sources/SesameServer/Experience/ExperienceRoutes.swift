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

    static let lifetime: TimeInterval = 3600

    func register(on router: Router<SesameRequestContext>) {
        let api = router.group("api/experience")
        api.put("") { request, context in
            try await handle(request, context) { session, body in
                let event = try Self.event(body["interactionEvent"])
                try await session.save(Experience(event: event))
                return nil
            }
        }
        api.post("verification/verification-code") { request, context in
            try await handle(request, context) { session, body in
                var experience = try await session.load()
                let identifier = try Self.emailIdentifier(body["identifier"])
                let existing = try await runtime.store.user(identifier: identifier.value)
                // Codes go only where they can be used: no sign-in code to an unknown address, no
                // registration code to a taken one.
                if experience.event != .register, existing == nil {
                    throw IdentityError(.notFound, "no account uses this email address")
                }
                if experience.event == .register, existing != nil {
                    throw IdentityError(.conflict, "this email address already has an account")
                }
                try await runtime.sendEmailCode(to: identifier.value, usage: Self.usage(experience.event),
                                                ip: session.visit.clientIP, locale: session.visit.t.language)
                let id = SecureRandom.identifier()
                experience.addVerification(.init(id: id, kind: .verificationCode, identifier: identifier,
                                                 isVerified: false))
                try await session.save(experience)
                return ["verificationId": .string(id)]
            }
        }
        api.post("verification/verification-code/verify") { request, context in
            try await handle(request, context) { session, body in
                var experience = try await session.load()
                let id = try Self.string(body["verificationId"], "verificationId")
                let verification = try experience.verification(id)
                let identifier = try Self.emailIdentifier(body["identifier"])
                guard verification.identifier == identifier else {
                    throw IdentityError.invalidInput("the identifier differs from the one the code was sent to")
                }
                try await runtime.codes.verify(identifier: identifier.value, usage: Self.usage(experience.event).rawValue,
                                               code: try Self.string(body["code"], "code"))
                try experience.markVerified(id)
                try await session.save(experience)
                return ["verificationId": .string(id)]
            }
        }
        api.post("verification/password") { request, context in
            try await handle(request, context) { session, body in
                var experience = try await session.load()
                guard experience.event == .signIn else {
                    throw IdentityError.invalidInput("passwords verify sign-in only")
                }
                let identifier = try Self.identifier(body["identifier"])
                guard session.visit.settings.method(for: identifier.type)?.password == true else {
                    throw IdentityError.invalidInput("signing in by \(identifier.type.rawValue) and password is off")
                }
                let user = try await passwordCheck(identifier.value, try Self.string(body["password"], "password"),
                                                   ip: session.visit.clientIP)
                let id = SecureRandom.identifier()
                experience.addVerification(.init(id: id, kind: .password, identifier: identifier, isVerified: true,
                                                 userID: user.id))
                try await session.save(experience)
                return ["verificationId": .string(id)]
            }
        }
        api.post("identification") { request, context in
            try await handle(request, context) { session, body in
                var experience = try await session.load()
                let id = try Self.string(body["verificationId"], "verificationId")
                let verification = try experience.verification(id)
                let existing = try await runtime.store.user(identifier: verification.identifier.value)
                try experience.identify(verificationID: id, existingUserID: existing?.id)
                try await session.save(experience)
                return nil
            }
        }
        api.post("profile") { request, context in
            try await handle(request, context) { session, body in
                var experience = try await session.load()
                guard experience.event == .register else {
                    throw IdentityError.invalidInput("the profile is filled during registration")
                }
                let value = try Self.string(body["value"], "value")
                switch body["type"]?.stringValue {
                case "password":
                    let policy = session.visit.settings.passwordPolicy
                    try PasswordPolicyChecker(policy: policy).check(
                        value, userInfo: [experience.newIdentifier?.value, experience.name].compactMap { $0 })
                    experience.passwordHash = try await PasswordHasher(cost: UInt8(clamping: policy.bcryptCost)).hash(value)
                case "name":
                    experience.name = value
                default:
                    throw IdentityError.invalidInput("type must be password or name")
                }
                try await session.save(experience)
                return nil
            }
        }
        api.put("profile/password") { request, context in
            try await handle(request, context) { session, body in
                var experience = try await session.load()
                guard experience.event == .forgotPassword, let userID = experience.identifiedUserID else {
                    throw IdentityError.invalidInput("identify the user of a ForgotPassword experience first")
                }
                let password = try Self.string(body["password"], "password")
                let user = try await runtime.store.user(id: userID)
                let policy = session.visit.settings.passwordPolicy
                try PasswordPolicyChecker(policy: policy).check(
                    password, userInfo: [user?.primaryEmail, user?.username, user?.name].compactMap { $0 })
                experience.passwordHash = try await PasswordHasher(cost: UInt8(clamping: policy.bcryptCost)).hash(password)
                try await session.save(experience)
                return nil
            }
        }
        api.post("submit") { request, context in
            let visit = try await Visit.load(request, context: context, runtime: runtime, jar: cookies)
            let session = ExperienceSession(visit: visit, store: runtime.store)
            let experience = try await session.load()
            let settings = visit.settings
            let userID: String
            switch try experience.submission(passwordRequired: settings.signUp.password) {
            case .signIn(let id):
                userID = id
            case .register(let identifier):
                guard settings.signUp.identifiers.contains(identifier.type) else {
                    throw IdentityError.invalidInput("sign-up by \(identifier.type.rawValue) is off")
                }
                var user = try await runtime.users.create(.init(email: identifier.value, name: experience.name))
                user.passwordHash = experience.passwordHash
                try await runtime.store.updateUser(user)
                userID = user.id
            case .resetPassword(let id, let hash):
                guard var user = try await runtime.store.user(id: id) else { throw IdentityError(.notFound, "no such user") }
                user.passwordHash = hash
                user.updatedAt = runtime.provider.now()
                try await runtime.store.updateUser(user)
                try await runtime.store.deleteSessions(accountID: id)
                try await runtime.store.deleteRefreshTokens(accountID: id)
                try await session.delete()
                return Response(status: .noContent, headers: Self.cookieHeaders(visit.cookies))
            }
            guard let user = try await runtime.store.user(id: userID), !user.isSuspended else {
                throw IdentityError(.suspended, "this account is suspended")
            }
            let finished = try await visit.finishSignIn(user, request: request, pages: pages, jar: cookies)
            try await session.delete()
            let redirectTo = visit.interactionToken != nil
                ? runtime.configuration.endpoint + "/oidc/auth/resume" : runtime.configuration.endpoint + "/sign-in"
            var headers = HTTPFields()
            headers[.cacheControl] = "no-store"
            for cookie in visit.cookies + finished.headers[values: .setCookie] {
                headers.append(HTTPField(name: .setCookie, value: cookie))
            }
            return Responses.json(["redirectTo": .string(redirectTo)], headers: headers)
        }
    }

    /// Parses the JSON body, loads the visit, runs the step, and answers 200 with JSON or 204.
    private func handle(_ request: Request, _ context: SesameRequestContext,
                        _ step: (ExperienceSession, JSONValue) async throws -> JSONValue?) async throws -> Response
    {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw IdentityError.invalidInput("send a JSON body with Content-Type: application/json")
        }
        let bytes = try await request.bodyBytes()
        guard let body = try? JSONValue.decode(Data(bytes.readableBytesView)), body.objectValue != nil else {
            throw IdentityError.invalidInput("the body must be a JSON object")
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

    /// Password verification with the same per-account and per-IP limits as the sign-in page.
    private func passwordCheck(_ identifier: String, _ password: String, ip: String) async throws -> User {
        let limiter = runtime.rateLimiter
        let accountKey = "sign-in:account:" + SecretDigest.sha256Hex(identifier.lowercased())
        let ipKey = "sign-in:ip:" + ip
        let accountLimited = try await limiter.isLimited(accountKey, rule: SignInRoutes.accountRule)
        let ipLimited = try await limiter.isLimited(ipKey, rule: SignInRoutes.ipRule)
        guard !accountLimited, !ipLimited else {
            throw IdentityError(.tooManyAttempts, "too many failed attempts; wait 15 minutes")
        }
        do {
            let user = try await runtime.users.authenticate(identifier: identifier, password: password)
            try await limiter.reset(accountKey)
            return user
        } catch let error as IdentityError where error.code == .invalidCredentials {
            try await limiter.record(accountKey, rule: SignInRoutes.accountRule)
            try await limiter.record(ipKey, rule: SignInRoutes.ipRule)
            throw error
        }
    }

    static func event(_ value: JSONValue?) throws -> Experience.Event {
        guard let raw = value?.stringValue, let event = Experience.Event(rawValue: raw) else {
            throw IdentityError.invalidInput("interactionEvent must be SignIn, Register or ForgotPassword")
        }
        return event
    }

    static func usage(_ event: Experience.Event) -> UsageType {
        switch event {
        case .signIn: .signIn
        case .register: .register
        case .forgotPassword: .forgotPassword
        }
    }

    static func string(_ value: JSONValue?, _ name: String) throws -> String {
        guard let string = value?.stringValue, !string.isEmpty else { throw IdentityError.invalidInput("'\(name)' is required") }
        return string
    }

    static func identifier(_ value: JSONValue?) throws -> Experience.Identifier {
        guard let raw = value?["type"]?.stringValue, let type = SignInExperience.Identifier(rawValue: raw) else {
            throw IdentityError.invalidInput("identifier.type must be email, phone or username")
        }
        let text = try string(value?["value"], "identifier.value")
        return Experience.Identifier(type: type, value: type == .email ? try UserService.normalizeEmail(text) : text)
    }

    static func emailIdentifier(_ value: JSONValue?) throws -> Experience.Identifier {
        let identifier = try identifier(value)
        guard identifier.type == .email else {
            throw IdentityError.invalidInput("verification codes are sent to email addresses (no SMS connector yet)")
        }
        return identifier
    }
}

/// One browser's experience state, keyed by the digest of its interaction (or form) cookie.
struct ExperienceSession: Sendable {
    let visit: Visit
    let store: SQLStore

    var key: String { SecretDigest.sha256Hex("experience:" + visit.binding) }

    func load() async throws -> Experience {
        guard let experience = try await store.experience(id: key) else {
            throw IdentityError(.notFound, "no experience in progress: start one with PUT /api/experience")
        }
        return experience
    }

    func save(_ experience: Experience) async throws {
        try await store.saveExperience(experience, id: key,
                                       expiresAt: visit.runtime.provider.now().addingTimeInterval(ExperienceRoutes.lifetime))
    }

    func delete() async throws {
        try await store.deleteExperience(id: key)
    }
}
