import Foundation
import SesameOIDC
import Testing

/// OIDC Core §3.1.2 and RFC 6749 §4.1, clause by clause.
@Suite("Authorization endpoint")
struct AuthorizationEndpointTests {
    /// Until client and redirect URI check out, a person sees a page: never a redirect (§3.1.2.1, RFC 6749 §4.1.2.1).
    @Test(arguments: [
        ["client_id": "nobody"],
        ["client_id": nil],
        ["redirect_uri": nil],
        ["redirect_uri": EngineFixture.webCallback + "/"],
        ["redirect_uri": EngineFixture.webCallback.uppercased()],
        ["redirect_uri": EngineFixture.webCallback + "?extra=1"],
        ["redirect_uri": "https://evil.test/cb"],
    ] as [[String: String?]])
    func untrustedClientOrRedirectShowsAPage(_ overrides: [String: String?]) async throws {
        let fixture = EngineFixture()
        let outcome = try await fixture.provider.authorize(fixture.authorizationParameters(overrides), sessionToken: nil)
        guard case .errorPage = outcome else {
            Issue.record("expected an error page, got \(outcome)")
            return
        }
    }

    /// Other errors go back to the client with `error`, `state` and `iss` (RFC 6749 §4.1.2.1, RFC 9207).
    @Test(arguments: [
        (["response_type": nil], "invalid_request"),
        (["response_type": "token"], "unsupported_response_type"),
        (["response_type": "code id_token"], "unsupported_response_type"),
        (["response_mode": "fragment"], "invalid_request"),
        (["scope": "profile email"], "invalid_scope"),
        (["code_challenge_method": "plain"], "invalid_request"),
        (["code_challenge": "too-short"], "invalid_request"),
        (["code_challenge": nil], "invalid_request"),
        (["prompt": "none login"], "invalid_request"),
        (["prompt": "bogus"], "invalid_request"),
        (["prompt": "none"], "login_required"),
        (["max_age": "-1"], "invalid_request"),
        (["max_age": "soon"], "invalid_request"),
        (["resource": "https://unknown.test"], "invalid_target"),
        (["resource": "not a uri"], "invalid_target"),
        (["request": "eyJ..."], "request_not_supported"),
        (["request_uri": "urn:x"], "request_uri_not_supported"),
    ] as [([String: String?], String)])
    func protocolErrorsAreRedirected(_ overrides: [String: String?], _ error: String) async throws {
        let fixture = EngineFixture()
        let outcome = try await fixture.provider.authorize(fixture.authorizationParameters(overrides), sessionToken: nil)
        guard case .redirect(let location) = outcome else {
            Issue.record("expected a redirect, got \(outcome)")
            return
        }
        #expect(location.hasPrefix(EngineFixture.webCallback + "?"))
        let query = EngineFixture.query(location)
        #expect(query["error"] == error)
        #expect(query["error_description"]?.isEmpty == false)
        #expect(query["state"] == "xyz")
        #expect(query["iss"] == EngineFixture.issuer)
        #expect(query["code"] == nil)
    }

    @Test func duplicateParametersAreRejected() async throws {
        let fixture = EngineFixture()
        var values = fixture.authorizationParameters().values
        values["nonce"] = ["a", "b"]
        let outcome = try await fixture.provider.authorize(RequestParameters(values), sessionToken: nil)
        guard case .redirect(let location) = outcome else { Issue.record("expected a redirect"); return }
        #expect(EngineFixture.query(location)["error"] == "invalid_request")
    }

    @Test func publicClientsMustUsePKCEConfidentialOnesMayNot() async throws {
        let fixture = EngineFixture()
        let spa = try await fixture.provider.authorize(RequestParameters([
            "client_id": ["spa"], "redirect_uri": [EngineFixture.spaCallback], "response_type": ["code"],
            "scope": ["openid"],
        ]), sessionToken: nil)
        guard case .redirect(let location) = spa else { Issue.record("expected a redirect"); return }
        #expect(EngineFixture.query(location)["error"] == "invalid_request")
        let web = try await fixture.provider.authorize(
            fixture.authorizationParameters(["code_challenge": nil, "code_challenge_method": nil]), sessionToken: nil)
        guard case .interaction = web else { Issue.record("expected the sign-in step"); return }
    }

    @Test func machineToMachineAppsCannotUseTheCodeFlow() async throws {
        let fixture = EngineFixture()
        let outcome = try await fixture.provider.authorize(RequestParameters([
            "client_id": ["m2m"], "redirect_uri": ["https://x.test/cb"], "response_type": ["code"], "scope": ["openid"],
        ]), sessionToken: nil)
        guard case .errorPage = outcome else { Issue.record("m2m apps have no redirect URIs to trust"); return }
    }

    @Test func withoutASessionTheUserSignsIn() async throws {
        let fixture = EngineFixture()
        let outcome = try await fixture.provider.authorize(
            fixture.authorizationParameters(["login_hint": "alice@example.com", "nonce": "n1"]), sessionToken: nil)
        guard case .interaction(let ticket) = outcome else { Issue.record("expected an interaction"); return }
        #expect(ticket.step == .login)
        #expect(ticket.interaction.request.loginHint == "alice@example.com")
        #expect(ticket.interaction.request.nonce == "n1")
        #expect(ticket.interaction.id == SecretDigest.sha256Hex(ticket.token))
        // Only the digest of the cookie value is stored.
        #expect(try await fixture.storage.interaction(id: ticket.token) == nil)
    }

    @Test func aSessionSignsTheUserInWithoutTheForm() async throws {
        let fixture = EngineFixture()
        let first = try await fixture.signIn()
        let outcome = try await fixture.provider.authorize(fixture.authorizationParameters(), sessionToken: first.session)
        guard case .redirect(let location) = outcome else { Issue.record("expected single sign-on"); return }
        let query = EngineFixture.query(location)
        #expect(query["code"] != nil)
        #expect(query["state"] == "xyz")
        #expect(query["iss"] == EngineFixture.issuer)
        // prompt=none succeeds with a session.
        let silent = try await fixture.provider.authorize(fixture.authorizationParameters(["prompt": "none"]),
                                                          sessionToken: first.session)
        guard case .redirect(let silentLocation) = silent else { Issue.record("expected a code"); return }
        #expect(EngineFixture.query(silentLocation)["code"] != nil)
    }

    @Test func promptLoginAndMaxAgeForceTheForm() async throws {
        let fixture = EngineFixture()
        let first = try await fixture.signIn()
        let login = try await fixture.provider.authorize(fixture.authorizationParameters(["prompt": "login"]),
                                                         sessionToken: first.session)
        guard case .interaction(let ticket) = login, ticket.step == .login else {
            Issue.record("prompt=login must show the form"); return
        }
        fixture.clock.advance(120)
        let stale = try await fixture.provider.authorize(fixture.authorizationParameters(["max_age": "60"]),
                                                         sessionToken: first.session)
        guard case .interaction = stale else { Issue.record("max_age passed: sign in again"); return }
        let fresh = try await fixture.provider.authorize(fixture.authorizationParameters(["max_age": "600"]),
                                                         sessionToken: first.session)
        guard case .redirect = fresh else { Issue.record("max_age not passed: no form"); return }
    }

    @Test func expiredSessionsAndInteractionsAreIgnored() async throws {
        let fixture = EngineFixture()
        let first = try await fixture.signIn()
        fixture.clock.advance(TimeInterval(fixture.provider.configuration.sessionTTL + 1))
        let outcome = try await fixture.provider.authorize(fixture.authorizationParameters(), sessionToken: first.session)
        guard case .interaction(let ticket) = outcome else { Issue.record("the session expired"); return }
        fixture.clock.advance(TimeInterval(fixture.provider.configuration.interactionTTL + 1))
        let resumed = try await fixture.provider.resume(interactionToken: ticket.token, sessionToken: nil)
        guard case .errorPage(let error) = resumed else { Issue.record("the interaction expired"); return }
        #expect(error.code == .sessionNotFound)
    }

    @Test func thirdPartyAppsAskForConsentOnce() async throws {
        let fixture = EngineFixture()
        let parameters = RequestParameters([
            "client_id": ["third"], "redirect_uri": ["https://partner.test/cb"], "response_type": ["code"],
            "scope": ["openid email"], "state": ["s"],
        ])
        let first = try await fixture.provider.authorize(parameters, sessionToken: nil)
        guard case .interaction(let ticket) = first else { Issue.record("expected sign-in"); return }
        let session = try await fixture.provider.completeLogin(interactionToken: ticket.token,
                                                               accountID: EngineFixture.user.id,
                                                               previousSessionToken: nil)
        let consent = try await fixture.provider.resume(interactionToken: ticket.token, sessionToken: session)
        guard case .interaction(let consentTicket) = consent, consentTicket.step == .consent else {
            Issue.record("expected the consent step"); return
        }
        // prompt=none cannot consent for the user.
        var silent = parameters.values
        silent["prompt"] = ["none"]
        let refused = try await fixture.provider.authorize(RequestParameters(silent), sessionToken: session)
        guard case .redirect(let refusedLocation) = refused else { Issue.record("expected a redirect"); return }
        #expect(EngineFixture.query(refusedLocation)["error"] == "consent_required")

        try await fixture.provider.completeConsent(interactionToken: ticket.token)
        let granted = try await fixture.provider.resume(interactionToken: ticket.token, sessionToken: session)
        guard case .redirect(let location) = granted else { Issue.record("expected a code"); return }
        #expect(EngineFixture.query(location)["code"] != nil)
        let again = try await fixture.provider.authorize(parameters, sessionToken: session)
        guard case .redirect = again else { Issue.record("consent is remembered"); return }
        var forced = parameters.values
        forced["prompt"] = ["consent"]
        let asked = try await fixture.provider.authorize(RequestParameters(forced), sessionToken: session)
        guard case .interaction(let forcedTicket) = asked, forcedTicket.step == .consent else {
            Issue.record("prompt=consent asks again"); return
        }
    }

    @Test func cancellingSendsAccessDenied() async throws {
        let fixture = EngineFixture()
        let outcome = try await fixture.provider.authorize(fixture.authorizationParameters(), sessionToken: nil)
        guard case .interaction(let ticket) = outcome else { Issue.record("expected an interaction"); return }
        let location = try await fixture.provider.abortInteraction(interactionToken: ticket.token)
        #expect(EngineFixture.query(location)["error"] == "access_denied")
        #expect(EngineFixture.query(location)["state"] == "xyz")
        #expect(try await fixture.provider.interaction(token: ticket.token) == nil)
    }

    @Test func unknownScopesAreDroppedAndOfflineAccessNeedsRefreshGrant() async throws {
        let fixture = EngineFixture()
        let outcome = try await fixture.provider.authorize(
            fixture.authorizationParameters(["scope": "openid email made-up read:books offline_access"]), sessionToken: nil)
        guard case .interaction(let ticket) = outcome else { Issue.record("expected an interaction"); return }
        #expect(ticket.interaction.request.scopes == ["openid", "email", "offline_access"])
        let withResource = try await fixture.provider.authorize(
            fixture.authorizationParameters(["scope": "openid read:books", "resource": EngineFixture.resource]),
            sessionToken: nil)
        guard case .interaction(let resourceTicket) = withResource else { Issue.record("expected an interaction"); return }
        #expect(resourceTicket.interaction.request.scopes == ["openid", "read:books"])
        #expect(resourceTicket.interaction.request.resources == [EngineFixture.resource])
    }

    @Test func discoveryDescribesWhatIsImplemented() async throws {
        let fixture = EngineFixture()
        let document = try await fixture.provider.discoveryDocument()
        #expect(document["issuer"]?.stringValue == EngineFixture.issuer)
        #expect(document["authorization_endpoint"]?.stringValue == EngineFixture.issuer + "/auth")
        #expect(document["token_endpoint"]?.stringValue == EngineFixture.issuer + "/token")
        #expect(document["userinfo_endpoint"]?.stringValue == EngineFixture.issuer + "/me")
        #expect(document["end_session_endpoint"]?.stringValue == EngineFixture.issuer + "/session/end")
        // The default first, RS256 always (OIDC Core §15.1), then the algorithms an application may still choose.
        #expect(document["id_token_signing_alg_values_supported"] == ["ES384", "RS256", "ES256", "EdDSA"])
        #expect(document["code_challenge_methods_supported"] == ["S256"])
        #expect(document["response_types_supported"] == ["code"])
        #expect(document["authorization_response_iss_parameter_supported"] == true)
        #expect(document["scopes_supported"] == ["openid", "offline_access", "profile", "email", "phone", "address", "roles",
                                                        "urn:logto:scope:organizations", "urn:logto:scope:organization_roles"])
        #expect(try await fixture.provider.jwks()["keys"]?.arrayValue?.count == 4)  // one per algorithm
    }
}
