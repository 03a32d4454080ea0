import Foundation
import HTTPTypes
import HummingbirdTesting
import SesameIdentity
import SesameOIDC
import SesameServer
import Testing

/// Roles and permissions over real HTTP on both databases: the Management API decides who holds what, and
/// the token endpoint follows it (Logto's rules, refresh recomputation done better).
@Suite("Roles and permissions")
struct RBACTests {
    typealias API = ManagementAPITests

    private static func scopeIDs(_ browser: Browser, token: String) async throws -> [String: String] {
        let resources = try await API.call(browser, .get, "/api/resources", token: token).json.arrayValue ?? []
        var ids: [String: String] = [:]
        for resource in resources {
            for scope in resource["scopes"]?.arrayValue ?? [] {
                ids[(resource["indicator"]?.stringValue ?? "") + " " + (scope["name"]?.stringValue ?? "")] =
                    scope["id"]?.stringValue
            }
        }
        return ids
    }

    private static func createRole(_ browser: Browser, token: String, _ body: JSONValue) async throws -> String {
        let response = try await API.call(browser, .post, "/api/roles", token: token, body)
        #expect(response.status == .ok, "\(response.json)")
        return try #require(response.json["id"]?.stringValue)
    }

    private static func accessScope(_ body: JSONValue, _ browser: Browser) async throws -> String? {
        let token = try #require(body["access_token"]?.stringValue)
        return try await CodeFlowTests.verify(token, browser).claims["scope"]?.stringValue
    }

    private static func refresh(_ fixture: Fixture, _ browser: Browser, _ token: String, resource: String?)
        async throws -> JSONValue
    {
        var form = [("grant_type", "refresh_token"), ("refresh_token", token)]
        if let resource { form.append(("resource", resource)) }
        let response = try await browser.post("/oidc/token", form: form, headers: [
            .authorization: basicAuthorization(fixture.webApp.client.id, fixture.webSecret),
        ])
        #expect(response.status == .ok, "\(response.json)")
        return response.json
    }

    @Test(arguments: TestDatabase.available)
    func userTokensFollowTheRolesHeldNow(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let token = try await API.token(fixture, browser)
            let scopes = try await Self.scopeIDs(browser, token: token)
            let read = try #require(scopes[Fixture.resource + " read:books"])
            let write = try #require(scopes[Fixture.resource + " write:books"])
            let reader = try await Self.createRole(browser, token: token,
                                              ["name": "reader", "description": "Reads books", "scopeIds": [.string(read)]])
            let editor = try await Self.createRole(browser, token: token,
                                              ["name": "editor", "description": "Writes books", "scopeIds": [.string(write)]])
            let alice = fixture.user.id
            // Replace Alice's roles with reader only.
            let replaced = try await API.call(browser, .put, "/api/users/\(alice)/roles", token: token,
                                              ["roleIds": [.string(reader)]])
            #expect(replaced.status == .ok)
            #expect(try await API.call(browser, .get, "/api/users/\(alice)/roles", token: token).json.arrayValue?
                .compactMap { $0["name"]?.stringValue } == ["reader"])
            let authorization = try await CodeFlowTests.signIn(
                fixture, browser, scope: "openid offline_access roles read:books write:books",
                extra: [("resource", Fixture.resource)])
            var body = try await browser.post("/oidc/token", form: [
                ("grant_type", "authorization_code"), ("code", authorization.code), ("redirect_uri", Fixture.callback),
                ("code_verifier", authorization.verifier), ("resource", Fixture.resource),
            ], headers: [.authorization: basicAuthorization(fixture.webApp.client.id, fixture.webSecret)]).json
            #expect(try await Self.accessScope(body, browser) == "read:books")
            let idToken = try await CodeFlowTests.verify(try #require(body["id_token"]?.stringValue), browser)
            #expect(idToken.claims["roles"] == ["reader"])
            // editor added: write:books is in the next refresh, with no new sign-in.
            let added = try await API.call(browser, .post, "/api/users/\(alice)/roles", token: token,
                                           ["roleIds": [.string(editor), .string(reader)]])
            #expect(added.status == .created)
            #expect(added.json["addedRoleIds"] == [.string(editor)])
            body = try await Self.refresh(fixture, browser, try #require(body["refresh_token"]?.stringValue),
                                          resource: Fixture.resource)
            #expect(try await Self.accessScope(body, browser) == "read:books write:books")
            // editor removed: gone at the next refresh.
            #expect(try await API.call(browser, .delete, "/api/users/\(alice)/roles/\(editor)", token: token).status
                == .noContent)
            body = try await Self.refresh(fixture, browser, try #require(body["refresh_token"]?.stringValue),
                                          resource: Fixture.resource)
            #expect(try await Self.accessScope(body, browser) == "read:books")
            // The ID token's roles claim follows the id-token config; userinfo always has it.
            let config = try await API.call(browser, .put, "/api/configs/id-token", token: token,
                                            ["enabledExtendedClaims": []])
            #expect(config.json["enabledExtendedClaims"] == [])
            body = try await Self.refresh(fixture, browser, try #require(body["refresh_token"]?.stringValue),
                                          resource: nil)
            let quiet = try await CodeFlowTests.verify(try #require(body["id_token"]?.stringValue), browser)
            #expect(quiet.claims["roles"] == nil)
            let userinfo = try await browser.get("/oidc/me", headers: [
                .authorization: "Bearer " + (body["access_token"]?.stringValue ?? ""),
            ])
            #expect(userinfo.json["roles"] == ["reader"])
            let badConfig = try await API.call(browser, .put, "/api/configs/id-token", token: token,
                                               ["enabledExtendedClaims": ["password"]])
            #expect(badConfig.status == .badRequest)
            // Deleting the role takes it from Alice; deleting the resource empties every role of its scopes.
            #expect(try await API.call(browser, .delete, "/api/roles/\(reader)", token: token).status == .noContent)
            #expect(try await API.call(browser, .get, "/api/users/\(alice)/roles", token: token).json == [])
            let books = try #require(try await API.call(browser, .get, "/api/resources", token: token).json.arrayValue?
                .first { $0["indicator"]?.stringValue == Fixture.resource }?["id"]?.stringValue)
            #expect(try await API.call(browser, .delete, "/api/resources/\(books)", token: token).status == .noContent)
            #expect(try await API.call(browser, .get, "/api/roles/\(editor)/scopes", token: token).json == [])
        }
    }

    @Test(arguments: TestDatabase.available)
    func machineToMachineRolesAndTheManagementRole(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let token = try await API.token(fixture, browser)
            let created = try await API.call(browser, .post, "/api/applications", token: token,
                                             ["name": "Reports", "type": "MachineToMachine"])
            let app = try #require(created.json["id"]?.stringValue)
            let secret = try #require(created.json["secret"]?.stringValue)
            func clientCredentials(_ resource: String, _ scope: String?) async throws -> Reply {
                var form = [("grant_type", "client_credentials"), ("resource", resource)]
                if let scope { form.append(("scope", scope)) }
                return try await browser.post("/oidc/token", form: form,
                                              headers: [.authorization: basicAuthorization(app, secret)])
            }
            // No role: a token with an empty scope, echoed.
            var response = try await clientCredentials(Fixture.resource, "read:books")
            #expect(response.status == .ok)
            #expect(response.json["scope"] == "")
            #expect(try await Self.accessScope(response.json, browser) == nil)
            let roles = try await API.call(browser, .get, "/api/roles?type=MachineToMachine", token: token).json
            let indexer = try #require(roles.arrayValue?.first { $0["name"] == "indexer" }?["id"]?.stringValue)
            #expect(roles.arrayValue?.contains { $0["id"]?.stringValue == RoleService.managementRoleID } == true)
            #expect(roles.arrayValue?.first { $0["name"] == "indexer" }?["applicationsCount"] == 1)
            let assigned = try await API.call(browser, .post, "/api/applications/\(app)/roles", token: token,
                                              ["roleIds": [.string(indexer)]])
            #expect(assigned.status == .created)
            response = try await clientCredentials(Fixture.resource, "read:books")
            #expect(try await Self.accessScope(response.json, browser) == "read:books")
            response = try await clientCredentials(Fixture.resource, nil)
            #expect(response.json["scope"] == "")
            // The management role lets the app use the Management API; removing it stops it at once.
            #expect(try await clientCredentials(API.managementResource, "all").json["error"] == "invalid_target")
            #expect(try await API.call(browser, .post, "/api/roles/\(RoleService.managementRoleID)/applications",
                                       token: token, ["applicationIds": [.string(app)]]).status == .created)
            response = try await clientCredentials(API.managementResource, "all")
            let managementToken = try #require(response.json["access_token"]?.stringValue)
            #expect(try await API.call(browser, .get, "/api/roles", token: managementToken).status == .ok)
            #expect(try await API.call(browser, .delete,
                                       "/api/applications/\(app)/roles/\(RoleService.managementRoleID)",
                                       token: token).status == .noContent)
            #expect(try await API.call(browser, .get, "/api/roles", token: managementToken).status == .forbidden)
        }
    }

    @Test(arguments: TestDatabase.available)
    func theRulesAnswerWithLogtosCodes(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let token = try await API.token(fixture, browser)
            let scopes = try await Self.scopeIDs(browser, token: token)
            let all = try #require(scopes[API.managementResource + " all"])
            let read = try #require(scopes[Fixture.resource + " read:books"])
            func expect(_ method: HTTPRequest.Method, _ path: String, _ body: JSONValue? = nil, status: Int,
                        code: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws
            {
                let response = try await API.call(browser, method, path, token: token, body)
                #expect(response.status.code == status, "\(method) \(path): \(response.json)",
                        sourceLocation: sourceLocation)
                if let code {
                    #expect(response.json["code"]?.stringValue == code, sourceLocation: sourceLocation)
                }
            }
            let roles = try await API.call(browser, .get, "/api/roles", token: token).json.arrayValue ?? []
            let bookworm = try #require(roles.first { $0["name"] == "bookworm" }?["id"]?.stringValue)
            let indexer = try #require(roles.first { $0["name"] == "indexer" }?["id"]?.stringValue)
            let user = fixture.user.id
            let machine = fixture.machine.client.id
            // Types, the management permission, duplicates.
            try await expect(.post, "/api/roles", ["name": "admin", "description": "x", "scopeIds": [.string(all)]],
                             status: 422, code: "role.management_api_scopes_not_assignable_to_user_role")
            try await expect(.post, "/api/roles", ["name": "bookworm", "description": "again"], status: 422,
                             code: "role.name_in_use")
            try await expect(.patch, "/api/roles/\(indexer)", ["name": "bookworm"], status: 422, code: "role.name_in_use")
            try await expect(.post, "/api/users/\(user)/roles", ["roleIds": [.string(indexer)]], status: 422,
                             code: "user.invalid_role_type")
            try await expect(.post, "/api/applications/\(machine)/roles", ["roleIds": [.string(bookworm)]],
                             status: 422, code: "application.invalid_role_type")
            try await expect(.get, "/api/applications/\(fixture.webApp.client.id)/roles", status: 422,
                             code: "application.invalid_type")
            try await expect(.post, "/api/roles/\(bookworm)/scopes", ["scopeIds": [.string(read)]], status: 422,
                             code: "role.scope_exists")
            try await expect(.post, "/api/roles/\(bookworm)/users", ["userIds": [.string(user)]], status: 422,
                             code: "role.user_exists")
            try await expect(.post, "/api/roles/\(indexer)/applications", ["applicationIds": [.string(machine)]],
                             status: 422, code: "role.application_exists")
            try await expect(.post, "/api/roles/\(bookworm)/applications", ["applicationIds": [.string(machine)]],
                             status: 422, code: "application.invalid_role_type")
            try await expect(.post, "/api/roles/\(indexer)/scopes", ["scopeIds": [.string(all)]], status: 201)
            try await expect(.post, "/api/roles", ["name": "bot", "description": "x", "type": "MachineToMachine",
                                                   "isDefault": true], status: 400)
            try await expect(.delete, "/api/roles/\(RoleService.managementRoleID)", status: 422,
                             code: "role.built_in_role_protected")
            // Unknown ids: 404 everywhere.
            for (method, path, body) in [
                (HTTPRequest.Method.get, "/api/roles/nope", nil), (.patch, "/api/roles/nope", ["name": "x"]),
                (.delete, "/api/roles/nope", nil), (.get, "/api/roles/nope/scopes", nil),
                (.get, "/api/roles/nope/users", nil), (.get, "/api/roles/nope/applications", nil),
                (.post, "/api/roles/\(bookworm)/scopes", ["scopeIds": ["nope"]]),
                (.post, "/api/roles/\(bookworm)/users", ["userIds": ["nope"]]),
                (.post, "/api/users/nope/roles", ["roleIds": [.string(bookworm)]]),
                (.post, "/api/users/\(user)/roles", ["roleIds": ["nope"]]),
                (.get, "/api/users/nope/roles", nil), (.get, "/api/applications/nope/roles", nil),
                (.delete, "/api/users/\(user)/roles/nope", nil), (.delete, "/api/roles/\(bookworm)/scopes/nope", nil),
                (.delete, "/api/roles/\(bookworm)/users/nope", nil),
            ] as [(HTTPRequest.Method, String, JSONValue?)] {
                try await expect(method, path, body, status: 404)
            }
            // Bad bodies: wrong shapes, unknown fields, empty lists, control characters.
            for (method, path, body) in [
                (HTTPRequest.Method.post, "/api/roles", ["name": "x"]),
                (.post, "/api/roles", ["name": "", "description": "x"]),
                (.post, "/api/roles", ["name": "a\u{7}b", "description": "x"]),
                (.post, "/api/roles", ["name": .string(String(repeating: "n", count: 129)), "description": "x"]),
                (.post, "/api/roles", ["name": "x", "description": "x", "type": "Admin"]),
                (.post, "/api/roles", ["name": "x", "description": "x", "scopeIds": "all"]),
                (.post, "/api/roles", ["name": "x", "description": "x", "color": "red"]),
                (.post, "/api/roles/\(bookworm)/scopes", ["scopeIds": []]),
                (.post, "/api/users/\(user)/roles", ["roleIds": [1]]),
                (.put, "/api/users/\(user)/roles", [:]),
                (.patch, "/api/roles/\(bookworm)", ["isDefault": "yes"]),
            ] as [(HTTPRequest.Method, String, JSONValue)] {
                try await expect(method, path, body, status: 400)
            }
            try await expect(.get, "/api/roles?type=Admin", status: 400)
            try await expect(.get, "/api/roles?page_size=0", status: 400)
            // The calling app cannot take roles from itself (it would lose the Management API mid-script).
            let apps = try await API.call(browser, .get, "/api/applications", token: token).json.arrayValue ?? []
            let caller = try #require(apps.first { $0["name"] == "Scripts" }?["id"]?.stringValue)
            try await expect(.put, "/api/applications/\(caller)/roles", ["roleIds": []], status: 422,
                             code: "application.cannot_change_own_roles")
            try await expect(.delete, "/api/applications/\(caller)/roles/\(RoleService.managementRoleID)", status: 422)
            try await expect(.delete, "/api/roles/\(RoleService.managementRoleID)/applications/\(caller)", status: 422)
            // Nothing above created a role.
            #expect(try await API.call(browser, .get, "/api/roles", token: token).json.arrayValue?.count == 3)
            // Default roles reach users made by the Management API and by registration's path alike.
            try await expect(.patch, "/api/roles/\(bookworm)", ["isDefault": true], status: 200)
            let created = try await API.call(browser, .post, "/api/users", token: token, ["username": "carol"])
            let carol = try #require(created.json["id"]?.stringValue)
            #expect(try await API.call(browser, .get, "/api/users/\(carol)/roles", token: token).json.arrayValue?
                .compactMap { $0["name"]?.stringValue } == ["bookworm"])
            let dave = try await fixture.runtime.users.create(.init(email: "dave@example.com"))
            #expect(try await fixture.runtime.roles.roles(heldBy: .account(dave.id)).map(\.name) == ["bookworm"])
            // Search, exclusion and counts.
            let listed = try await API.call(browser, .get, "/api/roles?search=BOOKW&excludeUserId=\(carol)",
                                            token: token)
            #expect(listed.json == [])
            let counted = try await API.call(browser, .get, "/api/roles?search=bookw", token: token)
            #expect(counted.json.arrayValue?.first?["usersCount"] == 3)
            #expect(counted.json.arrayValue?.first?["featuredUsers"]?.arrayValue?.count == 3)
            #expect(counted.json.arrayValue?.first?["featuredApplications"] == [])
            #expect(counted.headers[HTTPField.Name("Total-Number")!] == "1")
            let holders = try await API.call(browser, .get, "/api/roles/\(bookworm)/users?search=carol", token: token)
            #expect(holders.json.arrayValue?.compactMap { $0["id"]?.stringValue } == [carol])
        }
    }

    @Test(arguments: TestDatabase.available)
    func racingWritesAnswerWithoutServerErrors(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let token = try await API.token(fixture, browser)
            let user = fixture.user.id
            for trial in 0..<6 {
                let role = try await Self.createRole(browser, token: token,
                                                     ["name": .string("racer\(trial)"), "description": "r",
                                                      "isDefault": true])
                // Two identical replaces, a replace against the role's deletion, a new user against it too.
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<2 {
                        group.addTask {
                            try await browser.onOwnConnection {
                                try await API.call($0, .put, "/api/users/\(user)/roles", token: token,
                                                   ["roleIds": [.string(role)]]).status.code
                            }
                        }
                    }
                    group.addTask {
                        try await browser.onOwnConnection {
                            try await API.call($0, .post, "/api/users", token: token,
                                               ["username": .string("newcomer\(trial)")]).status.code
                        }
                    }
                    group.addTask {
                        try await browser.onOwnConnection {
                            try await API.call($0, .delete, "/api/roles/\(role)", token: token).status.code
                        }
                    }
                    var statuses: [Int] = []
                    for try await status in group { statuses.append(status) }
                    return statuses
                }
                #expect(statuses.allSatisfy { [200, 204, 404].contains($0) }, "\(statuses)")
            }
        }
    }

    @Test func namesAreOneRegardlessOfCaseAndTheBuiltInRoleKeepsItsName() async throws {
        try await Fixture.withServer { fixture, browser in
            let token = try await API.token(fixture, browser)
            let clash = try await API.call(browser, .post, "/api/roles", token: token,
                                           ["name": "BOOKWORM", "description": "again"])
            #expect(clash.status.code == 422 && clash.json["code"] == "role.name_in_use")
            // "café" typed as e + combining accent is the same name as the precomposed one.
            _ = try await Self.createRole(browser, token: token, ["name": "caf\u{E9}", "description": "c"])
            let decomposed = try await API.call(browser, .post, "/api/roles", token: token,
                                                ["name": "cafe\u{301}", "description": "c"])
            #expect(decomposed.status.code == 422)
            let renamed = try await API.call(browser, .patch, "/api/roles/\(RoleService.managementRoleID)", token: token,
                                             ["name": "renamed"])
            #expect(renamed.status.code == 422 && renamed.json["code"] == "role.built_in_role_protected")
            let described = try await API.call(browser, .patch, "/api/roles/\(RoleService.managementRoleID)",
                                               token: token, ["description": "Scripts that manage Sesame"])
            #expect(described.status == .ok)
            // Without a resource, the token response names only the scopes the (opaque) token carries.
            let authorization = try await CodeFlowTests.signIn(fixture, browser, scope: "openid read:books write:books",
                                                               extra: [("resource", Fixture.resource)])
            let body = try await CodeFlowTests.exchange(fixture, browser, authorization).json
            #expect(body["scope"] == "openid")
        }
    }

    @Test func everyRoleRouteRefusesTokensThatAreNotManagementTokens() async throws {
        try await Fixture.withServer { fixture, browser in
            let books = try await browser.post("/oidc/token", form: [
                ("grant_type", "client_credentials"), ("resource", Fixture.resource), ("scope", "read:books"),
            ], headers: [.authorization: basicAuthorization(fixture.machine.client.id, fixture.machine.secret ?? "")])
            let apiToken = try #require(books.json["access_token"]?.stringValue)
            let authorization = try await CodeFlowTests.signIn(fixture, browser, scope: "openid read:books",
                                                               extra: [("resource", Fixture.resource)])
            let user = try await browser.post("/oidc/token", form: [
                ("grant_type", "authorization_code"), ("code", authorization.code), ("redirect_uri", Fixture.callback),
                ("code_verifier", authorization.verifier), ("resource", Fixture.resource),
            ], headers: [.authorization: basicAuthorization(fixture.webApp.client.id, fixture.webSecret)])
            let userToken = try #require(user.json["access_token"]?.stringValue)
            let paths = [
                (HTTPRequest.Method.get, "/api/roles"), (.post, "/api/roles"), (.get, "/api/roles/r"),
                (.patch, "/api/roles/r"), (.delete, "/api/roles/r"), (.get, "/api/roles/r/scopes"),
                (.post, "/api/roles/r/scopes"), (.delete, "/api/roles/r/scopes/s"), (.get, "/api/roles/r/users"),
                (.post, "/api/roles/r/users"), (.delete, "/api/roles/r/users/u"), (.get, "/api/roles/r/applications"),
                (.post, "/api/roles/r/applications"), (.delete, "/api/roles/r/applications/a"),
                (.get, "/api/users/u/roles"), (.post, "/api/users/u/roles"), (.put, "/api/users/u/roles"),
                (.delete, "/api/users/u/roles/r"), (.get, "/api/applications/a/roles"),
                (.post, "/api/applications/a/roles"), (.put, "/api/applications/a/roles"),
                (.delete, "/api/applications/a/roles/r"), (.get, "/api/configs/id-token"),
                (.put, "/api/configs/id-token"),
            ]
            for (method, path) in paths {
                let anonymous = try await browser.send(path, method: method, headers: [:], body: nil)
                #expect(anonymous.status == .unauthorized, "\(method) \(path)")
                for token in [apiToken, userToken] {
                    let refused = try await API.call(browser, method, path, token: token, [:])
                    #expect(refused.status == .forbidden, "\(method) \(path)")
                }
            }
            // Every one of them is in the OpenAPI document.
            let document = try await browser.get("/api/swagger.json").json
            for (method, path) in paths {
                // /api/<kind>/{id}/<relation>/{relationId}, as the document names them.
                var segments = path.split(separator: "/").map(String.init)
                if segments.count > 2, segments[1] != "configs" { segments[2] = "{id}" }
                if segments.count > 4 {
                    let names = ["scopes": "{scopeId}", "users": "{userId}", "applications": "{applicationId}",
                                 "roles": "{roleId}"]
                    segments[4] = names[segments[3]] ?? segments[4]
                }
                let templated = "/" + segments.joined(separator: "/")
                #expect(document["paths"]?[templated]?[method.rawValue.lowercased()] != nil, "\(method) \(templated)")
            }
        }
    }
}
