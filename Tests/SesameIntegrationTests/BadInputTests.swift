import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameIdentity
import SesameOIDC
import Testing

/// Every bad path answers with a spec-shaped error or a readable page, never a 500 and never a redirect
/// to an unregistered URI.
@Suite("Bad input over HTTP")
struct BadInputTests {
    @Test func unregisteredRedirectURIShowsAPageAndNeverRedirects() async throws {
        try await Fixture.withServer { fixture, browser in
            for redirect in [Fixture.callback + "/", "http://evil.test/cb", "HTTP://localhost:3000/api/auth/callback/logto", ""] {
                let response = try await browser.get("/oidc/auth?" + RequestParameters.encode([
                    ("client_id", fixture.webApp.client.id), ("redirect_uri", redirect), ("response_type", "code"),
                    ("scope", "openid"),
                ]))
                #expect(response.status == .badRequest)
                #expect(response.location == nil)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(response.text.contains("Something went wrong"))
            }
            let unknownClient = try await browser.get("/oidc/auth?client_id=nobody&redirect_uri=http%3A%2F%2Fx.test")
            #expect(unknownClient.status == .badRequest)
            #expect(unknownClient.location == nil)
            let malformed = try await browser.get("/oidc/auth?client_id=%zz")
            #expect(malformed.status == .badRequest)
        }
    }

    @Test func protocolErrorsAreRedirectedWithStateAndIssuer() async throws {
        try await Fixture.withServer { fixture, browser in
            let response = try await browser.get("/oidc/auth?" + RequestParameters.encode([
                ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback),
                ("response_type", "code"), ("scope", "openid"), ("state", "s1"), ("code_challenge_method", "plain"),
                ("code_challenge", "abc"),
            ]))
            #expect(response.status == .seeOther)
            #expect(response.redirectQuery["error"] == "invalid_request")
            #expect(response.redirectQuery["state"] == "s1")
            #expect(response.redirectQuery["iss"] == fixture.issuer)
            let none = try await browser.get("/oidc/auth?" + RequestParameters.encode([
                ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback),
                ("response_type", "code"), ("scope", "openid"), ("prompt", "none"),
            ]))
            #expect(none.redirectQuery["error"] == "login_required")
        }
    }

    @Test func codeReplayMissingAndWrongVerifierAreRefused() async throws {
        try await Fixture.withServer { fixture, browser in
            let authorization = try await CodeFlowTests.signIn(fixture, browser)
            let auth = basicAuthorization(fixture.webApp.client.id, fixture.webSecret)
            let missing = try await browser.post("/oidc/token", form: [
                ("grant_type", "authorization_code"), ("code", authorization.code), ("redirect_uri", Fixture.callback),
            ], headers: [.authorization: auth])
            #expect(missing.status == .badRequest)
            #expect(missing.json["error"] == "invalid_grant")

            let second = try await CodeFlowTests.signIn(fixture, browser)
            let wrong = try await browser.post("/oidc/token", form: [
                ("grant_type", "authorization_code"), ("code", second.code), ("redirect_uri", Fixture.callback),
                ("code_verifier", SecureRandom.token(bytes: 48)),
            ], headers: [.authorization: auth])
            #expect(wrong.json["error"] == "invalid_grant")

            let third = try await CodeFlowTests.signIn(fixture, browser)
            let first = try await CodeFlowTests.exchange(fixture, browser, third)
            let accessToken = try #require(first.json["access_token"]?.stringValue)
            let replay = try await CodeFlowTests.exchange(fixture, browser, third)
            #expect(replay.status == .badRequest)
            #expect(replay.json["error"] == "invalid_grant")
            // The replay revoked what the first exchange issued.
            let userinfo = try await browser.get("/oidc/me", headers: [.authorization: "Bearer \(accessToken)"])
            #expect(userinfo.status == .unauthorized)
            #expect(userinfo.headers[.wwwAuthenticate]?.contains("invalid_token") == true)
        }
    }

    @Test func clientAuthenticationFailures() async throws {
        try await Fixture.withServer { fixture, browser in
            let wrongSecret = try await browser.post("/oidc/token", form: [
                ("grant_type", "client_credentials"),
            ], headers: [.authorization: basicAuthorization(fixture.machine.client.id, "not-the-secret")])
            #expect(wrongSecret.status == .unauthorized)
            #expect(wrongSecret.json["error"] == "invalid_client")
            #expect(wrongSecret.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            let unknown = try await browser.post("/oidc/token", form: [
                ("grant_type", "client_credentials"), ("client_id", "ghost"), ("client_secret", "x"),
            ])
            #expect(unknown.status == .unauthorized)
            let none = try await browser.post("/oidc/token", form: [("grant_type", "client_credentials")])
            #expect(none.status == .unauthorized)
            let garbled = try await browser.post("/oidc/token", form: [("grant_type", "client_credentials")],
                                                 headers: [.authorization: "Basic !!!not-base64"])
            #expect(garbled.status == .badRequest)
            #expect(garbled.json["error"] == "invalid_request")
        }
    }

    @Test func repeatedClientAuthenticationFailuresAreSlowedDown() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            let wrong = basicAuthorization(fixture.machine.client.id, "guess")
            for _ in 0..<50 {
                let response = try await browser.post("/oidc/token", form: [("grant_type", "client_credentials")],
                                                      headers: [.authorization: wrong])
                #expect(response.status == .unauthorized)
            }
            let blocked = try await browser.post("/oidc/token", form: [("grant_type", "client_credentials")], headers: [
                .authorization: basicAuthorization(fixture.machine.client.id, fixture.machine.secret ?? ""),
            ])
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.json["error"] == "invalid_request")
        }
    }

    @Test func unknownGrantAndMalformedBodies() async throws {
        try await Fixture.withServer { fixture, browser in
            let auth = basicAuthorization(fixture.webApp.client.id, fixture.webSecret)
            let unknown = try await browser.post("/oidc/token", form: [("grant_type", "password")],
                                                 headers: [.authorization: auth])
            #expect(unknown.json["error"] == "unsupported_grant_type")
            let missing = try await browser.post("/oidc/token", form: [], headers: [.authorization: auth])
            #expect(missing.json["error"] == "invalid_request")
            let duplicate = try await browser.post("/oidc/token", form: [
                ("grant_type", "refresh_token"), ("grant_type", "refresh_token"),
            ], headers: [.authorization: auth])
            #expect(duplicate.json["error"] == "invalid_request")

            var jsonHeaders: HTTPFields = [.authorization: auth]
            jsonHeaders[.contentType] = "application/json"
            let json = try await browser.send("/oidc/token", method: .post, headers: jsonHeaders,
                                              body: ByteBuffer(string: #"{"grant_type": "client_credentials"}"#))
            #expect(json.status == .badRequest)
            #expect(json.json["error"] == "invalid_request")

            var formHeaders: HTTPFields = [.authorization: auth]
            formHeaders[.contentType] = "application/x-www-form-urlencoded"
            let badEncoding = try await browser.send("/oidc/token", method: .post, headers: formHeaders,
                                                     body: ByteBuffer(string: "grant_type=%E0%A4%A&code=%"))
            #expect(badEncoding.status == .badRequest)
            #expect(badEncoding.json["error"] == "invalid_request")

            let oversized = try await browser.send(
                "/oidc/token", method: .post, headers: formHeaders,
                body: ByteBuffer(string: "grant_type=x&pad=" + String(repeating: "a", count: 2 << 20)))
            #expect(oversized.status == .contentTooLarge)
            #expect(oversized.json["error"] == "payload_too_large")
            // Whatever the route and the content type: JSON to the Management API, a form to the Console,
            // a body to a route that reads none.
            let big = ByteBuffer(string: String(repeating: "a", count: (1 << 20) + 1))
            for (path, type) in [("/api/users", "application/json"), ("/console/sign-in", "text/plain"),
                                 ("/api/status", "application/octet-stream"), ("/oidc/token", "text/plain")]
            {
                let response = try await browser.send(path, method: .post, headers: [.contentType: type], body: big)
                #expect(response.status == .contentTooLarge, "\(path)")
            }

            let badBearer = try await browser.get("/oidc/me", headers: [.authorization: "Bearer nope"])
            #expect(badBearer.status == .unauthorized)
            let noToken = try await browser.get("/oidc/me")
            #expect(noToken.status == .unauthorized)
            let notFound = try await browser.get("/oidc/nothing-here")
            #expect(notFound.status == .notFound)
        }
    }

    @Test func signInFormRejectsMissingCSRFAndWrongPasswords() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            _ = try await browser.get("/oidc/auth?" + RequestParameters.encode([
                ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback),
                ("response_type", "code"), ("scope", "openid"),
            ]))
            let page = try await browser.get("/sign-in")
            let csrf = try #require(page.csrfToken)
            let noCSRF = try await browser.post("/sign-in", form: [("identifier", "alice"), ("password", Fixture.password)])
            #expect(noCSRF.status == .forbidden)
            #expect(browser.cookies["_sesame_session"] == nil)
            let forged = try await browser.post("/sign-in", form: [
                ("csrf_token", "forged"), ("identifier", "alice"), ("password", Fixture.password),
            ])
            #expect(forged.status == .forbidden)
            let wrong = try await browser.post("/sign-in", form: [
                ("csrf_token", csrf), ("identifier", "alice"), ("password", "wrong-password"),
            ])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("incorrect"))
            #expect(browser.cookies["_sesame_session"] == nil)
            let unknown = try await browser.post("/sign-in", form: [
                ("csrf_token", csrf), ("identifier", "nobody"), ("password", "wrong-password"),
            ])
            #expect(unknown.status == .unauthorized)
            #expect(unknown.text.contains("incorrect"))
            // Repeated failures lock the account for the window, even with the right password.
            for _ in 0..<10 {
                try await browser.post("/sign-in", form: [("csrf_token", csrf), ("identifier", "alice"), ("password", "x")])
            }
            let locked = try await browser.post("/sign-in", form: [
                ("csrf_token", csrf), ("identifier", "alice"), ("password", Fixture.password),
            ])
            #expect(locked.status == .tooManyRequests)
            #expect(browser.cookies["_sesame_session"] == nil)
        }
    }

    @Test func directSignInIsBoundToACookieOfItsOwn() async throws {
        try await Fixture.withServer { fixture, browser in
            let page = try await browser.get("/sign-in")
            let csrf = try #require(page.csrfToken)
            #expect(browser.cookies["_sesame_csrf"] != nil)
            // Another browser cannot replay this page's token (login CSRF).
            let other = Browser(client: browser.client)
            let replayed = try await other.post("/sign-in", form: [
                ("csrf_token", csrf), ("identifier", "alice"), ("password", Fixture.password),
            ])
            #expect(replayed.status == .forbidden)
            let signedIn = try await browser.post("/sign-in", form: [
                ("csrf_token", csrf), ("identifier", "alice"), ("password", Fixture.password),
            ])
            #expect(signedIn.status == .ok)
            #expect(signedIn.text.contains("You are signed in"))
            #expect(browser.cookies["_sesame_session"] != nil)
        }
    }

    @Test func logoutChecksItsRedirectAndConfirmsWithoutAHint() async throws {
        try await Fixture.withServer { fixture, browser in
            let unregistered = try await browser.get("/oidc/session/end?" + RequestParameters.encode([
                ("client_id", fixture.webApp.client.id), ("post_logout_redirect_uri", "http://evil.test"),
            ]))
            #expect(unregistered.status == .badRequest)
            #expect(unregistered.location == nil)
            let badHint = try await browser.get("/oidc/session/end?id_token_hint=abc.def.ghi")
            #expect(badHint.status == .badRequest)

            _ = try await CodeFlowTests.signIn(fixture, browser)
            let confirm = try await browser.get("/oidc/session/end?" + RequestParameters.encode([
                ("client_id", fixture.webApp.client.id), ("post_logout_redirect_uri", "http://localhost:3000"),
            ]))
            #expect(confirm.status == .ok)
            #expect(browser.cookies["_sesame_session"] != nil)
            let forged = try await browser.post("/oidc/session/end/confirm", form: [("csrf_token", "forged")])
            #expect(forged.status == .forbidden)
            let done = try await browser.post("/oidc/session/end/confirm", form: [
                ("csrf_token", try #require(confirm.csrfToken)), ("client_id", fixture.webApp.client.id),
                ("post_logout_redirect_uri", "http://localhost:3000"),
            ])
            #expect(done.status == .seeOther)
            #expect(done.location == "http://localhost:3000")
            #expect(browser.cookies["_sesame_session"] == nil)
        }
    }
}
