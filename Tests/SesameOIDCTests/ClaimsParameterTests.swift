import Foundation
import SesameOIDC
import Testing

/// The `claims` request parameter (OpenID Connect Core §5.5).
@Suite("Claims parameter")
struct ClaimsParameterTests {
    static func json(_ value: JSONValue) -> String { value.encodedString() }

    @Test func claimsAskedOneByOneReachTheIDTokenAndUserinfo() async throws {
        let fixture = EngineFixture()
        let claims = Self.json(["id_token": ["email": ["essential": true], "acr": .null],
                                "userinfo": ["name": .null, "email_verified": .null, "not_a_claim": .null]])
        let (code, _) = try await fixture.signIn(["scope": "openid offline_access", "claims": claims])
        let tokens = try await fixture.exchange(code)
        let idToken = try await fixture.verify(try #require(tokens["id_token"]?.stringValue)).claims
        #expect(idToken["email"] == "alice@example.com")
        #expect(idToken["name"] == nil)  // asked of userinfo only
        #expect(idToken["acr"] == "urn:sesame:acr:sfa")  // acr asked for: the class achieved
        let userinfo = try await fixture.provider.userInfo(
            authorization: "Bearer \(try #require(tokens["access_token"]?.stringValue))", form: nil).body
        #expect(userinfo?["name"] == "Alice Liddell")
        #expect(userinfo?["email_verified"] == true)
        #expect(userinfo?["email"] == nil)
        #expect(userinfo?["not_a_claim"] == nil)
        // The grant keeps the request: a refreshed ID token carries the same claims.
        let refreshed = try await fixture.refresh(try #require(tokens["refresh_token"]?.stringValue))
        #expect(try await fixture.verify(try #require(refreshed["id_token"]?.stringValue)).claims["email"]
            == "alice@example.com")
        #expect(try await fixture.provider.discoveryDocument()["claims_parameter_supported"] == true)
    }

    /// A third-party app gets individual claims only within the scopes the user granted on its consent page.
    @Test func aThirdPartyAppGetsOnlyWhatItsScopesCover() async throws {
        let fixture = EngineFixture()
        let claims = Self.json(["id_token": ["email": .null, "name": .null], "userinfo": ["phone_number": .null]])
        let (code, _) = try await fixture.signIn([
            "client_id": "third", "redirect_uri": "https://partner.test/cb", "scope": "openid profile", "claims": claims,
        ])
        let tokens = try await fixture.provider.token(RequestParameters([
            "grant_type": ["authorization_code"], "code": [code], "redirect_uri": ["https://partner.test/cb"],
            "code_verifier": [EngineFixture.verifier],
        ]), authorization: EngineFixture.basic("third", "third")).body
        let idToken = try await fixture.verify(try #require(tokens?["id_token"]?.stringValue)).claims
        #expect(idToken["name"] == "Alice Liddell")  // profile was granted
        #expect(idToken["email"] == nil)  // email was not
        let userinfo = try await fixture.provider.userInfo(
            authorization: "Bearer \(try #require(tokens?["access_token"]?.stringValue))", form: nil).body
        #expect(userinfo?["phone_number"] == nil)
    }

    /// A `sub` named with a value (Core §5.5.1): only that user gets a positive answer, from the session or after
    /// signing in; anyone else must sign in, and a sign-in by someone else ends in `access_denied`.
    @Test func aSubValueOnlyAnswersForThatUser() async throws {
        let fixture = EngineFixture()
        let (_, session) = try await fixture.signIn()
        let mine = Self.json(["id_token": ["sub": ["value": "user-1"]]])
        guard case .redirect(let location) = try await fixture.provider.authorize(
            fixture.authorizationParameters(["claims": mine]), sessionToken: session)
        else { Issue.record("the session's own sub should answer at once"); return }
        #expect(EngineFixture.query(location)["code"] != nil)

        let theirs = Self.json(["id_token": ["sub": ["value": "user-2"]]])
        let silent = try await fixture.provider.authorize(
            fixture.authorizationParameters(["claims": theirs, "prompt": "none"]), sessionToken: session)
        guard case .redirect(let refused) = silent else { Issue.record("expected an error redirect"); return }
        #expect(EngineFixture.query(refused)["error"] == "login_required")
        guard case .interaction(let ticket) = try await fixture.provider.authorize(
            fixture.authorizationParameters(["claims": theirs]), sessionToken: session)
        else { Issue.record("another sub must make the user sign in"); return }
        #expect(ticket.step == .login)
        let newSession = try await fixture.provider.completeLogin(interactionToken: ticket.token,
                                                                  accountID: EngineFixture.user.id,
                                                                  previousSessionToken: session)
        guard case .redirect(let denied) = try await fixture.provider.resume(interactionToken: ticket.token,
                                                                             sessionToken: newSession)
        else { Issue.record("expected an error redirect"); return }
        #expect(EngineFixture.query(denied)["error"] == "access_denied")
        #expect(EngineFixture.query(denied)["code"] == nil)
    }

    @Test func acrValuesInClaimsAreMetOrTheRequestFails() async throws {
        let fixture = EngineFixture()
        let met = Self.json(["id_token": ["acr": ["essential": true, "values": ["urn:sesame:acr:sfa", "urn:other"]]]])
        let (code, _) = try await fixture.signIn(["claims": met])
        #expect(try await fixture.verify(try #require(try await fixture.exchange(code)["id_token"]?.stringValue))
            .claims["acr"] == "urn:sesame:acr:sfa")
        // An essential acr no offered class meets: a failed authentication, sent back to the client.
        let unmet = Self.json(["id_token": ["acr": ["essential": true, "value": "urn:example:loa:4"]]])
        let outcome = try await fixture.provider.authorize(fixture.authorizationParameters(["claims": unmet]),
                                                           sessionToken: nil)
        guard case .redirect(let location) = outcome else {
            Issue.record("expected a redirect, got \(outcome)")
            return
        }
        #expect(EngineFixture.query(location)["error"] == "access_denied")
        #expect(EngineFixture.query(location)["state"] == "xyz")
    }

    @Test(arguments: [
        "not json", "[]", "5", #"{"id_token": 5}"#, #"{"userinfo": ["email"]}"#, #"{"id_token": {"email": true}}"#,
        #"{"id_token": {"email": {"essential": "yes"}}}"#, #"{"id_token": {"acr": {"values": "urn:x"}}}"#,
        #"{"id_token": {"acr": {"value": {"a": 1}}}}"#, String(repeating: "[", count: 100),
        "{\"id_token\": {\"email\": null}, \"id_token\": {}}", String(repeating: " ", count: 5_000),
    ])
    func malformedClaimsAreAnInvalidRequest(_ claims: String) async throws {
        let fixture = EngineFixture()
        let outcome = try await fixture.provider.authorize(fixture.authorizationParameters(["claims": claims]),
                                                           sessionToken: nil)
        guard case .redirect(let location) = outcome else {
            Issue.record("expected a redirect, got \(outcome)")
            return
        }
        #expect(EngineFixture.query(location)["error"] == "invalid_request")
    }
}
