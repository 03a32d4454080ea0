import Foundation
import SesameIdentity
import SesameOIDC
import SesameStorage
import Testing

/// Roles in SQL on both databases: typed relations the database itself enforces, cascades from every side,
/// default roles in the user's insert, the one-query permission lookup, and the migrated management role.
@Suite("Role store")
struct RoleStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func seed(_ store: SQLStore) async throws -> (resource: APIResource, user: User, app: Client) {
        let resource = APIResource(id: "books", name: "Books", indicator: "https://api.books.test",
                                   scopes: [ResourceScope(id: "read", name: "read:books"),
                                            ResourceScope(id: "write", name: "write:books")], createdAt: now)
        try await store.insertResource(resource)
        let user = User(id: "u1", username: "alice", createdAt: now, updatedAt: now)
        try await store.insertUser(user)
        let app = Client(id: "m2m", name: "Indexer", type: .machineToMachine, secretHash: "x", redirectURIs: [],
                         postLogoutRedirectURIs: [], createdAt: now)
        try await store.insertClient(app)
        return (resource, user, app)
    }

    @Test(arguments: Backend.available)
    func permissionsFollowRolesAndCascade(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let (resource, user, app) = try await seed(store)
            try await store.insertRole(Role(id: "reader", name: "reader", description: "r", type: .user, createdAt: now),
                                       scopeIDs: ["read"])
            try await store.insertRole(Role(id: "editor", name: "editor", description: "e", type: .user, createdAt: now),
                                       scopeIDs: ["read", "write"])
            try await store.insertRole(Role(id: "bot", name: "bot", description: "b", type: .machineToMachine,
                                            createdAt: now), scopeIDs: ["read"])
            await #expect(throws: IdentityError.self) {
                try await store.insertRole(Role(id: "other", name: "reader", description: "dup", type: .user,
                                                createdAt: now), scopeIDs: [])
            }
            try await store.assign(roleIDs: ["reader", "editor"], to: .account(user.id))
            try await store.assign(roleIDs: ["bot"], to: .client(app.id))
            #expect(try await store.permittedScopes(of: .account(user.id), resourceID: resource.id)
                == ["read:books", "write:books"])
            #expect(try await store.permittedScopes(of: .client(app.id), resourceID: resource.id) == ["read:books"])
            #expect(try await store.roleNames(ofUser: user.id) == ["editor", "reader"])
            // Assigning twice is harmless; replacing is exact.
            try await store.assign(roleIDs: ["reader"], to: .account(user.id))
            try await store.replaceRoles(of: .account(user.id), with: ["reader"])
            #expect(try await store.roleNames(ofUser: user.id) == ["reader"])
            let listing = try await store.roles(RoleQuery(type: .user))
            #expect(listing.total == 2)
            #expect(listing.roles.first { $0.role.id == "reader" }?.usersCount == 1)
            #expect(try await store.roles(RoleQuery(excluding: .account(user.id))).roles.map(\.role.id)
                .contains("reader") == false)
            // The database refuses a role of the wrong type, whoever writes (the CHECK and the (id, type) key).
            await #expect(throws: (any Error).self) {
                try await store.database.query("INSERT INTO users_roles (user_id, role_id) VALUES ('u1', 'bot')")
            }
            await #expect(throws: (any Error).self) {
                try await store.database.query(
                    "INSERT INTO applications_roles (application_id, role_id) VALUES ('m2m', 'reader')")
            }
            await #expect(throws: (any Error).self) {
                try await store.database.query("""
                    INSERT INTO users_roles (user_id, role_id, role_type) VALUES ('u1', 'bot', 'MachineToMachine')
                    """)
            }
            // A scope deleted: gone from every role. A role deleted: gone from every holder.
            try await store.deleteScope(id: "read", resourceID: resource.id)
            #expect(try await store.permittedScopes(of: .client(app.id), resourceID: resource.id).isEmpty)
            #expect(try await store.permissions(ofRole: "editor").map(\.scope.name) == ["write:books"])
            try await store.deleteRole(id: "bot")
            #expect(try await store.roles(heldBy: .client(app.id)).isEmpty)
            // A resource deleted: its scopes leave every role.
            try await store.deleteResource(id: resource.id)
            #expect(try await store.permissions(ofRole: "editor").isEmpty)
            // A user or an application deleted: its relations go with it.
            try await store.deleteUser(id: user.id)
            try await store.deleteClient(id: app.id)
            for table in ["users_roles", "applications_roles", "roles_scopes"] {
                #expect(try await store.database.query("SELECT COUNT(*) AS n FROM \(table)").first?.int("n") == 0,
                        "\(table)")
            }
        }
    }

    @Test(arguments: Backend.available)
    func newUsersGetDefaultRolesInTheSameInsert(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            _ = try await seed(store)
            try await store.insertRole(Role(id: "member", name: "member", description: "m", type: .user,
                                            isDefault: true, createdAt: now), scopeIDs: ["read"])
            try await store.insertRole(Role(id: "staff", name: "staff", description: "s", type: .user, createdAt: now),
                                       scopeIDs: [])
            try await store.insertUser(User(id: "u2", username: "bob", createdAt: now, updatedAt: now))
            #expect(try await store.roleNames(ofUser: "u2") == ["member"])
            // A failed insert (a taken username) leaves no relation behind.
            await #expect(throws: IdentityError.self) {
                try await store.insertUser(User(id: "u3", username: "bob", createdAt: now, updatedAt: now))
            }
            #expect(try await store.roleNames(ofUser: "u3").isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func theManagementRoleIsBuiltInAndDecidesCanManage(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let management = APIResource(id: "mgmt", name: "Management API", indicator: "https://default.logto.app/api",
                                         scopes: [ResourceScope(id: "all", name: "all")], createdAt: now)
            try await store.insertResource(management)
            try await store.linkManagementRole(indicator: management.indicator)
            try await store.linkManagementRole(indicator: management.indicator)  // idempotent
            #expect(try await store.role(id: RoleService.managementRoleID)?.type == .machineToMachine)
            var app = Client(id: "admin", name: "Scripts", type: .machineToMachine, secretHash: "x", redirectURIs: [],
                             postLogoutRedirectURIs: [], canManage: true, createdAt: now)
            try await store.insertClient(app)
            #expect(try await store.client(id: "admin")?.canManage == true)
            #expect(try await store.unassign(roleID: RoleService.managementRoleID, from: .client("admin")))
            #expect(try await store.client(id: "admin")?.canManage == false)
            app.id = "plain"
            app.canManage = false
            try await store.insertClient(app)
            #expect(try await store.client(id: "plain")?.canManage == false)
        }
    }

    @Test(arguments: Backend.available)
    func idTokenConfigDefaultsToRolesAndRoundTrips(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            #expect(try await store.idTokenConfig().enabledExtendedClaims == ["roles"])
            _ = try await store.saveIDTokenConfig(IDTokenConfig(enabledExtendedClaims: []))
            #expect(try await store.idTokenConfig().enabledExtendedClaims == [])
            let saved = try await store.saveIDTokenConfig(IDTokenConfig(enabledExtendedClaims: ["roles", "roles"]))
            #expect(saved.enabledExtendedClaims == ["roles"])
            await #expect(throws: IdentityError.self) {
                _ = try await store.saveIDTokenConfig(IDTokenConfig(enabledExtendedClaims: ["password"]))
            }
        }
    }

    @Test(arguments: Backend.available)
    func migrationElevenKeepsManagementAppsManaging(_ backend: Backend) async throws {
        try await withDatabase(backend) { (database: any SQLDatabase) async throws in
            try await Migrator(database: database, migrations: Array(Migration.all.prefix(10))).migrate()
            try await database.query("""
                INSERT INTO applications (id, name, type, redirect_uris, post_logout_redirect_uris, created_at, can_manage)
                VALUES ('admin', 'Scripts', 'MachineToMachine', '[]', '[]', 0, 1), ('m2m', 'Bot', 'MachineToMachine', '[]', '[]', 0, 0)
                """)
            try await database.query("""
                INSERT INTO resources (id, name, indicator, access_token_ttl, created_at)
                VALUES ('mgmt', 'Management API', 'https://default.logto.app/api', 3600, 0)
                """)
            try await database.query("INSERT INTO resource_scopes (id, resource_id, name) VALUES ('all', 'mgmt', 'all')")
            #expect(try await Migrator(database: database).migrate() == Array(Migration.all.map(\.version).dropFirst(10)))
            let store = SQLStore(database: database, secretBox: SecretBox(secret: String(repeating: "k", count: 32)))
            #expect(try await store.client(id: "admin")?.canManage == true)
            #expect(try await store.client(id: "m2m")?.canManage == false)
        }
    }
}
