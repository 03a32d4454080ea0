import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameIdentity
import SesameOIDC
@testable import SesameServer
import SesameStorage
import Synchronization
import Testing

/// Whether an address has an account is told only to whoever proved the address with a code: every send
/// answers the same for known and unknown addresses (status, headers, body, a real send), and after the code
/// the person may register instead of signing in, or sign in instead of registering, without a second code.
@Suite("Account enumeration")
struct AccountEnumerationTests {
    typealias API = ExperienceAPITests

    static let known = "alice@example.com"
    static let unknown = "nobody@example.com"

    /// The parts of an answer that may differ between two addresses: ids, tokens and the address itself.
    static func normalized(_ response: Reply, address: String) -> String {
        var text = response.text.replacingOccurrences(of: address, with: "ADDRESS")
        for pattern in [#""verificationId":"[a-z0-9]+""#, #"name="csrf_token" value="[^"]+""#] {
            text = text.replacingOccurrences(of: pattern, with: "ID", options: .regularExpression)
        }
        var headers = response.headers
        headers[.date] = nil
        headers[.setCookie] = nil
        headers[.contentLength] = nil
        headers[ErrorMiddleware.requestIDHeader] = nil  // a fresh id per request, known address or not
        return "\(response.status.code)\n\(headers.map { "\($0.name): \($0.value)" }.sorted())\n\(text)"
    }

    @Test(arguments: ["SignIn", "Register", "ForgotPassword"])
    func theExperienceAPIAnswersTheSameForKnownAndUnknownAddresses(_ event: String) async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { _, browser in
            var answers: [String] = []
            for address in [Self.known, Self.unknown] {
                let own = Browser(client: browser.client)
                _ = try await API.call(own, .put, "", ["interactionEvent": .string(event)])
                let sent = try await API.call(own, .post, "/verification/verification-code", [
                    "identifier": ["type": "email", "value": .string(address)], "interactionEvent": .string(event),
                ])
                #expect(sent.status == .ok, "\(event) \(address)")
                answers.append(Self.normalized(sent, address: address))
                // A real code went out in both cases, for this flow.
                let (_, usage) = try await ExperienceFlowTests.latestCode(own, to: address)
                #expect(usage == event)
                // The resend wait and its answer read the same too.
                let again = try await API.call(own, .post, "/verification/verification-code", [
                    "identifier": ["type": "email", "value": .string(address)], "interactionEvent": .string(event),
                ])
                #expect(again.status == .tooManyRequests)
                answers.append(Self.normalized(again, address: address))
            }
            #expect(answers[0] == answers[2])
            #expect(answers[1] == answers[3])
        }
    }

    @Test(arguments: ["sign-in/code", "register", "forgot-password"])
    func thePagesAnswerTheSameForKnownAndUnknownAddresses(_ flow: String) async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { _, browser in
            var answers: [String] = []
            for address in [Self.known, Self.unknown] {
                let own = Browser(client: browser.client)
                let page = try await own.get("/" + flow)
                let sent = try await own.post("/\(flow)/send", form: [
                    ("csrf_token", try #require(page.csrfToken)), ("identifier", address),
                ])
                #expect(sent.status == .ok, "\(flow) \(address)")
                answers.append(Self.normalized(sent, address: address))
                #expect(try await ExperienceFlowTests.latestCode(own, to: address).code.count == 6)
            }
            #expect(answers[0] == answers[1], "\(flow)")
        }
    }

    /// Sign-in by code with an address that has no account: after the code, the page offers to create the
    /// account with the verified address, and no second code is sent.
    @Test func aVerifiedNewAddressRegistersWithoutASecondCode() async throws {
        try await Fixture.withServer { fixture, browser in
            let verifier = SecureRandom.token(bytes: 48)
            try await ExperienceFlowTests.startAuthorization(fixture, browser, verifier: verifier)
            let page = try await browser.get("/sign-in/code")
            let csrf = try #require(page.csrfToken)
            _ = try await browser.post("/sign-in/code/send", form: [("csrf_token", csrf), ("identifier", "new@example.com")])
            let (code, _) = try await ExperienceFlowTests.latestCode(browser, to: "new@example.com")
            let choice = try await browser.post("/sign-in/code/verify", form: [
                ("csrf_token", csrf), ("identifier", "new@example.com"), ("code", code),
            ])
            #expect(choice.status == .ok)
            #expect(choice.text.contains("No account uses this address yet"))
            #expect(choice.text.contains(#"action="/sign-in/code/register""#))
            #expect(choice.text.contains(#"autocomplete="new-password""#))
            // Without the form's token, or for an address that was not verified here: refused.
            let forged = try await browser.post("/sign-in/code/register", form: [
                ("identifier", "new@example.com"), ("newPassword", "Velvet-Otter-93"),
            ])
            #expect(forged.status == .forbidden)
            let unverified = try await browser.post("/sign-in/code/register", form: [
                ("csrf_token", csrf), ("identifier", "other@example.com"), ("newPassword", "Velvet-Otter-93"),
            ])
            #expect(unverified.status == .badRequest)
            #expect(try await fixture.runtime.store.user(identifier: "other@example.com") == nil)
            let weak = try await browser.post("/sign-in/code/register", form: [
                ("csrf_token", csrf), ("identifier", "new@example.com"), ("newPassword", "password123"),
            ])
            #expect(weak.status == .badRequest)
            #expect(weak.text.contains("too common"))
            let created = try await browser.post("/sign-in/code/register", form: [
                ("csrf_token", csrf), ("identifier", "new@example.com"), ("newPassword", "Velvet-Otter-93"),
                ("name", "Newt"),
            ])
            let claims = try await ExperienceFlowTests.finish(fixture, browser, created, verifier: verifier)
            #expect(claims["email"] == "new@example.com")
            #expect(claims["name"] == "Newt")
            let mail = try await browser.get("/dev/mailbox").json.arrayValue ?? []
            #expect(mail.filter { $0["to"] == "new@example.com" }.count == 1)
        }
    }

    /// Registration with an address that has an account: after the code, the page offers to sign in with the
    /// verified address instead.
    @Test func aVerifiedTakenAddressSignsInInstead() async throws {
        try await Fixture.withServer { fixture, browser in
            let verifier = SecureRandom.token(bytes: 48)
            try await ExperienceFlowTests.startAuthorization(fixture, browser, verifier: verifier)
            let page = try await browser.get("/register")
            let csrf = try #require(page.csrfToken)
            _ = try await browser.post("/register/send", form: [("csrf_token", csrf), ("identifier", Self.known)])
            let (code, usage) = try await ExperienceFlowTests.latestCode(browser, to: Self.known)
            #expect(usage == "Register")
            let choice = try await browser.post("/register/verify", form: [
                ("csrf_token", csrf), ("identifier", Self.known), ("code", code), ("newPassword", "Velvet-Otter-93"),
            ])
            #expect(choice.status == .ok)
            #expect(choice.text.contains("An account already uses this address"))
            #expect(choice.text.contains(#"action="/register/sign-in""#))
            let signedIn = try await browser.post("/register/sign-in", form: [
                ("csrf_token", csrf), ("identifier", Self.known),
            ])
            let claims = try await ExperienceFlowTests.finish(fixture, browser, signedIn, verifier: verifier)
            #expect(claims["sub"]?.stringValue == fixture.user.id)
            // The password typed for the refused registration changed nothing.
            _ = try await fixture.runtime.users.authenticate(identifier: "alice", password: Fixture.password)
        }
    }

    /// The same two paths in the Experience API, as Logto's: identification tells after the code, and
    /// `PUT /api/experience/interaction-event` switches with the same verification.
    @Test func theExperienceAPISwitchesEventsAfterTheCode() async throws {
        try await Fixture.withServer { fixture, browser in
            func verified(_ own: Browser, _ event: String, _ address: String) async throws -> String {
                _ = try await API.call(own, .put, "", ["interactionEvent": .string(event)])
                let sent = try await API.call(own, .post, "/verification/verification-code", [
                    "identifier": ["type": "email", "value": .string(address)], "interactionEvent": .string(event),
                ])
                let id = try #require(sent.json["verificationId"]?.stringValue)
                let (code, _) = try await ExperienceFlowTests.latestCode(own, to: address)
                let checked = try await API.call(own, .post, "/verification/verification-code/verify", [
                    "identifier": ["type": "email", "value": .string(address)], "verificationId": .string(id),
                    "code": .string(code),
                ])
                #expect(checked.status == .ok)
                return id
            }
            // Sign-in with a new address → Register.
            let newcomer = Browser(client: browser.client)
            let newID = try await verified(newcomer, "SignIn", "newt@example.com")
            let missing = try await API.call(newcomer, .post, "/identification", ["verificationId": .string(newID)])
            #expect(missing.status == .notFound)
            #expect(missing.json["code"] == "user.user_not_exist")
            #expect(try await API.call(newcomer, .put, "/interaction-event", ["interactionEvent": "Register"]).status
                == .noContent)
            #expect(try await API.call(newcomer, .post, "/identification", ["verificationId": .string(newID)]).status
                == .noContent)
            #expect(try await API.call(newcomer, .post, "/profile", ["type": "password", "value": "Velvet-Otter-93"])
                .status == .noContent)
            #expect(try await API.call(newcomer, .post, "/submit", [:]).status == .ok)
            #expect(try await fixture.runtime.store.user(identifier: "newt@example.com") != nil)

            // Registration with a taken address → SignIn.
            let returning = Browser(client: browser.client)
            let takenID = try await verified(returning, "Register", Self.known)
            let taken = try await API.call(returning, .post, "/identification", ["verificationId": .string(takenID)])
            #expect(taken.status == .unprocessableContent)
            #expect(taken.json["code"] == "user.email_already_in_use")
            #expect(try await API.call(returning, .put, "/interaction-event", ["interactionEvent": "SignIn"]).status
                == .noContent)
            #expect(try await API.call(returning, .post, "/identification", ["verificationId": .string(takenID)])
                .status == .noContent)
            let submitted = try await API.call(returning, .post, "/submit", [:])
            #expect(submitted.status == .ok)
            #expect(returning.cookies["_sesame_session"] != nil)

            // Recovery neither starts nor ends a switch; nonsense is refused.
            let recovering = Browser(client: browser.client)
            _ = try await API.call(recovering, .put, "", ["interactionEvent": "ForgotPassword"])
            let refused = try await API.call(recovering, .put, "/interaction-event", ["interactionEvent": "SignIn"])
            #expect(refused.status == .badRequest)
            let nonsense = try await API.call(returning, .put, "/interaction-event", ["interactionEvent": "Nope"])
            #expect(nonsense.status == .badRequest)
            let none = try await API.call(Browser(client: browser.client), .put, "/interaction-event",
                                          ["interactionEvent": "SignIn"])
            #expect(none.status == .notFound)
        }
    }

    /// A verified address proves itself for ten minutes, and an experience lives an hour from its start however
    /// often it is saved: a mailbox once controlled cannot sign in to the account that takes the address later.
    @Test func aVerifiedAddressDoesNotStayProvenForever() async throws {
        let clock = MovableClock()
        try await Fixture.withServer(now: { clock.now }) { fixture, browser in
            _ = try await API.call(browser, .put, "", ["interactionEvent": "SignIn"])
            let sent = try await API.call(browser, .post, "/verification/verification-code", [
                "identifier": ["type": "email", "value": "later@example.com"], "interactionEvent": "SignIn",
            ])
            let id = try #require(sent.json["verificationId"]?.stringValue)
            let (code, _) = try await ExperienceFlowTests.latestCode(browser, to: "later@example.com")
            #expect(try await API.call(browser, .post, "/verification/verification-code/verify", [
                "identifier": ["type": "email", "value": "later@example.com"], "verificationId": .string(id),
                "code": .string(code),
            ]).status == .ok)
            #expect(try await API.call(browser, .post, "/identification", ["verificationId": .string(id)]).status
                == .notFound)
            // Saving again and again does not extend the experience.
            for _ in 0..<3 {
                clock.advance(400)
                _ = try await API.call(browser, .put, "/interaction-event", ["interactionEvent": "Register"])
                _ = try await API.call(browser, .put, "/interaction-event", ["interactionEvent": "SignIn"])
            }
            // Twenty minutes on, someone gets an account with the address: the old proof does not sign in to it.
            _ = try await fixture.runtime.users.create(.init(email: "later@example.com", password: "Velvet-Otter-93"))
            let stale = try await API.call(browser, .post, "/identification", ["verificationId": .string(id)])
            #expect(stale.status == .badRequest)
            #expect(stale.json["message"] == "This verification has expired. Verify again.")
            clock.advance(3600)
            let gone = try await API.call(browser, .post, "/identification", ["verificationId": .string(id)])
            #expect(gone.status == .notFound)
            #expect(browser.cookies["_sesame_session"] == nil)
        }
    }

    /// The password lock counts an unknown identifier under the same form an account is found by, so padded or
    /// differently cased variants lock together for unknown names exactly as for real ones.
    @Test(arguments: ["alice", "nobody"])
    func variantsOfAnIdentifierShareOneLock(_ name: String) async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { _, browser in
            _ = try await API.call(browser, .put, "", ["interactionEvent": "SignIn"])
            for attempt in 0..<10 {
                _ = try await API.call(browser, .post, "/verification/password", [
                    "identifier": ["type": "username", "value": .string(name)], "password": .string("wrong-\(attempt)"),
                ])
            }
            for variant in [" \(name)", "\(name)\t", name.uppercased()] {
                let locked = try await API.call(browser, .post, "/verification/password", [
                    "identifier": ["type": "username", "value": .string(variant)], "password": "wrong-again",
                ])
                #expect(locked.status == .tooManyRequests, "\(name): '\(variant)'")
            }
        }
    }

    /// A password stored under a lower bcrypt cost than the policy's is re-hashed at the next sign-in.
    @Test func signingInRehashesToThePolicysCost() async throws {
        try await Fixture.withServer { fixture, browser in
            var alice = fixture.user
            alice.passwordHash = try await PasswordHasher(cost: 4).hash(Fixture.password)
            try await fixture.runtime.store.updateUser(alice)
            _ = try await API.call(browser, .put, "", ["interactionEvent": "SignIn"])
            #expect(try await API.call(browser, .post, "/verification/password", [
                "identifier": ["type": "username", "value": "alice"], "password": .string(Fixture.password),
            ]).status == .ok)
            let stored = try #require(try await fixture.runtime.store.user(id: alice.id)?.passwordHash)
            #expect(PasswordHasher.cost(of: stored) == 10)
        }
    }
}

/// A clock the test moves by hand.
final class MovableClock: Sendable {
    private let value = Mutex(Date(timeIntervalSince1970: 1_800_000_450))
    var now: Date { value.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
