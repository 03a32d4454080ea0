import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameServer
import Testing

/// The end-user flows with one-time email codes, over real HTTP, reading codes from the dev mailbox.
@Suite("Sign-in experience flows")
struct ExperienceFlowTests {
    /// Starts an authorization request for the web app, so the flows resume it.
    static func startAuthorization(_ fixture: Fixture, _ browser: Browser, verifier: String,
                                   locales: String? = nil) async throws
    {
        var query: [(String, String)] = [
            ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
            ("scope", "openid email profile"), ("code_challenge", PKCE.challenge(for: verifier)),
            ("code_challenge_method", "S256"),
        ]
        if let locales { query.append(("ui_locales", locales)) }
        let response = try await browser.get("/oidc/auth?" + RequestParameters.encode(query))
        #expect(response.location == "/sign-in")
    }

    static func latestCode(_ browser: Browser, to address: String) async throws -> (code: String, usage: String) {
        let messages = try await browser.get("/dev/mailbox").json.arrayValue ?? []
        let message = try #require(messages.last { $0["to"]?.stringValue == address })
        return (try #require(message["code"]?.stringValue), message["usageType"]?.stringValue ?? "")
    }

    /// Follows resume to the client and exchanges the code; returns the ID token's claims.
    static func finish(_ fixture: Fixture, _ browser: Browser, _ response: Reply, verifier: String) async throws
        -> JSONValue
    {
        #expect(response.location == "/oidc/auth/resume")
        let resumed = try await browser.get("/oidc/auth/resume")
        let code = try #require(resumed.redirectQuery["code"])
        let tokens = try await CodeFlowTests.exchange(fixture, browser, .init(code: code, verifier: verifier))
        return try await CodeFlowTests.verify(try #require(tokens.json["id_token"]?.stringValue), browser).claims
    }

    @Test func signInWithAnEmailCode() async throws {
        try await Fixture.withServer { fixture, browser in
            let verifier = SecureRandom.token(bytes: 48)
            try await Self.startAuthorization(fixture, browser, verifier: verifier)
            let signIn = try await browser.get("/sign-in")
            #expect(signIn.text.contains(#"href="/sign-in/code""#))
            let page = try await browser.get("/sign-in/code")
            let csrf = try #require(page.csrfToken)
            #expect(page.text.contains(#"type="email" id="identifier" name="identifier""#))
            let sent = try await browser.post("/sign-in/code/send", form: [("csrf_token", csrf), ("identifier", "ALICE@example.com")])
            #expect(sent.status == .ok)
            #expect(sent.text.contains(#"autocomplete="one-time-code""#))
            #expect(sent.text.contains(#"name="code""#))
            let (code, usage) = try await Self.latestCode(browser, to: "alice@example.com")
            #expect(usage == "SignIn")
            #expect(code.count == 6 && code.allSatisfy(\.isNumber))
            let verified = try await browser.post("/sign-in/code/verify", form: [
                ("csrf_token", csrf), ("identifier", "alice@example.com"), ("code", code),
            ])
            let claims = try await Self.finish(fixture, browser, verified, verifier: verifier)
            #expect(claims["email"] == "alice@example.com")
            #expect(claims["sub"]?.stringValue == fixture.user.id)
            // A replayed form cannot use the code again.
            let replay = try await browser.post("/sign-in/code/verify", form: [
                ("csrf_token", csrf), ("identifier", "alice@example.com"), ("code", code),
            ])
            #expect(replay.status == .forbidden || replay.status == .badRequest)
        }
    }

    @Test func registerThenSignInToTheApp() async throws {
        try await Fixture.withServer { fixture, browser in
            let verifier = SecureRandom.token(bytes: 48)
            try await Self.startAuthorization(fixture, browser, verifier: verifier)
            let page = try await browser.get("/register")
            let csrf = try #require(page.csrfToken)
            // A taken address gets the same page as a new one; it is told apart only after its code.
            let taken = try await browser.post("/register/send", form: [("csrf_token", csrf), ("identifier", "alice@example.com")])
            #expect(taken.status == .ok)
            #expect(!taken.text.contains("already"))
            let sent = try await browser.post("/register/send", form: [("csrf_token", csrf), ("identifier", "bob@example.com")])
            #expect(sent.status == .ok)
            #expect(sent.text.contains(#"autocomplete="new-password""#))
            let (code, usage) = try await Self.latestCode(browser, to: "bob@example.com")
            #expect(usage == "Register")
            // The user does not exist until the code is verified.
            #expect(try await fixture.runtime.users.store.user(identifier: "bob@example.com") == nil)
            let weak = try await browser.post("/register/verify", form: [
                ("csrf_token", csrf), ("identifier", "bob@example.com"), ("code", code), ("newPassword", "password123"),
            ])
            #expect(weak.status == .badRequest)
            #expect(weak.text.contains("too common"))
            let containsEmail = try await browser.post("/register/verify", form: [
                ("csrf_token", csrf), ("identifier", "bob@example.com"), ("code", code), ("newPassword", "bob-is-great-42"),
            ])
            #expect(containsEmail.text.contains("must not contain"))
            let created = try await browser.post("/register/verify", form: [
                ("csrf_token", csrf), ("identifier", "bob@example.com"), ("code", code),
                ("newPassword", "Tr0ub4dor&3-horse"), ("name", "Bob Builder"),
            ])
            let claims = try await Self.finish(fixture, browser, created, verifier: verifier)
            #expect(claims["email"] == "bob@example.com")
            #expect(claims["name"] == "Bob Builder")
            // The new password works on the password form.
            let other = Browser(client: browser.client)
            let form = try await other.get("/sign-in")
            let signedIn = try await other.post("/sign-in", form: [
                ("csrf_token", try #require(form.csrfToken)), ("identifier", "bob@example.com"),
                ("password", "Tr0ub4dor&3-horse"),
            ])
            #expect(signedIn.status == .ok)
        }
    }

    @Test func forgotPasswordResetsAndEndsSessions() async throws {
        try await Fixture.withServer { fixture, browser in
            // Alice has a session and a refresh token.
            let authorization = try await CodeFlowTests.signIn(fixture, browser)
            let refreshToken = try #require(
                try await CodeFlowTests.exchange(fixture, browser, authorization).json["refresh_token"]?.stringValue)
            let recovery = Browser(client: browser.client)
            let page = try await recovery.get("/forgot-password")
            let csrf = try #require(page.csrfToken)
            let unknown = try await recovery.post("/forgot-password/send", form: [("csrf_token", csrf), ("identifier", "nobody@example.com")])
            #expect(unknown.status == .ok)  // the same page as for a known address, and a code
            let (nobodyCode, _) = try await Self.latestCode(recovery, to: "nobody@example.com")
            let noAccount = try await recovery.post("/forgot-password/verify", form: [
                ("csrf_token", csrf), ("identifier", "nobody@example.com"), ("code", nobodyCode),
                ("newPassword", "N3w-Secret-Phrase!"),
            ])
            #expect(noAccount.status == .notFound)
            #expect(noAccount.text.contains("No account uses this address"))
            _ = try await recovery.post("/forgot-password/send", form: [("csrf_token", csrf), ("identifier", "alice@example.com")])
            let (code, usage) = try await Self.latestCode(recovery, to: "alice@example.com")
            #expect(usage == "ForgotPassword")
            let reset = try await recovery.post("/forgot-password/verify", form: [
                ("csrf_token", csrf), ("identifier", "alice@example.com"), ("code", code), ("newPassword", "N3w-Secret-Phrase!"),
            ])
            #expect(reset.status == .ok)
            #expect(reset.text.contains("password was changed"))
            let refresh = try await browser.post("/oidc/token", form: [
                ("grant_type", "refresh_token"), ("refresh_token", refreshToken),
            ], headers: [.authorization: basicAuthorization(fixture.webApp.client.id, fixture.webSecret)])
            #expect(refresh.json["error"] == "invalid_grant")
            // The old session is gone: authorizing shows the form again.
            let again = try await browser.get("/oidc/auth?" + RequestParameters.encode([
                ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
                ("scope", "openid"),
            ]))
            #expect(again.location == "/sign-in")
            let old = try await recovery.post("/sign-in", form: [
                ("csrf_token", csrf), ("identifier", "alice"), ("password", Fixture.password),
            ])
            #expect(old.status == .unauthorized)
        }
    }

    @Test func wrongExpiredReusedAndCrossUsageCodesAreRefused() async throws {
        try await Fixture.withServer { fixture, browser in
            let page = try await browser.get("/sign-in/code")
            let csrf = try #require(page.csrfToken)
            _ = try await browser.post("/sign-in/code/send", form: [("csrf_token", csrf), ("identifier", "alice@example.com")])
            let (code, _) = try await Self.latestCode(browser, to: "alice@example.com")
            // A resend inside the cooldown is refused.
            let resend = try await browser.post("/sign-in/code/send", form: [("csrf_token", csrf), ("identifier", "alice@example.com")])
            #expect(resend.status == .tooManyRequests)
            #expect(resend.text.contains("Wait"))
            // A SignIn code does not reset a password.
            let crossUsage = try await browser.post("/forgot-password/verify", form: [
                ("csrf_token", csrf), ("identifier", "alice@example.com"), ("code", code), ("newPassword", "N3w-Secret-Phrase!"),
            ])
            #expect(crossUsage.status == .badRequest)
            let wrong = String(format: "%06d", (Int(code)! + 1) % 1_000_000)
            for attempt in 1...10 {
                let response = try await browser.post("/sign-in/code/verify", form: [
                    ("csrf_token", csrf), ("identifier", "alice@example.com"), ("code", wrong),
                ])
                #expect(response.status == (attempt < 10 ? .badRequest : .tooManyRequests))
            }
            // The 11th try fails even with the right code.
            let eleventh = try await browser.post("/sign-in/code/verify", form: [
                ("csrf_token", csrf), ("identifier", "alice@example.com"), ("code", code),
            ])
            #expect(eleventh.status == .tooManyRequests)
            #expect(browser.cookies["_sesame_session"] == nil)
            let noCSRF = try await browser.post("/sign-in/code/send", form: [("identifier", "alice@example.com")])
            #expect(noCSRF.status == .forbidden)
            let badEmail = try await browser.post("/sign-in/code/send", form: [("csrf_token", csrf), ("identifier", "not-an-email")])
            #expect(badEmail.status == .badRequest)
        }
    }

    @Test func pagesSpeakChineseWhenAsked() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.startAuthorization(fixture, browser, verifier: SecureRandom.token(bytes: 48), locales: "zh-CN")
            let page = try await browser.get("/sign-in")
            #expect(page.text.contains(#"<html lang="zh-CN">"#))
            #expect(page.text.contains("使用邮箱验证码登录"))
            let english = Browser(client: browser.client)
            let fromHeader = try await english.get("/sign-in", headers: [.acceptLanguage: "zh-Hans;q=0.9, en;q=0.8"])
            #expect(fromHeader.text.contains("登录"))
            let plain = try await english.get("/sign-in", headers: [.acceptLanguage: "fr, en;q=0.5"])
            #expect(plain.text.contains("Sign in with an email code"))
            let error = try await english.get("/oidc/auth?client_id=nobody&redirect_uri=http%3A%2F%2Fx.test",
                                              headers: [.acceptLanguage: "zh-CN"])
            #expect(error.status == .badRequest)
            #expect(error.text.contains("出错了"))
        }
    }

    @Test func theFirstMethodDecidesTheFirstPage() async throws {
        try await Fixture.withServer { fixture, browser in
            var settings = SignInExperience.default
            settings.signIn.methods[0].isPasswordPrimary = false
            try await fixture.runtime.saveSignInExperience(settings)
            let first = try await browser.get("/sign-in")
            #expect(first.text.contains(#"action="/sign-in/code/send""#))
            #expect(first.text.contains(#"href="/sign-in?method=password""#))
            #expect(first.text.contains(#"href="/register""#))
            let password = try await browser.get("/sign-in?method=password")
            #expect(password.text.contains(#"autocomplete="current-password""#))
            settings.signIn.methods[0].isPasswordPrimary = true
            try await fixture.runtime.saveSignInExperience(settings)
            #expect(try await browser.get("/sign-in").text.contains(#"autocomplete="current-password""#))
        }
    }

    @Test func settingsTurnFlowsOff() async throws {
        try await Fixture.withServer { fixture, browser in
            var settings = SignInExperience.default
            settings.signUp = .init(identifiers: [], password: false)
            settings.signIn.methods = [.init(identifier: .username, password: true, verificationCode: false)]
            try await fixture.runtime.saveSignInExperience(settings)
            let page = try await browser.get("/sign-in")
            #expect(!page.text.contains("/register"))
            #expect(!page.text.contains("/sign-in/code"))
            #expect(try await browser.get("/register").status == .forbidden)
            #expect(try await browser.get("/sign-in/code").status == .forbidden)
            let byEmail = try await browser.post("/sign-in", form: [
                ("csrf_token", try #require(page.csrfToken)), ("identifier", "alice@example.com"),
                ("password", Fixture.password),
            ])
            #expect(byEmail.status == .badRequest)
            #expect(byEmail.text.contains("turned off"))
        }
    }

    @Test func previewRendersUnsavedSettings() async throws {
        try await Fixture.withServer { fixture, browser in
            var settings = SignInExperience.default
            settings.branding.primaryColor = "#0A7D42"
            settings.branding.appName = "Bookstore"
            settings.signUp = .init(identifiers: [], password: false)
            let encoded = Base64URL.encode(try JSONEncoder().encode(settings))
            let page = try await browser.get("/preview/sign-in?language=zh-CN&settings=\(encoded)")
            #expect(page.status == .ok)
            #expect(page.text.contains("--accent: #0A7D42"))
            #expect(page.text.contains("登录"))
            #expect(!page.text.contains("/register"))
            #expect(page.headers[.contentSecurityPolicy]?.contains("form-action 'none'") == true)
            // Nothing was saved.
            #expect(try await fixture.runtime.signInExperience() == .default)
            #expect(try await browser.get("/preview/register").status == .ok)
            #expect(try await browser.get("/preview/sign-in?settings=%%%").status == .badRequest)
            #expect(try await browser.get("/preview/sign-in?settings=bm90LWpzb24").status == .badRequest)
            settings.signIn.methods = []
            let locked = try await browser.get("/preview/sign-in?settings=" + Base64URL.encode(try JSONEncoder().encode(settings)))
            #expect(locked.status == .badRequest)
            #expect(locked.text.contains("nobody can sign in"))
            #expect(try await browser.get("/preview/console").status == .notFound)
        }
    }

    @Test func theDevMailboxExistsOnlyWhenAskedFor() async throws {
        try await Fixture.withServer(mailbox: false) { (_: Fixture, browser: Browser) async throws in
            #expect(try await browser.get("/dev/mailbox").status == .notFound)
        }
    }
}
