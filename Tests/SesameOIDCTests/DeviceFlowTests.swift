import Foundation
import SesameOIDC
import Synchronization
import Testing

/// The device authorization grant (RFC 8628) through the engine: the endpoint, polling, the person's decision and the
/// single-use device code.
@Suite("Device authorization grant")
struct DeviceFlowTests {
    let fixture = DeviceFlowTests.makeFixture()

    /// The usual cast plus a native app that opted in to the device flow and one that did not.
    static func makeFixture() -> EngineFixture {
        let fixture = EngineFixture()
        let created = fixture.clock.now
        fixture.storage.state.withLock { state in
            var tv = Client(id: "tv", name: "Living-room TV", type: .native, secretHash: nil,
                            redirectURIs: ["com.example.tv://cb"],
                            postLogoutRedirectURIs: [], createdAt: created)
            tv.isDeviceFlow = true
            state.clients["tv"] = tv
            state.clients["phone"] = Client(id: "phone", name: "Phone", type: .native, secretHash: nil,
                                            redirectURIs: ["com.example.app://cb"], postLogoutRedirectURIs: [],
                                            createdAt: created)
        }
        return fixture
    }

    struct Started {
        let deviceCode: String
        let userCode: String
        let body: JSONValue
    }

    func start(client: String = "tv", scope: String = "openid profile offline_access", extra: [String: [String]] = [:])
        async throws -> Started
    {
        var values: [String: [String]] = ["client_id": [client], "scope": [scope]]
        for (name, value) in extra { values[name] = value }
        let response = try await fixture.provider.deviceAuthorization(RequestParameters(values), authorization: nil)
        let body = try #require(response.body)
        #expect(response.headers.contains { $0.0 == "Cache-Control" && $0.1 == "no-store" })
        return Started(deviceCode: try #require(body["device_code"]?.stringValue),
                       userCode: try #require(body["user_code"]?.stringValue), body: body)
    }

    func poll(_ deviceCode: String, client: String = "tv") async throws -> JSONValue {
        try await fixture.provider.token(RequestParameters([
            "grant_type": ["urn:ietf:params:oauth:grant-type:device_code"], "device_code": [deviceCode],
            "client_id": [client],
        ]), authorization: nil).body ?? .null
    }

    func pollError(_ deviceCode: String, client: String = "tv") async -> OAuthError? {
        await oauthError { _ = try await poll(deviceCode, client: client) }
    }

    /// A signed-in browser session for the fixture's user.
    func session() async throws -> String {
        try await fixture.provider.startSession(accountID: EngineFixture.user.id, previousSessionToken: nil, amr: ["pwd"])
    }

    @Test func theEndpointAnswersRFC8628Section32() async throws {
        let started = try await start()
        #expect(started.deviceCode.utf8.count == 43)
        #expect(started.userCode.range(of: "^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$",
                                       options: .regularExpression) != nil)
        #expect(started.body["verification_uri"] == "https://id.example.test/device")
        #expect(started.body["verification_uri_complete"]?.stringValue
            == "https://id.example.test/device?user_code=\(started.userCode)")
        #expect(started.body["expires_in"] == .int(600))
        #expect(started.body["interval"] == .int(5))
        let discovery = try await fixture.provider.discoveryDocument()
        #expect(discovery["device_authorization_endpoint"] == "https://id.example.test/oidc/device/auth")
        #expect(discovery["grant_types_supported"]?.arrayValue?.contains("urn:ietf:params:oauth:grant-type:device_code") == true)
        // A device app uses the device grant and refresh tokens, not the code flow (as Logto's do).
        let tv = try #require(try await fixture.storage.client(id: "tv"))
        #expect(tv.grantTypes == [.deviceCode, .refreshToken])
        let authorize = try await fixture.provider.authorize(RequestParameters([
            "client_id": ["tv"], "redirect_uri": ["com.example.tv://cb"], "response_type": ["code"], "scope": ["openid"],
        ]), sessionToken: nil)
        guard case .redirect(let refused) = authorize else { Issue.record("\(authorize)"); return }
        #expect(EngineFixture.query(refused)["error"] == "unauthorized_client")
    }

    @Test func onlyNativeAppsThatOptedInMayStartIt() async throws {
        for client in ["phone", "spa"] {
            let error = await oauthError { _ = try await start(client: client) }
            #expect(error?.code == .unauthorizedClient, "\(client)")
        }
        // A confidential client must authenticate here as at the token endpoint (RFC 8628 §3.1).
        let web = await oauthError { _ = try await start(client: "web") }
        #expect(web?.code == .invalidClient)
        let unknown = await oauthError { _ = try await start(client: "nobody") }
        #expect(unknown?.code == .invalidClient && unknown?.status == 401)
        let repeated = await oauthError { _ = try await start(extra: ["scope": ["openid", "profile"]]) }
        #expect(repeated?.code == .invalidRequest)
        let management = await oauthError { _ = try await start(extra: ["resource": ["https://default.logto.app/api"]]) }
        #expect(management?.code == .invalidTarget)
        let unregistered = await oauthError { _ = try await start(extra: ["resource": ["https://nowhere.test"]]) }
        #expect(unregistered?.code == .invalidTarget)
        // The phone app may not poll with the device grant either.
        let started = try await start()
        #expect(await pollError(started.deviceCode, client: "phone")?.code == .unauthorizedClient)
    }

    @Test func pollingIsPendingThenSlowedDownWhenTooFast() async throws {
        let started = try await start()
        #expect(await pollError(started.deviceCode)?.code == .authorizationPending)
        fixture.clock.advance(1)
        let fast = await pollError(started.deviceCode)
        #expect(fast?.code == .slowDown)
        #expect(fast?.description.contains("10 seconds") == true)
        // The interval is now 10 s: 5 s later is still too soon, 10 s later is fine (a second of jitter allowed).
        fixture.clock.advance(5)
        #expect(await pollError(started.deviceCode)?.code == .slowDown)
        fixture.clock.advance(14.2)
        #expect(await pollError(started.deviceCode)?.code == .authorizationPending)
        #expect(await pollError("not-a-device-code")?.code == .invalidGrant)
        // Another client's code: invalid_grant, not its state.
        fixture.storage.state.withLock { state in
            var other = state.clients["tv"]!
            other.id = "tv2"
            state.clients["tv2"] = other
        }
        #expect(await pollError(started.deviceCode, client: "tv2")?.code == .invalidGrant)
    }

    @Test func aSignedInPersonApprovesAndTheDeviceGetsTokensOnce() async throws {
        let started = try await start()
        let session = try await session()
        let outcome = try await fixture.provider.startDeviceSignIn(userCode: started.userCode.lowercased(),
                                                                   sessionToken: session)
        guard case .redirect(let location) = outcome else { Issue.record("\(outcome)"); return }
        #expect(location == "https://id.example.test/device/done?result=approved")
        #expect(try await fixture.provider.pendingDeviceAuthorization(userCode: started.userCode) == nil)
        let tokens = try await poll(started.deviceCode)
        let idToken = try #require(tokens["id_token"]?.stringValue)
        let claims = try await fixture.verify(idToken).claims
        #expect(claims["sub"] == "user-1" && claims["aud"] == "tv" && claims["nonce"] == nil)
        #expect(claims["amr"] == ["pwd"])
        #expect(tokens["scope"] == "openid profile offline_access")
        let refreshToken = try #require(tokens["refresh_token"]?.stringValue)
        // The code is single use: a second poll is a replay, and the grant goes with everything it issued.
        let replay = await pollError(started.deviceCode)
        #expect(replay?.code == .invalidGrant)
        let refreshed = await oauthError {
            _ = try await fixture.provider.token(RequestParameters([
                "grant_type": ["refresh_token"], "refresh_token": [refreshToken], "client_id": ["tv"],
            ]), authorization: nil)
        }
        #expect(refreshed?.code == .invalidGrant)
    }

    @Test func withoutASessionThePersonSignsInThenTheDeviceIsApproved() async throws {
        let started = try await start(scope: "openid")
        let outcome = try await fixture.provider.startDeviceSignIn(userCode: started.userCode, sessionToken: nil)
        guard case .interaction(let ticket) = outcome else { Issue.record("\(outcome)"); return }
        #expect(ticket.step == .login)
        #expect(ticket.interaction.expiresAt <= fixture.clock.now.addingTimeInterval(600))
        #expect(await pollError(started.deviceCode)?.code == .authorizationPending)
        let session = try await fixture.provider.completeLogin(interactionToken: ticket.token,
                                                               accountID: EngineFixture.user.id,
                                                               previousSessionToken: nil, amr: ["otp"])
        let resumed = try await fixture.provider.resume(interactionToken: ticket.token, sessionToken: session)
        guard case .redirect(let location) = resumed else { Issue.record("\(resumed)"); return }
        #expect(location.hasSuffix("/device/done?result=approved"))
        // The interaction is spent with the approval: resuming again approves nothing more.
        let again = try await fixture.provider.resume(interactionToken: ticket.token, sessionToken: session)
        guard case .errorPage = again else { Issue.record("\(again)"); return }
        fixture.clock.advance(6)
        let tokens = try await poll(started.deviceCode)
        #expect(tokens["access_token"]?.stringValue != nil && tokens["refresh_token"] == nil)
    }

    @Test func thePersonDeniesOnTheVerificationPageOrByCancellingTheSignIn() async throws {
        let first = try await start()
        #expect(try await fixture.provider.denyDevice(userCode: first.userCode).hasSuffix("result=denied"))
        #expect(await pollError(first.deviceCode)?.code == .accessDenied)
        // Denied once: the code is not pending, so it cannot be approved afterwards.
        let late = try await fixture.provider.startDeviceSignIn(userCode: first.userCode, sessionToken: try await session())
        guard case .redirect(let location) = late else { Issue.record("\(late)"); return }
        #expect(location.hasSuffix("result=expired"))
        #expect(await pollError(first.deviceCode)?.code == .accessDenied)

        let second = try await start()
        guard case .interaction(let ticket) = try await fixture.provider.startDeviceSignIn(userCode: second.userCode,
                                                                                          sessionToken: nil)
        else { Issue.record("expected an interaction"); return }
        let cancelled = try await fixture.provider.abortInteraction(interactionToken: ticket.token)
        #expect(cancelled.hasSuffix("/device/done?result=denied"))
        #expect(await pollError(second.deviceCode)?.code == .accessDenied)
    }

    @Test func anExpiredCodeCannotBeApprovedAndPollsHearExpiredToken() async throws {
        let started = try await start()
        guard case .interaction(let ticket) = try await fixture.provider.startDeviceSignIn(userCode: started.userCode,
                                                                                          sessionToken: nil)
        else { Issue.record("expected an interaction"); return }
        fixture.clock.advance(601)
        #expect(try await fixture.provider.pendingDeviceAuthorization(userCode: started.userCode) == nil)
        #expect(await pollError(started.deviceCode)?.code == .expiredToken)
        // The person finishing a sign-in that outlived the code approves nothing.
        let session = try await fixture.provider.startSession(accountID: EngineFixture.user.id,
                                                              previousSessionToken: nil)
        fixture.storage.state.withLock { state in
            state.interactions[ticket.interaction.id]?.expiresAt = .distantFuture
            state.interactions[ticket.interaction.id]?.requiresLogin = false
            state.interactions[ticket.interaction.id]?.accountID = EngineFixture.user.id
            state.interactions[ticket.interaction.id]?.sessionID = SecretDigest.sha256Hex(session)
        }
        let resumed = try await fixture.provider.resume(interactionToken: ticket.token, sessionToken: session)
        guard case .redirect(let location) = resumed else { Issue.record("\(resumed)"); return }
        #expect(location.hasSuffix("result=expired"))
        #expect(await pollError(started.deviceCode)?.code == .expiredToken)
    }

    @Test func twoApprovalsRacingLeaveOneGrant() async throws {
        let started = try await start()
        let sessions = [try await session(), try await session()]
        let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
            for session in sessions {
                group.addTask {
                    guard case .redirect(let location) = try await fixture.provider.startDeviceSignIn(
                        userCode: started.userCode, sessionToken: session)
                    else { return "" }
                    return location
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0.hasSuffix("result=approved") }.count == 1)
        #expect(fixture.storage.state.withLock { $0.grants.values.filter { $0.clientID == "tv" }.count } == 1)
    }

    @Test(arguments: [
        ("bcdf-ghjk", "BCDFGHJK"), ("BCDF GHJK", "BCDFGHJK"), (" bcdfghjk\t", "BCDFGHJK"), ("B-C-D-F-G-H-J-K", "BCDFGHJK"),
    ])
    func userCodesAreReadLeniently(typed: String, normalized: String) {
        #expect(UserCode.normalize(typed) == normalized)
    }

    @Test(arguments: ["", "BCDFGHJ", "BCDFGHJKL", "ABCDEFGH", "BCDF-GHJ1", "BCDF\u{0}GHJK", "ＢＣＤＦＧＨＪＫ",
                      String(repeating: "-", count: 100) + "BCDFGHJK"])
    func malformedUserCodesAreNone(typed: String) {
        #expect(UserCode.normalize(typed) == nil)
    }

    @Test func generatedCodesUseTheWholeAlphabetAndNothingElse() {
        var seen = Set<Character>()
        for _ in 0..<400 {
            let code = UserCode.generate()
            #expect(UserCode.normalize(code).map(UserCode.display) == code)
            seen.formUnion(code.filter { $0 != "-" })
        }
        #expect(seen == Set(UserCode.alphabet))
    }
}
