import ArgumentParser
import Foundation
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage

/// `sesame org ...`: organizations and their members, the same rules as `/api/organizations`.
struct OrganizationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Manage organizations (tenants of a multi-tenant app) and their members.",
        subcommands: [Create.self, List.self, AddMember.self, Invite.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an organization.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Name, 1 to 128 characters.") var name: String
        @Option(help: "Description.") var description: String?
        @Option(name: .customLong("jit-domain"),
                help: "Email domain whose new users join just in time (repeatable), e.g. acme.com.")
        var domains: [String] = []
        @Flag(help: "Members need a second factor for organization tokens.") var mfaRequired = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                let organization = try await runtime.organizations.create(.init(
                    name: name, description: .some(description), isMfaRequired: mfaRequired))
                if !domains.isEmpty {
                    _ = try await runtime.organizations.setJustInTimeDomains(domains, of: organization.id,
                                                                             replacing: false)
                }
                report(json, ["id": .string(organization.id), "name": .string(organization.name)],
                       "Created organization \"\(organization.name)\" (\(organization.id))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List organizations with their member counts.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only those whose name or description contains this.") var search: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                var listings: [OrganizationListing] = []
                while true {
                    let page = try await runtime.store.organizations(search: search, offset: listings.count, limit: 100)
                    listings += page.organizations
                    if page.organizations.count < 100 { break }
                }
                if json {
                    Console.json(.array(listings.map { listing in
                        ["id": .string(listing.organization.id), "name": .string(listing.organization.name),
                         "usersCount": .int(Int64(listing.usersCount))]
                    }))
                } else if listings.isEmpty {
                    print("no organizations")
                } else {
                    for listing in listings {
                        print("\(listing.organization.id)  \(listing.organization.name)  members: \(listing.usersCount)")
                    }
                }
            }
        }
    }

    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-member", abstract: "Add a user or an m2m app to an organization, with organization roles.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The organization's id.") var organization: String
        @Option(help: "A user's id, email, username or phone.") var user: String?
        @Option(help: "A machine-to-machine application's id.") var app: String?
        @Option(name: .customLong("role"), help: "An organization role's name (repeatable).") var roles: [String] = []
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard (user == nil) != (app == nil) else { throw fail("give exactly one of --user and --app") }
        }

        func run() async throws {
            try await withRuntime(options) { runtime in
                let member: PermissionSubject
                if let app {
                    member = .client(app)
                } else {
                    let identifier = user ?? ""
                    var found = try await runtime.store.user(id: identifier)
                    if found == nil { found = try await runtime.store.user(identifier: identifier) }
                    guard let found else { throw fail("no user has the id or identifier '\(identifier)'") }
                    member = .account(found.id)
                }
                // The membership and its roles in one transaction; an unknown role name writes nothing.
                try await runtime.organizations.addMembers([member], to: organization, roleNames: roles)
                report(json, ["organizationId": .string(organization), "roles": .array(roles.map { .string($0) })],
                       "Added \(member.label) to \(organization)" + (roles.isEmpty ? "" : " as " + roles.joined(separator: ", ")))
            }
        }
    }

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invite an email address to an organization and send the invitation with the email connector.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The organization's id.") var organization: String
        @Argument(help: "The invited email address.") var email: String
        @Option(name: .customLong("role"), help: "An organization role's name given on accepting (repeatable).")
        var roles: [String] = []
        @Option(help: "Days until the invitation expires, 1 to 90.") var days = 7
        @Option(help: "The link in the email (default: Sesame's own page, ENDPOINT/invitation/ID).") var link: String?
        @Flag(help: "Create the invitation without sending an email (print the link to pass on yourself).")
        var noEmail = false
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard (1...90).contains(days) else { throw fail("--days must be 1 to 90") }
            if let link, !SesameRuntime.InvitationMessage.isValidLink(link) {
                throw fail("--link must be an http or https URL of at most 2048 characters")
            }
        }

        func run() async throws {
            try await withRuntime(options) { runtime in
                let roleIDs = try await Self.roleIDs(roles, runtime)
                let invitation = try await runtime.invite(
                    organizationID: organization, invitee: email, inviterID: nil,
                    expiresAt: runtime.provider.now().addingTimeInterval(TimeInterval(days) * 86_400), roleIDs: roleIDs,
                    message: noEmail ? nil : .init(link: link))
                let url = link ?? runtime.invitationLink(id: invitation.id)
                report(json, ["id": .string(invitation.id), "organizationId": .string(organization),
                              "invitee": .string(invitation.invitee), "link": .string(url), "sent": .bool(!noEmail),
                              "expiresAt": .int(invitation.expiresAt.millisecondsSince1970)],
                       (noEmail ? "Created" : "Sent") + " invitation \(invitation.id) for \(invitation.invitee): \(url)")
            }
        }

        /// The ids of the named organization roles; throws for a name no role has.
        static func roleIDs(_ names: [String], _ runtime: SesameRuntime) async throws -> [String] {
            let found = try await runtime.store.organizationRoles(names: names)
            let unknown = names.filter { name in !found.contains { $0.name == name } }
            guard unknown.isEmpty else { throw fail("no organization role is named: " + unknown.joined(separator: ", ")) }
            return found.map(\.id)
        }
    }
}
