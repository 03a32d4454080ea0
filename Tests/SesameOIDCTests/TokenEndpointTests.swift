import Foundation
import SesameOIDC
import Synchronization
import Testing

/// RFC 6749 §2.3, §4.1.3, §4.4, §6, RFC 7636 §4.6, OIDC Core §3.1.3.
@Suite("Token endpoint")
struct TokenEndpointTests {
    @Test func codeExchangeIssuesTheTokensAuthJSNeeds() async throws {
        let fixture = EngineFixture()
        let (code, _) = try await fixture.signIn(["nonce": "n-0S6"])
        let response = try await fixture.provider.token(RequestParameters([
            "grant_type": ["authorization_code"], "code": [code], "redirect_uri": [EngineFixture.webCallback],
            "code_verifier": [EngineFixture.verifier],
        ]), authorization: EngineFixture.basic("web", EngineFixture.webSecret))
        #expect(response.headers.contains { $0 == ("Cache-Control", "no-store") })
        let body = try #require(response.body)
        #expect(body["token_type"] == "Bearer")
        #expect(body["expires_in"] == 3600)
        #expect(body["scope"] == "openid profile email offline_access")
        let accessToken = try #require(body["access_token"]?.stringValue)
        #expect(body["refresh_token"]?.stringValue != nil)
        let idToken = try await fixture.verify(try #require(body["id_token"]?.stringValue))
        #expect(idToken.header["alg"] == "ES384")
        let claims = idToken.claims
        let now = Int64(fixture.clock.now.timeIntervalSince1970)
        #expect(claims["iss"]?.stringValue == EngineFixture.issuer)
        #expect(claims["sub"] == "user-1")
        #expect(claims["aud"] == "web")
        #expect(claims["iat"] == .int(now))
        #expect(claims["exp"] == .int(now + 3600))
        #expect(claims["auth_time"] == .int(now))
        #expect(claims["nonce"] == "n-0S6")
        #expect(claims["at_hash"]?.stringValue == JWT.halfHash(accessToken, algorithm: .es384))
        #expect(claims["email"] == "alice@example.com")
        #expect(claims["email_verified"] == true)
        #expect(claims["name"] == "Alice Liddell")
        #expect(claims["username"] == "alice")
        #expect(claims["picture"] == "https://example.test/alice.png")
        #expect(claims["phone_number"] == nil)  // no phone scope
    }

    @Test func noNonceClaimWhenNoneWasSentAndClaimsFollowScopes() async throws {
        let fixture = EngineFixture()
        let (code, _) = try await fixture.signIn(["scope": "openid phone"])
        let body = try await fixture.exchange(code)
        let claims = try await fixture.verify(try #require(body["id_token"]?.stringValue)).claims
        #expect(claims["nonce"] == nil)
        #expect(claims["email"] == nil)
        #expect(claims["name"] == nil)
        #expect(claims["phone_number"] == "8613800000000")
        #expect(body["refresh_token"] == nil)  // no offline_access
    }

    @Test(arguments: [
        ("client_secret_basic with encoded credentials", EngineFixture.basic("web", EngineFixture.webSecret), [:], true),
        ("client_secret_post", nil, ["client_id": "web", "client_secret": EngineFixture.webSecret], true),
        ("wrong secret", EngineFixture.basic("web", "wrong"), [:], false),
        ("unknown client", EngineFixture.basic("ghost", "x"), [:], false),
        ("confidential client without a secret", nil, ["client_id": "web"], false),
        ("nothing at all", nil, [:], false),
    ] as [(String, String?, [String: String], Bool)])
    func clientAuthentication(_ name: String, _ header: String?, _ form: [String: String], _ succeeds: Bool)
        async throws
    {
        let fixture = EngineFixture()
        var values: [String: [String]] = ["grant_type": ["refresh_token"], "refresh_token": ["unknown"]]
        for (key, value) in form { values[key] = [value] }
        do {
            _ = try await fixture.provider.token(RequestParameters(values), authorization: header)
            Issue.record("\(name): the unknown refresh token must fail")
        } catch let error as OAuthError {
            if succeeds {
                #expect(error.code == .invalidGrant, "\(name)")
            } else {
                #expect(error.code == .invalidClient, "\(name)")
                #expect(error.status == 401)
            }
        }
    }

    @Test func bothAuthenticationMethodsAtOnceIsAnError() async throws {
        let fixture = EngineFixture()
        let error = await oauthError {
            _ = try await fixture.provider.token(RequestParameters([
                "grant_type": ["client_credentials"], "client_secret": [EngineFixture.machineSecret],
            ]), authorization: EngineFixture.basic("m2m", EngineFixture.machineSecret))
        }
        #expect(error?.code == .invalidRequest)
    }

    @Test func publicClientsAuthenticateWithNone() async throws {
        let fixture = EngineFixture()
        let verifier = String(repeating: "v", count: 50)
        let outcome = try await fixture.provider.authorize(RequestParameters([
            "client_id": ["spa"], "redirect_uri": [EngineFixture.spaCallback], "response_type": ["code"],
            "scope": ["openid"], "code_challenge": [PKCE.challenge(for: verifier)], "code_challenge_method": ["S256"],
        ]), sessionToken: try await fixture.signIn().session)
        guard case .redirect(let location) = outcome else { Issue.record("expected a code"); return }
        let response = try await fixture.provider.token(RequestParameters([
            "grant_type": ["authorization_code"], "client_id": ["spa"], "code": [EngineFixture.query(location)["code"]!],
            "redirect_uri": [EngineFixture.spaCallback], "code_verifier": [verifier],
        ]), authorization: nil)
        #expect(response.body?["id_token"] != nil)
    }

    @Test(arguments: [
        (nil, "invalid_request"), ("password", "unsupported_grant_type"), ("implicit", "unsupported_grant_type"),
        ("client_credentials", "unauthorized_client"),
    ] as [(String?, String)])
    func grantTypes(_ grantType: String?, _ error: String) async throws {
        let fixture = EngineFixture()
        let values: [String: [String]] = grantType.map { ["grant_type": [$0]] } ?? [:]
        let thrown = await oauthError {
            _ = try await fixture.provider.token(RequestParameters(values),
                                                 authorization: EngineFixture.basic("web", EngineFixture.webSecret))
        }
        #expect(thrown?.code.rawValue == error)
    }

    @Test func codesAreSingleUseAndAReplayRevokesTheGrant() async throws {
        let fixture = EngineFixture()
        let (code, _) = try await fixture.signIn()
        let first = try await fixture.exchange(code)
        let accessToken = try #require(first["access_token"]?.stringValue)
        let refreshToken = try #require(first["refresh_token"]?.stringValue)
        let replay = await oauthError { _ = try await fixture.exchange(code) }
        #expect(replay?.code == .invalidGrant)
        let userInfo = await oauthError {
            _ = try await fixture.provider.userInfo(authorization: "Bearer \(accessToken)", form: nil)
        }
        #expect(userInfo?.code == .invalidToken)
        let refresh = await oauthError { _ = try await fixture.refresh(refreshToken) }
        #expect(refresh?.code == .invalidGrant)
    }

    @Test(arguments: [
        ("expired", 61.0, [:] as [String: String], EngineFixture.verifier),
        ("wrong redirect_uri", 0, ["redirect_uri": "https://app.example.test/other"], EngineFixture.verifier),
        ("missing redirect_uri", 0, ["redirect_uri": ""], EngineFixture.verifier),
        ("wrong verifier", 0, [:], String(repeating: "w", count: 43)),
        ("missing verifier", 0, [:], ""),
        ("malformed verifier", 0, [:], "short"),
    ] as [(String, TimeInterval, [String: String], String)])
    func codeExchangeChecks(_ name: String, _ wait: TimeInterval, _ extra: [String: String], _ verifier: String)
        async throws
    {
        let fixture = EngineFixture()
        let (code, _) = try await fixture.signIn()
        fixture.clock.advance(wait)
        let error = await oauthError { _ = try await fixture.exchange(code, verifier: verifier, extra: extra) }
        #expect(error?.code == .invalidGrant, "\(name)")
    }

    @Test func aCodeIsBoundToItsClient() async throws {
        let fixture = EngineFixture()
        let (code, _) = try await fixture.signIn()
        let error = await oauthError {
            _ = try await fixture.provider.token(RequestParameters([
                "grant_type": ["authorization_code"], "code": [code], "redirect_uri": [EngineFixture.webCallback],
                "code_verifier": [EngineFixture.verifier],
            ]), authorization: EngineFixture.basic("third", "third"))
        }
        #expect(error?.code == .invalidGrant)
    }

    @Test func aVerifierWithoutAChallengeIsRefused() async throws {
        let fixture = EngineFixture()
        let (code, _) = try await fixture.signIn(["code_challenge": nil, "code_challenge_method": nil])
        let error = await oauthError { _ = try await fixture.exchange(code) }
        #expect(error?.code == .invalidGrant)
        let (second, _) = try await fixture.signIn(["code_challenge": nil, "code_challenge_method": nil])
        let body = try await fixture.provider.token(RequestParameters([
            "grant_type": ["authorization_code"], "code": [second], "redirect_uri": [EngineFixture.webCallback],
        ]), authorization: EngineFixture.basic("web", EngineFixture.webSecret)).body
        #expect(body?["access_token"] != nil)
    }

    @Test func refreshTokensRotateAndReuseRevokesTheGrant() async throws {
        let fixture = EngineFixture()
        let (code, _) = try await fixture.signIn()
        let first = try await fixture.exchange(code)
        let original = try #require(first["refresh_token"]?.stringValue)
        fixture.clock.advance(10)
        let second = try await fixture.refresh(original)
        let rotated = try #require(second["refresh_token"]?.stringValue)
        #expect(rotated != original)
        let claims = try await fixture.verify(try #require(second["id_token"]?.stringValue)).claims
        #expect(claims["auth_time"] == .int(Int64(fixture.clock.now.timeIntervalSince1970) - 10))
        let reuse = await oauthError { _ = try await fixture.refresh(original) }
        #expect(reuse?.code == .invalidGrant)
        let afterReuse = await oauthError { _ = try await fixture.refresh(rotated) }
        #expect(afterReuse?.code == .invalidGrant)
    }

    @Test func refreshCanNarrowButNotWidenScopes() async throws {
        let fixture = EngineFixture()
        let (code, _) = try await fixture.signIn(["scope": "openid email offline_access"])
        let token = try #require(try await fixture.exchange(code)["refresh_token"]?.stringValue)
        let widened = await oauthError { _ = try await fixture.refresh(token, extra: ["scope": "openid email profile"]) }
        #expect(widened?.code == .invalidScope)
        let narrowed = try await fixture.refresh(token, extra: ["scope": "openid offline_access"])
        #expect(narrowed["scope"] == "openid offline_access")
        let claims = try await fixture.verify(try #require(narrowed["id_token"]?.stringValue)).claims
        #expect(claims["email"] == nil)
    }

    @Test func refreshTokensExpire() async throws {
        let fixture = EngineFixture()
        let (code, _) = try await fixture.signIn()
        let token = try #require(try await fixture.exchange(code)["refresh_token"]?.stringValue)
        fixture.clock.advance(TimeInterval(fixture.provider.configuration.refreshTokenTTL + 1))
        let error = await oauthError { _ = try await fixture.refresh(token) }
        #expect(error?.code == .invalidGrant)
    }

    @Test func resourceIndicatorsYieldJWTAccessTokens() async throws {
        let fixture = EngineFixture()
        let (code, _) = try await fixture.signIn([
            "scope": "openid offline_access read:books", "resource": EngineFixture.resource,
        ])
        let body = try await fixture.exchange(code, extra: ["resource": EngineFixture.resource])
        let token = try await fixture.verify(try #require(body["access_token"]?.stringValue))
        #expect(token.header["typ"] == "at+jwt")
        #expect(token.claims["aud"]?.stringValue == EngineFixture.resource)
        #expect(token.claims["scope"] == "read:books")
        #expect(token.claims["sub"] == "user-1")
        #expect(token.claims["client_id"] == "web")
        #expect(body["expires_in"] == 600)
        // A refresh can ask for the API token too, but not for a resource that was not authorized.
        let refreshToken = try #require(body["refresh_token"]?.stringValue)
        let other = await oauthError { _ = try await fixture.refresh(refreshToken, extra: ["resource": "https://x.test"]) }
        #expect(other?.code == .invalidTarget)
    }

    @Test func clientCredentialsForAnAPI() async throws {
        let fixture = EngineFixture()
        let auth = EngineFixture.basic("m2m", EngineFixture.machineSecret)
        let response = try await fixture.provider.token(RequestParameters([
            "grant_type": ["client_credentials"], "resource": [EngineFixture.resource], "scope": ["read:books"],
        ]), authorization: auth)
        let token = try await fixture.verify(try #require(response.body?["access_token"]?.stringValue))
        #expect(token.claims["sub"] == "m2m")
        #expect(token.claims["aud"]?.stringValue == EngineFixture.resource)
        #expect(token.claims["scope"] == "read:books")
        #expect(response.body?["refresh_token"] == nil)
        for (values, code) in [
            (["scope": ["write:everything"], "resource": [EngineFixture.resource]], "invalid_scope"),
            (["scope": ["read:books"]], "invalid_scope"),
            (["resource": [EngineFixture.resource, "https://other.test"]], "invalid_target"),
        ] as [([String: [String]], String)] {
            var parameters = values
            parameters["grant_type"] = ["client_credentials"]
            let error = await oauthError {
                _ = try await fixture.provider.token(RequestParameters(parameters), authorization: auth)
            }
            #expect(error?.code.rawValue == code)
        }
    }

    @Test func keyRotationPublishesTheNewKeyBeforeItSigns() async throws {
        let fixture = EngineFixture()
        let (code, _) = try await fixture.signIn()
        let before = try #require(try await fixture.exchange(code)["id_token"]?.stringValue)
        let oldKid = try await fixture.verify(before).header["kid"]?.stringValue
        let key = try SigningKey.generate(.es384, now: fixture.clock.now)
        try await fixture.storage.rotate(to: key, now: fixture.clock.now)
        await fixture.provider.keys.invalidate()
        // Published at once (beside the other algorithms' keys), so every JWKS cached from now on has it...
        #expect(try await fixture.provider.jwks()["keys"]?.arrayValue?.count == 5)
        // ...but the old key signs until the activation delay has passed.
        let (during, _) = try await fixture.signIn()
        let signedDuring = try await fixture.verify(try #require(try await fixture.exchange(during)["id_token"]?.stringValue))
        #expect(signedDuring.header["kid"]?.stringValue == oldKid)
        fixture.clock.advance(fixture.provider.configuration.keyActivationDelay + 1)
        await fixture.provider.keys.invalidate()
        _ = try await fixture.verify(before)
        let (second, _) = try await fixture.signIn()
        let after = try await fixture.verify(try #require(try await fixture.exchange(second)["id_token"]?.stringValue))
        #expect(after.header["kid"]?.stringValue == key.kid)
        // Once every token the old key signed has expired, it leaves the JWKS.
        fixture.clock.advance(fixture.provider.configuration.retiredKeyRetention + 10)
        await fixture.provider.keys.invalidate()
        #expect(try await fixture.provider.jwks()["keys"]?.arrayValue?.count == 4)
    }

    /// Before keys were per algorithm, `keys rotate --alg RS256` retired every key: after the upgrade the ES384 key
    /// retired then (gone from the JWKS, or about to be) never signs again; a new ES384 key takes over at once.
    @Test func anAlgorithmWhoseKeysWereAllRetiredGetsANewKey() async throws {
        let fixture = EngineFixture()
        let old = try SigningKey.generate(.es384, now: fixture.clock.now)
        try await fixture.storage.insertInitialSigningKey(old)
        fixture.clock.advance(100)
        fixture.storage.state.withLock { state in
            for index in state.keys.indices { state.keys[index].retiredAt = fixture.clock.now }
        }
        try await fixture.storage.insertInitialSigningKey(try SigningKey.generate(.rs256, now: fixture.clock.now))
        fixture.clock.advance(fixture.provider.configuration.retiredKeyRetention + 10)
        let snapshot = try await fixture.provider.keys.snapshot()
        #expect(snapshot.current.algorithm == .es384)
        #expect(snapshot.current.kid != old.kid)
        #expect(!snapshot.published.contains { $0.kid == old.kid })
        let (code, _) = try await fixture.signIn()
        let token = try await fixture.verify(try #require(try await fixture.exchange(code)["id_token"]?.stringValue))
        #expect(token.header["kid"]?.stringValue == snapshot.current.kid)
    }

    @Test func namedSecretsAuthenticateUntilTheyExpire() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var client = Client(id: "c", name: "C", type: .traditional, secretHash: SecretDigest.sha256Hex("original"),
                            redirectURIs: [], postLogoutRedirectURIs: [], createdAt: now)
        client.secrets = [
            ClientSecret(name: "next", hash: SecretDigest.sha256Hex("next"), createdAt: now,
                         expiresAt: now.addingTimeInterval(60)),
            ClientSecret(name: "forever", hash: SecretDigest.sha256Hex("forever"), createdAt: now),
        ]
        #expect(client.verifySecret("original", at: now) && client.verifySecret("next", at: now))
        #expect(client.verifySecret("forever", at: now.addingTimeInterval(1e9)))
        #expect(!client.verifySecret("next", at: now.addingTimeInterval(60)))
        #expect(!client.verifySecret("wrong", at: now))
        client.secretHash = nil
        #expect(!client.verifySecret("original", at: now))
    }

    @Test func theKeyThatWasSigningGoesOnUntilTheNewOneIsActive() async throws {
        let fixture = EngineFixture()
        let delay = fixture.provider.configuration.keyActivationDelay
        let first = try await fixture.provider.keys.snapshot().current
        // Two rotations inside the delay: the first key signs on, not the one rotated in and out.
        let second = try SigningKey.generate(.es384, now: fixture.clock.now)
        try await fixture.storage.rotate(to: second, now: fixture.clock.now)
        fixture.clock.advance(10)
        let third = try SigningKey.generate(.es384, now: fixture.clock.now)
        try await fixture.storage.rotate(to: third, now: fixture.clock.now)
        await fixture.provider.keys.invalidate()
        #expect(try await fixture.provider.keys.snapshot().current.kid == first.kid)
        #expect(try await fixture.provider.keys.snapshot().published.count == 6)  // three ES384, one of each other
        fixture.clock.advance(delay)
        await fixture.provider.keys.invalidate()
        #expect(try await fixture.provider.keys.snapshot().current.kid == third.kid)
        // A key dated back by the delay (`keys rotate --immediately`) signs at once; at the next rotation it is
        // the one that goes on signing.
        let immediate = try SigningKey.generate(.es384, now: fixture.clock.now.addingTimeInterval(-delay))
        try await fixture.storage.rotate(to: immediate, now: fixture.clock.now)
        await fixture.provider.keys.invalidate()
        #expect(try await fixture.provider.keys.snapshot().current.kid == immediate.kid)
        fixture.clock.advance(5)
        let next = try SigningKey.generate(.es384, now: fixture.clock.now)
        try await fixture.storage.rotate(to: next, now: fixture.clock.now)
        await fixture.provider.keys.invalidate()
        #expect(try await fixture.provider.keys.snapshot().current.kid == immediate.kid)
    }
}
