import Foundation
import HTTPTypes
import HummingbirdTesting
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Testing

/// The Console's Roles section and the Roles tabs of users and machine-to-machine apps, over real HTTP.
@Suite("Console roles")
struct ConsoleRolesTests {
    typealias Console = ConsoleTests

    @Test func rolesAreCreatedWithPermissionsAssignedAndRemoved() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Console.signIn(fixture, browser)
            let runtime = fixture.runtime
            let books = try #require(try await runtime.store.resource(indicator: Fixture.resource))
            let read = try #require(books.scopes.first { $0.name == "read:books" }?.id)
            let write = try #require(books.scopes.first { $0.name == "write:books" }?.id)
            let list = try await browser.get("/console/roles")
            #expect(list.status == .ok)
            #expect(list.text.contains("bookworm") && list.text.contains(#"value="\#(read)""#))
            // A user role cannot take the Management API's permission; the form keeps what was typed.
            let management = try #require(try await runtime.store.resource(indicator: ManagementAPITests.managementResource))
            let refused = try await Console.submit(browser, page: "/console/roles", to: "/console/roles", [
                ("name", "admins"), ("description", "Everything"), ("type", "User"),
                ("scope", try #require(management.scopes.first?.id)), ("scope", read),
            ])
            #expect(refused.status == .badRequest)
            #expect(refused.text.contains("machine-to-machine roles"))
            #expect(refused.text.contains(#"value="admins""#))
            // Create with two permissions.
            let created = try await Console.submit(browser, page: "/console/roles", to: "/console/roles", [
                ("name", "librarian"), ("description", "Reads and writes"), ("type", "User"), ("scope", read),
                ("scope", write),
            ])
            #expect(created.status == .seeOther)
            let path = String(try #require(created.location?.split(separator: "?").first))
            let roleID = String(path.split(separator: "/").last ?? "")
            #expect(try await runtime.roles.permissions(ofRole: roleID).map(\.scope.name) == ["read:books", "write:books"])
            let page = try await browser.get(path)
            #expect(page.text.contains(#"aria-current="page">Permissions"#))
            // Assign to Alice by email from the role's Users tab; an unknown user is a readable error.
            let unknown = try await Console.submit(browser, page: path + "?tab=users", to: path + "/users",
                                                   [("user", "nobody@example.com")])
            #expect(unknown.status == .notFound || unknown.status == .badRequest)
            let assigned = try await Console.submit(browser, page: path + "?tab=users", to: path + "/users",
                                                    [("user", "alice@example.com")])
            #expect(assigned.location == path + "?tab=users&notice=assigned")
            #expect(try await browser.get(path + "?tab=users").text.contains("Alice Liddell"))
            let again = try await Console.submit(browser, page: path + "?tab=users", to: path + "/users",
                                                 [("user", "alice")])
            #expect(again.status.code == 422 || again.status == .badRequest)
            // The user's Roles tab shows it and offers only user roles not held.
            let userRoles = try await browser.get("/console/users/\(fixture.user.id)/roles")
            #expect(userRoles.text.contains("librarian") && !userRoles.text.contains(">indexer<"))
            _ = try await Console.submit(browser, page: "/console/users/\(fixture.user.id)/roles",
                                         to: "/console/users/\(fixture.user.id)/roles/\(roleID)/delete", [])
            #expect(try await runtime.roles.roles(heldBy: .account(fixture.user.id)).map(\.name) == ["bookworm"])
            _ = try await Console.submit(browser, page: "/console/users/\(fixture.user.id)/roles",
                                         to: "/console/users/\(fixture.user.id)/roles", [("role", roleID)])
            #expect(try await runtime.roles.roles(heldBy: .account(fixture.user.id)).map(\.name)
                == ["bookworm", "librarian"])
            // Remove a permission, make it the default role, rename it to a taken name (refused).
            _ = try await Console.submit(browser, page: path, to: path + "/permissions/\(write)/delete", [])
            #expect(try await runtime.roles.permissions(ofRole: roleID).map(\.scope.name) == ["read:books"])
            _ = try await Console.submit(browser, page: path, to: path + "/permissions", [("scope", write)])
            #expect(try await runtime.roles.permissions(ofRole: roleID).count == 2)
            _ = try await Console.submit(browser, page: path, to: path, [
                ("name", "librarian"), ("description", "Reads and writes"), ("isDefault", "1"),
            ])
            #expect(try await runtime.roles.role(id: roleID).isDefault)
            let clash = try await Console.submit(browser, page: path, to: path, [
                ("name", "bookworm"), ("description", "x"),
            ])
            #expect(clash.status == .badRequest)
            #expect(clash.text.contains("already exists"))
            // Machine-to-machine: the app's Roles tab, and the built-in role cannot be deleted.
            let machine = fixture.machine.client.id
            let appRoles = try await browser.get("/console/applications/\(machine)/roles")
            #expect(appRoles.text.contains("indexer") && appRoles.text.contains("Management API access"))
            _ = try await Console.submit(browser, page: "/console/applications/\(machine)/roles",
                                         to: "/console/applications/\(machine)/roles",
                                         [("role", RoleService.managementRoleID)])
            #expect(try await runtime.applications.application(id: machine).canManage)
            let builtIn = try await browser.get("/console/roles/\(RoleService.managementRoleID)?tab=applications")
            #expect(builtIn.text.contains("Indexer"))
            #expect(!builtIn.text.contains("/console/roles/\(RoleService.managementRoleID)/delete"))
            let protected = try await Console.submit(browser, page: "/console/roles/\(RoleService.managementRoleID)",
                                                     to: "/console/roles/\(RoleService.managementRoleID)/delete", [])
            #expect(protected.status == .badRequest)
            // Delete the role: Alice loses it.
            _ = try await Console.submit(browser, page: path, to: path + "/delete", [])
            #expect(try await runtime.roles.roles(heldBy: .account(fixture.user.id)).map(\.name) == ["bookworm"])
            #expect(try await browser.get(path).status == .notFound)
            // The resource page shows the "Protect your API" guide with this server's values.
            let resource = try await browser.get("/console/resources/\(books.id)")
            #expect(resource.text.contains(fixture.issuer + "/jwks") && resource.text.contains("jwtVerify"))
            // Every change above is in the audit log.
            await runtime.audit.flush()
            #expect(try await runtime.store.auditEvents(AuditQuery(key: "Admin.Change", limit: 100)).events
                .contains { $0.payload["path"]?.stringValue?.hasPrefix("/console/roles") == true })
        }
    }
}
