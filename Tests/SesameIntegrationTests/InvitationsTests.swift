import Foundation
import HTTPTypes
import HummingbirdTesting
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Testing

/// Organization invitations over real HTTP: the Management API's lifecycle and its refusals on both databases, the
/// message through the (development) email connector, and the hosted `/invitation/{id}` page.
@Suite("Organization invitations")
struct InvitationsTests {
    typealias API = ManagementAPITests

    /// An organization with a `member` (User) role and a `robot` (MachineToMachine) role.
    struct Setup {
        let token: String
        let organization: String
        let member: String
        let robot: String
    }

    static func setUp(_ fixture: Fixture, _ browser: Browser) async throws -> Setup {
        let token = try await API.token(fixture, browser)
        let organization = try await fixture.runtime.organizations.create(.init(name: "Acme <Rockets> & Co"))
        let member = try await fixture.runtime.organizations.createRole(name: "member", description: nil)
        let robot = try await fixture.runtime.organizations.createRole(name: "robot", description: nil,
                                                                         type: .machineToMachine)
        return Setup(token: token, organization: organization.id, member: member.id, robot: robot.id)
    }

    static func invite(_ browser: Browser, _ setup: Setup, _ invitee: String, expiresIn seconds: TimeInterval = 86_400,
                       now: Date = Date(), extra: [String: JSONValue] = [:]) async throws -> Reply
    {
        var body: [String: JSONValue] = [
            "invitee": .string(invitee), "organizationId": .string(setup.organization),
            "expiresAt": .int(now.addingTimeInterval(seconds).millisecondsSince1970),
            "organizationRoleIds": [.string(setup.member)],
        ]
        for (key, value) in extra { body[key] = value }
        return try await API.call(browser, .post, "/api/organization-invitations", token: setup.token, .object(body))
    }

    @Test(arguments: TestDatabase.available)
    func lifecycle(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let setup = try await Self.setUp(fixture, browser)
            let created = try await Self.invite(browser, setup, " Alice@Example.COM ")
            #expect(created.status == .created, "\(created.json)")
            let id = try #require(created.json["id"]?.stringValue)
            #expect(created.json["invitee"] == "alice@example.com")
            #expect(created.json["status"] == "Pending")
            #expect(created.json["organizationId"] == .string(setup.organization))
            #expect(created.json["organizationRoles"]?.arrayValue?.first?["name"] == "member")
            #expect(created.json["acceptedUserId"] == .null)

            // One pending invitation per address and organization, whatever the case.
            let again = try await Self.invite(browser, setup, "ALICE@example.com")
            #expect(again.status == .unprocessableContent)
            #expect(again.json["code"] == "organization_invitation.pending_exists")

            let list = try await API.call(browser, .get,
                                          "/api/organization-invitations?organizationId=\(setup.organization)&invitee=Alice@Example.com",
                                          token: setup.token)
            #expect(list.status == .ok)
            #expect(list.json.arrayValue?.map { $0["id"] } == [.string(id)])
            #expect(list.headers[HTTPField.Name("Total-Number")!] == "1")
            let none = try await API.call(browser, .get, "/api/organization-invitations?inviterId=nobody",
                                          token: setup.token)
            #expect(none.json.arrayValue?.isEmpty == true)

            // Accepting needs the invited address as the user's primary email.
            let bob = try await fixture.runtime.users.create(.init(username: "bob", email: "bob@example.com"))
            let mismatch = try await API.call(browser, .put, "/api/organization-invitations/\(id)/status",
                                              token: setup.token, ["status": "Accepted", "acceptedUserId": .string(bob.id)])
            #expect(mismatch.status == .unprocessableContent)
            #expect(mismatch.json["code"] == "organization_invitation.email_mismatch")
            let noUser = try await API.call(browser, .put, "/api/organization-invitations/\(id)/status",
                                            token: setup.token, ["status": "Accepted"])
            #expect(noUser.status == .unprocessableContent
                && noUser.json["code"] == "organization_invitation.accepted_user_required")
            let accepted = try await API.call(browser, .put, "/api/organization-invitations/\(id)/status",
                                              token: setup.token,
                                              ["status": "Accepted", "acceptedUserId": .string(fixture.user.id)])
            #expect(accepted.status == .ok, "\(accepted.json)")
            #expect(accepted.json["status"] == "Accepted")
            #expect(accepted.json["acceptedUserId"] == .string(fixture.user.id))
            let roles = try await fixture.runtime.organizations.roles(of: .account(fixture.user.id), in: setup.organization)
            #expect(roles.map(\.name) == ["member"])

            // A member is not invited again.
            let member = try await Self.invite(browser, setup, "ALICE@example.com")
            #expect(member.json["code"] == "organization_invitation.already_member")

            // End states do not change.
            for body: JSONValue in [["status": "Revoked"], ["status": "Accepted", "acceptedUserId": .string(fixture.user.id)]] {
                let ended = try await API.call(browser, .put, "/api/organization-invitations/\(id)/status",
                                               token: setup.token, body)
                #expect(ended.status == .unprocessableContent)
                #expect(ended.json["code"] == "organization_invitation.ended")
            }
            let resend = try await API.call(browser, .post, "/api/organization-invitations/\(id)/message",
                                            token: setup.token, [:])
            #expect(resend.json["code"] == "organization_invitation.ended")

            // Revoking a pending one, then deleting it.
            let other = try await Self.invite(browser, setup, "carol@example.com")
            let otherID = try #require(other.json["id"]?.stringValue)
            let revoked = try await API.call(browser, .put, "/api/organization-invitations/\(otherID)/status",
                                             token: setup.token, ["status": "Revoked"])
            #expect(revoked.json["status"] == "Revoked")
            #expect(try await API.call(browser, .delete, "/api/organization-invitations/\(otherID)",
                                       token: setup.token).status == .noContent)
            #expect(try await API.call(browser, .get, "/api/organization-invitations/\(otherID)",
                                       token: setup.token).status == .notFound)
            // A revoked invitation does not block a new one.
            #expect(try await Self.invite(browser, setup, "carol@example.com").status == .created)

            // Deleting the organization deletes its invitations.
            try await fixture.runtime.organizations.delete(id: setup.organization)
            #expect(try await API.call(browser, .get, "/api/organization-invitations/\(id)",
                                       token: setup.token).status == .notFound)
        }
    }

    @Test func expiryMarksInvitationsExpiredAndMakesWayForANewOne() async throws {
        let clock = MovableClock()
        try await Fixture.withServer(now: { clock.now }) { fixture, browser in
            var setup = try await Self.setUp(fixture, browser)
            let first = try await Self.invite(browser, setup, "dora@example.com", expiresIn: 3600, now: clock.now)
            let id = try #require(first.json["id"]?.stringValue)
            clock.advance(7200)
            // The Management API token has expired too.
            setup = Setup(token: try await API.token(fixture, browser), organization: setup.organization,
                          member: setup.member, robot: setup.robot)
            let read = try await API.call(browser, .get, "/api/organization-invitations/\(id)", token: setup.token)
            #expect(read.json["status"] == "Expired")
            let dora = try await fixture.runtime.users.create(.init(email: "dora@example.com"))
            let late = try await API.call(browser, .put, "/api/organization-invitations/\(id)/status",
                                          token: setup.token, ["status": "Accepted", "acceptedUserId": .string(dora.id)])
            #expect(late.json["code"] == "organization_invitation.ended")
            #expect(try await fixture.runtime.store.isMember(.account(dora.id), of: setup.organization) == false)
            let second = try await Self.invite(browser, setup, "dora@example.com", now: clock.now)
            #expect(second.status == .created, "\(second.json)")
            #expect(try await fixture.runtime.store.invitation(id: id)?.status == .expired)
            // The page says the same for an expired invitation as for any other ended one.
            #expect(try await browser.get("/invitation/\(id)").status == .gone)
        }
    }

    @Test func badInputIsRefusedWithoutWriting() async throws {
        try await Fixture.withServer { fixture, browser in
            let setup = try await Self.setUp(fixture, browser)
            let cases: [(String, [String: JSONValue], HTTPResponse.Status, String)] = [
                ("unknown organization", ["organizationId": "nope"], .notFound, "entity.not_exists"),
                ("unknown role", ["organizationRoleIds": ["nope"]], .notFound, "entity.not_exists"),
                ("machine role", ["organizationRoleIds": [.string(setup.robot)]], .unprocessableContent,
                 "organization.invalid_role_type"),
                ("past expiry", ["expiresAt": .int(Date().addingTimeInterval(-60).millisecondsSince1970)], .badRequest,
                 "guard.invalid_input"),
                ("far expiry", ["expiresAt": .int(Date().addingTimeInterval(200 * 86_400).millisecondsSince1970)],
                 .badRequest, "guard.invalid_input"),
                ("expiry as text", ["expiresAt": "tomorrow"], .badRequest, "guard.invalid_input"),
                ("bad address", ["invitee": "not-an-address"], .badRequest, "guard.invalid_input"),
                ("NUL in address", ["invitee": "a\u{0}b@example.com"], .badRequest, "guard.invalid_input"),
                ("unknown field", ["role": "member"], .badRequest, "guard.invalid_input"),
                ("unknown inviter", ["inviterId": "nobody"], .notFound, "entity.not_exists"),
                ("script link", ["messagePayload": ["link": "javascript:alert(1)"]], .badRequest, "guard.invalid_input"),
                ("payload not an object", ["messagePayload": "yes"], .badRequest, "guard.invalid_input"),
                ("control character in payload", ["messagePayload": ["note": "a\u{7}b"]], .badRequest,
                 "guard.invalid_input"),
            ]
            for (name, extra, status, code) in cases {
                let response = try await Self.invite(browser, setup, "erin@example.com", extra: extra)
                #expect(response.status == status, "\(name): \(response.json)")
                #expect(response.json["code"] == .string(code), "\(name): \(response.json)")
            }
            let listed = try await fixture.runtime.store.invitations(organizationID: nil, inviterID: nil, invitee: nil,
                                                                    offset: 0, limit: 10)
            #expect(listed.total == 0)
            for (method, path, body) in [
                (HTTPRequest.Method.get, "/api/organization-invitations/nope", nil as JSONValue?),
                (.delete, "/api/organization-invitations/nope", nil),
                (.put, "/api/organization-invitations/nope/status", ["status": "Revoked"] as JSONValue),
                (.post, "/api/organization-invitations/nope/message", [:] as JSONValue),
            ] {
                #expect(try await API.call(browser, method, path, token: setup.token, body).status == .notFound, "\(path)")
            }
            let created = try await Self.invite(browser, setup, "erin@example.com")
            let id = try #require(created.json["id"]?.stringValue)
            let status = try await API.call(browser, .put, "/api/organization-invitations/\(id)/status",
                                            token: setup.token, ["status": "Pending"])
            #expect(status.status == .badRequest)
            #expect(try await API.call(browser, .get, "/api/organization-invitations?page=0",
                                       token: setup.token).status == .badRequest)
        }
    }

    /// The message goes through the email connector (the development console here) with Sesame's own link, and
    /// resending is limited.
    @Test func messagesCarryTheHostedLinkAndAreLimited() async throws {
        // A fixed clock: the resend limit counts in clock minutes, which a slow run could otherwise cross.
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            let setup = try await Self.setUp(fixture, browser)
            let created = try await Self.invite(browser, setup, "frank@example.com", now: Fixture.midWindow(),
                                                extra: ["messagePayload": ["locale": "en"]])
            #expect(created.status == .created, "\(created.json)")
            let id = try #require(created.json["id"]?.stringValue)
            let mailbox = try await browser.get("/dev/mailbox").json.arrayValue ?? []
            let message = try #require(mailbox.last)
            #expect(message["to"] == "frank@example.com")
            #expect(message["usageType"] == "OrganizationInvitation")
            #expect(message["link"] == .string("http://localhost:3001/invitation/\(id)"))
            #expect(message["code"] == nil)
            // Sent a moment ago: a resend within the minute is refused.
            let resend = try await API.call(browser, .post, "/api/organization-invitations/\(id)/message",
                                            token: setup.token, ["link": .string("https://app.example.com/join?id=\(id)")])
            #expect(resend.status == .tooManyRequests)
            // `messagePayload: false` sends nothing.
            let quiet = try await Self.invite(browser, setup, "gina@example.com", now: Fixture.midWindow(),
                                              extra: ["messagePayload": false])
            #expect(quiet.status == .created)
            #expect((try await browser.get("/dev/mailbox").json.arrayValue ?? []).count == mailbox.count)
        }
    }

    /// The hosted page: sign in with the invited address from the page, come back, accept; another account is
    /// refused; the end states read as no longer valid.
    @Test func theHostedPageSignsInAndAccepts() async throws {
        try await Fixture.withServer { fixture, browser in
            let setup = try await Self.setUp(fixture, browser)
            let created = try await Self.invite(browser, setup, "alice@example.com")
            let id = try #require(created.json["id"]?.stringValue)

            let page = try await browser.get("/invitation/\(id)")
            #expect(page.status == .ok)
            // The organization's name is escaped on the page.
            #expect(page.text.contains("Acme &lt;Rockets&gt; &amp; Co"))
            #expect(page.text.contains("/invitation/\(id)/continue?to=sign-in"))
            #expect(!page.text.contains("/invitation/\(id)/accept"))

            let onward = try await browser.get("/invitation/\(id)/continue?to=sign-in")
            #expect(onward.status == .seeOther || onward.status == .found)
            #expect(onward.location == "/sign-in?login_hint=alice@example.com")
            #expect(browser.cookies["_sesame_return"] == "/invitation/\(id)")
            let form = try await browser.get(try #require(onward.location))
            #expect(form.text.contains("value=\"alice@example.com\""))
            let signedIn = try await browser.post("/sign-in", form: [
                ("csrf_token", try #require(form.csrfToken)), ("identifier", "alice@example.com"),
                ("password", Fixture.password),
            ])
            #expect(signedIn.location == "/invitation/\(id)")
            #expect(browser.cookies["_sesame_return"] == nil)

            let ready = try await browser.get("/invitation/\(id)")
            #expect(ready.text.contains("/invitation/\(id)/accept"))
            // The form is CSRF-bound.
            #expect(try await browser.post("/invitation/\(id)/accept", form: [("csrf_token", "forged")]).status == .forbidden)
            let accepted = try await browser.post("/invitation/\(id)/accept",
                                                   form: [("csrf_token", try #require(ready.csrfToken))])
            #expect(accepted.status == .ok)
            #expect(accepted.text.contains("You joined Acme &lt;Rockets&gt; &amp; Co"))
            #expect(try await fixture.runtime.organizations.roles(of: .account(fixture.user.id), in: setup.organization)
                .map(\.name) == ["member"])
            let after = try await browser.get("/invitation/\(id)")
            #expect(after.status == .gone)
            #expect(after.text.contains("no longer valid"))
            #expect(try await browser.get("/invitation/unknown").status == .notFound)
            #expect(try await browser.get("/invitation/..%2Fconsole/continue?to=sign-in").status == .notFound)

            // Signed in as alice, an invitation for someone else cannot be accepted.
            let other = try await Self.invite(browser, setup, "henry@example.com")
            let otherID = try #require(other.json["id"]?.stringValue)
            let otherPage = try await browser.get("/invitation/\(otherID)")
            #expect(otherPage.text.contains("signed in as alice@example.com"))
            #expect(!otherPage.text.contains("/invitation/\(otherID)/accept"))
            let refused = try await browser.post("/invitation/\(otherID)/accept",
                                                 form: [("csrf_token", try #require(ready.csrfToken))])
            #expect(refused.status == .forbidden)
            #expect(try await fixture.runtime.store.invitation(id: otherID)?.status == .pending)
        }
    }

    /// Two accepts racing for one invitation: one wins, the other is told it has ended; the member gets the roles
    /// once.
    @Test(arguments: TestDatabase.available)
    func racingAcceptsAcceptOnce(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let setup = try await Self.setUp(fixture, browser)
            let created = try await Self.invite(browser, setup, "alice@example.com")
            let id = try #require(created.json["id"]?.stringValue)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await browser.onOwnConnection {
                            try await API.call($0, .put, "/api/organization-invitations/\(id)/status", token: setup.token,
                                               ["status": "Accepted", "acceptedUserId": .string(fixture.user.id)]).status.code
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.sorted() == [200, 422, 422, 422])
            #expect(try await fixture.runtime.organizations.roles(of: .account(fixture.user.id), in: setup.organization)
                .map(\.name) == ["member"])
        }
    }

    /// The invitation page and the sign-in page of an authorization request with Logto's `organization_id` take
    /// the organization's logo and colour; an unknown organization leaves the sign-in experience's own.
    @Test func pagesTakeTheOrganizationsLook() async throws {
        try await Fixture.withServer { fixture, browser in
            let setup = try await Self.setUp(fixture, browser)
            _ = try await fixture.runtime.organizations.update(id: setup.organization, .init(
                branding: ["logoUrl": "https://acme.test/logo.png"], color: .some("#123ABC")))
            let created = try await Self.invite(browser, setup, "ivy@example.com")
            let invitation = try await browser.get("/invitation/\(try #require(created.json["id"]?.stringValue))")
            #expect(invitation.text.contains(#"<img class="logo" src="https://acme.test/logo.png""#))
            #expect(invitation.text.contains("--accent: #123ABC"))
            for (organization, branded) in [(setup.organization, true), ("unknown", false)] {
                let visitor = Browser(client: browser.client)
                let query: [(String, String)] = [
                    ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback),
                    ("response_type", "code"), ("scope", "openid"), ("organization_id", organization),
                    ("code_challenge", PKCE.challenge(for: SecureRandom.token(bytes: 48))),
                    ("code_challenge_method", "S256"),
                ]
                let start = try await visitor.get("/oidc/auth?" + RequestParameters.encode(query))
                let page = try await visitor.get(try #require(start.location))
                #expect(page.status == .ok)
                #expect(page.text.contains("https://acme.test/logo.png") == branded, "\(organization)")
                #expect(page.text.contains("--accent: #123ABC") == branded, "\(organization)")
            }
        }
    }
}
