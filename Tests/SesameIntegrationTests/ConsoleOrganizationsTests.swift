import Foundation
import HTTPTypes
import HummingbirdTesting
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Testing

/// The Console's Organizations section and Organization template over real HTTP: every tab's changes land in the
/// store through the same rules as the Management API, refusals read inside the Console, and each change is in the
/// audit log.
@Suite("Console organizations")
struct ConsoleOrganizationsTests {
    typealias Console = ConsoleTests

    @Test func organizationsAreRunFromTheConsole() async throws {
        // A fixed clock: the resend limit counts in clock minutes, which a slow run could otherwise cross.
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            try await Console.signIn(fixture, browser)
            let runtime = fixture.runtime
            let books = try #require(try await runtime.store.resource(indicator: Fixture.resource))
            let read = try #require(books.scopes.first { $0.name == "read:books" }?.id)

            // The template: a permission, then a user role holding it and an API permission; a robot role.
            let template = "/console/organization-template"
            #expect(try await Console.submit(browser, page: template, to: template + "/scopes",
                                             [("name", "invite:member"), ("description", "Invite people")])
                .location == template + "?notice=created")
            let invite = try #require(try await runtime.store.organizationScopes(search: nil, offset: 0, limit: 10)
                .scopes.first?.id)
            #expect(try await Console.submit(browser, page: template, to: template + "/roles", [
                ("name", "admin"), ("description", ""), ("type", "User"), ("organizationScope", invite), ("scope", read),
            ]).status == .seeOther)
            _ = try await Console.submit(browser, page: template, to: template + "/roles",
                                         [("name", "robot"), ("type", "MachineToMachine")])
            let duplicate = try await Console.submit(browser, page: template, to: template + "/roles",
                                                     [("name", "ADMIN"), ("type", "User")])
            #expect(duplicate.status.code == 422 || duplicate.status == .badRequest)
            #expect(duplicate.text.contains("already exists"))
            let roles = try await runtime.store.organizationRoles(search: nil, offset: 0, limit: 10).roles
            let admin = try #require(roles.first { $0.name == "admin" })
            let robot = try #require(roles.first { $0.name == "robot" })
            let templatePage = try await browser.get(template)
            #expect(templatePage.text.contains("invite:member, read:books"))

            // Create an organization; the list shows it with its member count and finds it by search.
            let created = try await Console.submit(browser, page: "/console/organizations", to: "/console/organizations",
                                                   [("name", "Acme <Rockets>"), ("description", "Rockets")])
            let path = String(try #require(created.location?.split(separator: "?").first))
            let id = String(path.split(separator: "/").last ?? "")
            #expect(try await runtime.organizations.organization(id: id).name == "Acme <Rockets>")
            let found = try await browser.get("/console/organizations?q=rock")
            #expect(found.text.contains("Acme &lt;Rockets&gt;") && found.text.contains("0 members"))
            #expect(!(try await browser.get("/console/organizations?q=globex").text.contains("Acme &lt;Rockets&gt;")))
            let empty = try await Console.submit(browser, page: "/console/organizations", to: "/console/organizations",
                                                 [("name", "")])
            #expect(empty.status == .badRequest)

            // Members: add Alice by email with the admin role; the robot role is not offered to users.
            let members = try await browser.get(path)
            #expect(members.text.contains(#"aria-current="page">Members"#))
            #expect(!members.text.contains(#"value="\#(robot.id)""#))
            #expect(try await Console.submit(browser, page: path, to: path + "/members",
                                             [("user", "alice@example.com"), ("role", admin.id)])
                .location == path + "?tab=members&notice=assigned")
            #expect(try await runtime.organizations.roles(of: .account(fixture.user.id), in: id).map(\.name) == ["admin"])
            let unknown = try await Console.submit(browser, page: path, to: path + "/members", [("user", "nobody")])
            #expect(unknown.status == .notFound)
            #expect(unknown.text.contains(#"aria-current="page">Members"#))
            let wrongType = try await Console.submit(browser, page: path, to: path + "/members/\(fixture.user.id)/roles",
                                                     [("role", robot.id)])
            #expect(wrongType.status.code == 422)
            _ = try await Console.submit(browser, page: path, to: path + "/members/\(fixture.user.id)/roles/\(admin.id)/delete", [])
            #expect(try await runtime.organizations.roles(of: .account(fixture.user.id), in: id).isEmpty)

            // Machine-to-machine apps: the Indexer joins with the robot role.
            let apps = path + "?tab=applications"
            #expect(try await browser.get(apps).text.contains(#"value="\#(fixture.machine.client.id)""#))
            _ = try await Console.submit(browser, page: apps, to: path + "/applications",
                                         [("application", fixture.machine.client.id), ("role", robot.id)])
            #expect(try await runtime.organizations.roles(of: .client(fixture.machine.client.id), in: id).map(\.name)
                == ["robot"])

            // Invitations: sent through the email connector (the development mailbox), resent too soon, revoked.
            let invitations = path + "?tab=invitations"
            let sent = try await Console.submit(browser, page: invitations, to: path + "/invitations",
                                                [("email", "Bo@Example.com"), ("role", admin.id), ("days", "7")])
            #expect(sent.location == path + "?tab=invitations&notice=invited")
            let mail = try #require(try await browser.get("/dev/mailbox").json.arrayValue?.last)
            #expect(mail["to"] == "bo@example.com" && mail["usageType"] == "OrganizationInvitation")
            let invitation = try #require(try await runtime.store.invitations(organizationID: id, inviterID: nil,
                                                                             invitee: nil, offset: 0, limit: 10)
                .invitations.first)
            #expect(invitation.roles.map(\.name) == ["admin"])
            #expect(try await browser.get(invitations).text.contains("Pending"))
            let tooSoon = try await Console.submit(browser, page: invitations,
                                                   to: path + "/invitations/\(invitation.id)/resend", [])
            #expect(tooSoon.status == .tooManyRequests)
            let badDays = try await Console.submit(browser, page: invitations, to: path + "/invitations",
                                                   [("email", "cy@example.com"), ("days", "365")])
            #expect(badDays.status == .badRequest)
            _ = try await Console.submit(browser, page: invitations, to: path + "/invitations/\(invitation.id)/revoke", [])
            #expect(try await runtime.store.invitation(id: invitation.id)?.status == .revoked)
            #expect(try await browser.get(invitations).text.contains("Revoked"))

            // Just-in-time: a domain and a default role.
            let jit = path + "?tab=jit"
            _ = try await Console.submit(browser, page: jit, to: path + "/jit/domains", [("domain", "Acme.test")])
            _ = try await Console.submit(browser, page: jit, to: path + "/jit/roles", [("role", admin.id)])
            #expect(try await runtime.store.justInTimeEmailDomains(of: id) == ["acme.test"])
            #expect(try await runtime.store.justInTimeRoles(of: id).map(\.name) == ["admin"])
            let badDomain = try await Console.submit(browser, page: jit, to: path + "/jit/domains", [("domain", "*.com")])
            #expect(badDomain.status == .badRequest)
            _ = try await Console.submit(browser, page: jit, to: path + "/jit/domains/acme.test/delete", [])
            #expect(try await runtime.store.justInTimeEmailDomains(of: id).isEmpty)

            // Settings: MFA, logo and colour; a bad colour is refused with the reason.
            let settings = path + "?tab=settings"
            _ = try await Console.submit(browser, page: settings, to: path, [
                ("name", "Acme"), ("description", ""), ("isMfaRequired", "1"),
                ("logoUrl", "https://acme.test/logo.png"), ("color", "#0A7D42"),
            ])
            let saved = try await runtime.organizations.organization(id: id)
            #expect(saved.name == "Acme" && saved.isMfaRequired && saved.color == "#0A7D42" && saved.description == nil)
            #expect(saved.branding["logoUrl"] == "https://acme.test/logo.png")
            let badColor = try await Console.submit(browser, page: settings, to: path,
                                                    [("name", "Acme"), ("color", "green")])
            #expect(badColor.status == .badRequest && badColor.text.contains("#0A7D42"))

            // Every change is in the audit log; deleting the organization takes its invitations with it.
            await runtime.audit.flush()
            let changes = try await runtime.store.auditEvents(AuditQuery(key: "Admin.Change", limit: 100)).events
            #expect(changes.contains { $0.payload["path"] == .string(path + "/invitations") })
            _ = try await Console.submit(browser, page: settings, to: path + "/delete", [])
            #expect(try await runtime.store.organization(id: id) == nil)
            #expect(try await runtime.store.invitation(id: invitation.id) == nil)
            #expect(try await browser.get(path).status == .notFound)
        }
    }
}
