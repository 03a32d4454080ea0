import Foundation
import SesameOIDC
import Testing

/// Userinfo (OIDC Core §5.3, RFC 6750), introspection (RFC 7662), revocation (RFC 7009) and
/// RP-initiated logout.
@Suite("Userinfo, introspection, revocation, logout")
struct UserInfoAndSessionTests {
    func tokens(_ fixture: EngineFixture, scope: String = "openid profile email offline_access") async throws
        -> (access: String, refresh: String?, id: String, session: String)
    {
        let (code, session) = try await fixture.signIn(["scope": scope])
        let body = try await fixture.exchange(code)
        return (try #require(body["access_token"]?.stringValue), body["refresh_token"]?.stringValue,
                try #require(body["id_token"]?.stringValue), session)
    }

    @Test func userInfoByHeaderOrFormBody() async throws {
        let fixture = EngineFixture()
        let token = try await tokens(fixture, scope: "openid email").access
        let viaHeader = try await fixture.provider.userInfo(authorization: "Bearer \(token)", form: nil).body
        #expect(viaHeader == ["sub": "user-1", "email": "alice@example.com", "email_verified": true])
        let viaBody = try await fixture.provider.userInfo(
            authorization: nil, form: RequestParameters(["access_token": [token]])).body
        #expect(viaBody?["sub"] == "user-1")
        let both = await oauthError {
            _ = try await fixture.provider.userInfo(authorization: "Bearer \(token)",
                                                    form: RequestParameters(["access_token": [token]]))
        }
        #expect(both?.code == .invalidRequest)
    }

    @Test(arguments: [nil, "Bearer", "Bearer unknown-token", "Basic abc", "Bearer a.b.c"] as [String?])
    func userInfoRejectsMissingAndBadTokens(_ header: String?) async throws {
        let fixture = EngineFixture()
        let error = await oauthError { _ = try await fixture.provider.userInfo(authorization: header, form: nil) }
        #expect(error.map { [401, 400].contains($0.status) } == true)
        #expect(error?.wwwAuthenticate?.hasPrefix("Bearer") == true)
    }

    @Test func expiredAccessTokensAreRefused() async throws {
        let fixture = EngineFixture()
        let token = try await tokens(fixture).access
        fixture.clock.advance(3601)
        let error = await oauthError { _ = try await fixture.provider.userInfo(authorization: "Bearer \(token)", form: nil) }
        #expect(error?.code == .invalidToken)
        #expect(error?.status == 401)
    }

    @Test func introspectionSeesOnlyTheCallersLiveTokens() async throws {
        let fixture = EngineFixture()
        let issued = try await tokens(fixture)
        let web = EngineFixture.basic("web", EngineFixture.webSecret)
        let active = try await fixture.provider.introspect(RequestParameters(["token": [issued.access]]), authorization: web)
        #expect(active.body?["active"] == true)
        #expect(active.body?["sub"] == "user-1")
        #expect(active.body?["client_id"] == "web")
        let refresh = try await fixture.provider.introspect(
            RequestParameters(["token": [try #require(issued.refresh)]]), authorization: web)
        #expect(refresh.body?["token_type"] == "refresh_token")
        let foreign = try await fixture.provider.introspect(RequestParameters(["token": [issued.access]]),
                                                            authorization: EngineFixture.basic("third", "third"))
        #expect(foreign.body == ["active": false])
        let unknown = try await fixture.provider.introspect(RequestParameters(["token": ["nope"]]), authorization: web)
        #expect(unknown.body == ["active": false])
        let anonymous = await oauthError {
            _ = try await fixture.provider.introspect(RequestParameters(["token": [issued.access]]), authorization: nil)
        }
        #expect(anonymous?.code == .invalidClient)
        fixture.clock.advance(3601)
        let expired = try await fixture.provider.introspect(RequestParameters(["token": [issued.access]]), authorization: web)
        #expect(expired.body == ["active": false])
    }

    @Test func revokingARefreshTokenEndsTheGrant() async throws {
        let fixture = EngineFixture()
        let issued = try await tokens(fixture)
        let web = EngineFixture.basic("web", EngineFixture.webSecret)
        let response = try await fixture.provider.revoke(
            RequestParameters(["token": [try #require(issued.refresh)], "token_type_hint": ["refresh_token"]]),
            authorization: web)
        #expect(response.status == 200)
        #expect(response.body == nil)
        let introspection = try await fixture.provider.introspect(RequestParameters(["token": [issued.access]]),
                                                                  authorization: web)
        #expect(introspection.body == ["active": false])
        let unknown = try await fixture.provider.revoke(RequestParameters(["token": ["unknown"]]), authorization: web)
        #expect(unknown.status == 200)
    }

    /// RFC 7009 §2.2: a hint the server does not know is ignored, and the token is still found and revoked,
    /// whatever the hint says.
    @Test(arguments: ["id_token", "urn:unknown", "refresh_token", "access_token"])
    func anUnknownOrWrongHintStillRevokes(_ hint: String) async throws {
        let fixture = EngineFixture()
        let issued = try await tokens(fixture)
        let web = EngineFixture.basic("web", EngineFixture.webSecret)
        let response = try await fixture.provider.revoke(
            RequestParameters(["token": [issued.access], "token_type_hint": [hint]]), authorization: web)
        #expect(response.status == 200)
        let introspection = try await fixture.provider.introspect(RequestParameters(["token": [issued.access]]),
                                                                  authorization: web)
        #expect(introspection.body == ["active": false])
    }

    @Test func anotherClientCannotRevokeYourToken() async throws {
        let fixture = EngineFixture()
        let issued = try await tokens(fixture)
        _ = try await fixture.provider.revoke(RequestParameters(["token": [issued.access]]),
                                              authorization: EngineFixture.basic("third", "third"))
        let body = try await fixture.provider.userInfo(authorization: "Bearer \(issued.access)", form: nil).body
        #expect(body?["sub"] == "user-1")
    }

    @Test func logoutWithAHintRedirectsWithStateAndEndsTheSession() async throws {
        let fixture = EngineFixture()
        let issued = try await tokens(fixture)
        let outcome = try await fixture.provider.endSession(RequestParameters([
            "id_token_hint": [issued.id], "post_logout_redirect_uri": ["https://app.example.test/"], "state": ["bye"],
        ]), sessionToken: issued.session)
        guard case .signedOut(let redirect) = outcome else { Issue.record("expected a sign-out"); return }
        #expect(redirect == "https://app.example.test/?state=bye")
        #expect(try await fixture.provider.session(token: issued.session) == nil)
    }

    @Test func logoutWithoutAHintAsksFirst() async throws {
        let fixture = EngineFixture()
        let issued = try await tokens(fixture)
        let outcome = try await fixture.provider.endSession(RequestParameters(["client_id": ["web"]]),
                                                            sessionToken: issued.session)
        guard case .confirm(let request) = outcome else { Issue.record("expected a confirmation"); return }
        #expect(request.clientName == "Bookstore")
        #expect(try await fixture.provider.session(token: issued.session) != nil)
        _ = try await fixture.provider.finishLogout(request, sessionToken: issued.session)
        #expect(try await fixture.provider.session(token: issued.session) == nil)
    }

    @Test(arguments: [
        ["id_token_hint": ["not.a.jwt"]],
        ["post_logout_redirect_uri": ["https://app.example.test/"]],
        ["client_id": ["web"], "post_logout_redirect_uri": ["https://evil.test/"]],
        ["client_id": ["ghost"]],
    ] as [[String: [String]]])
    func logoutRejectsBadRequests(_ values: [String: [String]]) async throws {
        let fixture = EngineFixture()
        let error = await oauthError {
            _ = try await fixture.provider.endSession(RequestParameters(values), sessionToken: nil)
        }
        #expect(error?.status == 400)
    }

    @Test func aHintForAnotherClientIDIsRefused() async throws {
        let fixture = EngineFixture()
        let issued = try await tokens(fixture)
        let error = await oauthError {
            _ = try await fixture.provider.endSession(
                RequestParameters(["id_token_hint": [issued.id], "client_id": ["spa"]]), sessionToken: nil)
        }
        #expect(error?.code == .invalidRequest)
    }
}
