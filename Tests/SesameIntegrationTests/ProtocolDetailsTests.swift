import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameServer
import Testing

/// Details other providers got wrong and their users reported: loopback ports for native apps, one answer
/// for client-authentication failures at every endpoint, unknown revocation hints, HEAD.
@Suite("Protocol details")
struct ProtocolDetailsTests {
    static let clientEndpoints = ["/oidc/token", "/oidc/token/introspection", "/oidc/token/revocation"]

    /// RFC 6749 §5.2 and RFC 9110 §15.5.2: every failed client authentication is a 401 `invalid_client` with a
    /// `Basic` challenge, whichever method the client used and whichever endpoint it called.
    @Test(arguments: clientEndpoints)
    func clientAuthenticationFailsTheSameEverywhere(_ path: String) async throws {
        try await Fixture.withServer { fixture, browser in
            let id = fixture.webApp.client.id
            let attempts: [(String, [(String, String)], HTTPFields)] = [
                ("basic, wrong secret", [], [.authorization: basicAuthorization(id, "wrong")]),
                ("basic, unknown client", [], [.authorization: basicAuthorization("ghost", "wrong")]),
                ("post, wrong secret", [("client_id", id), ("client_secret", "wrong")], [:]),
                ("post, unknown client", [("client_id", "ghost"), ("client_secret", "wrong")], [:]),
                ("confidential client without its secret", [("client_id", id)], [:]),
                ("no authentication", [], [:]),
            ]
            for (name, credentials, headers) in attempts {
                let response = try await browser.post(path, form: [
                    ("grant_type", "client_credentials"), ("token", "some-token"),
                ] + credentials, headers: headers)
                #expect(response.status == .unauthorized, "\(path): \(name)")
                #expect(response.json["error"] == "invalid_client", "\(path): \(name)")
                #expect(response.headers[.wwwAuthenticate] == #"Basic realm="oidc""#, "\(path): \(name)")
                #expect(response.headers[.cacheControl] == "no-store", "\(path): \(name)")
            }
        }
    }

    @Test func revocationIgnoresAHintItDoesNotKnow() async throws {
        try await Fixture.withServer { fixture, browser in
            let tokens = try await CodeFlowTests.exchange(fixture, browser, try await CodeFlowTests.signIn(fixture, browser))
            let access = try #require(tokens.json["access_token"]?.stringValue)
            let auth = basicAuthorization(fixture.webApp.client.id, fixture.webSecret)
            let revoked = try await browser.post("/oidc/token/revocation",
                                                 form: [("token", access), ("token_type_hint", "urn:example:unknown")],
                                                 headers: [.authorization: auth])
            #expect(revoked.status == .ok)
            let userinfo = try await browser.get("/oidc/me", headers: [.authorization: "Bearer \(access)"])
            #expect(userinfo.status == .unauthorized)
        }
    }

    /// RFC 9110 §9.3.2: HEAD answers as GET does (status and headers), without a body.
    @Test func headWorksWhereverGetDoes() async throws {
        try await Fixture.withServer { _, browser in
            for path in ["/api/status", "/oidc/.well-known/openid-configuration", "/oidc/jwks", "/sign-in",
                         "/api/swagger.json", "/console/sign-in", "/register", "/nowhere"]
            {
                let get = try await browser.get(path)
                let head = try await browser.send(path, method: .head, headers: [:], body: nil)
                #expect(head.status == get.status, "\(path)")
                #expect(head.body.readableBytes == 0, "\(path)")
                #expect(head.headers[.contentType] == get.headers[.contentType], "\(path)")
                #expect(head.headers[.cacheControl] == get.headers[.cacheControl], "\(path)")
            }
            #expect(try await browser.send("/api/status", method: .head, headers: [:], body: nil).status == .noContent)
        }
    }

    /// RFC 8252 §7.3 end to end: a native app registered on `http://127.0.0.1/callback` signs in with an
    /// ephemeral port, and redeems the code with that same redirect URI.
    @Test func nativeAppsUseAnyLoopbackPort() async throws {
        try await Fixture.withServer { fixture, browser in
            let native = try await fixture.runtime.applications.create(
                name: "Desktop", type: .native, redirectURIs: ["http://127.0.0.1/callback", "http://[::1]/callback"],
                postLogoutRedirectURIs: [])
            for callback in ["http://127.0.0.1:49152/callback", "http://[::1]:8123/callback"] {
                let authorization = try await CodeFlowTests.signIn(fixture, browser, clientID: native.client.id,
                                                                   redirectURI: callback)
                let tokens = try await browser.post("/oidc/token", form: [
                    ("grant_type", "authorization_code"), ("code", authorization.code), ("redirect_uri", callback),
                    ("code_verifier", authorization.verifier), ("client_id", native.client.id),
                ])
                #expect(tokens.status == .ok, "\(callback)")
            }
            // The path stays exact, and web apps keep exact matching.
            for (clientID, callback) in [(native.client.id, "http://127.0.0.1:49152/other"),
                                         (fixture.webApp.client.id, "http://localhost:3001/api/auth/callback/logto")]
            {
                let page = try await browser.get("/oidc/auth?" + RequestParameters.encode([
                    ("client_id", clientID), ("redirect_uri", callback), ("response_type", "code"),
                    ("scope", "openid"), ("code_challenge", PKCE.challenge(for: SecureRandom.token(bytes: 48))),
                    ("code_challenge_method", "S256"),
                ]))
                #expect(page.status == .badRequest, "\(callback)")
                #expect(page.location == nil)
            }
        }
    }

    /// HEAD must not act: the GETs that issue a code, spend an interaction or end a session answer HEAD with
    /// 405 and do nothing.
    @Test func headDoesNotActWhereGetDoes() async throws {
        try await Fixture.withServer { fixture, browser in
            _ = try await CodeFlowTests.signIn(fixture, browser)
            let query = RequestParameters.encode([
                ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
                ("scope", "openid"), ("code_challenge", PKCE.challenge(for: SecureRandom.token(bytes: 48))),
                ("code_challenge_method", "S256"), ("prompt", "consent"),
            ])
            for path in ["/oidc/auth?" + query, "/oidc/auth/resume", "/oidc/session/end"] {
                let head = try await browser.send(path, method: .head, headers: [:], body: nil)
                #expect(head.status == .methodNotAllowed, "\(path)")
                #expect(head.headers[.allow]?.contains("GET") == true, "\(path)")
                #expect(head.location == nil, "\(path)")
            }
            // The session is still there: a GET authorization goes straight back with a code.
            #expect(browser.cookies["_sesame_session"] != nil)
            let again = try await browser.get("/oidc/auth?" + query.replacingOccurrences(of: "&prompt=consent", with: ""))
            #expect(again.redirectQuery["code"] != nil)
        }
    }
}
