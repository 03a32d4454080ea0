import Foundation
import SesameIdentity
import SesameOIDC
import SesameStorage
import Testing

/// Organizations in SQL on both databases: typed memberships the database enforces, cascades from every side,
/// and the one-query organization grant behind organization tokens.
@Suite("Organization store")
struct OrganizationStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: Backend.available)
    func membershipsRolesAndGrantsCascade(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertResource(APIResource(id: "books", name: "Books", indicator: "https://api.books.test",
                                                       scopes: [ResourceScope(id: "read", name: "read:books")],
                                                       createdAt: now))
            try await store.insertUser(User(id: "u1", username: "alice", createdAt: now, updatedAt: now))
            try await store.insertClient(Client(id: "m2m", name: "Bot", type: .machineToMachine, secretHash: "x",
                                                redirectURIs: [], postLogoutRedirectURIs: [], createdAt: now))
            try await store.insertClient(Client(id: "web", name: "Web", type: .traditional, secretHash: "x",
                                                redirectURIs: ["https://a.test/cb"], postLogoutRedirectURIs: [],
                                                createdAt: now))
            let acme = Organization(id: "acme", name: "Acme", description: "Rockets", customData: ["plan": "pro"],
                                    branding: ["logoUrl": "https://acme.test/logo.png"], color: "#0A7D42",
                                    createdAt: now)
            try await store.insertOrganization(acme)
            #expect(try await store.organization(id: "acme") == acme)
            try await store.insertOrganization(Organization(id: "vault", name: "Vault", isMfaRequired: true,
                                                            createdAt: now.addingTimeInterval(1)))
            try await store.insertOrganizationScope(OrganizationScope(id: "invite", name: "invite:member", createdAt: now))
            await #expect(throws: IdentityError.self) {
                try await store.insertOrganizationScope(OrganizationScope(id: "x", name: "invite:member", createdAt: now))
            }
            try await store.insertOrganizationRole(OrganizationRole(id: "admin", name: "admin", createdAt: now),
                                                   scopeIDs: ["invite"], resourceScopeIDs: ["read"])
            try await store.insertOrganizationRole(OrganizationRole(id: "bot", name: "bot", type: .machineToMachine,
                                                                    createdAt: now), scopeIDs: ["invite"],
                                                   resourceScopeIDs: [])
            // Not a member: no grant. A member without roles: a grant without scopes.
            #expect(try await store.organizationGrant(of: .account("u1"), organizationID: "acme", resourceID: nil) == nil)
            try await store.addMembers([.account("u1"), .client("m2m")], to: "acme", replacing: nil, roleIDs: [])
            try await store.addMembers([.account("u1")], to: "vault", replacing: nil, roleIDs: [])
            #expect(try await store.organizationGrant(of: .account("u1"), organizationID: "acme", resourceID: nil)
                == OrganizationGrant(scopes: [], requiresMFA: false))
            try await store.assignOrganizationRoles(["admin"], to: [.account("u1")], in: "acme", replacing: false)
            try await store.assignOrganizationRoles(["bot"], to: [.client("m2m")], in: "acme", replacing: false)
            #expect(try await store.organizationGrant(of: .account("u1"), organizationID: "acme", resourceID: nil)
                == OrganizationGrant(scopes: ["invite:member"], requiresMFA: false))
            #expect(try await store.organizationGrant(of: .account("u1"), organizationID: "acme", resourceID: "books")
                == OrganizationGrant(scopes: ["read:books"], requiresMFA: false))
            #expect(try await store.organizationGrant(of: .account("u1"), organizationID: "vault", resourceID: nil)
                == OrganizationGrant(scopes: [], requiresMFA: true))
            #expect(try await store.organizationGrant(of: .client("m2m"), organizationID: "acme", resourceID: nil)?
                .scopes == ["invite:member"])
            #expect(try await store.organizations(of: .account("u1")).map { [$0.organization.id] + $0.roles.map(\.name) }
                == [["acme", "admin"], ["vault"]])
            let members = try await store.memberUsers(of: "acme", search: "ali", roleID: "admin", offset: 0, limit: 10)
            #expect(members.total == 1 && members.members.first?.roles.map(\.id) == ["admin"])
            // The database refuses a wrong role type and a web app as a member, whoever writes.
            for sql in ["INSERT INTO organization_user_roles (organization_id, user_id, role_id) VALUES ('acme', 'u1', 'bot')",
                        "INSERT INTO organization_applications (organization_id, application_id) VALUES ('acme', 'web')",
                        "INSERT INTO organization_user_roles (organization_id, user_id, role_id) VALUES ('vault', 'm2m', 'admin')"] {
                await #expect(throws: (any Error).self) { try await store.database.query(sql) }
            }
            // Removing a member removes its roles there; a scope deleted leaves every role.
            #expect(try await store.removeMember(.account("u1"), from: "acme"))
            #expect(try await store.organizationRoles(of: .account("u1"), in: "acme").isEmpty)
            try await store.addMembers([.account("u1")], to: "acme", replacing: nil, roleIDs: [])
            #expect(try await store.organizationRoles(of: .account("u1"), in: "acme").isEmpty)
            try await store.deleteOrganizationScope(id: "invite")
            #expect(try await store.organizationScopes(ofRole: "admin").isEmpty)
            try await store.deleteResource(id: "books")
            #expect(try await store.resourcePermissions(ofOrganizationRole: "admin").isEmpty)
            // A membership can come with its roles, in the same write.
            try await store.addMembers([.account("u1")], to: "vault", replacing: nil, roleIDs: ["admin"])
            #expect(try await store.organizationRoles(of: .account("u1"), in: "vault").map(\.id) == ["admin"])
            // Replacing the user members keeps the apps.
            try await store.addMembers([], to: "acme", replacing: .users, roleIDs: [])
            #expect(try await store.isMember(.client("m2m"), of: "acme"))
            #expect(try await store.isMember(.account("u1"), of: "acme") == false)
            // Deleting an organization, a user or an app takes every relation with it.
            try await store.deleteOrganization(id: "acme")
            try await store.deleteUser(id: "u1")
            try await store.deleteOrganizationRole(id: "bot")
            for table in ["organization_users", "organization_user_roles", "organization_applications",
                          "organization_application_roles", "organization_role_scopes",
                          "organization_role_resource_scopes"] {
                #expect(try await store.database.query("SELECT COUNT(*) AS n FROM \(table)").first?.int("n") == 0,
                        "\(table)")
            }
        }
    }

    /// Invitations: one pending per address and organization (an expired one makes way), conditional accept and
    /// revoke, acceptance adding the membership and the invited roles in one transaction, and cascades from the
    /// organization and the role; the inviter and the accepting user are kept as history when deleted.
    @Test(arguments: Backend.available)
    func invitationsAcceptOnceAndCascade(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertUser(User(id: "u1", username: "alice", primaryEmail: "alice@example.com",
                                            createdAt: now, updatedAt: now))
            try await store.insertUser(User(id: "boss", username: "boss", createdAt: now, updatedAt: now))
            try await store.insertOrganization(Organization(id: "acme", name: "Acme", createdAt: now))
            try await store.insertOrganizationRole(OrganizationRole(id: "member", name: "member", createdAt: now),
                                                   scopeIDs: [], resourceScopeIDs: [])
            try await store.insertOrganizationRole(OrganizationRole(id: "bot", name: "bot", type: .machineToMachine,
                                                                    createdAt: now), scopeIDs: [], resourceScopeIDs: [])
            func invitation(_ id: String, _ invitee: String, expiresIn seconds: TimeInterval = 3600) -> OrganizationInvitation {
                OrganizationInvitation(id: id, inviterID: "boss", invitee: invitee, organizationID: "acme",
                                       createdAt: now, updatedAt: now, expiresAt: now.addingTimeInterval(seconds))
            }
            try await store.insertInvitation(invitation("i1", "alice@example.com"), roleIDs: ["member"], now: now)
            await #expect(throws: IdentityError.self) {
                try await store.insertInvitation(invitation("i2", "alice@example.com"), roleIDs: [], now: now)
            }
            // The database refuses a machine-to-machine role on an invitation.
            await #expect(throws: (any Error).self) {
                try await store.insertInvitation(invitation("i3", "bob@example.com"), roleIDs: ["bot"], now: now)
            }
            #expect(try await store.invitation(id: "i3") == nil)
            #expect(try await store.invitation(id: "i1")?.roles.map(\.name) == ["member"])

            // Racing accepts: exactly one wins; the member gets the role once.
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<3 { group.addTask { try await store.acceptInvitation(id: "i1", userID: "u1", at: self.now) } }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(wins == 1)
            #expect(try await store.organizationRoles(of: .account("u1"), in: "acme").map(\.id) == ["member"])
            #expect(try await store.revokeInvitation(id: "i1", at: now) == false)
            #expect(try await store.invitation(id: "i1")?.status == .accepted)

            // An expired pending invitation makes way for a new one, and cannot be accepted or revoked.
            try await store.insertInvitation(invitation("e1", "carol@example.com", expiresIn: 60), roleIDs: [], now: now)
            let later = now.addingTimeInterval(120)
            #expect(try await store.acceptInvitation(id: "e1", userID: "u1", at: later) == false)
            #expect(try await store.revokeInvitation(id: "e1", at: later) == false)
            try await store.insertInvitation(invitation("e2", "carol@example.com"), roleIDs: [], now: later)
            #expect(try await store.invitation(id: "e1")?.status == .expired)
            #expect(try await store.revokeInvitation(id: "e2", at: later) == true)
            let listed = try await store.invitations(organizationID: "acme", inviterID: "boss",
                                                     invitee: " CAROL@example.com", offset: 0, limit: 10)
            #expect(listed.total == 2 && Set(listed.invitations.map(\.id)) == ["e1", "e2"])

            // History survives its users; the role and the organization cascade.
            try await store.insertInvitation(invitation("p1", "dave@example.com"), roleIDs: ["member"], now: now)
            try await store.deleteUser(id: "boss")
            #expect(try await store.invitation(id: "p1")?.inviterID == nil)
            try await store.deleteOrganizationRole(id: "member")
            #expect(try await store.invitation(id: "p1")?.roles.isEmpty == true)
            try await store.deleteUser(id: "u1")
            #expect(try await store.invitation(id: "i1")?.acceptedUserID == nil)
            try await store.deleteOrganization(id: "acme")
            #expect(try await store.invitations(organizationID: nil, inviterID: nil, invitee: nil, offset: 0, limit: 10)
                .total == 0)
            #expect(try await store.deleteInvitation(id: "p1") == false)
        }
    }

    /// Consents to organizations (third-party apps) live only as long as the membership and the application;
    /// `saveConsent` adds only memberships, in the same transaction as the scopes.
    @Test(arguments: Backend.available)
    func organizationConsentsFollowMembershipsAndApplications(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertUser(User(id: "u1", username: "alice", createdAt: now, updatedAt: now))
            for id in ["partner", "other"] {
                try await store.insertClient(Client(id: id, name: id, type: .traditional, secretHash: "x",
                                                    redirectURIs: ["https://a.test/cb"], postLogoutRedirectURIs: [],
                                                    isThirdParty: true, createdAt: now))
            }
            for id in ["acme", "globex", "initech"] {
                try await store.insertOrganization(Organization(id: id, name: id, createdAt: now))
            }
            try await store.addMembers([.account("u1")], to: "acme", replacing: nil, roleIDs: [])
            try await store.addMembers([.account("u1")], to: "globex", replacing: nil, roleIDs: [])
            try await store.saveConsent(accountID: "u1", clientID: "partner", scopes: ["openid"],
                                        organizationIDs: ["acme", "initech", "acme"], now: now)
            #expect(try await store.consentedOrganizationIDs(accountID: "u1", clientID: "partner") == ["acme"])
            #expect(try await store.consentedScopes(accountID: "u1", clientID: "partner") == ["openid"])
            try await store.setConsentedOrganizations(["globex"], applicationID: "partner", userID: "u1", replacing: false)
            try await store.setConsentedOrganizations(["acme"], applicationID: "other", userID: "u1", replacing: true)
            #expect(try await store.consentedOrganizations(applicationID: "partner", userID: "u1").map(\.id)
                == ["acme", "globex"])
            // The database itself refuses a consent without the membership.
            await #expect(throws: (any Error).self) {
                try await store.setConsentedOrganizations(["initech"], applicationID: "partner", userID: "u1",
                                                          replacing: false)
            }
            _ = try await store.removeMember(.account("u1"), from: "acme")
            #expect(try await store.consentedOrganizationIDs(accountID: "u1", clientID: "partner") == ["globex"])
            #expect(try await store.consentedOrganizationIDs(accountID: "u1", clientID: "other").isEmpty)
            try await store.deleteClient(id: "partner")
            #expect(try await store.consentedOrganizations(applicationID: "partner", userID: "u1").isEmpty)
            #expect(try await store.removeConsentedOrganization("globex", applicationID: "partner", userID: "u1") == false)
        }
    }
}
