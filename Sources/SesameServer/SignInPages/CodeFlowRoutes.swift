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

        var usage: UsageType {
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
                try check(flow, visit)
                return addressPage(flow, visit, identifier: visit.interaction?.request.loginHint)
            }
            router.post(RouterPath(flow.rawValue + "/send")) { request, context in
                try await send(flow, request, context)
            }
            router.post(RouterPath(flow.rawValue + "/verify")) { request, context in
                try await verify(flow, request, context)
            }
        }
    }

    private func visit(_ request: Request, _ context: SesameRequestContext) async throws -> Visit {
        try await Visit.load(request, context: context, runtime: runtime, jar: cookies)
    }

    /// The settings must allow the flow.
    private func check(_ flow: Flow, _ visit: Visit) throws {
        let settings = visit.settings
        let allowed = switch flow {
        case .signIn: settings.method(for: .email)?.verificationCode == true
        case .register: settings.signUp.identifiers.contains(.email)
        case .forgotPassword: settings.method(for: .email)?.password == true
        }
        guard allowed else {
            throw OAuthError(.invalidRequest, visit.t(flow == .register ? "signUpOff" : "methodOff"), status: 403)
        }
    }

    func addressPage(_ flow: Flow, _ visit: Visit, identifier: String? = nil, error: String? = nil,
                             offerRegistration: Bool = false, status: HTTPResponse.Status = .ok) -> Response
    {
        var model: [String: Any] = ["title": visit.t(flow.titleKey), "action": "/\(flow.rawValue)/send",
                                    "offerRegistration": offerRegistration]
        model["identifier"] = identifier
        model["error"] = error
        if flow == .register { model["lead"] = visit.t("haveAccount") }
        return visit.page(pages, "email-form", title: visit.t(flow.titleKey), model: model, status: status)
    }

    private func codePage(_ flow: Flow, _ visit: Visit, identifier: String, codeError: String? = nil,
                          passwordError: String? = nil, name: String? = nil, notice: String? = nil,
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
        model["notice"] = notice
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
        let existing = try await runtime.store.user(identifier: email)
        switch flow {
        case .signIn where existing == nil:
            // Logto offers to create the account when sign-up by email is on; otherwise say nothing useful.
            if visit.settings.signUp.identifiers.contains(.email) {
                return addressPage(flow, visit, identifier: email, error: visit.t("noAccount"), offerRegistration: true)
            }
            return codePage(flow, visit, identifier: email, notice: visit.t("neutralSent"))
        case .register where existing != nil:
            return addressPage(flow, visit, identifier: email, error: visit.t("emailTaken"), status: .conflict)
        case .forgotPassword where existing == nil:
            // Same page whether or not the address has an account.
            return codePage(flow, visit, identifier: email, notice: visit.t("neutralSent"))
        default:
            break
        }
        do {
            try await runtime.sendEmailCode(to: email, usage: flow.usage, ip: visit.clientIP, locale: visit.t.language)
        } catch let error as IdentityError where error.code == .tooManyAttempts {
            return codePage(flow, visit, identifier: email, codeError: error.message, status: .tooManyRequests)
        } catch let error as ConnectorError {
            runtime.logger.error("could not send a verification code", metadata: ["reason": "\(error.code.rawValue)"])
            return addressPage(flow, visit, identifier: email,
                               error: "The code could not be sent. Try again later.", status: .badGateway)
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
        let policy = visit.settings.passwordPolicy
        // Check the new password before spending the code, so a weak one can be fixed with the same code.
        if flow == .forgotPassword || (flow == .register && visit.settings.signUp.password) {
            do {
                guard let password else { throw IdentityError(.weakPassword, "enter a password") }
                try PasswordPolicyChecker(policy: policy).check(password, userInfo: [email, name].compactMap { $0 })
            } catch let error as IdentityError {
                return codePage(flow, visit, identifier: email, passwordError: error.message, name: name,
                                status: .badRequest)
            }
        }
        do {
            try await runtime.codes.verify(identifier: email, usage: flow.usage.rawValue, code: code)
        } catch let error as IdentityError {
            return codePage(flow, visit, identifier: email, codeError: error.message, name: name,
                            status: error.code == .tooManyAttempts ? .tooManyRequests : .badRequest)
        }
        switch flow {
        case .signIn:
            guard let user = try await runtime.store.user(identifier: email), !user.isSuspended else {
                return codePage(flow, visit, identifier: email, codeError: visit.t("wrongCredentials"), status: .badRequest)
            }
            return try await visit.finishSignIn(user, request: request, pages: pages, jar: cookies)
        case .register:
            let user: User
            do {
                user = try await runtime.users.create(.init(email: email, name: name, password: password), policy: policy)
            } catch let error as IdentityError where error.code == .conflict {
                return addressPage(flow, visit, identifier: email, error: visit.t("emailTaken"), status: .conflict)
            }
            return try await visit.finishSignIn(user, request: request, pages: pages, jar: cookies)
        case .forgotPassword:
            guard let user = try await runtime.store.user(identifier: email), let password else {
                return codePage(flow, visit, identifier: email, codeError: visit.t("wrongCredentials"), status: .badRequest)
            }
            try await runtime.users.setPassword(userID: user.id, password: password, cost: policy.bcryptCost)
            // A changed password ends every session and refresh token of the account.
            try await runtime.store.deleteSessions(accountID: user.id)
            try await runtime.store.deleteRefreshTokens(accountID: user.id)
            return visit.page(pages, "message", title: visit.t("resetPassword"), model: [
                "title": visit.t("resetPassword"), "lead": visit.t("passwordChanged"), "link": "/sign-in",
                "linkText": visit.t("signIn"),
            ])
        }
    }
}
