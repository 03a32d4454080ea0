import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameServer
import Testing

/// Single-use things under concurrency, over real HTTP on both databases: requests racing with one
/// authorization code or one refresh token get one winner, and the replays among them revoke the grant,
/// so nothing of it works afterwards, not even what the winner received (detection wins).
@Suite("Single-use races")
struct SingleUseRaceTests {
    static let trials = 12

    /// A fresh grant for the signed-in browser (SSO: no password asked again), as a code.
    static func code(_ fixture: Fixture, _ browser: Browser) async throws -> CodeFlowTests.Authorization {
        let verifier = SecureRandom.token(bytes: 48)
        let response = try await browser.get("/oidc/auth?" + RequestParameters.encode([
            ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
            ("scope", "openid offline_access"), ("code_challenge", PKCE.challenge(for: verifier)),
            ("code_challenge_method", "S256"),
        ]))
        return CodeFlowTests.Authorization(code: try #require(response.redirectQuery["code"]), verifier: verifier)
    }

    static func refresh(_ fixture: Fixture, _ browser: Browser, _ token: String) async throws -> Reply {
        try await browser.post("/oidc/token", form: [("grant_type", "refresh_token"), ("refresh_token", token)],
                               headers: [.authorization: basicAuthorization(fixture.webApp.client.id, fixture.webSecret)])
    }

    /// Nothing issued to `tokens` may work: the access token at userinfo and introspection, the refresh token.
    static func expectDead(_ fixture: Fixture, _ browser: Browser, _ tokens: JSONValue,
                           _ comment: Comment) async throws
    {
        if let access = tokens["access_token"]?.stringValue {
            let userinfo = try await browser.get("/oidc/me", headers: [.authorization: "Bearer \(access)"])
            #expect(userinfo.status == .unauthorized, comment)
            let introspection = try await browser.post("/oidc/token/introspection", form: [("token", access)],
                headers: [.authorization: basicAuthorization(fixture.webApp.client.id, fixture.webSecret)])
            #expect(introspection.json["active"] == false, comment)
        }
        if let refreshToken = tokens["refresh_token"]?.stringValue {
            let refreshed = try await refresh(fixture, browser, refreshToken)
            #expect(refreshed.json["error"] == "invalid_grant", comment)
        }
    }

    @Test(arguments: TestDatabase.available, [2, 8])
    func parallelRefreshesLeaveNothingOfTheGrant(_ database: TestDatabase, _ parallel: Int) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            _ = try await CodeFlowTests.signIn(fixture, browser)
            for trial in 0..<Self.trials {
                let tokens = try await CodeFlowTests.exchange(fixture, browser, try await Self.code(fixture, browser))
                let refreshToken = try #require(tokens.json["refresh_token"]?.stringValue)
                let answers = try await withThrowingTaskGroup(of: Reply.self) { group in
                    for _ in 0..<parallel {
                        group.addTask {
                            try await browser.onOwnConnection { try await Self.refresh(fixture, $0, refreshToken) }
                        }
                    }
                    return try await group.reduce(into: [Reply]()) { $0.append($1) }
                }
                let winners = answers.filter { $0.status == .ok }
                #expect(winners.count == 1, "trial \(trial): one winner")
                #expect(answers.filter { $0.json["error"] == "invalid_grant" }.count >= parallel - 1,
                        "trial \(trial): every other request is a detected replay")
                for winner in winners {
                    try await Self.expectDead(fixture, browser, winner.json, "trial \(trial): the winner's tokens")
                }
                try await Self.expectDead(fixture, browser, tokens.json, "trial \(trial): the first tokens")
            }
        }
    }

    @Test(arguments: TestDatabase.available, [2, 8])
    func parallelCodeRedemptionsLeaveNothingOfTheGrant(_ database: TestDatabase, _ parallel: Int) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            _ = try await CodeFlowTests.signIn(fixture, browser)
            for trial in 0..<Self.trials {
                let authorization = try await Self.code(fixture, browser)
                let answers = try await withThrowingTaskGroup(of: Reply.self) { group in
                    for _ in 0..<parallel {
                        group.addTask {
                            try await browser.onOwnConnection { try await CodeFlowTests.exchange(fixture, $0, authorization) }
                        }
                    }
                    return try await group.reduce(into: [Reply]()) { $0.append($1) }
                }
                let winners = answers.filter { $0.status == .ok }
                #expect(winners.count == 1, "trial \(trial): one winner")
                #expect(answers.filter { $0.json["error"] == "invalid_grant" }.count >= parallel - 1,
                        "trial \(trial)")
                for winner in winners {
                    try await Self.expectDead(fixture, browser, winner.json, "trial \(trial): the winner's tokens")
                }
            }
        }
    }

    /// One request alone still works: a refresh with no race rotates and the new tokens live.
    @Test(arguments: TestDatabase.available)
    func aLoneRefreshRotates(_ database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            _ = try await CodeFlowTests.signIn(fixture, browser)
            let tokens = try await CodeFlowTests.exchange(fixture, browser, try await Self.code(fixture, browser))
            let refreshed = try await Self.refresh(fixture, browser, try #require(tokens.json["refresh_token"]?.stringValue))
            #expect(refreshed.status == .ok)
            let access = try #require(refreshed.json["access_token"]?.stringValue)
            let userinfo = try await browser.get("/oidc/me", headers: [.authorization: "Bearer \(access)"])
            #expect(userinfo.status == .ok)
        }
    }

    /// A verification code raced by parallel checks with the right code: exactly one succeeds.
    @Test(arguments: TestDatabase.available, [2, 8])
    func parallelCodeChecksHaveOneWinner(_ database: TestDatabase, _ parallel: Int) async throws {
        try await Fixture.withServer(database: database) { _, browser in
            for trial in 0..<4 {
                let own = Browser(client: browser.client)
                let address = "race\(trial)@example.com"
                _ = try await ExperienceAPITests.call(own, .put, "", ["interactionEvent": "Register"])
                let sent = try await ExperienceAPITests.call(own, .post, "/verification/verification-code", [
                    "identifier": ["type": "email", "value": .string(address)], "interactionEvent": "Register",
                ])
                let id = try #require(sent.json["verificationId"]?.stringValue)
                let (code, _) = try await ExperienceFlowTests.latestCode(own, to: address)
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<parallel {
                        group.addTask {
                            try await own.onOwnConnection { racer in
                                try await ExperienceAPITests.call(racer, .post, "/verification/verification-code/verify", [
                                    "identifier": ["type": "email", "value": .string(address)],
                                    "verificationId": .string(id), "code": .string(code),
                                ]).status
                            }
                        }
                    }
                    return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .ok }.count == 1, "trial \(trial): \(statuses)")
            }
        }
    }
}
