import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameServer
import Testing

/// The JSON Experience API, driving the same codes, checks and session completion as the pages.
@Suite("Experience API")
struct ExperienceAPITests {
    static func call(_ browser: Browser, _ method: HTTPRequest.Method, _ path: String, _ body: JSONValue)
        async throws -> Reply
    {
        try await browser.send("/api/experience" + path, method: method, headers: [.contentType: "application/json"],
                               body: ByteBuffer(bytes: body.encoded()))
    }

    @Test func signInWithAPasswordResumesTheAuthorization() async throws {
        try await Fixture.withServer { fixture, browser in
            let verifier = SecureRandom.token(bytes: 48)
            try await ExperienceFlowTests.startAuthorization(fixture, browser, verifier: verifier)
            #expect(try await Self.call(browser, .put, "", ["interactionEvent": "SignIn"]).status == .noContent)
            let wrong = try await Self.call(browser, .post, "/verification/password", [
                "identifier": ["type": "username", "value": "alice"], "password": "nope-nope-nope",
            ])
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.json["code"] == "session.invalid_credentials")
            let verified = try await Self.call(browser, .post, "/verification/password", [
                "identifier": ["type": "username", "value": "alice"], "password": .string(Fixture.password),
            ])
            let verificationID = try #require(verified.json["verificationId"]?.stringValue)
            let early = try await Self.call(browser, .post, "/submit", [:])
            #expect(early.status == .badRequest)
            #expect(early.json["message"] == "Identify the user first.")
            #expect(try await Self.call(browser, .post, "/identification", ["verificationId": .string(verificationID)])
                .status == .noContent)
            let submitted = try await Self.call(browser, .post, "/submit", [:])
            #expect(submitted.status == .ok)
            #expect(submitted.json["redirectTo"]?.stringValue == "http://localhost:3001/oidc/auth/resume")
            #expect(browser.cookies["_sesame_session"] != nil)
            let resumed = try await browser.get("/oidc/auth/resume")
            let code = try #require(resumed.redirectQuery["code"])
            let tokens = try await CodeFlowTests.exchange(fixture, browser, .init(code: code, verifier: verifier))
            #expect(tokens.status == .ok)
        }
    }

    @Test func registerWithAnEmailCode() async throws {
        try await Fixture.withServer { fixture, browser in
            _ = try await Self.call(browser, .put, "", ["interactionEvent": "Register"])
            // A taken address gets a code like any other: only identification, after the code, tells.
            let taken = try await Self.call(browser, .post, "/verification/verification-code", [
                "identifier": ["type": "email", "value": "alice@example.com"], "interactionEvent": "Register",
            ])
            #expect(taken.status == .ok)
            let sent = try await Self.call(browser, .post, "/verification/verification-code", [
                "identifier": ["type": "email", "value": "Erin@Example.com"], "interactionEvent": "Register",
            ])
            let id = try #require(sent.json["verificationId"]?.stringValue)
            let unverified = try await Self.call(browser, .post, "/identification", ["verificationId": .string(id)])
            #expect(unverified.status == .badRequest)
            let (code, _) = try await ExperienceFlowTests.latestCode(browser, to: "erin@example.com")
            let wrongCode = try await Self.call(browser, .post, "/verification/verification-code/verify", [
                "identifier": ["type": "email", "value": "erin@example.com"], "verificationId": .string(id),
                "code": .string(code == "000000" ? "111111" : "000000"),
            ])
            #expect(wrongCode.json["code"] == "verification_code.code_mismatch")
            let verify = try await Self.call(browser, .post, "/verification/verification-code/verify", [
                "identifier": ["type": "email", "value": "erin@example.com"], "verificationId": .string(id),
                "code": .string(code),
            ])
            #expect(verify.status == .ok)
            #expect(try await Self.call(browser, .post, "/identification", ["verificationId": .string(id)]).status == .noContent)
            let missingPassword = try await Self.call(browser, .post, "/submit", [:])
            #expect(missingPassword.json["message"] == "Set a password in the profile first.")
            let weak = try await Self.call(browser, .post, "/profile", ["type": "password", "value": "12345678"])
            #expect(weak.status == .unprocessableContent)
            #expect(weak.json["code"] == "password.rejected")
            #expect(try await Self.call(browser, .post, "/profile", ["type": "name", "value": "Erin"]).status == .noContent)
            #expect(try await Self.call(browser, .post, "/profile", ["type": "password", "value": "Velvet-Otter-93"])
                .status == .noContent)
            let submitted = try await Self.call(browser, .post, "/submit", [:])
            #expect(submitted.status == .ok)
            let user = try await fixture.runtime.users.authenticate(identifier: "erin@example.com",
                                                                    password: "Velvet-Otter-93")
            #expect(user.name == "Erin")
        }
    }

    @Test func recoverAPassword() async throws {
        try await Fixture.withServer { fixture, browser in
            _ = try await Self.call(browser, .put, "", ["interactionEvent": "ForgotPassword"])
            // An unknown address reads like a known one: a code goes out; only after it is verified does
            // identification say that no account uses the address.
            let unknown = try await Self.call(browser, .post, "/verification/verification-code", [
                "identifier": ["type": "email", "value": "ghost@example.com"], "interactionEvent": "ForgotPassword",
            ])
            #expect(unknown.status == .ok)
            let ghostID = try #require(unknown.json["verificationId"]?.stringValue)
            let (ghostCode, _) = try await ExperienceFlowTests.latestCode(browser, to: "ghost@example.com")
            let ghostVerified = try await Self.call(browser, .post, "/verification/verification-code/verify", [
                "identifier": ["type": "email", "value": "ghost@example.com"], "verificationId": .string(ghostID),
                "code": .string(ghostCode),
            ])
            #expect(ghostVerified.status == .ok)
            let noAccount = try await Self.call(browser, .post, "/identification", ["verificationId": .string(ghostID)])
            #expect(noAccount.status == .notFound && noAccount.json["code"] == "user.user_not_exist")
            let sent = try await Self.call(browser, .post, "/verification/verification-code", [
                "identifier": ["type": "email", "value": "alice@example.com"], "interactionEvent": "ForgotPassword",
            ])
            let id = try #require(sent.json["verificationId"]?.stringValue)
            let (code, usage) = try await ExperienceFlowTests.latestCode(browser, to: "alice@example.com")
            #expect(usage == "ForgotPassword")
            _ = try await Self.call(browser, .post, "/verification/verification-code/verify", [
                "identifier": ["type": "email", "value": "alice@example.com"], "verificationId": .string(id),
                "code": .string(code),
            ])
            _ = try await Self.call(browser, .post, "/identification", ["verificationId": .string(id)])
            #expect(try await Self.call(browser, .put, "/profile/password", ["password": "Granite-Meadow-15"])
                .status == .noContent)
            #expect(try await Self.call(browser, .post, "/submit", [:]).status == .noContent)
            _ = try await fixture.runtime.users.authenticate(identifier: "alice", password: "Granite-Meadow-15")
            await #expect(throws: IdentityError.self) {
                try await fixture.runtime.users.authenticate(identifier: "alice", password: Fixture.password)
            }
        }
    }

    @Test func badRequestsGetLogtoShapedErrors() async throws {
        try await Fixture.withServer { _, browser in
            let none = try await Self.call(browser, .post, "/identification", ["verificationId": "x"])
            #expect(none.status == .notFound)
            #expect(none.json["code"] == "entity.not_exists")
            let form = try await browser.post("/api/experience", form: [("interactionEvent", "SignIn")])
            #expect(form.status == .notFound || form.status == .badRequest || form.status == .methodNotAllowed)
            var headers: HTTPFields = [:]
            headers[.contentType] = "text/plain"
            let plain = try await browser.send("/api/experience", method: .put, headers: headers,
                                               body: ByteBuffer(string: #"{"interactionEvent":"SignIn"}"#))
            #expect(plain.status == .badRequest)
            let badEvent = try await Self.call(browser, .put, "", ["interactionEvent": "Hack"])
            #expect(badEvent.status == .badRequest)
            #expect(badEvent.json["message"]?.stringValue?.contains("interactionEvent") == true)
            let notJSON = try await browser.send("/api/experience", method: .put,
                                                 headers: [.contentType: "application/json"], body: ByteBuffer(string: "{"))
            #expect(notJSON.status == .badRequest)
            _ = try await Self.call(browser, .put, "", ["interactionEvent": "SignIn"])
            let unknownVerification = try await Self.call(browser, .post, "/identification", ["verificationId": "nope"])
            #expect(unknownVerification.status == .notFound)
            let sms = try await Self.call(browser, .post, "/verification/verification-code", [
                "identifier": ["type": "phone", "value": "8613800000000"], "interactionEvent": "SignIn",
            ])
            #expect(sms.status == .badRequest)
        }
    }
}
