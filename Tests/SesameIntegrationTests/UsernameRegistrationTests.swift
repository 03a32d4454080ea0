import Foundation
import HTTPTypes
import HummingbirdTesting
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Testing

/// Sign-up by username: a username and a password, no address to verify, on the pages and the API.
@Suite("Registration by username")
struct UsernameRegistrationTests {
    static func usernameSignUp(_ fixture: Fixture) async throws {
        var settings = SignInExperience.default
        settings.signUp = .init(identifiers: [.username], password: true)
        try await fixture.runtime.saveSignInExperience(settings)
    }

    @Test func onTheHostedPages() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.usernameSignUp(fixture)
            let verifier = SecureRandom.token(bytes: 48)
            try await ExperienceFlowTests.startAuthorization(fixture, browser, verifier: verifier)
            #expect(try await browser.get("/sign-in").text.contains(#"href="/register""#))
            let page = try await browser.get("/register")
            #expect(page.text.contains(#"action="/register/username""#))
            #expect(page.text.contains(#"name="username""#) && page.text.contains(#"autocomplete="new-password""#))
            let csrf = try #require(page.csrfToken)
            let taken = try await browser.post("/register/username", form: [
                ("csrf_token", csrf), ("username", "ALICE"), ("newPassword", "Sturdy-Lantern-58"),
            ])
            #expect(taken.status == .conflict && taken.text.contains("This username is taken"))
            let badName = try await browser.post("/register/username", form: [
                ("csrf_token", csrf), ("username", "9lives"), ("newPassword", "Sturdy-Lantern-58"),
            ])
            #expect(badName.status == .badRequest)
            let weak = try await browser.post("/register/username", form: [
                ("csrf_token", csrf), ("username", "walrus"), ("newPassword", "walrus123"),
            ])
            #expect(weak.status == .badRequest)
            #expect(try await fixture.runtime.store.user(identifier: "walrus") == nil)
            let noCSRF = try await browser.post("/register/username", form: [
                ("username", "walrus"), ("newPassword", "Sturdy-Lantern-58"),
            ])
            #expect(noCSRF.status == .forbidden)
            let created = try await browser.post("/register/username", form: [
                ("csrf_token", csrf), ("username", "walrus"), ("newPassword", "Sturdy-Lantern-58"), ("name", "Wally"),
            ])
            let claims = try await ExperienceFlowTests.finish(fixture, browser, created, verifier: verifier)
            #expect(claims["name"] == "Wally")
            let user = try #require(try await fixture.runtime.store.user(identifier: "walrus"))
            #expect(user.primaryEmail == nil && user.username == "walrus")
            _ = try await fixture.runtime.users.authenticate(identifier: "walrus", password: "Sturdy-Lantern-58")
        }
    }

    @Test func throughTheExperienceAPI() async throws {
        try await Fixture.withServer { fixture, browser in
            typealias API = ExperienceAPITests
            _ = try await API.call(browser, .put, "", ["interactionEvent": "Register"])
            // Off by default (sign-up by email): a username alone is refused.
            let off = try await API.call(browser, .post, "/profile", ["type": "username", "value": "otter"])
            #expect(off.json["code"] == "sign_in_experiences.method_disabled")
            try await Self.usernameSignUp(fixture)
            #expect(try await API.call(browser, .post, "/profile", ["type": "username", "value": "alice"]).status
                == .conflict)
            #expect(try await API.call(browser, .post, "/profile", ["type": "username", "value": "otter"]).status
                == .noContent)
            let early = try await API.call(browser, .post, "/submit", [:])
            #expect(early.json["message"] == "Set a password in the profile first.")
            #expect(try await API.call(browser, .post, "/profile", ["type": "password", "value": "Granite-Meadow-15"])
                .status == .noContent)
            #expect(try await API.call(browser, .post, "/submit", [:]).status == .ok)
            _ = try await fixture.runtime.users.authenticate(identifier: "otter", password: "Granite-Meadow-15")
        }
    }

    @Test func registrationsPerIPAreLimited() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            try await Self.usernameSignUp(fixture)
            typealias API = ExperienceAPITests
            for index in 0..<20 {
                _ = try await API.call(browser, .put, "", ["interactionEvent": "Register"])
                #expect(try await API.call(browser, .post, "/profile", ["type": "username", "value": .string("user\(index)")])
                    .status == .noContent)
            }
            _ = try await API.call(browser, .put, "", ["interactionEvent": "Register"])
            let limited = try await API.call(browser, .post, "/profile", ["type": "username", "value": "user20"])
            #expect(limited.status == .tooManyRequests)
        }
    }

    @Test func thePreviewAndTheSettingsCheck() async throws {
        try await Fixture.withServer { fixture, browser in
            var settings = SignInExperience.default
            settings.signUp = .init(identifiers: [.username], password: false)
            await #expect(throws: IdentityError.self) { try await fixture.runtime.saveSignInExperience(settings) }
            settings.signUp.password = true
            let encoded = Base64URL.encode(try JSONEncoder().encode(settings))
            let preview = try await browser.get("/preview/register?settings=\(encoded)")
            #expect(preview.text.contains(#"action="/register/username""#))
        }
    }
}
