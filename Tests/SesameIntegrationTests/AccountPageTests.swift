import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Synchronization
import Testing

/// `/account`: the signed-in person's own page, over real HTTP.
@Suite("Account page")
struct AccountPageTests {
    /// Signs Alice in at `/sign-in` (no application), as a person opening the account page would.
    static func signIn(_ browser: Browser) async throws {
        let page = try await browser.get("/sign-in")
        let signedIn = try await browser.post("/sign-in", form: [
            ("csrf_token", try #require(page.csrfToken)), ("identifier", "alice"), ("password", Fixture.password),
        ])
        #expect(signedIn.status == .seeOther || signedIn.status == .ok, "\(signedIn.status)")
    }

    @Test func signedOutPeopleAreSentToSignInAndBack() async throws {
        try await Fixture.withServer { _, browser in
            let away = try await browser.get("/account")
            #expect(away.status == .seeOther && away.location == "/sign-in")
            #expect(browser.cookies["_sesame_return"] == "/account")
            let page = try await browser.get("/sign-in")
            let back = try await browser.post("/sign-in", form: [
                ("csrf_token", try #require(page.csrfToken)), ("identifier", "alice"), ("password", Fixture.password),
            ])
            #expect(back.location == "/account")
            let account = try await browser.get("/account")
            #expect(account.status == .ok && account.text.contains("alice@example.com"))
            #expect(account.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
        }
    }

    @Test func nameAndPassword() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.signIn(browser)
            var page = try await browser.get("/account")
            let csrf = try #require(page.csrfToken)
            #expect(try await browser.post("/account/profile", form: [("name", "Mallory")]).status.code >= 400)
            let saved = try await browser.post("/account/profile", form: [("csrf_token", csrf), ("name", "Alice L.")])
            #expect(saved.location == "/account?notice=nameSaved")
            page = try await browser.get(try #require(saved.location))
            #expect(page.text.contains("Your name was saved.") && page.text.contains(#"value="Alice L.""#))
            let control = try await browser.post("/account/profile", form: [("csrf_token", csrf), ("name", "A\u{0}B")])
            #expect(control.status == .badRequest)
            #expect(try await browser.get("/account?notice=%3Cscript%3E").text.contains("<script>") == false)
            let wrong = try await browser.post("/account/password", form: [
                ("csrf_token", csrf), ("currentPassword", "not-it"), ("newPassword", "Granite-Meadow-77"),
            ])
            #expect(wrong.status == .badRequest && wrong.text.contains("The current password is not right."))
            let weak = try await browser.post("/account/password", form: [
                ("csrf_token", csrf), ("currentPassword", Fixture.password), ("newPassword", "12345678"),
            ])
            #expect(weak.status == .badRequest)
            let changed = try await browser.post("/account/password", form: [
                ("csrf_token", csrf), ("currentPassword", Fixture.password), ("newPassword", "Granite-Meadow-77"),
            ])
            #expect(changed.status == .ok && changed.text.contains("every device was signed out"))
            // Every session ended, this one too.
            #expect(try await browser.get("/account").location == "/sign-in")
            _ = try await fixture.runtime.users.authenticate(identifier: "alice", password: "Granite-Meadow-77")
        }
    }

    @Test func factorsAreAddedRenamedAndRemoved() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            try await MfaTests.offer(fixture, [.totp, .webAuthn, .backupCode], policy: .promptAtSignInAndSignUp)
            try await Self.signIn(browser)
            // The prompt after the password: not now.
            if let skip = try? await browser.get("/sign-in/mfa"), let csrf = skip.csrfToken,
               skip.text.contains("/sign-in/mfa/skip")
            {
                _ = try await browser.post("/sign-in/mfa/skip", form: [("csrf_token", csrf)])
            }
            var page = try await browser.get("/account")
            #expect(page.text.contains("No second factor is set up yet."))
            #expect(page.text.contains(#"href="/account/mfa/totp""#) && page.text.contains(#"data-passkey="accountRegister""#))
            let setup = try await browser.get("/account/mfa/totp")
            #expect(setup.text.contains(#"action="/account/mfa/totp""#) && setup.text.contains(#"href="/account""#))
            let secret = try MfaTests.secret(in: setup)
            #expect(try MfaTests.secret(in: try await browser.get("/account/mfa/totp")) == secret)
            let csrf = try #require(setup.csrfToken)
            let wrong = try await browser.post("/account/mfa/totp", form: [
                ("csrf_token", csrf), ("code", MfaTests.code(secret, steps: 4, at: Fixture.midWindow())),
            ])
            #expect(wrong.status == .badRequest && wrong.text.contains("This code is not valid"))
            let added = try await browser.post("/account/mfa/totp", form: [
                ("csrf_token", csrf), ("code", MfaTests.code(secret, at: Fixture.midWindow())),
            ])
            #expect(added.location == "/account?notice=totpAdded")
            // One authenticator app per account: the set-up page says so rather than show a QR code.
            let second = try await browser.get("/account/mfa/totp")
            #expect(second.status == .badRequest && !second.text.contains("<svg"))
            let codes = try await browser.post("/account/mfa/backup-codes", form: [("csrf_token", csrf)])
            #expect(MfaTests.backupCodes(in: codes).count == 10 && codes.text.contains(#"href="/account""#))
            // A passkey made elsewhere, to rename and remove here.
            let credential = WebAuthnCredential(credentialID: "Y3JlZA", publicKey: [1], counter: 0, transports: [],
                                                agent: nil, name: "Chrome on Linux", rpID: "localhost")
            try await fixture.runtime.mfa.store.insertMfaVerification(MfaVerification(
                id: "passkey1", userID: fixture.user.id, kind: .webAuthn(credential), createdAt: Fixture.midWindow()))
            page = try await browser.get("/account")
            #expect(page.text.contains("Chrome on Linux") && page.text.contains("10 codes left"))
            #expect(try await browser.post("/account/mfa/passkey1/rename", form: [("csrf_token", csrf), ("name", "")])
                .status == .badRequest)
            let renamed = try await browser.post("/account/mfa/passkey1/rename", form: [
                ("csrf_token", csrf), ("name", "Work laptop"),
            ])
            #expect(renamed.location == "/account?notice=passkeyRenamed")
            #expect(try await browser.get("/account").text.contains("Work laptop"))
            #expect(try await browser.post("/account/mfa/nobody/delete", form: [("csrf_token", csrf)]).status == .notFound)
            // Under a Mandatory policy the last real factor stays.
            try await MfaTests.offer(fixture, [.totp, .webAuthn, .backupCode], policy: .mandatory)
            #expect(try await browser.post("/account/mfa/passkey1/delete", form: [("csrf_token", csrf)]).location
                == "/account?notice=factorRemoved")
            let totpID = try #require(try await fixture.runtime.mfa.store.mfaVerifications(userID: fixture.user.id)
                .first { $0.factor == .totp }?.id)
            let kept = try await browser.post("/account/mfa/\(totpID)/delete", form: [("csrf_token", csrf)])
            #expect(kept.status == .unprocessableContent)
            await fixture.runtime.audit.flush()
            let events = try await fixture.runtime.store.auditEvents(AuditQuery(userID: fixture.user.id, limit: 100))
                .events.map(\.key)
            #expect(events.contains("Mfa.Bind") && events.contains("Mfa.Remove"))
        }
    }

    @Test func changesToFactorsNeedARecentSignIn() async throws {
        let clock = Clock()
        try await Fixture.withServer(now: { clock.now() }) { fixture, browser in
            try await MfaTests.offer(fixture, [.totp, .webAuthn], policy: .noPrompt)
            try await Self.signIn(browser)
            #expect(try await browser.get("/account/mfa/totp").status == .ok)
            #expect(try await browser.get("/account").text.contains(#"data-passkey="accountRegister""#))
            clock.advance(by: 601)  // past the ten minutes a recent sign-in lasts
            #expect(try await browser.get("/account").status == .ok)
            let again = try await browser.get("/account/mfa/totp")
            #expect(again.location == "/sign-in" && browser.cookies["_sesame_return"] == "/account")
            // The password too: an old session and a leaked password cannot lock the owner out.
            let page = try await browser.get("/account")
            #expect(!page.text.contains(#"data-passkey="accountRegister""#))
            let password = try await browser.post("/account/password", form: [
                ("csrf_token", try #require(page.csrfToken)), ("currentPassword", Fixture.password),
                ("newPassword", "Granite-Meadow-77"),
            ])
            #expect(password.location == "/sign-in")
            let json = try await browser.send("/account/passkeys/registration", method: .post,
                                              headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}"))
            #expect(json.status == .badRequest && json.json["code"] == "guard.invalid_input")
            let crossSite = try await browser.send("/account/passkeys/registration", method: .post,
                                                   headers: [.contentType: "application/json",
                                                             HTTPField.Name("Sec-Fetch-Site")!: "same-site"],
                                                   body: ByteBuffer(string: "{}"))
            #expect(crossSite.status == .badRequest)
        }
    }

    /// A clock the test moves.
    final class Clock: Sendable {
        private let offset = Mutex<TimeInterval>(0)
        func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }
        func advance(by seconds: TimeInterval) { offset.withLock { $0 += seconds } }
    }
}
