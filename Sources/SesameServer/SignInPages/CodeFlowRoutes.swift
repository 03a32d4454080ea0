import Foundation
import HTTPTypes
import Hummingbird
import SesameConnectors
import SesameIdentity
import SesameOIDC
import SesameStorage
import Logging

/// The flows that prove an email address with a one-time code: sign in by code, create an account, and
/// recover a password. Each is two forms: the address, then the code (with a password where needed).
struct CodeFlowRoutes: Sendable {
    let runtime: SesameRuntime
    let pages: PageRenderer
    let cookies: CookieJar

    /// One flow: its paths, its usage type and what its second form asks for.
    enum Flow: String, CaseIterable, Sendable {
        case signIn = "sign-in/code"
        case register
        case forgotPassword = "forgot-password"

        var event: Experience.Event {
            switch self {
            case .signIn: .signIn
            case .register: .register
            case .forgotPassword: .forgotPassword
            }
        }

        var titleKey: String {
            switch self {
            case .signIn: "signInWithCode"
            case .register: "register"
            case .forgotPassword: "resetPassword"
            }
        }
    }

    func register(on router: Router<SesameRequestContext>) {
        for flow in Flow.allCases {
            router.get(RouterPath(flow.rawValue)) { request, context in
                let visit = try await visit(request, context)
                if flow == .register, Self.registersByUsername(visit.settings) {
                    return usernamePage(visit)
                }
                try check(flow, visit)
                return addressPage(flow, visit, identifier: visit.loginHint)
            }
            router.post(RouterPath(flow.rawValue + "/send")) { request, context in
                try await send(flow, request, context)
            }
            router.post(RouterPath(flow.rawValue + "/verify")) { request, context in
                try await verify(flow, request, context)
            }
        }
        router.post("register/username") { request, context in try await registerByUsername(request, context) }
        // After a code proved the address: register with it instead of signing in, or the other way round.
        router.post("sign-in/code/register") { request, context in try await switchAndFinish(.register, request, context) }
        router.post("register/sign-in") { request, context in try await switchAndFinish(.signIn, request, context) }
    }

    /// Sign-up by username (no address to verify): the registration page asks for a username and a password.
    static func registersByUsername(_ settings: SignInExperience) -> Bool {
        settings.signUp.identifiers.contains(.username) && !settings.signUp.identifiers.contains(.email)
    }

    func usernamePage(_ visit: Visit, username: String? = nil, name: String? = nil, usernameError: String? = nil,
                      passwordError: String? = nil, status: HTTPResponse.Status = .ok) -> Response
    {
        var model: [String: Any] = ["title": visit.t("register"), "lead": visit.t("haveAccount")]
        model["username"] = username
        model["name"] = name
        model["usernameError"] = usernameError
        model["passwordError"] = passwordError
        return visit.page(pages, "username-form", title: visit.t("register"), model: model, status: status)
    }

    /// The same steps as the Experience API: start, username, password, name, submit.
    private func registerByUsername(_ request: Request, _ context: SesameRequestContext) async throws -> Response {
        let form = try await request.formParameters()
        let visit = try await visit(request, context)
        try visit.verifyCSRF(form)
        guard Self.registersByUsername(visit.settings) else {
            throw OAuthError(.invalidRequest, visit.t("signUpOff"), status: 403)
        }
        let username = (try form.single("username") ?? "").trimmingCharacters(in: .whitespaces)
        let password = try form.single("newPassword") ?? ""
        let name = (try form.single("name")).flatMap { $0.trimmingCharacters(in: .whitespaces).nilIfEmpty }
        let engine = ExperienceEngine(runtime: runtime)
        let session = ExperienceSession(visit: visit, store: runtime.store)
        let outcome: ExperienceEngine.Outcome
        do {
            try await engine.start(.register, session)
            try await engine.setProfile(session, username: username)
        } catch let error as IdentityError {
            let (message, status): (String, HTTPResponse.Status) = switch error.code {
            case .conflict: (visit.t("usernameTaken"), .conflict)
            case .tooManyAttempts: (visit.t.message(error), .tooManyRequests)
            default: (visit.t("usernameRules"), .badRequest)
            }
            return usernamePage(visit, username: username, name: name, usernameError: message, status: status)
        }
        do {
            try await engine.setProfile(session, password: password, name: name)
            outcome = try await engine.submit(session)
        } catch let error as IdentityError where error.code != .conflict {
            return usernamePage(visit, username: username, name: name, passwordError: visit.t.message(error),
                                status: .badRequest)
        } catch let error as IdentityError {
            return usernamePage(visit, username: username, name: name, usernameError: visit.t.message(error),
                                status: .conflict)
        }
        return try await visit.conclude(outcome, request: request, pages: pages, jar: cookies)
    }

    private func visit(_ request: Request, _ context: SesameRequestContext) async throws -> Visit {
        try await Visit.load(request, context: context, runtime: runtime, jar: cookies)
    }

    /// The settings must allow the flow (the engine's rule, shown as a page).
    private func check(_ flow: Flow, _ visit: Visit) throws {
        do {
            try ExperienceEngine.checkAllowed(flow.event, .email, settings: visit.settings)
        } catch let error as IdentityError where error.code == .methodDisabled {
            throw OAuthError(.invalidRequest, visit.t(flow == .register ? "signUpOff" : "methodOff"), status: 403)
        }
    }

    func addressPage(_ flow: Flow, _ visit: Visit, identifier: String? = nil, error: String? = nil,
                     status: HTTPResponse.Status = .ok) -> Response
    {
        var model: [String: Any] = ["title": visit.t(flow.titleKey), "action": "/\(flow.rawValue)/send",
                                    "backLink": "/sign-in", "backText": visit.t("back")]
        // When codes come first, this page is the sign-in page: link to passwords and sign-up from it.
        if flow == .signIn, SignInRoutes.isCodeFirst(visit.settings) {
            model["backLink"] = "/sign-in?method=password"
            model["backText"] = visit.t("signInWithPassword")
            model["signUpLink"] = visit.settings.signUp.identifiers.contains(.email)
            if !visit.settings.signIn.methods.contains(where: \.password) { model["backLink"] = nil }
        }
        model["identifier"] = identifier
        model["error"] = error
        if flow == .register { model["lead"] = visit.t("haveAccount") }
        return visit.page(pages, "email-form", title: visit.t(flow.titleKey), model: model, status: status)
    }

    private func codePage(_ flow: Flow, _ visit: Visit, identifier: String, codeError: String? = nil,
                          passwordError: String? = nil, name: String? = nil, code: String? = nil,
                          status: HTTPResponse.Status = .ok) -> Response
    {
        let askPassword = flow == .forgotPassword || (flow == .register && visit.settings.signUp.password)
        var model: [String: Any] = [
            "title": visit.t(flow.titleKey), "identifier": identifier, "action": "/\(flow.rawValue)/verify",
            "resendAction": "/\(flow.rawValue)/send", "askPassword": askPassword, "askName": flow == .register,
            "passwordLabel": visit.t(flow == .forgotPassword ? "newPassword" : "password"),
        ]
        model["codeError"] = codeError
        model["passwordError"] = passwordError
        model["name"] = name
        // A refused password keeps the code that came with it: the same code works for the next try.
        model["code"] = passwordError == nil ? nil : code
        return visit.page(pages, "code-form", title: visit.t(flow.titleKey), model: model, status: status)
    }

    private func send(_ flow: Flow, _ request: Request, _ context: SesameRequestContext) async throws -> Response {
        let form = try await request.formParameters()
        let visit = try await visit(request, context)
        try visit.verifyCSRF(form)
        try check(flow, visit)
        let raw = try form.single("identifier") ?? ""
        guard let email = try? UserService.normalizeEmail(raw) else {
            return addressPage(flow, visit, identifier: raw, error: visit.t("invalidEmail"), status: .badRequest)
        }
        let engine = ExperienceEngine(runtime: runtime)
        let session = ExperienceSession(visit: visit, store: runtime.store)
        // A resend keeps the experience (its earlier code stays valid); another flow starts a new one.
        if try await session.current()?.event != flow.event { try await engine.start(flow.event, session) }
        // The code goes out whether or not an account uses the address: this answer is the same for both.
        do {
            _ = try await engine.sendCode(session, to: .init(type: .email, value: email))
        } catch let error as IdentityError where error.code == .tooManyAttempts {
            return codePage(flow, visit, identifier: email, codeError: visit.t.message(error), status: .tooManyRequests)
        } catch let error as ConnectorError {
            runtime.logger.error("could not send a verification code", metadata: ["reason": "\(error.code.rawValue)"])
            return addressPage(flow, visit, identifier: email, error: visit.t("sendFailed"), status: .badGateway)
        }
        return codePage(flow, visit, identifier: email)
    }

    private func verify(_ flow: Flow, _ request: Request, _ context: SesameRequestContext) async throws -> Response {
        let form = try await request.formParameters()
        let visit = try await visit(request, context)
        try visit.verifyCSRF(form)
        try check(flow, visit)
        guard let email = try? UserService.normalizeEmail(try form.single("identifier") ?? "") else {
            return addressPage(flow, visit, error: visit.t("invalidEmail"), status: .badRequest)
        }
        let code = try form.single("code") ?? ""
        let password = try form.single("newPassword")
        let name = try form.single("name")
        // Check the new password before spending the code, so a weak one can be fixed with the same code.
        if flow == .forgotPassword || (flow == .register && visit.settings.signUp.password) {
            do {
                try Self.checkNewPassword(password, email: email, name: name, visit.settings)
            } catch let error as IdentityError {
                return codePage(flow, visit, identifier: email, passwordError: visit.t.message(error), name: name,
                                code: code, status: .badRequest)
            }
        }
        let engine = ExperienceEngine(runtime: runtime)
        let session = ExperienceSession(visit: visit, store: runtime.store)
        // A code sent for another flow (a sign-in code on the recovery form) is not spent here.
        guard try await session.current()?.event == flow.event else {
            return codePage(flow, visit, identifier: email, codeError: visit.t("codeInvalid"), name: name,
                            status: .badRequest)
        }
        let outcome: ExperienceEngine.Outcome
        do {
            let verification = try await engine.verifyCode(session, id: nil, identifier: .init(type: .email, value: email),
                                                           code: code)
            try await engine.identify(session, verificationID: verification)
            switch flow {
            case .register: try await engine.setProfile(session, password: password, name: name)
            case .forgotPassword: try await engine.setNewPassword(session, password ?? "")
            case .signIn: break
            }
            outcome = try await engine.submit(session)
        } catch let error as IdentityError {
            switch error.code {
            // The code proved the address, so whether an account uses it may be said now, with the way on.
            case .emailAlreadyInUse:
                return choicePage(.signIn, visit, identifier: email)
            case .userNotExist where flow == .signIn && visit.settings.signUp.identifiers.contains(.email):
                return choicePage(.register, visit, identifier: email)
            case .userNotExist:
                return codePage(flow, visit, identifier: email, codeError: visit.t("noAccount"), status: .notFound)
            case .weakPassword:
                return codePage(flow, visit, identifier: email, passwordError: visit.t.message(error), name: name,
                                code: code, status: .badRequest)
            case .notFound:
                return codePage(flow, visit, identifier: email, codeError: visit.t("codeInvalid"), name: name,
                                status: .badRequest)
            case .suspended:
                return codePage(flow, visit, identifier: email, codeError: visit.t("suspended"), status: .badRequest)
            default:
                return codePage(flow, visit, identifier: email, codeError: visit.t.message(error), name: name,
                                status: error.code == .tooManyAttempts ? .tooManyRequests : .badRequest)
            }
        }
        switch outcome {
        case .signedIn, .needsMfa:
            return try await visit.conclude(outcome, request: request, pages: pages, jar: cookies)
        case .passwordReset:
            return visit.page(pages, "message", title: visit.t("resetPassword"), model: [
                "title": visit.t("resetPassword"), "lead": visit.t("passwordChanged"), "link": "/sign-in",
                "linkText": visit.t("signIn"),
            ])
        }
    }

    /// A new password from a form, against the policy and the person's own details; throws `weakPassword`.
    private static func checkNewPassword(_ password: String?, email: String, name: String?,
                                         _ settings: SignInExperience) throws
    {
        guard let password else { throw IdentityError(.weakPassword, phrase: "password.required") }
        try PasswordPolicyChecker(policy: settings.passwordPolicy).check(password, userInfo: [email, name].compactMap { $0 })
    }

    /// The page after a code proved an address: `.register` offers to create the account with it (asking for a
    /// password when sign-up requires one), `.signIn` offers to sign in with it, or, when codes may not sign in,
    /// points to the password form.
    private func choicePage(_ next: Experience.Event, _ visit: Visit, identifier: String, name: String? = nil,
                            passwordError: String? = nil, status: HTTPResponse.Status = .ok) -> Response
    {
        var model: [String: Any] = ["identifier": identifier]
        switch next {
        case .register:
            model["title"] = visit.t("register")
            model["lead"] = visit.t("noAccountYet")
            model["action"] = "/sign-in/code/register"
            model["buttonText"] = visit.t("createWithThis")
            model["askPassword"] = visit.settings.signUp.password
            model["askName"] = true
            model["focusPassword"] = true
        default:
            model["title"] = visit.t("signIn")
            model["lead"] = visit.t("accountExists")
            if visit.settings.method(for: .email)?.verificationCode == true {
                model["action"] = "/register/sign-in"
                model["buttonText"] = visit.t("signInInstead")
            } else {
                model["altLink"] = "/sign-in"
                model["altText"] = visit.t("codeFirstSignIn")
            }
        }
        model["name"] = name
        model["passwordError"] = passwordError
        return visit.page(pages, "verified-choice", title: model["title"] as? String ?? "", model: model,
                          status: status)
    }

    /// Finishes an experience whose code was verified for the address in the form, as `event` instead of the
    /// event it started as (Logto's interaction-event switch): no second code.
    private func switchAndFinish(_ event: Experience.Event, _ request: Request, _ context: SesameRequestContext)
        async throws -> Response
    {
        let form = try await request.formParameters()
        let visit = try await visit(request, context)
        try visit.verifyCSRF(form)
        do {
            try ExperienceEngine.checkAllowed(event, .email, settings: visit.settings)
        } catch let error as IdentityError where error.code == .methodDisabled {
            throw OAuthError(.invalidRequest, visit.t(event == .register ? "signUpOff" : "methodOff"), status: 403)
        }
        guard let email = try? UserService.normalizeEmail(try form.single("identifier") ?? "") else {
            return addressPage(.signIn, visit, error: visit.t("invalidEmail"), status: .badRequest)
        }
        let engine = ExperienceEngine(runtime: runtime)
        let session = ExperienceSession(visit: visit, store: runtime.store)
        let identifier = Experience.Identifier(type: .email, value: email)
        guard let experience = try await session.current(), experience.event != .forgotPassword,
              let verified = experience.verifications.last(where: {
                  $0.isVerified && $0.kind == .verificationCode && $0.identifier == identifier
              })
        else {
            let flow: Flow = event == .register ? .register : .signIn
            return addressPage(flow, visit, identifier: email, error: visit.t("codeInvalid"), status: .badRequest)
        }
        let password = try form.single("newPassword")
        let name = try form.single("name")
        let outcome: ExperienceEngine.Outcome
        do {
            try await engine.switchEvent(session, to: event)
            try await engine.identify(session, verificationID: verified.id)
            if event == .register {
                if visit.settings.signUp.password {
                    try Self.checkNewPassword(password, email: email, name: name, visit.settings)
                }
                try await engine.setProfile(session, password: password, name: name)
            }
            outcome = try await engine.submit(session)
        } catch let error as IdentityError where error.code == .weakPassword {
            return choicePage(.register, visit, identifier: email, name: name, passwordError: visit.t.message(error),
                              status: .badRequest)
        } catch let error as IdentityError where error.code == .suspended {
            return choicePage(event, visit, identifier: email, status: .forbidden)
        }
        return try await visit.conclude(outcome, request: request, pages: pages, jar: cookies)
    }
}
