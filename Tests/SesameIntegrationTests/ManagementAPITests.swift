import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameConnectors
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Testing

/// The Management API: who may call it, and applications and users with good and bad input.
@Suite("Management API")
struct ManagementAPITests {
    static let managementResource = "https://default.logto.app/api"

    static func token(_ fixture: Fixture, _ browser: Browser) async throws -> String {
        let admin = try await fixture.runtime.applications.create(
            name: "Scripts", type: .machineToMachine, redirectURIs: [], postLogoutRedirectURIs: [], canManage: true)
        let response = try await browser.post("/oidc/token", form: [
            ("grant_type", "client_credentials"), ("resource", managementResource), ("scope", "all"),
        ], headers: [.authorization: basicAuthorization(admin.client.id, admin.secret ?? "")])
        return try #require(response.json["access_token"]?.stringValue)
    }

    static func call(_ browser: Browser, _ method: HTTPRequest.Method, _ path: String, token: String,
                     _ body: JSONValue? = nil) async throws -> Reply
    {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if body != nil { headers[.contentType] = "application/json" }
        return try await browser.send(path, method: method, headers: headers,
                                      body: body.map { ByteBuffer(bytes: $0.encoded()) })
    }

    @Test func onlyManagementTokensGetIn() async throws {
        try await Fixture.withServer { fixture, browser in
            let missing = try await browser.get("/api/users")
            #expect(missing.status == .unauthorized)
            #expect(missing.json["code"] == "auth.authorization_header_missing")
            let garbage = try await Self.call(browser, .get, "/api/users", token: "not-a-token")
            #expect(garbage.json["code"] == "auth.unauthorized")
            // An ordinary M2M app cannot get a management token.
            let denied = try await browser.post("/oidc/token", form: [
                ("grant_type", "client_credentials"), ("resource", Self.managementResource), ("scope", "all"),
            ], headers: [.authorization: basicAuthorization(fixture.machine.client.id, fixture.machine.secret ?? "")])
            #expect(denied.json["error"] == "invalid_target")
            // A token for another API is refused.
            let books = try await browser.post("/oidc/token", form: [
                ("grant_type", "client_credentials"), ("resource", Fixture.resource), ("scope", "read:books"),
            ], headers: [.authorization: basicAuthorization(fixture.machine.client.id, fixture.machine.secret ?? "")])
            let wrongAudience = try await Self.call(browser, .get, "/api/users",
                                                    token: try #require(books.json["access_token"]?.stringValue))
            #expect(wrongAudience.status == .forbidden)
            // End users cannot ask for the management resource at all.
            let userAttempt = try await browser.get("/oidc/auth?" + RequestParameters.encode([
                ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
                ("scope", "openid all"), ("resource", Self.managementResource),
            ]))
            #expect(userAttempt.redirectQuery["error"] == "invalid_target")
            let token = try await Self.token(fixture, browser)
            #expect(try await Self.call(browser, .get, "/api/users", token: token).status == .ok)
            // The experience API and status stay public.
            #expect(try await browser.get("/api/status").status == .noContent)
        }
    }

    @Test func applications() async throws {
        try await Fixture.withServer { fixture, browser in
            let token = try await Self.token(fixture, browser)
            let created = try await Self.call(browser, .post, "/api/applications", token: token, [
                "name": "Bookstore 2", "type": "Traditional",
                "oidcClientMetadata": ["redirectUris": ["http://localhost:3000/api/auth/callback/logto"],
                                       "postLogoutRedirectUris": ["http://localhost:3000"]],
            ])
            #expect(created.status == .ok)
            let id = try #require(created.json["id"]?.stringValue)
            #expect(created.json["secret"]?.stringValue?.count == 43)
            let list = try await Self.call(browser, .get, "/api/applications?page=1&page_size=2", token: token)
            #expect(list.headers[HTTPField.Name("Total-Number")!] == "6")
            #expect(list.json.arrayValue?.count == 2)
            let fetched = try await Self.call(browser, .get, "/api/applications/\(id)", token: token)
            #expect(fetched.json["secret"] == nil)
            #expect(fetched.json["oidcClientMetadata"]?["redirectUris"] == ["http://localhost:3000/api/auth/callback/logto"])
            let patched = try await Self.call(browser, .patch, "/api/applications/\(id)", token: token, [
                "oidcClientMetadata": ["redirectUris": ["https://books.example.com/api/auth/callback/logto"]],
            ])
            #expect(patched.json["oidcClientMetadata"]?["redirectUris"] == ["https://books.example.com/api/auth/callback/logto"])
            let badURI = try await Self.call(browser, .patch, "/api/applications/\(id)", token: token, [
                "oidcClientMetadata": ["redirectUris": ["not a uri"]],
            ])
            #expect(badURI.status == .badRequest)
            #expect(badURI.json["code"] == "guard.invalid_input")
            let badType = try await Self.call(browser, .post, "/api/applications", token: token, ["name": "x", "type": "Desktop"])
            #expect(badType.status == .badRequest)
            let noName = try await Self.call(browser, .post, "/api/applications", token: token, ["type": "SPA"])
            #expect(noName.status == .badRequest)
            let notJSON = try await browser.send("/api/applications", method: .post,
                                                 headers: [.authorization: "Bearer \(token)", .contentType: "text/plain"],
                                                 body: ByteBuffer(string: "name=x"))
            #expect(notJSON.status == .badRequest)
            #expect(try await Self.call(browser, .delete, "/api/applications/\(id)", token: token).status == .noContent)
            // The caller's own application cannot be deleted through its own token (checked below), and secrets:
            let scripts = try #require(try await fixture.runtime.store.clients().first { $0.name == "Scripts" })
            let own = try await Self.call(browser, .delete, "/api/applications/\(scripts.id)", token: token)
            #expect(own.status == .badRequest && own.json["message"]?.stringValue?.contains("itself") == true)
            let gone = try await Self.call(browser, .get, "/api/applications/\(id)", token: token)
            #expect(gone.status == .notFound)
            #expect(gone.json["code"] == "entity.not_exists")
        }
    }

    /// Logto's `customClientMetadata.isDeviceFlow`: set on a Native app at creation or by PATCH, refused elsewhere and for
    /// values of the wrong shape, with nothing stored.
    @Test func deviceFlowApplications() async throws {
        try await Fixture.withServer { fixture, browser in
            let token = try await Self.token(fixture, browser)
            let created = try await Self.call(browser, .post, "/api/applications", token: token, [
                "name": "TV", "type": "Native", "customClientMetadata": ["isDeviceFlow": true],
            ])
            #expect(created.status == .ok)
            #expect(created.json["customClientMetadata"]?["isDeviceFlow"] == true)
            let id = try #require(created.json["id"]?.stringValue)
            #expect(try await fixture.runtime.store.client(id: id)?.allows(.deviceCode) == true)
            let web = try await Self.call(browser, .post, "/api/applications", token: token, [
                "name": "Web", "type": "Traditional", "customClientMetadata": ["isDeviceFlow": true],
            ])
            #expect(web.status == .badRequest && web.json["message"]?.stringValue?.contains("Native") == true)
            for body: JSONValue in [["customClientMetadata": ["isDeviceFlow": "yes"]], ["customClientMetadata": [true]]] {
                let bad = try await Self.call(browser, .patch, "/api/applications/\(id)", token: token, body)
                #expect(bad.status == .badRequest && bad.json["code"] == "guard.invalid_input")
            }
            #expect(try await fixture.runtime.store.client(id: id)?.isDeviceFlow == true)
            let off = try await Self.call(browser, .patch, "/api/applications/\(id)", token: token,
                                          ["customClientMetadata": ["isDeviceFlow": false]])
            #expect(off.json["customClientMetadata"]?["isDeviceFlow"] == false)
            let device = try await browser.post("/oidc/device/auth", form: [("client_id", id)])
            #expect(device.status == .badRequest && device.json["error"] == "unauthorized_client")
        }
    }

    @Test func applicationSecretsRotateWithoutDowntime() async throws {
        try await Fixture.withServer { fixture, browser in
            let token = try await Self.token(fixture, browser)
            let app = fixture.webApp.client.id
            func authenticates(_ secret: String) async throws -> Bool {
                try await browser.post("/oidc/token/introspection", form: [("token", "x")],
                                       headers: [.authorization: basicAuthorization(app, secret)]).status == .ok
            }
            #expect(try await Self.call(browser, .get, "/api/applications/\(app)/secrets", token: token).json == [])
            let added = try await Self.call(browser, .post, "/api/applications/\(app)/secrets", token: token,
                                            ["name": "prod / 2026", "expiresAt": .null])
            #expect(added.status == .created)
            let value = try #require(added.json["value"]?.stringValue)
            #expect(value.count == 43 && added.json["expiresAt"] == .null)
            // Both the original and the new secret work, so the app can be redeployed with the new one.
            let originalWorks = try await authenticates(fixture.webSecret)
            let newWorks = try await authenticates(value)
            #expect(originalWorks && newWorks)
            let listed = try await Self.call(browser, .get, "/api/applications/\(app)/secrets", token: token)
            #expect(listed.json.arrayValue?.count == 1 && listed.json.arrayValue?.first?["value"] == nil)
            #expect(!listed.text.contains(value))
            #expect(try await Self.call(browser, .post, "/api/applications/\(app)/secrets", token: token,
                                        ["name": "prod / 2026"]).status == .conflict)
            #expect(try await Self.call(browser, .post, "/api/applications/\(app)/secrets", token: token,
                                        ["name": "past", "expiresAt": 1000]).status == .badRequest)
            #expect(try await Self.call(browser, .post, "/api/applications/\(app)/secrets", token: token,
                                        ["name": "far", "expiresAt": .int(Int64.max)]).status == .badRequest)
            #expect(try await Self.call(browser, .get, "/api/users?page=9223372036854775807", token: token).status
                == .badRequest)
            #expect(try await Self.call(browser, .get, "/api/logs?startTime=9223372036854775807", token: token).status
                == .ok)
            #expect(try await Self.call(browser, .post, "/api/applications/\(app)/secrets", token: token,
                                        ["name": ""]).status == .badRequest)
            #expect(try await Self.call(browser, .post, "/api/applications/\(fixture.spa.client.id)/secrets",
                                        token: token, ["name": "x"]).status == .badRequest)
            // Then the original is deleted, and only the new one works.
            #expect(try await Self.call(browser, .delete, "/api/applications/\(app)/legacy-secret", token: token)
                .status == .noContent)
            #expect(try await Self.call(browser, .get, "/api/applications/\(app)", token: token)
                .json["hasLegacySecret"] == false)
            #expect(try await !authenticates(fixture.webSecret))
            #expect(try await authenticates(value))
            #expect(try await Self.call(browser, .delete, "/api/applications/\(app)/legacy-secret", token: token)
                .status == .notFound)
            #expect(try await Self.call(browser, .delete, "/api/applications/\(app)/secrets/prod%20%2F%202026",
                                        token: token).status == .noContent)
            #expect(try await !authenticates(value))
            #expect(try await Self.call(browser, .delete, "/api/applications/\(app)/secrets/prod%20%2F%202026",
                                        token: token).status == .notFound)
        }
    }

    @Test func users() async throws {
        try await Fixture.withServer { fixture, browser in
            let token = try await Self.token(fixture, browser)
            let created = try await Self.call(browser, .post, "/api/users", token: token, [
                "primaryEmail": "Grace@Example.com", "username": "grace", "name": "Grace Hopper",
                "password": "Compiler-Pioneer-1906",
            ])
            #expect(created.status == .ok)
            let id = try #require(created.json["id"]?.stringValue)
            #expect(created.json["primaryEmail"] == "grace@example.com")
            #expect(created.json["hasPassword"] == true)
            #expect(created.json["passwordHash"] == nil)
            let weak = try await Self.call(browser, .post, "/api/users", token: token, [
                "username": "henry", "password": "password1",
            ])
            #expect(weak.status == .unprocessableContent)
            let duplicate = try await Self.call(browser, .post, "/api/users", token: token, ["primaryEmail": "alice@example.com"])
            #expect(duplicate.status == .conflict)
            let search = try await Self.call(browser, .get, "/api/users?search=HOPPER", token: token)
            #expect(search.headers[HTTPField.Name("Total-Number")!] == "1")
            #expect(search.json.arrayValue?.first?["id"]?.stringValue == id)
            let wildcard = try await Self.call(browser, .get, "/api/users?search=%25", token: token)
            #expect(wildcard.headers[HTTPField.Name("Total-Number")!] == "0")
            let badPage = try await Self.call(browser, .get, "/api/users?page=0", token: token)
            #expect(badPage.status == .badRequest)
            let renamed = try await Self.call(browser, .patch, "/api/users/\(id)", token: token, ["name": "Rear Admiral Hopper"])
            #expect(renamed.json["name"] == "Rear Admiral Hopper")
            let badEmail = try await Self.call(browser, .patch, "/api/users/\(id)", token: token, ["primaryEmail": "nope"])
            #expect(badEmail.status == .badRequest)
            let sneaky = try await Self.call(browser, .patch, "/api/users/\(id)", token: token, ["passwordHash": "x"])
            #expect(sneaky.status == .badRequest)
            #expect(try await Self.call(browser, .patch, "/api/users/\(id)/password", token: token,
                                        ["password": "Nanosecond-Wire-30"]).status == .ok)
            _ = try await fixture.runtime.users.authenticate(identifier: "grace", password: "Nanosecond-Wire-30")
            let suspended = try await Self.call(browser, .patch, "/api/users/\(id)/is-suspended", token: token,
                                                ["isSuspended": true])
            #expect(suspended.json["isSuspended"] == true)
            await #expect(throws: IdentityError.self) {
                try await fixture.runtime.users.authenticate(identifier: "grace", password: "Nanosecond-Wire-30")
            }
            #expect(try await Self.call(browser, .delete, "/api/users/\(id)", token: token).status == .noContent)
            #expect(try await Self.call(browser, .get, "/api/users/\(id)", token: token).status == .notFound)
        }
    }
}

@Suite("Management API settings")
struct ManagementSettingsTests {
    typealias M = ManagementAPITests

    @Test func signInExperience() async throws {
        try await Fixture.withServer { fixture, browser in
            let token = try await M.token(fixture, browser)
            let current = try await M.call(browser, .get, "/api/sign-in-exp", token: token)
            #expect(current.json["signUp"]?["identifiers"] == ["email"])
            let patched = try await M.call(browser, .patch, "/api/sign-in-exp", token: token, [
                "branding": ["primaryColor": "#0A7D42"], "languages": ["zh-CN", "en"],
            ])
            #expect(patched.status == .ok)
            #expect(patched.json["branding"]?["primaryColor"] == "#0A7D42")
            #expect(try await fixture.runtime.signInExperience().languages == ["zh-CN", "en"])
            let lockout = try await M.call(browser, .patch, "/api/sign-in-exp", token: token, ["signIn": ["methods": []]])
            #expect(lockout.status == .badRequest)
            #expect(lockout.json["message"]?.stringValue?.contains("nobody can sign in") == true)
            let unknown = try await M.call(browser, .patch, "/api/sign-in-exp", token: token, ["theme": "dark"])
            #expect(unknown.status == .badRequest)
            let wrongShape = try await M.call(browser, .patch, "/api/sign-in-exp", token: token, ["languages": "en"])
            #expect(wrongShape.status == .badRequest)
        }
    }

    @Test func resourcesAndConnectors() async throws {
        try await Fixture.withServer { fixture, browser in
            let token = try await M.token(fixture, browser)
            let resource = try await M.call(browser, .post, "/api/resources", token: token, [
                "name": "Orders", "indicator": "https://orders.example.com", "scopes": ["read:orders"],
            ])
            #expect(resource.status == .ok)
            #expect(try await M.call(browser, .post, "/api/resources", token: token,
                                     ["indicator": "https://orders.example.com"]).status == .conflict)
            #expect(try await M.call(browser, .post, "/api/resources", token: token, ["indicator": "orders"]).status
                == .badRequest)
            let resources = try await M.call(browser, .get, "/api/resources", token: token).json.arrayValue ?? []
            #expect(resources.contains { $0["indicator"] == "https://default.logto.app/api" })
            // One resource: rename, lifetime, scopes added and removed; bad input and unknown ids.
            let id = try #require(resource.json["id"]?.stringValue)
            let renamed = try await M.call(browser, .patch, "/api/resources/\(id)", token: token,
                                           ["name": "Order service", "accessTokenTtl": 900])
            #expect(renamed.json["name"] == "Order service" && renamed.json["accessTokenTtl"] == 900)
            #expect(try await M.call(browser, .patch, "/api/resources/\(id)", token: token,
                                     ["accessTokenTtl": 5]).status == .badRequest)
            #expect(try await M.call(browser, .patch, "/api/resources/\(id)", token: token,
                                     ["accessTokenTtl": "soon"]).status == .badRequest)
            #expect(try await M.call(browser, .get, "/api/resources/nope", token: token).status == .notFound)
            let scope = try await M.call(browser, .post, "/api/resources/\(id)/scopes", token: token,
                                         ["name": "refund:orders", "description": "Refund an order"])
            #expect(scope.status == .created && scope.json["resourceId"]?.stringValue == id)
            #expect(try await M.call(browser, .post, "/api/resources/\(id)/scopes", token: token,
                                     ["name": "refund:orders"]).status == .conflict)
            #expect(try await M.call(browser, .post, "/api/resources/\(id)/scopes", token: token,
                                     ["name": "two words"]).status == .badRequest)
            #expect(try await M.call(browser, .post, "/api/resources/\(id)/scopes", token: token, [:]).status
                == .badRequest)
            let scopes = try await M.call(browser, .get, "/api/resources/\(id)/scopes", token: token).json.arrayValue
            #expect(scopes?.compactMap { $0["name"]?.stringValue } == ["read:orders", "refund:orders"])
            let scopeID = try #require(scope.json["id"]?.stringValue)
            #expect(try await M.call(browser, .delete, "/api/resources/\(id)/scopes/\(scopeID)", token: token).status
                == .noContent)
            #expect(try await M.call(browser, .delete, "/api/resources/\(id)/scopes/\(scopeID)", token: token).status
                == .notFound)
            // The management resource is protected.
            let management = try #require(resources.first { $0["indicator"] == "https://default.logto.app/api" })
            let managementID = try #require(management["id"]?.stringValue)
            #expect(try await M.call(browser, .delete, "/api/resources/\(managementID)", token: token).status
                == .badRequest)
            #expect(try await M.call(browser, .delete, "/api/resources/\(id)", token: token).status == .noContent)
            #expect(try await M.call(browser, .get, "/api/resources/\(id)", token: token).status == .notFound)

            let factories = try await M.call(browser, .get, "/api/connector-factories", token: token).json.arrayValue ?? []
            #expect(factories.compactMap { $0["id"]?.stringValue } == ["aliyun-direct-mail", "smtp", "dev-console"])
            #expect(factories.first?["formItems"]?.arrayValue?.contains { $0["key"] == "accessKeySecret" && $0["isSecret"] == true }
                == true)
            let invalid = try await M.call(browser, .post, "/api/connectors", token: token, [
                "connectorId": "aliyun-direct-mail", "config": ["accessKeyId": "id"],
            ])
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.json["code"] == "connector.invalid_config")
            let config: JSONValue = [
                "accessKeyId": "LTAI", "accessKeySecret": "very-secret", "accountName": "noreply@mail.example.com",
                "templates": [["subject": "Code", "content": "<p>{{code}}</p>", "usageType": "Generic"]],
            ]
            let saved = try await M.call(browser, .post, "/api/connectors", token: token,
                                         ["connectorId": "aliyun-direct-mail", "config": config])
            #expect(saved.status == .ok)
            #expect(saved.json["config"]?["accessKeySecret"] == "******")
            #expect(!saved.text.contains("very-secret"))
            // Sending the masked configuration back keeps the secret.
            let roundTrip = try await M.call(browser, .patch, "/api/connectors/aliyun-direct-mail", token: token,
                                             ["config": try #require(saved.json["config"]), "enabled": true])
            #expect(roundTrip.json["enabled"] == true)
            #expect(try await fixture.runtime.connectors.store.connector(id: "aliyun-direct-mail")?
                .config["accessKeySecret"] == "very-secret")
            // The masked secret does not travel to a new endpoint.
            var moved = try #require(saved.json["config"]?.objectValue)
            moved["endpoint"] = "https://collector.example.com/"
            let refused = try await M.call(browser, .patch, "/api/connectors/aliyun-direct-mail", token: token,
                                           ["config": .object(moved)])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.json["message"]?.stringValue?.contains("accessKeySecret") == true)
            #expect(try await M.call(browser, .post, "/api/connectors", token: token,
                                     ["connectorId": "dev-console", "config": [:]]).status == .ok)
            #expect(try await M.call(browser, .post, "/api/connectors/dev-console/test", token: token,
                                     ["email": "alice@example.com"]).status == .noContent)
            #expect(try await M.call(browser, .post, "/api/connectors/nope/test", token: token,
                                     ["email": "alice@example.com"]).status == .notFound)
            #expect(try await M.call(browser, .delete, "/api/connectors/dev-console", token: token).status == .noContent)
            #expect(try await M.call(browser, .delete, "/api/connectors/dev-console", token: token).status == .notFound)
        }
    }
}

@Suite("Audit log")
struct AuditLogTests {
    typealias M = ManagementAPITests

    @Test func signInsTokensCodesAndAdminChangesAreLoggedWithoutSecrets() async throws {
        try await Fixture.withServer { fixture, browser in
            // A failed and a successful sign-in, a token grant, a code sent.
            let other = Browser(client: browser.client)
            let form = try await other.get("/sign-in")
            _ = try await other.post("/sign-in", form: [
                ("csrf_token", try #require(form.csrfToken)), ("identifier", "alice"), ("password", "wrong-password-1"),
            ])
            let authorization = try await CodeFlowTests.signIn(fixture, browser)
            _ = try await CodeFlowTests.exchange(fixture, browser, authorization)
            let codePage = try await other.get("/sign-in/code")
            _ = try await other.post("/sign-in/code/send", form: [
                ("csrf_token", try #require(codePage.csrfToken)), ("identifier", "alice@example.com"),
            ])
            let token = try await M.token(fixture, browser)
            _ = try await M.call(browser, .patch, "/api/sign-in-exp", token: token, ["branding": ["primaryColor": "#123456"]])

            let all = try await M.call(browser, .get, "/api/logs?page_size=100", token: token)
            #expect(all.status == .ok)
            let keys = Set((all.json.arrayValue ?? []).compactMap { $0["key"]?.stringValue })
            for key in ["SignIn.Failure", "SignIn.Success", "Token.authorization_code", "Token.client_credentials",
                        "VerificationCode.Sent", "Admin.SignInExperience.Update", "Admin.Change"] {
                #expect(keys.contains(key), "missing \(key)")
            }
            // Nothing secret is in the log.
            let (code, _) = try await ExperienceFlowTests.latestCode(browser, to: "alice@example.com")
            #expect(!all.text.contains(code))
            #expect(!all.text.contains(Fixture.password))
            #expect(!all.text.contains(fixture.webSecret))
            let byUser = try await M.call(browser, .get, "/api/logs?userId=\(fixture.user.id)", token: token)
            #expect((byUser.json.arrayValue ?? []).allSatisfy { $0["payload"]?["userId"]?.stringValue == fixture.user.id })
            #expect((byUser.json.arrayValue ?? []).contains { $0["key"] == "SignIn.Success" })
            let byKind = try await M.call(browser, .get, "/api/logs?logKey=Token.", token: token)
            #expect(byKind.headers[HTTPField.Name("Total-Number")!] == "2")
            let settings = try await M.call(browser, .get, "/api/logs?logKey=Admin.SignInExperience.Update", token: token)
            let change = try #require(settings.json.arrayValue?.first)
            #expect(change["payload"]?["before"]?["branding"]?["primaryColor"] == "#5D34F2")
            #expect(change["payload"]?["after"]?["branding"]?["primaryColor"] == "#123456")
            let future = try await M.call(browser, .get, "/api/logs?startTime=99999999999999", token: token)
            #expect(future.headers[HTTPField.Name("Total-Number")!] == "0")
            #expect(try await M.call(browser, .get, "/api/logs?startTime=yesterday", token: token).status == .badRequest)
        }
    }
}
