import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameServer
import Testing

/// The whole authorization code flow over real HTTP on loopback, as Auth.js drives it.
@Suite("Code flow over HTTP")
struct CodeFlowTests {
    struct Authorization {
        let code: String
        let verifier: String
    }

    /// authorize → sign-in page → POST credentials → resume → redirect with code.
    static func signIn(_ fixture: Fixture, _ browser: Browser, clientID: String? = nil,
                       redirectURI: String = Fixture.callback, scope: String = "openid profile email offline_access",
                       nonce: String? = "n-0S6_WzA2Mj", extra: [(String, String)] = []) async throws -> Authorization
    {
        let verifier = SecureRandom.token(bytes: 48)
        var query: [(String, String)] = [
            ("client_id", clientID ?? fixture.webApp.client.id), ("redirect_uri", redirectURI),
            ("response_type", "code"), ("scope", scope), ("state", "af0ifjsldkj"),
            ("code_challenge", PKCE.challenge(for: verifier)), ("code_challenge_method", "S256"),
        ]
        if let nonce { query.append(("nonce", nonce)) }
        query += extra
        var response = try await browser.get("/oidc/auth?" + RequestParameters.encode(query))
        if response.location == "/sign-in" {
            let page = try await browser.get("/sign-in")
            #expect(page.status == .ok)
            #expect(page.text.contains(#"autocomplete="username""#))
            #expect(page.text.contains(#"autocomplete="current-password""#))
            let signedIn = try await browser.post("/sign-in", form: [
                ("csrf_token", try #require(page.csrfToken)), ("identifier", "alice"), ("password", Fixture.password),
            ])
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.location == "/oidc/auth/resume")
            response = try await browser.get("/oidc/auth/resume")
        }
        #expect(response.status == .seeOther)
        let location = try #require(response.location)
        #expect(location.hasPrefix(redirectURI + "?"))
        let query2 = response.redirectQuery
        #expect(query2["state"] == "af0ifjsldkj")
        #expect(query2["iss"] == fixture.issuer)
        return Authorization(code: try #require(query2["code"]), verifier: verifier)
    }

    static func exchange(_ fixture: Fixture, _ browser: Browser, _ authorization: Authorization,
                         redirectURI: String = Fixture.callback) async throws -> Reply
    {
        try await browser.post("/oidc/token", form: [
            ("grant_type", "authorization_code"), ("code", authorization.code), ("redirect_uri", redirectURI),
            ("code_verifier", authorization.verifier),
        ], headers: [.authorization: basicAuthorization(fixture.webApp.client.id, fixture.webSecret)])
    }

    /// Verifies a JWT against the served JWKS and returns its claims.
    static func verify(_ token: String, _ browser: Browser) async throws -> JWT.Verified {
        let jwks = try await browser.get("/oidc/jwks").json
        let keys = try (jwks["keys"]?.arrayValue ?? []).map(VerificationKey.init(jwk:))
        return try JWT.verify(token, keys: keys)
    }

    @Test func discoveryMatchesWhatAuthJSNeeds() async throws {
        try await Fixture.withServer { fixture, browser in
            let response = try await browser.get("/oidc/.well-known/openid-configuration")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let document = response.json
            #expect(document["issuer"]?.stringValue == "http://localhost:3001/oidc")
            #expect(document["userinfo_endpoint"]?.stringValue == "http://localhost:3001/oidc/me")
            #expect(document["id_token_signing_alg_values_supported"] == ["ES384", "RS256", "ES256", "EdDSA"])
            #expect(document["authorization_response_iss_parameter_supported"] == true)
            #expect(document["code_challenge_methods_supported"] == ["S256"])
            #expect(document["token_endpoint_auth_methods_supported"]
                == ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"])
        }
    }

    @Test func signInExchangeRefreshAndLogOut() async throws {
        try await Fixture.withServer { fixture, browser in
            let authorization = try await Self.signIn(fixture, browser)
            #expect(browser.cookies["_sesame_session"] != nil)
            let tokenResponse = try await Self.exchange(fixture, browser, authorization)
            #expect(tokenResponse.status == .ok)
            #expect(tokenResponse.headers[.cacheControl] == "no-store")
            let tokens = tokenResponse.json
            let accessToken = try #require(tokens["access_token"]?.stringValue)
            let idToken = try #require(tokens["id_token"]?.stringValue)
            let refreshToken = try #require(tokens["refresh_token"]?.stringValue)
            #expect(tokens["token_type"] == "Bearer")

            // The ID token Auth.js builds its session from.
            let verified = try await Self.verify(idToken, browser)
            #expect(verified.header["alg"] == "ES384")
            let claims = verified.claims
            #expect(claims["iss"]?.stringValue == fixture.issuer)
            #expect(claims["aud"]?.stringValue == fixture.webApp.client.id)
            #expect(claims["sub"]?.stringValue == fixture.user.id)
            #expect(claims["email"] == "alice@example.com")
            #expect(claims["email_verified"] == true)
            #expect(claims["name"] == "Alice Liddell")
            #expect(claims["username"] == "alice")
            #expect(claims["nonce"] == "n-0S6_WzA2Mj")
            #expect(claims["at_hash"]?.stringValue == JWT.halfHash(accessToken, algorithm: .es384))
            #expect(claims["exp"]?.intValue != nil)
            #expect(claims["auth_time"]?.intValue != nil)
            #expect(!idToken.split(separator: ".")[1].isEmpty)

            // Userinfo: GET with the header, POST with the form body (RFC 6750 §2.1, §2.2).
            let viaGet = try await browser.get("/oidc/me", headers: [.authorization: "Bearer \(accessToken)"])
            #expect(viaGet.status == .ok)
            #expect(viaGet.json["sub"]?.stringValue == fixture.user.id)
            #expect(viaGet.json["email"] == "alice@example.com")
            let viaPost = try await browser.post("/oidc/me", form: [("access_token", accessToken)])
            #expect(viaPost.json["sub"]?.stringValue == fixture.user.id)

            // Refresh rotates; the old refresh token is then refused and the grant revoked.
            let refreshed = try await browser.post("/oidc/token", form: [
                ("grant_type", "refresh_token"), ("refresh_token", refreshToken),
                ("client_id", fixture.webApp.client.id), ("client_secret", fixture.webSecret),
            ])
            #expect(refreshed.status == .ok)
            let newRefresh = try #require(refreshed.json["refresh_token"]?.stringValue)
            #expect(newRefresh != refreshToken)
            let refreshedClaims = try await Self.verify(try #require(refreshed.json["id_token"]?.stringValue), browser)
            #expect(refreshedClaims.claims["nonce"] == nil)
            let reuse = try await browser.post("/oidc/token", form: [
                ("grant_type", "refresh_token"), ("refresh_token", refreshToken),
            ], headers: [.authorization: basicAuthorization(fixture.webApp.client.id, fixture.webSecret)])
            #expect(reuse.status == .badRequest)
            #expect(reuse.json["error"] == "invalid_grant")
            let afterReuse = try await browser.post("/oidc/token", form: [
                ("grant_type", "refresh_token"), ("refresh_token", newRefresh),
            ], headers: [.authorization: basicAuthorization(fixture.webApp.client.id, fixture.webSecret)])
            #expect(afterReuse.json["error"] == "invalid_grant")

            // RP-initiated logout with id_token_hint ends the IdP session.
            let logout = try await browser.get("/oidc/session/end?" + RequestParameters.encode([
                ("id_token_hint", idToken), ("post_logout_redirect_uri", "http://localhost:3000"), ("state", "bye"),
            ]))
            #expect(logout.status == .seeOther)
            #expect(logout.location == "http://localhost:3000?state=bye")
            #expect(browser.cookies["_sesame_session"] == nil)
            let again = try await browser.get("/oidc/auth?" + RequestParameters.encode([
                ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback),
                ("response_type", "code"), ("scope", "openid"),
            ]))
            #expect(again.location == "/sign-in")
        }
    }

    @Test func singleSignOnAcrossApplications() async throws {
        try await Fixture.withServer { fixture, browser in
            _ = try await Self.signIn(fixture, browser)
            // The second app's authorization finishes without the sign-in form.
            let verifier = SecureRandom.token(bytes: 48)
            let response = try await browser.get("/oidc/auth?" + RequestParameters.encode([
                ("client_id", fixture.secondApp.client.id), ("redirect_uri", Fixture.secondCallback),
                ("response_type", "code"), ("scope", "openid email"),
                ("code_challenge", PKCE.challenge(for: verifier)), ("code_challenge_method", "S256"),
            ]))
            #expect(response.status == .seeOther)
            let code = try #require(response.redirectQuery["code"])
            let tokens = try await browser.post("/oidc/token", form: [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Fixture.secondCallback),
                ("code_verifier", verifier),
            ], headers: [.authorization: basicAuthorization(fixture.secondApp.client.id, fixture.secondApp.secret ?? "")])
            #expect(tokens.status == .ok)
            #expect(tokens.json["refresh_token"] == nil)  // no offline_access requested
            let claims = try await Self.verify(try #require(tokens.json["id_token"]?.stringValue), browser).claims
            #expect(claims["aud"]?.stringValue == fixture.secondApp.client.id)
            #expect(claims["nonce"] == nil)
            #expect(claims["name"] == nil)  // no profile scope
        }
    }

    @Test func publicClientWithPKCEAndResourceToken() async throws {
        try await Fixture.withServer { fixture, browser in
            let authorization = try await Self.signIn(
                fixture, browser, clientID: fixture.spa.client.id, redirectURI: Fixture.spaCallback,
                scope: "openid offline_access read:books", extra: [("resource", Fixture.resource)])
            let tokens = try await browser.post("/oidc/token", form: [
                ("grant_type", "authorization_code"), ("code", authorization.code),
                ("redirect_uri", Fixture.spaCallback), ("code_verifier", authorization.verifier),
                ("client_id", fixture.spa.client.id), ("resource", Fixture.resource),
            ])
            #expect(tokens.status == .ok)
            let accessToken = try #require(tokens.json["access_token"]?.stringValue)
            let verified = try await Self.verify(accessToken, browser)
            #expect(verified.header["typ"] == "at+jwt")
            #expect(verified.claims["aud"]?.stringValue == Fixture.resource)
            #expect(verified.claims["scope"] == "read:books")
            #expect(verified.claims["sub"]?.stringValue == fixture.user.id)
            // An API token is not a userinfo token.
            let userinfo = try await browser.get("/oidc/me", headers: [.authorization: "Bearer \(accessToken)"])
            #expect(userinfo.status == .unauthorized)
        }
    }

    @Test func clientCredentialsForAnAPI() async throws {
        try await Fixture.withServer { fixture, browser in
            let auth = basicAuthorization(fixture.machine.client.id, fixture.machine.secret ?? "")
            let response = try await browser.post("/oidc/token", form: [
                ("grant_type", "client_credentials"), ("resource", Fixture.resource), ("scope", "read:books write:books"),
            ], headers: [.authorization: auth])
            #expect(response.status == .ok)
            let token = try #require(response.json["access_token"]?.stringValue)
            let claims = try await Self.verify(token, browser).claims
            #expect(claims["sub"]?.stringValue == fixture.machine.client.id)
            #expect(claims["aud"]?.stringValue == Fixture.resource)
            #expect(claims["scope"] == "read:books write:books")
            let unknownScope = try await browser.post("/oidc/token", form: [
                ("grant_type", "client_credentials"), ("resource", Fixture.resource), ("scope", "delete:books"),
            ], headers: [.authorization: auth])
            #expect(unknownScope.json["error"] == "invalid_scope")
            let unknownResource = try await browser.post("/oidc/token", form: [
                ("grant_type", "client_credentials"), ("resource", "https://nope.test"),
            ], headers: [.authorization: auth])
            #expect(unknownResource.json["error"] == "invalid_target")
            // Introspection by the same client sees it active.
            let introspection = try await browser.post("/oidc/token/introspection", form: [("token", token)],
                                                       headers: [.authorization: auth])
            #expect(introspection.json["active"] == true)
        }
    }

    @Test func keyRotationKeepsOldTokensVerifiable() async throws {
        try await Fixture.withServer { fixture, browser in
            let authorization = try await Self.signIn(fixture, browser)
            let before = try #require(try await Self.exchange(fixture, browser, authorization).json["id_token"]?.stringValue)
            let newKey = try await fixture.runtime.rotateKeys(algorithm: .es384)
            let jwks = try await browser.get("/oidc/jwks").json["keys"]?.arrayValue ?? []
            #expect(jwks.count == 5)  // the old and the new ES384 key, and one of each other algorithm
            _ = try await Self.verify(before, browser)
            let second = try await Self.signIn(fixture, browser)
            let after = try #require(try await Self.exchange(fixture, browser, second).json["id_token"]?.stringValue)
            let verified = try await Self.verify(after, browser)
            #expect(verified.header["kid"]?.stringValue == newKey.kid)
            #expect(verified.header["alg"] == "ES384")
        }
    }
}
