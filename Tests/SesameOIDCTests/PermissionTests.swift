import Foundation
import SesameOIDC
import Testing

/// The token rules of roles (RBAC): requested ∩ allowed, recomputed on refresh, bounded by consent for
/// third-party apps; `client_credentials` gets only what the app's roles hold; the `roles` claim.
struct PermissionTests {
    static let apiScopes = "openid offline_access read:books write:books"

    private func apiToken(_ fixture: EngineFixture, _ body: JSONValue) async throws -> String? {
        let token = try await fixture.verify(try #require(body["access_token"]?.stringValue))
        return token.claims["scope"]?.stringValue
    }

    @Test func aUserTokenCarriesOnlyTheRequestedScopesTheirRolesHold() async throws {
        let fixture = EngineFixture(permitted: ["read:books"])
        let (code, _) = try await fixture.signIn(["scope": Self.apiScopes, "resource": EngineFixture.resource])
        let body = try await fixture.exchange(code, extra: ["resource": EngineFixture.resource])
        #expect(try await apiToken(fixture, body) == "read:books")
        #expect(body["scope"] == "read:books")
    }

    @Test func refreshRecomputesFromTheRolesHeldNow() async throws {
        let fixture = EngineFixture(permitted: ["read:books"])
        let (code, _) = try await fixture.signIn(["scope": Self.apiScopes, "resource": EngineFixture.resource])
        var body = try await fixture.exchange(code, extra: ["resource": EngineFixture.resource])
        // A role giving write:books is added: it appears at the next refresh, without a new authorization.
        fixture.storage.permit(.account("user-1"), ["read:books", "write:books"])
        body = try await fixture.refresh(try #require(body["refresh_token"]?.stringValue),
                                         extra: ["resource": EngineFixture.resource])
        #expect(try await apiToken(fixture, body) == "read:books write:books")
        // Every role is removed: the next access token has no scope at all.
        fixture.storage.permit(.account("user-1"), [])
        body = try await fixture.refresh(try #require(body["refresh_token"]?.stringValue),
                                         extra: ["resource": EngineFixture.resource])
        #expect(try await apiToken(fixture, body) == nil)
        #expect(body["scope"] == "")
    }

    @Test func clientCredentialsGrantsRequestedScopesTheAppsRolesHold() async throws {
        let fixture = EngineFixture(permitted: ["read:books"])
        let auth = EngineFixture.basic("m2m", EngineFixture.machineSecret)
        func token(_ scope: String?) async throws -> (JSONValue, String?) {
            var values: [String: [String]] = ["grant_type": ["client_credentials"], "resource": [EngineFixture.resource]]
            if let scope { values["scope"] = [scope] }
            let body = try #require(try await fixture.provider.token(RequestParameters(values), authorization: auth).body)
            return (body, try await apiToken(fixture, body))
        }
        var (body, scope) = try await token("read:books write:books")
        #expect(scope == "read:books")
        #expect(body["scope"] == "read:books")
        // No scope parameter: a token with no scopes, and the response still says so.
        (body, scope) = try await token(nil)
        #expect(scope == nil)
        #expect(body["scope"] == "")
        // An app whose roles hold nothing gets an empty scope, not an error.
        fixture.storage.permit(.client("m2m"), [])
        (body, scope) = try await token("read:books")
        #expect(scope == nil)
        #expect(body["scope"] == "")
    }

    @Test func aThirdPartyAppGetsNoMoreThanTheUserConsentedTo() async throws {
        let fixture = EngineFixture(permitted: ["read:books"])
        let overrides: [String: String?] = [
            "client_id": "third", "redirect_uri": "https://partner.test/cb", "scope": Self.apiScopes,
            "resource": EngineFixture.resource,
        ]
        let auth = EngineFixture.basic("third", "third")
        func exchange(_ code: String) async throws -> JSONValue {
            try #require(try await fixture.provider.token(RequestParameters([
                "grant_type": ["authorization_code"], "code": [code], "redirect_uri": ["https://partner.test/cb"],
                "code_verifier": [EngineFixture.verifier], "resource": [EngineFixture.resource],
            ]), authorization: auth).body)
        }
        // The consent page offers the permissions the user holds, and consent records exactly those.
        let outcome = try await fixture.provider.authorize(fixture.authorizationParameters(overrides), sessionToken: nil)
        guard case .interaction(let ticket) = outcome else { Issue.record("expected an interaction"); return }
        let details = try await fixture.provider.consentDetails(for: ticket.interaction.request, accountID: "user-1")
        #expect(details.scopes == ["openid", "offline_access"])
        #expect(details.permissions.map { $0.scopes.map(\.name) } == [["read:books"]])
        let (code, session) = try await fixture.signIn(overrides)
        var body = try await exchange(code)
        #expect(try await apiToken(fixture, body) == "read:books")
        // write:books is granted to the user later: the third-party app does not get it without new consent...
        fixture.storage.permit(.account("user-1"), ["read:books", "write:books"])
        body = try await fixture.provider.token(RequestParameters([
            "grant_type": ["refresh_token"], "refresh_token": [try #require(body["refresh_token"]?.stringValue)],
            "resource": [EngineFixture.resource],
        ]), authorization: auth).body ?? .null
        #expect(try await apiToken(fixture, body) == "read:books")
        // ...and asking again shows the consent page, which then covers it.
        let again = try await fixture.provider.authorize(fixture.authorizationParameters(overrides),
                                                         sessionToken: session)
        guard case .interaction(let consent) = again else { Issue.record("expected the consent page"); return }
        #expect(consent.step == .consent)
        _ = try await fixture.provider.prepareConsent(interactionToken: consent.token)
        try await fixture.provider.completeConsent(interactionToken: consent.token)
        guard case .redirect(let location) = try await fixture.provider.resume(interactionToken: consent.token,
                                                                                sessionToken: session)
        else { Issue.record("expected a redirect"); return }
        body = try await exchange(try #require(EngineFixture.query(location)["code"]))
        #expect(try await apiToken(fixture, body) == "read:books write:books")
    }

    @Test func acceptingRecordsOnlyWhatTheConsentPageShowed() async throws {
        let fixture = EngineFixture(permitted: ["read:books"])
        let overrides: [String: String?] = [
            "client_id": "third", "redirect_uri": "https://partner.test/cb", "scope": Self.apiScopes,
            "resource": EngineFixture.resource,
        ]
        let outcome = try await fixture.provider.authorize(fixture.authorizationParameters(overrides), sessionToken: nil)
        guard case .interaction(let ticket) = outcome else { Issue.record("expected an interaction"); return }
        let session = try await fixture.provider.completeLogin(interactionToken: ticket.token, accountID: "user-1",
                                                               previousSessionToken: nil)
        guard case .interaction = try await fixture.provider.resume(interactionToken: ticket.token, sessionToken: session)
        else { Issue.record("expected the consent page"); return }
        let shown = try await fixture.provider.prepareConsent(interactionToken: ticket.token)
        #expect(shown.permissions.flatMap { $0.scopes.map(\.name) } == ["read:books"])
        // A role giving write:books arrives while the page is open: accepting does not consent to it.
        fixture.storage.permit(.account("user-1"), ["read:books", "write:books"])
        try await fixture.provider.completeConsent(interactionToken: ticket.token)
        let consented = try await fixture.storage.consentedScopes(accountID: "user-1", clientID: "third")
        #expect(consented.contains(ConsentScope.qualified("read:books", of: EngineFixture.resource)))
        #expect(!consented.contains(ConsentScope.qualified("write:books", of: EngineFixture.resource)))
    }

    @Test func theRolesScopeReleasesRoleNamesInUserinfoAndTheIDTokenWhenEnabled() async throws {
        for enabled in [true, false] {
            let fixture = EngineFixture(roles: ["editor", "reader"], idTokenClaims: enabled ? ["roles"] : [])
            let (code, _) = try await fixture.signIn(["scope": "openid roles"])
            let body = try await fixture.exchange(code)
            let idToken = try await fixture.verify(try #require(body["id_token"]?.stringValue))
            #expect(idToken.claims["roles"] == (enabled ? ["editor", "reader"] : nil))
            let userinfo = try await fixture.provider.userInfo(
                authorization: "Bearer " + (body["access_token"]?.stringValue ?? ""), form: nil)
            #expect(userinfo.body?["roles"] == ["editor", "reader"])
        }
        // Only the roles scope releases them: phone releases the phone claims and nothing more.
        #expect(StandardScope.claimsByScope["phone"] == ["phone_number", "phone_number_verified"])
        // Without the scope, no roles anywhere.
        let fixture = EngineFixture(roles: ["editor"])
        let body = try await fixture.exchange(try await fixture.signIn(["scope": "openid"]).code)
        #expect(try await fixture.verify(try #require(body["id_token"]?.stringValue)).claims["roles"] == nil)
    }
}

/// Logto's organization tokens: a refresh token with `organization_id`, and `client_credentials` for member apps.
struct OrganizationTokenTests {
    static let scopes = "openid offline_access urn:logto:scope:organizations invite:member read:books"

    private func refresh(_ fixture: EngineFixture, _ token: String, _ extra: [String: String]) async throws -> JSONValue {
        try await fixture.refresh(token, extra: extra)
    }

    @Test func aMemberGetsTheOrganizationsPermissionsAndANonMemberNothing() async throws {
        let fixture = EngineFixture(permitted: [])
        fixture.storage.join(.account("user-1"), "acme", scopes: ["invite:member"])
        fixture.storage.join(.account("user-1"), "acme", scopes: ["read:books"], resourceID: "api")
        fixture.storage.join(.account("user-1"), "globex", scopes: [])
        let (code, _) = try await fixture.signIn(["scope": Self.scopes, "resource": EngineFixture.resource])
        var body = try await fixture.exchange(code)
        // The organization token: aud urn:logto:organization:acme, the org scope the roles there hold.
        body = try await refresh(fixture, try #require(body["refresh_token"]?.stringValue), ["organization_id": "acme"])
        var token = try await fixture.verify(try #require(body["access_token"]?.stringValue))
        #expect(token.header["typ"] == "at+jwt")
        #expect(token.claims["aud"] == "urn:logto:organization:acme")
        #expect(token.claims["scope"] == "invite:member")
        #expect(body["scope"] == "invite:member")
        // Another organization: a member without roles gets a token without scopes.
        body = try await refresh(fixture, try #require(body["refresh_token"]?.stringValue), ["organization_id": "globex"])
        token = try await fixture.verify(try #require(body["access_token"]?.stringValue))
        #expect(token.claims["aud"] == "urn:logto:organization:globex" && token.claims["scope"] == nil)
        // An organization-level API token: the API's scopes from the roles there, with organization_id.
        body = try await refresh(fixture, try #require(body["refresh_token"]?.stringValue),
                                 ["organization_id": "acme", "resource": EngineFixture.resource])
        token = try await fixture.verify(try #require(body["access_token"]?.stringValue))
        #expect(token.claims["aud"]?.stringValue == EngineFixture.resource)
        #expect(token.claims["scope"] == "read:books" && token.claims["organization_id"] == "acme")
        // Not a member: 403 access_denied.
        let denied = await oauthError {
            _ = try await refresh(fixture, try #require(body["refresh_token"]?.stringValue), ["organization_id": "initech"])
        }
        #expect(denied?.code == .accessDenied && denied?.status == 403)
    }

    @Test func organizationTokensNeedTheScopeAMemberWithMFAAndAFirstPartyApp() async throws {
        let fixture = EngineFixture(permitted: [])
        fixture.storage.join(.account("user-1"), "vault", scopes: ["read:secrets"], requiresMFA: true)
        // Without urn:logto:scope:organizations in the refresh token: insufficient_scope.
        var (code, _) = try await fixture.signIn(["scope": "openid offline_access"])
        var body = try await fixture.exchange(code)
        let missing = await oauthError {
            _ = try await refresh(fixture, try #require(body["refresh_token"]?.stringValue), ["organization_id": "vault"])
        }
        #expect(missing?.code == .insufficientScope)
        // An organization requiring MFA: the user has no second factor, so no token.
        (code, _) = try await fixture.signIn(["scope": Self.scopes])
        body = try await fixture.exchange(code)
        let mfa = await oauthError {
            _ = try await refresh(fixture, try #require(body["refresh_token"]?.stringValue), ["organization_id": "vault"])
        }
        #expect(mfa?.code == .accessDenied)
        let malformed = await oauthError {
            _ = try await refresh(fixture, try #require(body["refresh_token"]?.stringValue), ["organization_id": "a b"])
        }
        #expect(malformed?.code == .invalidRequest)
    }

    @Test func memberAppsGetOrganizationTokensByClientCredentials() async throws {
        let fixture = EngineFixture(permitted: [])
        let auth = EngineFixture.basic("m2m", EngineFixture.machineSecret)
        func token(_ values: [String: [String]]) async throws -> JSONValue {
            var values = values
            values["grant_type"] = ["client_credentials"]
            return try #require(try await fixture.provider.token(RequestParameters(values), authorization: auth).body)
        }
        let outsider = await oauthError { _ = try await token(["organization_id": ["acme"], "scope": ["read:reports"]]) }
        #expect(outsider?.code == .accessDenied)
        fixture.storage.join(.client("m2m"), "acme", scopes: ["read:reports"], requiresMFA: true)
        let body = try await token(["organization_id": ["acme"], "scope": ["read:reports write:reports"]])
        let claims = try await fixture.verify(try #require(body["access_token"]?.stringValue)).claims
        #expect(claims["aud"] == "urn:logto:organization:acme" && claims["scope"] == "read:reports")
        #expect(claims["sub"] == "m2m")
    }
}
