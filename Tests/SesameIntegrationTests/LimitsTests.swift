import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Testing

/// The settings and the limits hold the same way for the Experience API as for the hosted pages.
@Suite("Settings and limits")
struct LimitsTests {
    typealias API = ExperienceAPITests

    static func sendCode(_ browser: Browser, _ event: String, to address: String) async throws -> Reply {
        _ = try await API.call(browser, .put, "", ["interactionEvent": .string(event)])
        return try await API.call(browser, .post, "/verification/verification-code", [
            "identifier": ["type": "email", "value": .string(address)], "interactionEvent": .string(event),
        ])
    }

    @Test func theExperienceAPIObeysTheSettings() async throws {
        try await Fixture.withServer { fixture, browser in
            var settings = SignInExperience.default
            settings.signUp = .init(identifiers: [], password: false)
            settings.signIn.methods = [.init(identifier: .username, password: true, verificationCode: false),
                                       .init(identifier: .email, password: false, verificationCode: false,
                                             isPasswordPrimary: false).withPassword()]
            try await fixture.runtime.saveSignInExperience(settings)
            // Codes for sign-in are off, so is sign-up; recovery needs email with a password, which is on.
            let signIn = try await Self.sendCode(browser, "SignIn", to: "alice@example.com")
            #expect(signIn.status == .badRequest && signIn.json["code"] == "sign_in_experiences.method_disabled")
            let register = try await Self.sendCode(browser, "Register", to: "new@example.com")
            #expect(register.json["code"] == "sign_in_experiences.method_disabled")
            #expect(try await Self.sendCode(browser, "ForgotPassword", to: "alice@example.com").status == .ok)
            // Email with a password off: recovery by email is off too, and so is the password check by email.
            settings.signIn.methods = [.init(identifier: .username, password: true, verificationCode: false)]
            try await fixture.runtime.saveSignInExperience(settings)
            #expect(try await Self.sendCode(browser, "ForgotPassword", to: "alice@example.com").json["code"]
                == "sign_in_experiences.method_disabled")
            _ = try await API.call(browser, .put, "", ["interactionEvent": "SignIn"])
            let byEmail = try await API.call(browser, .post, "/verification/password", [
                "identifier": ["type": "email", "value": "alice@example.com"], "password": .string(Fixture.password),
            ])
            #expect(byEmail.json["code"] == "sign_in_experiences.method_disabled")
            // Nothing was mailed for any of the refused steps.
            let mailed = try await browser.get("/dev/mailbox").json.arrayValue ?? []
            #expect(mailed.count == 1)
        }
    }

    @Test func aVerificationFinishedAfterTheSettingsChangedIsRefused() async throws {
        try await Fixture.withServer { fixture, browser in
            let sent = try await Self.sendCode(browser, "SignIn", to: "alice@example.com")
            let id = try #require(sent.json["verificationId"]?.stringValue)
            let (code, _) = try await ExperienceFlowTests.latestCode(browser, to: "alice@example.com")
            _ = try await API.call(browser, .post, "/verification/verification-code/verify", [
                "identifier": ["type": "email", "value": "alice@example.com"], "verificationId": .string(id),
                "code": .string(code),
            ])
            _ = try await API.call(browser, .post, "/identification", ["verificationId": .string(id)])
            var settings = SignInExperience.default
            settings.signIn.methods[0].verificationCode = false
            try await fixture.runtime.saveSignInExperience(settings)
            let submitted = try await API.call(browser, .post, "/submit", [:])
            #expect(submitted.json["code"] == "sign_in_experiences.method_disabled")
            #expect(browser.cookies["_sesame_session"] == nil)
        }
    }

    @Test func theWaitIsBetweenResendsOfOneFlow() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { _, browser in
            #expect(try await Self.sendCode(browser, "SignIn", to: "alice@example.com").status == .ok)
            let again = try await Self.sendCode(browser, "SignIn", to: "alice@example.com")
            #expect(again.status == .tooManyRequests)
            #expect(again.json["message"]?.stringValue?.contains("Wait") == true)
            // Switching to recovery is no resend.
            #expect(try await Self.sendCode(browser, "ForgotPassword", to: "alice@example.com").status == .ok)
        }
    }

    @Test func unknownAddressesHitTheSameLimits() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { _, browser in
            for address in ["alice@example.com", "ghost@example.com"] {
                #expect(try await Self.sendCode(browser, "ForgotPassword", to: address).status == .ok)
                let again = try await Self.sendCode(browser, "ForgotPassword", to: address)
                #expect(again.status == .tooManyRequests, "\(address)")
            }
        }
    }

    @Test func parallelSendsGoOutOnce() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { _, browser in
            _ = try await API.call(browser, .put, "", ["interactionEvent": "SignIn"])
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        try await browser.onOwnConnection { own in
                            try await API.call(own, .post, "/verification/verification-code", [
                                "identifier": ["type": "email", "value": "alice@example.com"],
                                "interactionEvent": "SignIn",
                            ]).status
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            let mailed = try await browser.get("/dev/mailbox").json.arrayValue ?? []
            #expect(mailed.count == 1)
        }
    }

    @Test func codesPerIPAreLimited() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { _, browser in
            for index in 1...30 {
                let response = try await Self.sendCode(browser, "Register", to: "visitor\(index)@example.com")
                #expect(response.status == .ok, "send \(index)")
            }
            let thirtyFirst = try await Self.sendCode(browser, "Register", to: "visitor31@example.com")
            #expect(thirtyFirst.status == .tooManyRequests)
            #expect(thirtyFirst.json["message"]?.stringValue?.contains("Too many codes") == true)
        }
    }

    @Test func passwordFailuresLockTheAccountWhicheverIdentifierNamesIt() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            _ = try await API.call(browser, .put, "", ["interactionEvent": "SignIn"])
            for attempt in 0..<10 {
                let identifier: JSONValue = attempt.isMultiple(of: 2)
                    ? ["type": "username", "value": "alice"] : ["type": "email", "value": "alice@example.com"]
                let wrong = try await API.call(browser, .post, "/verification/password", [
                    "identifier": identifier, "password": .string("wrong-password-\(attempt)"),
                ])
                #expect(wrong.status == .unprocessableContent, "attempt \(attempt)")
            }
            let locked = try await API.call(browser, .post, "/verification/password", [
                "identifier": ["type": "email", "value": "alice@example.com"], "password": .string(Fixture.password),
            ])
            #expect(locked.status == .tooManyRequests)
            // Another account from the same IP is not locked by Alice's failures.
            _ = try await fixture.runtime.users.create(.init(username: "bob", password: "Sturdy-Lantern-58"))
            let bob = try await API.call(browser, .post, "/verification/password", [
                "identifier": ["type": "username", "value": "bob"], "password": "Sturdy-Lantern-58",
            ])
            #expect(bob.status == .ok)
        }
    }

    /// Successes never count as failures: sixteen parallel sign-ins with the right password all succeed, on
    /// the Experience API and the Console alike, while parallel wrong guesses still stop at the limit.
    @Test func parallelSignInsWithTheRightPasswordAllSucceed() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            // A cheap hash (cost 4) for this account: the test is about counting, and 32 checks at cost 10 would
            // queue behind every other suite's bcrypt on the shared thread pool.
            var alice = fixture.user
            alice.passwordHash = try await PasswordHasher(cost: 4).hash(Fixture.password)
            try await fixture.runtime.store.updateUser(alice)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        try await Browser(client: browser.client).onOwnConnection { own in
                            _ = try await API.call(own, .put, "", ["interactionEvent": "SignIn"])
                            return try await API.call(own, .post, "/verification/password", [
                                "identifier": ["type": "username", "value": "alice"],
                                "password": .string(Fixture.password),
                            ]).status
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: .ok, count: 16))
            let guesses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        try await Browser(client: browser.client).onOwnConnection { own in
                            _ = try await API.call(own, .put, "", ["interactionEvent": "SignIn"])
                            return try await API.call(own, .post, "/verification/password", [
                                "identifier": ["type": "username", "value": "alice"],
                                "password": .string("wrong-guess-\(index)"),
                            ]).status
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // At most ten guesses are checked in the window, however many run at once.
            #expect(guesses.filter { $0 == .unprocessableContent }.count == 10)
            #expect(guesses.filter { $0 == .tooManyRequests }.count == 6)
        }
    }

    @Test func passwordFailuresPerIPAreLimitedAndSlowedDown() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            _ = try await API.call(browser, .put, "", ["interactionEvent": "SignIn"])
            // Fifty failures over many (unknown) accounts from one IP lock the IP for the window.
            for index in 0..<50 {
                let response = try await API.call(browser, .post, "/verification/password", [
                    "identifier": ["type": "username", "value": .string("guess\(index)")], "password": "nope-nope",
                ])
                #expect(response.status == .unprocessableContent)
            }
            let blocked = try await API.call(browser, .post, "/verification/password", [
                "identifier": ["type": "username", "value": "alice"], "password": .string(Fixture.password),
            ])
            #expect(blocked.status == .tooManyRequests)
        }
        // The slow-down: from the third failure on one account, each answer waits longer (at least 2 × the
        // delay at the fourth).
        try await Fixture.withServer(failureDelay: .milliseconds(150)) { _, browser in
            _ = try await API.call(browser, .put, "", ["interactionEvent": "SignIn"])
            var elapsed: [Duration] = []
            for _ in 0..<4 {
                let started = ContinuousClock.now
                _ = try await API.call(browser, .post, "/verification/password", [
                    "identifier": ["type": "username", "value": "alice"], "password": "still-wrong",
                ])
                elapsed.append(ContinuousClock.now - started)
            }
            #expect(elapsed[3] >= .milliseconds(300))
        }
    }
}

extension SignInExperience.SignInMethod {
    func withPassword() -> Self {
        var method = self
        method.password = true
        return method
    }
}
