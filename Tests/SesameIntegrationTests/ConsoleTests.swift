import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import SesameConnectors
import Testing

/// The admin Console over real HTTP: first-run setup, its own sessions, CSRF, and every section with
/// good and bad input.
@Suite("Console")
struct ConsoleTests {
    static let adminPassword = "Open-Sesame-2026"

    /// Creates an administrator and signs the browser in through the Console's form.
    static func signIn(_ fixture: Fixture, _ browser: Browser, username: String = "root") async throws {
        _ = try await fixture.runtime.administrators.create(username: username, password: adminPassword)
        let page = try await browser.get("/console/sign-in")
        let response = try await browser.post("/console/sign-in", form: [
            ("csrf_token", try #require(page.csrfToken)), ("username", username), ("password", adminPassword),
            ("next", "/console"),
        ])
        #expect(response.status == .seeOther)
        #expect(response.location == "/console")
    }

    /// GETs `path` and posts its first form (or the form at `action`) with the page's CSRF token.
    static func submit(_ browser: Browser, page path: String, to action: String, _ fields: [(String, String)])
        async throws -> Reply
    {
        let page = try await browser.get(path)
        #expect(page.status == .ok, "GET \(path): \(page.status)")
        return try await browser.post(action, form: [("csrf_token", try #require(page.csrfToken))] + fields)
    }

    @Test func firstRunSetupCreatesTheFirstAdministrator() async throws {
        try await Fixture.withServer { fixture, browser in
            let runtime = fixture.runtime
            // Nobody is signed in: the Console sends people to its sign-in page, which explains the setup.
            let home = try await browser.get("/console")
            #expect(home.status == .seeOther)
            #expect(home.location == "/console/sign-in?next=%2Fconsole")
            #expect(try await browser.get("/console/sign-in").text.contains("sesame admin setup-link"))
            // A wrong or missing token is a readable 403, never a form.
            #expect(try await browser.get("/console/setup?token=wrong").status == .forbidden)
            #expect(try await browser.get("/console/setup").status == .forbidden)

            let link = try #require(try await runtime.consoleSetupLink())
            let path = String(link.dropFirst(runtime.configuration.endpoint.count))
            let token = try #require(URLComponents(string: link)?.queryItems?.first?.value)
            let form = try await browser.get(path)
            #expect(form.status == .ok)
            let csrf = try #require(form.csrfToken)
            // Bad input: passwords that differ, a weak password, a bad username; no CSRF token.
            let differ = try await browser.post("/console/setup", form: [
                ("csrf_token", csrf), ("token", token), ("username", "root"), ("password", Self.adminPassword),
                ("confirm", "something-else-1"),
            ])
            #expect(differ.status == .badRequest)
            #expect(differ.text.contains("The two passwords differ"))
            let weak = try await browser.post("/console/setup", form: [
                ("csrf_token", csrf), ("token", token), ("username", "root"), ("password", "password1"),
                ("confirm", "password1"),
            ])
            #expect(weak.status == .badRequest)
            #expect(weak.text.contains("at least 10 characters"))
            let badName = try await browser.post("/console/setup", form: [
                ("csrf_token", csrf), ("token", token), ("username", "9 lives"), ("password", Self.adminPassword),
                ("confirm", Self.adminPassword),
            ])
            #expect(badName.status == .badRequest)
            let forged = try await browser.post("/console/setup", form: [
                ("token", token), ("username", "root"), ("password", Self.adminPassword), ("confirm", Self.adminPassword),
            ])
            #expect(forged.status == .forbidden)
            #expect(try await runtime.administrators.needsSetup())

            let created = try await browser.post("/console/setup", form: [
                ("csrf_token", csrf), ("token", token), ("username", "root"), ("password", Self.adminPassword),
                ("confirm", Self.adminPassword),
            ])
            #expect(created.status == .seeOther)
            #expect(created.location == "/console")
            let cookie = try #require(created.headers[values: .setCookie].first { $0.hasPrefix("_sesame_console=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/console"))
            #expect(!cookie.contains("Secure"))  // http endpoint
            let signedIn = try await browser.get("/console")
            #expect(signedIn.status == .ok)
            #expect(signedIn.text.contains(runtime.configuration.issuer + "/.well-known/openid-configuration"))
            // The link is spent, and no new one is made once an administrator exists.
            #expect(try await browser.get(path).status == .forbidden)
            #expect(try await runtime.consoleSetupLink() == nil)
            #expect(!(try await runtime.administrators.needsSetup()))
            // Administrators' passwords are bcrypt at cost 12.
            #expect(try await fixture.runtime.store.administrator(username: "root")?.passwordHash.hasPrefix("$2b$12$")
                == true)
        }
    }

    @Test func twoSetupLinksSpentAtOnceMakeOneAdministrator() async throws {
        try await Fixture.withServer { fixture, _ in
            let service = fixture.runtime.administrators
            let first = try await service.makeSetupToken()
            let second = try await service.makeSetupToken()
            async let one = try? service.completeSetup(token: first, username: "root", password: Self.adminPassword)
            async let two = try? service.completeSetup(token: second, username: "other", password: Self.adminPassword)
            let results = await [one, two]
            #expect(results.compactMap { $0 }.count == 1)
            #expect(try await fixture.runtime.store.administratorCount() == 1)
        }
    }

    @Test func consoleSessionsAreSeparateFromEndUsersAndTokens() async throws {
        try await Fixture.withServer { fixture, browser in
            // An end user signed in to the IdP gets nowhere in the Console.
            _ = try await CodeFlowTests.signIn(fixture, browser)
            #expect(browser.cookies["_sesame_session"] != nil)
            #expect(try await browser.get("/console/users").status == .seeOther)
            // A Management API token is no Console session either.
            let token = try await ManagementAPITests.token(fixture, browser)
            let withToken = try await browser.get("/console/users", headers: [.authorization: "Bearer \(token)"])
            #expect(withToken.status == .seeOther)
            // End-user credentials do not open the Console's sign-in.
            let page = try await browser.get("/console/sign-in")
            let refused = try await browser.post("/console/sign-in", form: [
                ("csrf_token", try #require(page.csrfToken)), ("username", "alice"), ("password", Fixture.password),
            ])
            #expect(refused.status == .unauthorized)
            // And a Console session does not sign anybody in to an app.
            let other = Browser(client: browser.client)
            try await Self.signIn(fixture, other)
            #expect(other.cookies["_sesame_session"] == nil)
            let authorize = try await other.get("/oidc/auth?" + RequestParameters.encode([
                ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
                ("scope", "openid"),
            ]))
            #expect(authorize.location == "/sign-in")
        }
    }

    @Test func signInFailuresReadTheSameAndAreLimited() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            _ = try await fixture.runtime.administrators.create(username: "root", password: Self.adminPassword)
            let page = try await browser.get("/console/sign-in?next=%2Fconsole%2Fusers")
            let csrf = try #require(page.csrfToken)
            #expect(page.text.contains(#"value="/console/users""#))
            let wrong = try await browser.post("/console/sign-in", form: [
                ("csrf_token", csrf), ("username", "root"), ("password", "not-the-password"),
            ])
            let unknown = try await browser.post("/console/sign-in", form: [
                ("csrf_token", csrf), ("username", "nobody"), ("password", "not-the-password"),
            ])
            #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
            #expect(wrong.text.contains("The username or password is incorrect"))
            #expect(unknown.text.contains("The username or password is incorrect"))
            // An open redirect through `next` is refused.
            let elsewhere = try await browser.post("/console/sign-in", form: [
                ("csrf_token", csrf), ("username", "root"), ("password", Self.adminPassword),
                ("next", "https://evil.example/console"),
            ])
            #expect(elsewhere.location == "/console")
            let signOutPage = try await browser.get("/console")
            let signedOut = try await browser.post("/console/sign-out", form: [
                ("csrf_token", try #require(signOutPage.csrfToken)),
            ])
            #expect(signedOut.location == "/console/sign-in")
            #expect(try await browser.get("/console").status == .seeOther)
            // Ten attempts per username in the window, then 429 even with the right password.
            let fresh = try #require(try await browser.get("/console/sign-in").csrfToken)
            for _ in 0..<10 {
                _ = try await browser.post("/console/sign-in", form: [
                    ("csrf_token", fresh), ("username", "root"), ("password", "wrong-password"),
                ])
            }
            let locked = try await browser.post("/console/sign-in", form: [
                ("csrf_token", fresh), ("username", "root"), ("password", Self.adminPassword),
            ])
            #expect(locked.status == .tooManyRequests)
            #expect(locked.text.contains("Too many sign-in attempts"))
        }
    }

    @Test func formsNeedTheirCSRFToken() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.signIn(fixture, browser)
            let missing = try await browser.post("/console/applications", form: [("framework", "authjs"), ("name", "X")])
            #expect(missing.status == .forbidden)
            // A token minted for another session does not work in this one.
            let other = Browser(client: browser.client)
            try await Self.signIn(fixture, other, username: "second")
            let foreign = try #require(try await other.get("/console/applications/new/authjs").csrfToken)
            let replayed = try await browser.post("/console/applications", form: [
                ("csrf_token", foreign), ("framework", "authjs"), ("name", "X"),
            ])
            #expect(replayed.status == .forbidden)
            #expect(try await fixture.runtime.store.clients().count == 4)
            // Malformed bodies are a readable 400, never a 500.
            let garbage = try await browser.send("/console/users", method: .post,
                                                 headers: [.contentType: "application/json"], body: ByteBuffer(string: "{"))
            #expect(garbage.status == .badRequest)
        }
    }

    @Test func createAnAuthJSAppAndFollowItsGuide() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.signIn(fixture, browser)
            let cards = try await browser.get("/console/applications/new")
            #expect(cards.text.contains("Auth.js (Next Auth)"))
            #expect(cards.text.contains(#"href="/console/applications/new/authjs""#))
            #expect(try await browser.get("/console/applications/new/nope").status == .notFound)
            let form = try await browser.get("/console/applications/new/authjs")
            #expect(form.text.contains("http://localhost:3000/api/auth/callback/logto"))
            let csrf = try #require(form.csrfToken)
            let bad = try await browser.post("/console/applications", form: [
                ("csrf_token", csrf), ("framework", "authjs"), ("name", "Bookstore"),
                ("redirectUris", "http://localhost:3000/cb#fragment"),
            ])
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("not a valid redirect URI"))
            let created = try await browser.post("/console/applications", form: [
                ("csrf_token", csrf), ("framework", "authjs"), ("name", "Bookstore Console"),
                ("redirectUris", "http://localhost:3000/api/auth/callback/logto\n"),
                ("postLogoutRedirectUris", "http://localhost:3000"),
            ])
            #expect(created.status == .seeOther)
            let location = try #require(created.location)
            let id = String(try #require(location.split(separator: "?").first).split(separator: "/").last ?? "")
            let details = try await browser.get(location)
            let secret = try #require(details.text.firstMatch(of: /id="app-secret" data-copyable>([^<]+)</)?.1)
            #expect(details.text.contains("AUTH_LOGTO_ISSUER=" + fixture.issuer))
            #expect(details.text.contains("AUTH_LOGTO_ID=" + id))
            #expect(details.text.contains("AUTH_LOGTO_SECRET=" + secret))
            #expect(details.text.contains(fixture.issuer + "/.well-known/openid-configuration"))
            // Shown once: the next visit has no secret, only the digest is stored.
            let again = try await browser.get("/console/applications/\(id)")
            #expect(!again.text.contains(String(secret)))
            let app = try #require(try await fixture.runtime.store.client(id: id))
            #expect(app.verifySecret(String(secret)))
            #expect(app.redirectURIs == ["http://localhost:3000/api/auth/callback/logto"])

            // Edit the URIs; a bad one is refused beside the field and nothing changes.
            let refused = try await Self.submit(browser, page: "/console/applications/\(id)",
                                                to: "/console/applications/\(id)", [
                ("name", "Bookstore Console"), ("redirectUris", "not a uri"), ("postLogoutRedirectUris", ""),
            ])
            #expect(refused.status == .badRequest)
            let saved = try await Self.submit(browser, page: "/console/applications/\(id)",
                                              to: "/console/applications/\(id)", [
                ("name", "Bookstore"), ("description", "The seed's app"),
                ("redirectUris", "http://localhost:3000/api/auth/callback/logto\nhttps://books.example.com/api/auth/callback/logto"),
                ("postLogoutRedirectUris", "http://localhost:3000"),
            ])
            #expect(saved.location == "/console/applications/\(id)?notice=saved")
            #expect(try await fixture.runtime.store.client(id: id)?.redirectURIs.count == 2)

            // A new secret replaces the old one at the token endpoint at once.
            let rotated = try await Self.submit(browser, page: "/console/applications/\(id)",
                                                to: "/console/applications/\(id)/secret", [])
            let rotatedPage = try await browser.get(try #require(rotated.location))
            let newSecret = try #require(rotatedPage.text.firstMatch(of: /id="app-secret" data-copyable>([^<]+)</)?.1)
            #expect(newSecret != secret)
            let rotatedApp = try #require(try await fixture.runtime.store.client(id: id))
            #expect(!rotatedApp.verifySecret(String(secret)) && rotatedApp.verifySecret(String(newSecret)))

            // A named secret beside it, shown once; then the original goes and the named one still works.
            let badDays = try await Self.submit(browser, page: "/console/applications/\(id)",
                                                to: "/console/applications/\(id)/secrets",
                                                [("secretName", "ci"), ("expiresInDays", "0")])
            #expect(badDays.status == .badRequest)
            let added = try await Self.submit(browser, page: "/console/applications/\(id)",
                                              to: "/console/applications/\(id)/secrets",
                                              [("secretName", "ci / deploy"), ("expiresInDays", "30")])
            let addedPage = try await browser.get(try #require(added.location))
            let named = String(try #require(addedPage.text.firstMatch(of: /id="app-secret" data-copyable>([^<]+)</)?.1))
            #expect(addedPage.text.contains("“ci / deploy”"))
            #expect(addedPage.text.contains("/secrets/ci%20%2F%20deploy/delete"))
            _ = try await Self.submit(browser, page: "/console/applications/\(id)",
                                      to: "/console/applications/\(id)/legacy-secret/delete", [])
            let withNamed = try #require(try await fixture.runtime.store.client(id: id))
            #expect(withNamed.secretHash == nil && withNamed.verifySecret(named))
            _ = try await Self.submit(browser, page: "/console/applications/\(id)",
                                      to: "/console/applications/\(id)/secrets/ci%20%2F%20deploy/delete", [])
            #expect(try await fixture.runtime.store.client(id: id)?.secrets == [])

            let deleted = try await Self.submit(browser, page: "/console/applications/\(id)",
                                                to: "/console/applications/\(id)/delete", [])
            #expect(deleted.location == "/console/applications?notice=deleted")
            #expect(try await browser.get("/console/applications/\(id)").status == .notFound)
        }
    }

    @Test func machineAppsCanBeAllowedTheManagementAPI() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.signIn(fixture, browser)
            let created = try await Self.submit(browser, page: "/console/applications/new/m2m", to: "/console/applications", [
                ("framework", "m2m"), ("name", "Provisioner"), ("management", "1"),
            ])
            let details = try await browser.get(try #require(created.location))
            let secret = String(try #require(details.text.firstMatch(of: /id="app-secret" data-copyable>([^<]+)</)?.1))
            let id = String(try #require(details.text.firstMatch(of: /id="app-id" data-copyable>([^<]+)</)?.1))
            #expect(details.text.contains("grant_type=client_credentials"))
            let token = try await browser.post("/oidc/token", form: [
                ("grant_type", "client_credentials"), ("resource", ManagementAPITests.managementResource),
                ("scope", "all"),
            ], headers: [.authorization: basicAuthorization(id, secret)])
            #expect(token.status == .ok)
        }
    }

    @Test func connectorsAreConfiguredTestedAndEnabled() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.signIn(fixture, browser)
            let list = try await browser.get("/console/connectors")
            #expect(list.text.contains("Aliyun Direct Mail") && list.text.contains("SMTP"))
            let page = try await browser.get("/console/connectors/aliyun-direct-mail")
            #expect(page.text.contains("<h3>Aliyun Direct Mail</h3>"))  // the README, rendered
            #expect(page.text.contains(#"name="config.accessKeySecret""#))
            #expect(page.text.contains("ForgotPassword"))  // the starter templates
            #expect(try await browser.get("/console/connectors/nope").status == .notFound)
            let csrf = try #require(page.csrfToken)
            let templates = #"[{"usageType":"Generic","subject":"Code","content":"<p>{{code}}</p>"}]"#
            let fields: [(String, String)] = [
                ("csrf_token", csrf), ("config.accessKeyId", "LTAI5tTest"), ("config.accessKeySecret", "s3cret-value"),
                ("config.accountName", "noreply@mail.example.com"), ("config.fromAlias", "Bookstore"),
            ]
            // Templates that are not JSON, or lack {{code}}, are refused and named.
            let notJSON = try await browser.post("/console/connectors/aliyun-direct-mail",
                                                 form: fields + [("config.templates", "[{")])
            #expect(notJSON.status == .badRequest)
            #expect(notJSON.text.contains("JSON array"))
            // Nothing typed is lost: the secret just typed comes back to the same administrator (no-store page);
            // the error is in a banner at the top and beside the form.
            #expect(notJSON.text.contains(#"name="config.accessKeySecret" value="s3cret-value""#))
            #expect(notJSON.headers[.cacheControl] == "no-store")
            #expect(notJSON.text.contains(#"class="banner danger" role="alert""#))
            let noCode = try await browser.post("/console/connectors/aliyun-direct-mail", form: fields + [
                ("config.templates", #"[{"usageType":"Generic","subject":"Code","content":"no placeholder"}]"#),
            ])
            #expect(noCode.status == .badRequest)
            #expect(noCode.text.contains("{{code}}"))
            // A provider that refuses the request fails the test with the connector's message, not a 500
            // (Sesame's own token endpoint plays a provider answering 4xx).
            let port = try #require(browser.client.port)
            let failedTest = try await browser.post("/console/connectors/aliyun-direct-mail/test", form: fields + [
                ("config.templates", templates), ("config.endpoint", "http://127.0.0.1:\(port)/oidc/token"),
                ("testAddress", "admin@example.com"),
            ])
            #expect(failedTest.status == .badGateway)
            // A provider's refusal starts with a plain hint in the Console's language, the provider's words after it.
            #expect(failedTest.text.contains("Check the AccessKey ID and the AccessKey Secret")
                || failedTest.text.contains("The provider could not send the message"))
            #expect(failedTest.text.contains(#"class="detail""#))
            let noAddress = try await browser.post("/console/connectors/aliyun-direct-mail/test",
                                                   form: fields + [("config.templates", templates)])
            #expect(noAddress.status == .badRequest)
            let saved = try await browser.post("/console/connectors/aliyun-direct-mail",
                                               form: fields + [("config.templates", templates)])
            #expect(saved.location == "/console/connectors/aliyun-direct-mail?notice=saved")
            let stored = try #require(try await fixture.runtime.connectors.store.connector(id: "aliyun-direct-mail"))
            #expect(stored.config["accessKeySecret"] == "s3cret-value")
            // Saving again with the secret field empty keeps the stored secret (same key id and endpoint).
            let kept = try await Self.submit(browser, page: "/console/connectors/aliyun-direct-mail",
                                             to: "/console/connectors/aliyun-direct-mail", [
                ("config.accessKeyId", "LTAI5tTest"), ("config.accessKeySecret", ""),
                ("config.accountName", "noreply@mail.example.com"), ("config.fromAlias", "Books"),
                ("config.templates", templates),
            ])
            #expect(kept.status == .seeOther)
            let updated = try #require(try await fixture.runtime.connectors.store.connector(id: "aliyun-direct-mail"))
            #expect(updated.config["accessKeySecret"] == "s3cret-value" && updated.config["fromAlias"] == "Books")
            let edit = try await browser.get("/console/connectors/aliyun-direct-mail")
            #expect(!edit.text.contains("s3cret-value"))
            // A saved secret never follows the configuration to a new endpoint: it must be typed again.
            let elsewhere = try await browser.post("/console/connectors/aliyun-direct-mail/test", form: [
                ("csrf_token", try #require(edit.csrfToken)), ("config.accessKeyId", "LTAI5tTest"),
                ("config.accessKeySecret", ""), ("config.accountName", "noreply@mail.example.com"),
                ("config.templates", templates), ("config.endpoint", "http://127.0.0.1:\(port)/collect"),
                ("testAddress", "admin@example.com"),
            ])
            #expect(elsewhere.status == .badRequest)
            #expect(elsewhere.text.contains("accessKeySecret") && elsewhere.text.contains("is required"))
            let enabled = try await Self.submit(browser, page: "/console/connectors/aliyun-direct-mail",
                                                to: "/console/connectors/aliyun-direct-mail/enable", [])
            #expect(enabled.location == "/console/connectors/aliyun-direct-mail?notice=enabled")
            #expect(try await fixture.runtime.connectors.enabledEmailConnector()?.id == "aliyun-direct-mail")
            let smtp = try await browser.get("/console/connectors/smtp")
            #expect(smtp.text.contains(#"<option value="starttls" selected>"#))
            #expect(smtp.text.contains(#"<textarea id="field-trustedCertificate""#))
            let disabled = try await Self.submit(browser, page: "/console/connectors/aliyun-direct-mail",
                                                 to: "/console/connectors/aliyun-direct-mail/disable", [])
            #expect(disabled.location == "/console/connectors/aliyun-direct-mail?notice=disabled")
            // "Save and enable" in one action; the page says plainly where codes go until then.
            let off = try await browser.get("/console/connectors/aliyun-direct-mail")
            #expect(off.text.contains(#"id="save-enable-button""#) && off.text.contains("nobody receives them"))
            let both = try await Self.submit(browser, page: "/console/connectors/aliyun-direct-mail",
                                             to: "/console/connectors/aliyun-direct-mail", [
                ("config.accessKeyId", "LTAI5tTest"), ("config.accessKeySecret", ""),
                ("config.accountName", "noreply@mail.example.com"), ("config.templates", templates), ("enable", "1"),
            ])
            #expect(both.location == "/console/connectors/aliyun-direct-mail?notice=savedEnabled")
            #expect(try await fixture.runtime.connectors.enabledEmailConnector()?.id == "aliyun-direct-mail")
        }
    }

    @Test func theLastConnectorCannotBeTurnedOffWhileCodesNeedIt() async throws {
        try await Fixture.withServer(mailbox: false, endpoint: "https://id.example.com") { fixture, browser in
            let runtime = fixture.runtime
            try await runtime.connectors.save(id: "smtp", config: [
                "host": "127.0.0.1", "port": 2525, "security": "none", "fromEmail": "noreply@example.com",
                "templates": [["usageType": "Generic", "subject": "Code", "content": "{{code}}"]],
            ])
            try await runtime.setConnectorEnabled(id: "smtp", true)
            try await runtime.saveSignInExperience(.default)
            await #expect(throws: IdentityError.self) { try await runtime.setConnectorEnabled(id: "smtp", false) }
            await #expect(throws: IdentityError.self) { try await runtime.deleteConnector(id: "smtp") }
            #expect(try await runtime.connectors.enabledEmailConnector()?.id == "smtp")
            // Without an enabled connector, https settings cannot turn email codes on.
            var passwordsOnly = SignInExperience.default
            passwordsOnly.signUp = .init(identifiers: [.username], password: true)
            passwordsOnly.signIn = .init(methods: [.init(identifier: .username, password: true, verificationCode: false)])
            try await runtime.saveSignInExperience(passwordsOnly)
            try await runtime.setConnectorEnabled(id: "smtp", false)
            await #expect(throws: IdentityError.self) { try await runtime.saveSignInExperience(.default) }
            // The Console's cookie is Secure on https.
            _ = try await runtime.administrators.create(username: "root", password: Self.adminPassword)
            let page = try await browser.get("/console/sign-in")
            let signedIn = try await browser.post("/console/sign-in", form: [
                ("csrf_token", try #require(page.csrfToken)), ("username", "root"), ("password", Self.adminPassword),
            ])
            #expect(signedIn.headers[values: .setCookie].allSatisfy { $0.contains("; Secure") })
        }
    }

    @Test func signInExperienceIsEditedWithALivePreview() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.signIn(fixture, browser)
            let page = try await browser.get("/console/sign-in-experience")
            #expect(page.text.contains(#"<iframe name="preview""#))
            #expect(page.text.contains("/preview/sign-in?settings="))
            let csrf = try #require(page.csrfToken)
            let codeFirst: [(String, String)] = [
                ("csrf_token", csrf), ("signUpIdentifier", "email"), ("signUpPassword", "1"),
                ("method.email", "1"), ("order.email", "1"), ("password.email", "1"), ("code.email", "1"),
                ("primary.email", "code"), ("method.username", "1"), ("order.username", "2"), ("password.username", "1"),
                ("primary.username", "password"), ("order.phone", "3"), ("minLength", "10"), ("characterTypes", "2"),
                ("rejectCommon", "1"), ("rejectUserInfo", "1"), ("bcryptCost", "10"), ("appName", "Bookstore"),
                ("primaryColor", "#0a7d42"), ("darkMode", "1"), ("language", "en"), ("language", "zh-CN"),
                ("defaultLanguage", "zh-CN"), ("previewPage", "sign-in"),
            ]
            // The preview shows unsaved settings: a redirect to the preview page, which the Console may frame.
            let preview = try await browser.post("/console/sign-in-experience/preview", form: codeFirst)
            let previewURL = try #require(preview.location)
            #expect(previewURL.hasPrefix("/preview/sign-in?settings=") && previewURL.hasSuffix("&language=zh-CN"))
            let framed = try await browser.get(previewURL)
            #expect(framed.headers[HTTPField.Name("X-Frame-Options")!] == "SAMEORIGIN")
            #expect(framed.text.contains("--accent: #0a7d42") && framed.text.contains("lang=\"zh-CN\""))
            #expect(framed.text.contains("/sign-in/code/send") && !framed.text.contains("autofocus"))
            #expect(try await fixture.runtime.signInExperience() == .default)  // nothing saved yet

            let saved = try await browser.post("/console/sign-in-experience", form: codeFirst)
            #expect(saved.location == "/console/sign-in-experience?notice=saved")
            let settings = try await fixture.runtime.signInExperience()
            #expect(settings.signIn.methods.map(\.identifier) == [.email, .username])
            #expect(settings.signIn.methods[0].isPasswordPrimary == false)
            #expect(settings.passwordPolicy.minLength == 10 && settings.passwordPolicy.characterTypes == 2)
            #expect(settings.branding.primaryColor == "#0a7d42" && settings.languages == ["zh-CN", "en"])
            // The hosted sign-in page now opens on the code form.
            let hosted = try await browser.get("/sign-in")
            #expect(hosted.text.contains("/sign-in/code/send"))

            // Lock-outs and bad values are refused with the reason, and nothing changes.
            let nothing = try await browser.post("/console/sign-in-experience", form: [
                ("csrf_token", csrf), ("signUpIdentifier", "none"), ("minLength", "8"), ("characterTypes", "1"),
                ("bcryptCost", "10"), ("language", "en"),
            ])
            #expect(nothing.status == .badRequest)
            #expect(nothing.text.contains("At least one sign-in method is needed"))
            let badNumber = try await browser.post("/console/sign-in-experience", form: codeFirst.map {
                $0.0 == "minLength" ? ("minLength", "ten") : $0
            })
            #expect(badNumber.status == .badRequest)
            #expect(badNumber.text.contains("must be a whole number"))
            #expect(try await fixture.runtime.signInExperience() == settings)
            // Changes made here are audited with the settings before and after.
            await fixture.runtime.audit.flush()
            let events = try await fixture.runtime.store.auditEvents(.init(key: "Admin.SignInExperience.Update"))
            #expect(events.total == 1)
            #expect(events.events.first?.payload["administrator"] == "root")
            #expect(events.events.first?.payload["after"]?["branding"]?["primaryColor"] == "#0a7d42")
        }
    }

    @Test func usersAreFoundCreatedResetSuspendedAndDeleted() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.signIn(fixture, browser)
            let found = try await browser.get("/console/users?search=liddell")
            #expect(found.text.contains("/console/users/\(fixture.user.id)"))
            let none = try await browser.get("/console/users?search=nobody-here")
            #expect(!none.text.contains("/console/users/\(fixture.user.id)"))
            let duplicate = try await Self.submit(browser, page: "/console/users", to: "/console/users", [
                ("primaryEmail", "alice@example.com"), ("username", ""), ("name", ""), ("password", ""),
            ])
            #expect(duplicate.status == .badRequest)
            #expect(duplicate.text.contains("already in use"))
            let weak = try await Self.submit(browser, page: "/console/users", to: "/console/users", [
                ("primaryEmail", "bob@example.com"), ("password", "password"),
            ])
            #expect(weak.status == .badRequest)
            let created = try await Self.submit(browser, page: "/console/users", to: "/console/users", [
                ("primaryEmail", "Bob@Example.com"), ("username", "bob"), ("name", "Bob"), ("password", ""),
            ])
            let bobPath = String(try #require(created.location?.split(separator: "?").first))
            let bob = try #require(try await fixture.runtime.store.user(identifier: "bob@example.com"))
            #expect(bobPath == "/console/users/\(bob.id)" && bob.passwordHash == nil)

            let badEmail = try await Self.submit(browser, page: bobPath, to: bobPath, [
                ("primaryEmail", "not-an-email"), ("username", "bob"), ("name", "Bob"),
            ])
            #expect(badEmail.status == .badRequest)
            #expect(badEmail.text.contains("not a valid email address"))
            let renamed = try await Self.submit(browser, page: bobPath, to: bobPath, [
                ("primaryEmail", "bob@example.com"), ("username", "bob"), ("primaryPhone", ""),
                ("name", "Robert"), ("avatar", "https://example.com/bob.png"),
            ])
            #expect(renamed.status == .seeOther)
            #expect(try await fixture.runtime.store.user(id: bob.id)?.name == "Robert")

            // A reset password obeys the policy and signs the user out everywhere.
            _ = try await CodeFlowTests.signIn(fixture, Browser(client: browser.client))
            let alicePath = "/console/users/\(fixture.user.id)"
            let tooShort = try await Self.submit(browser, page: alicePath, to: alicePath + "/password",
                                                 [("newPassword", "short")])
            #expect(tooShort.status == .badRequest)
            let reset = try await Self.submit(browser, page: alicePath, to: alicePath + "/password",
                                              [("newPassword", "Brand-New-Secret-42")])
            #expect(reset.location == alicePath + "?notice=passwordReset")
            #expect(try await fixture.runtime.users.authenticate(identifier: "alice", password: "Brand-New-Secret-42")
                .id == fixture.user.id)
            let sessions = try await fixture.runtime.database.query(
                "SELECT COUNT(*) AS total FROM sessions WHERE account_id = ?", .text(fixture.user.id))
            #expect(try sessions.first?.int("total") == 0)

            let suspended = try await Self.submit(browser, page: alicePath, to: alicePath + "/suspend", [])
            #expect(suspended.location == alicePath + "?notice=suspended")
            await #expect(throws: IdentityError.self) {
                try await fixture.runtime.users.authenticate(identifier: "alice", password: "Brand-New-Secret-42")
            }
            #expect(try await browser.get(alicePath).text.contains("/reactivate"))
            _ = try await Self.submit(browser, page: alicePath, to: alicePath + "/reactivate", [])
            #expect(try await fixture.runtime.store.user(id: fixture.user.id)?.isSuspended == false)

            let deleted = try await Self.submit(browser, page: bobPath, to: bobPath + "/delete", [])
            #expect(deleted.location == "/console/users?notice=deleted")
            #expect(try await browser.get(bobPath).status == .notFound)
        }
    }

    @Test func apiResourcesAndTheirScopes() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.signIn(fixture, browser)
            let duplicate = try await Self.submit(browser, page: "/console/resources", to: "/console/resources", [
                ("name", "Books again"), ("indicator", Fixture.resource), ("scopes", ""), ("accessTokenTtl", "3600"),
            ])
            #expect(duplicate.status == .conflict || duplicate.status == .badRequest)
            #expect(duplicate.text.contains("already exists"))
            let badTTL = try await Self.submit(browser, page: "/console/resources", to: "/console/resources", [
                ("indicator", "https://api.orders.test"), ("accessTokenTtl", "5"),
            ])
            #expect(badTTL.status == .badRequest)
            let created = try await Self.submit(browser, page: "/console/resources", to: "/console/resources", [
                ("name", "Orders"), ("indicator", "https://api.orders.test"), ("scopes", "read:orders\nwrite:orders"),
                ("accessTokenTtl", "600"),
            ])
            let path = String(try #require(created.location?.split(separator: "?").first))
            let resource = try #require(try await fixture.runtime.store.resource(indicator: "https://api.orders.test"))
            #expect(resource.scopes.map(\.name) == ["read:orders", "write:orders"] && resource.accessTokenTTL == 600)
            let badScope = try await Self.submit(browser, page: path, to: path + "/scopes", [("scopeName", "two words")])
            #expect(badScope.status == .badRequest)
            _ = try await Self.submit(browser, page: path, to: path + "/scopes", [
                ("scopeName", "refund:orders"), ("scopeDescription", "Refund an order"),
            ])
            let withRefund = try await fixture.runtime.resources.resource(id: resource.id)
            #expect(withRefund.scopes.contains { $0.name == "refund:orders" && $0.description == "Refund an order" })
            let scopeID = try #require(withRefund.scopes.first { $0.name == "read:orders" }?.id)
            _ = try await Self.submit(browser, page: path, to: path + "/scopes/\(scopeID)/delete", [])
            #expect(try await fixture.runtime.resources.resource(id: resource.id).scopes.count == 2)
            // The Management API's own resource cannot be deleted, nor its scope removed.
            let management = try #require(try await fixture.runtime.store.resource(
                indicator: ManagementAPITests.managementResource))
            let managementPage = try await browser.get("/console/resources/\(management.id)")
            #expect(!managementPage.text.contains("/delete"))
            let refused = try await browser.post("/console/resources/\(management.id)/delete", form: [
                ("csrf_token", try #require(managementPage.csrfToken)),
            ])
            #expect(refused.status == .badRequest)
            _ = try await Self.submit(browser, page: path, to: path + "/delete", [])
            #expect(try await fixture.runtime.store.resource(indicator: "https://api.orders.test") == nil)
        }
    }

    @Test func auditLogFiltersAndLanguages() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.signIn(fixture, browser)
            _ = try await Self.submit(browser, page: "/console/resources", to: "/console/resources", [
                ("indicator", "https://api.audit.test"), ("accessTokenTtl", "3600"),
            ])
            _ = try await CodeFlowTests.signIn(fixture, Browser(client: browser.client))
            let admin = try await browser.get("/console/audit-log?logKey=Admin.")
            #expect(admin.text.contains("Admin.Change") && admin.text.contains("/console/resources"))
            #expect(!admin.text.contains("<code>SignIn.Success</code>"))
            let signIns = try await browser.get("/console/audit-log?logKey=SignIn.Success&userId=\(fixture.user.id)")
            #expect(signIns.text.contains("<code>SignIn.Success</code>"))
            let badTime = try await browser.get("/console/audit-log?from=yesterday")
            #expect(badTime.status == .badRequest)
            #expect(try await browser.get("/console/audit-log?from=2020-01-01T00:00&page=2").status == .ok)

            // Languages: a cookie chosen in the Console, else Accept-Language.
            let chinese = try await browser.get("/console/language?lang=zh-CN&next=%2Fconsole%2Fusers")
            #expect(chinese.location == "/console/users")
            #expect(try await browser.get("/console/users").text.contains("创建用户"))
            #expect(try await browser.get("/console/language?lang=xx").status == .badRequest)
            let offsite = try await browser.get("/console/language?lang=en&next=https%3A%2F%2Fevil.example")
            #expect(offsite.location == "/console")
            let english = try await browser.get("/console/users")
            #expect(english.text.contains("Create user"))
            let fresh = Browser(client: browser.client)
            #expect(try await fresh.get("/console/sign-in", headers: [.acceptLanguage: "zh-CN,zh;q=0.9"]).text
                .contains("登录管理控制台"))
            // Malformed Accept-Language headers are read as none.
            for header in [";", ",;,", ";q=1", ""] {
                #expect(try await fresh.get("/console/sign-in", headers: [.acceptLanguage: header]).status == .ok)
                #expect(try await fresh.get("/sign-in", headers: [.acceptLanguage: header]).status == .ok)
            }
            // Every section renders in both languages.
            for language in ["en", "zh-CN"] {
                _ = try await browser.get("/console/language?lang=\(language)")
                for section in ["", "/applications", "/applications/new", "/applications/new/authjs",
                                "/applications/\(fixture.webApp.client.id)", "/connectors", "/connectors/smtp",
                                "/sign-in-experience", "/resources", "/users", "/users/\(fixture.user.id)", "/audit-log"]
                {
                    let page = try await browser.get("/console" + section)
                    #expect(page.status == .ok, "\(language) /console\(section)")
                    #expect(page.text.contains("lang=\"\(language)\""))
                }
            }
            let asset = try await browser.get("/console/assets/console.js")
            #expect(asset.headers[.contentType]?.hasPrefix("text/javascript") == true)
        }
    }
}
