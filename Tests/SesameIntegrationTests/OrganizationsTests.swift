import Foundation
import HTTPTypes
import HummingbirdTesting
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Testing

/// Organizations over real HTTP on both databases: the Management API builds two organizations, and the token
/// endpoint gives a member different organization tokens for each and none for a third.
@Suite("Organizations")
struct OrganizationsTests {
    typealias API = ManagementAPITests
    static let scopes = "openid offline_access urn:logto:scope:organizations urn:logto:scope:organization_roles "
        + "invite:member read:books"

    private static func post(_ browser: Browser, _ path: String, token: String, _ body: JSONValue,
                             sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue
    {
        let response = try await API.call(browser, .post, path, token: token, body)
        #expect(response.status.code < 300, "POST \(path): \(response.json)", sourceLocation: sourceLocation)
        return response.json
    }

    private static func refresh(_ fixture: Fixture, _ browser: Browser, _ token: String, _ extra: [(String, String)])
        async throws -> Reply
    {
        try await browser.post("/oidc/token", form: [("grant_type", "refresh_token"), ("refresh_token", token)] + extra,
                               headers: [.authorization: basicAuthorization(fixture.webApp.client.id, fixture.webSecret)])
    }

    @Test(arguments: TestDatabase.available)
    func membersGetOneTokenPerOrganization(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let token = try await API.token(fixture, browser)
            let books = try #require(try await fixture.runtime.store.resource(indicator: Fixture.resource))
            let invite = try #require(try await Self.post(browser, "/api/organization-scopes", token: token,
                                                          ["name": "invite:member", "description": "Invite people"])["id"]?.stringValue)
            let admin = try #require(try await Self.post(browser, "/api/organization-roles", token: token, [
                "name": "admin", "organizationScopeIds": [.string(invite)],
                "resourceScopeIds": [.string(books.scopes[0].id)],
            ])["id"]?.stringValue)
            _ = try await Self.post(browser, "/api/organization-roles", token: token, ["name": "member"])
            let acme = try #require(try await Self.post(browser, "/api/organizations", token: token, [
                "name": "Acme", "description": "Rockets", "customData": ["plan": "pro"], "color": "#0A7D42",
                "branding": ["logoUrl": "https://acme.test/logo.png"],
            ])["id"]?.stringValue)
            let globex = try #require(try await Self.post(browser, "/api/organizations", token: token,
                                                          ["name": "Globex"])["id"]?.stringValue)
            let initech = try #require(try await Self.post(browser, "/api/organizations", token: token,
                                                           ["name": "Initech"])["id"]?.stringValue)
            let alice = fixture.user.id
            for organization in [acme, globex] {
                _ = try await Self.post(browser, "/api/organizations/\(organization)/users", token: token,
                                        ["userIds": [.string(alice)]])
            }
            _ = try await Self.post(browser, "/api/organizations/\(acme)/users/\(alice)/roles", token: token,
                                    ["organizationRoleIds": [.string(admin)]])
            _ = try await Self.post(browser, "/api/organizations/\(globex)/users/\(alice)/roles", token: token,
                                    ["organizationRoleNames": ["member"]])
            let members = try await API.call(browser, .get, "/api/organizations/\(acme)/users", token: token).json
            #expect(members.arrayValue?.first?["organizationRoles"]?.arrayValue?.first?["name"] == "admin")
            let memberships = try await API.call(browser, .get, "/api/users/\(alice)/organizations", token: token).json
            #expect(memberships.arrayValue?.compactMap { $0["name"]?.stringValue }.sorted() == ["Acme", "Globex"])
            #expect(try await API.call(browser, .get, "/api/organizations/\(acme)/users/\(alice)/scopes", token: token)
                .json.arrayValue?.compactMap { $0["name"]?.stringValue } == ["invite:member"])

            // Sign in as Logto's SDKs do: the organization scopes and the reserved resource.
            let authorization = try await CodeFlowTests.signIn(fixture, browser, scope: Self.scopes,
                                                               extra: [("resource", OrganizationToken.reservedResource),
                                                                       ("resource", Fixture.resource)])
            var body = try await CodeFlowTests.exchange(fixture, browser, authorization).json
            let userinfo = try await browser.get("/oidc/me", headers: [
                .authorization: "Bearer " + (body["access_token"]?.stringValue ?? ""),
            ]).json
            #expect(userinfo["organizations"]?.arrayValue?.count == 2)
            #expect(userinfo["organization_roles"]?.arrayValue?.contains(.string("\(acme):admin")) == true)
            #expect(userinfo["organization_data"]?.arrayValue?.contains { $0["name"] == "Acme" } == true)
            // Acme: the admin role's organization scope; Globex: none; Initech: not a member.
            var response = try await Self.refresh(fixture, browser, try #require(body["refresh_token"]?.stringValue),
                                                  [("organization_id", acme)])
            body = response.json
            var access = try await CodeFlowTests.verify(try #require(body["access_token"]?.stringValue), browser)
            #expect(access.claims["aud"]?.stringValue == "urn:logto:organization:\(acme)")
            #expect(access.claims["scope"] == "invite:member")
            response = try await Self.refresh(fixture, browser, try #require(body["refresh_token"]?.stringValue),
                                              [("organization_id", globex)])
            body = response.json
            access = try await CodeFlowTests.verify(try #require(body["access_token"]?.stringValue), browser)
            #expect(access.claims["aud"]?.stringValue == "urn:logto:organization:\(globex)" && access.claims["scope"] == nil)
            // The organization-level API token: read:books from the admin role in Acme (plus Alice's own roles).
            response = try await Self.refresh(fixture, browser, try #require(body["refresh_token"]?.stringValue),
                                              [("organization_id", acme), ("resource", Fixture.resource)])
            #expect(response.status == .ok, "\(response.json)")
            body = response.json
            access = try await CodeFlowTests.verify(try #require(body["access_token"]?.stringValue), browser)
            #expect(access.claims["organization_id"]?.stringValue == acme)
            #expect(access.claims["aud"]?.stringValue == Fixture.resource)
            response = try await Self.refresh(fixture, browser, try #require(body["refresh_token"]?.stringValue),
                                              [("organization_id", initech)])
            #expect(response.status == .forbidden && response.json["error"] == "access_denied")
            // The refused request did not spend the refresh token's successor... it spent the token: sign in again.
            let again = try await CodeFlowTests.signIn(fixture, browser, scope: Self.scopes)
            body = try await CodeFlowTests.exchange(fixture, browser, again).json
            // Removed from Acme: the next organization token is refused; changes show at once.
            #expect(try await API.call(browser, .delete, "/api/organizations/\(acme)/users/\(alice)", token: token)
                .status == .noContent)
            response = try await Self.refresh(fixture, browser, try #require(body["refresh_token"]?.stringValue),
                                              [("organization_id", acme)])
            #expect(response.status == .forbidden)

            // A machine-to-machine app: refused until it is a member, then its organization role decides.
            let machine = fixture.machine
            func clientCredentials() async throws -> Reply {
                try await browser.post("/oidc/token", form: [
                    ("grant_type", "client_credentials"), ("organization_id", globex), ("scope", "invite:member"),
                ], headers: [.authorization: basicAuthorization(machine.client.id, machine.secret ?? "")])
            }
            #expect(try await clientCredentials().status == .forbidden)
            let bot = try #require(try await Self.post(browser, "/api/organization-roles", token: token, [
                "name": "bot", "type": "MachineToMachine", "organizationScopeIds": [.string(invite)],
            ])["id"]?.stringValue)
            _ = try await Self.post(browser, "/api/organizations/\(globex)/applications", token: token,
                                    ["applicationIds": [.string(machine.client.id)]])
            _ = try await Self.post(browser, "/api/organizations/\(globex)/applications/\(machine.client.id)/roles",
                                    token: token, ["organizationRoleIds": [.string(bot)]])
            let appToken = try await clientCredentials().json
            access = try await CodeFlowTests.verify(try #require(appToken["access_token"]?.stringValue), browser)
            #expect(access.claims["aud"]?.stringValue == "urn:logto:organization:\(globex)")
            #expect(access.claims["scope"] == "invite:member" && access.claims["sub"]?.stringValue == machine.client.id)
        }
    }

    @Test(arguments: TestDatabase.available)
    func newUsersOfAProvisionedDomainJoinJustInTime(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let token = try await API.token(fixture, browser)
            let member = try #require(try await Self.post(browser, "/api/organization-roles", token: token,
                                                          ["name": "member"])["id"]?.stringValue)
            let acme = try #require(try await Self.post(browser, "/api/organizations", token: token,
                                                        ["name": "Acme"])["id"]?.stringValue)
            let domain = try await Self.post(browser, "/api/organizations/\(acme)/jit/email-domains", token: token,
                                             ["emailDomain": "Acme.test"])
            #expect(domain["emailDomain"] == "acme.test")
            _ = try await Self.post(browser, "/api/organizations/\(acme)/jit/roles", token: token,
                                    ["organizationRoleIds": [.string(member)]])
            let bad = try await API.call(browser, .post, "/api/organizations/\(acme)/jit/email-domains", token: token,
                                         ["emailDomain": "*.acme.test"])
            #expect(bad.status == .badRequest)
            // Erin registers with a verified @acme.test address: she is an Acme member with the member role.
            typealias Experience = ExperienceAPITests
            _ = try await Experience.call(browser, .put, "", ["interactionEvent": "Register"])
            let sent = try await Experience.call(browser, .post, "/verification/verification-code", [
                "identifier": ["type": "email", "value": "erin@acme.test"], "interactionEvent": "Register",
            ])
            let id = try #require(sent.json["verificationId"]?.stringValue)
            let (code, _) = try await ExperienceFlowTests.latestCode(browser, to: "erin@acme.test")
            _ = try await Experience.call(browser, .post, "/verification/verification-code/verify", [
                "identifier": ["type": "email", "value": "erin@acme.test"], "verificationId": .string(id),
                "code": .string(code),
            ])
            _ = try await Experience.call(browser, .post, "/identification", ["verificationId": .string(id)])
            _ = try await Experience.call(browser, .post, "/profile", ["type": "password", "value": "Velvet-Otter-93"])
            #expect(try await Experience.call(browser, .post, "/submit", [:]).status == .ok)
            let erin = try #require(try await fixture.runtime.store.user(identifier: "erin@acme.test"))
            let memberships = try await API.call(browser, .get, "/api/users/\(erin.id)/organizations", token: token).json
            #expect(memberships.arrayValue?.first?["id"]?.stringValue == acme)
            #expect(memberships.arrayValue?.first?["organizationRoles"]?.arrayValue?.first?["name"] == "member")
            // A user an administrator creates with such an address is not provisioned.
            let created = try await Self.post(browser, "/api/users", token: token, ["primaryEmail": "frank@acme.test"])
            let frank = try #require(created["id"]?.stringValue)
            #expect(try await API.call(browser, .get, "/api/users/\(frank)/organizations", token: token).json == [])
            // The settings read back, and go.
            #expect(try await API.call(browser, .get, "/api/organizations/\(acme)/jit/roles", token: token).json
                .arrayValue?.count == 1)
            #expect(try await API.call(browser, .delete, "/api/organizations/\(acme)/jit/email-domains/acme.test",
                                       token: token).status == .noContent)
            #expect(try await API.call(browser, .get, "/api/organizations/\(acme)/jit/email-domains", token: token)
                .json == [])
        }
    }

    @Test func theSignInPageShowsTheOrganizationsBranding() async throws {
        try await Fixture.withServer { fixture, browser in
            let token = try await API.token(fixture, browser)
            let acme = try #require(try await Self.post(browser, "/api/organizations", token: token, [
                "name": "Acme", "color": "#0A7D42", "branding": ["logoUrl": "https://acme.test/logo.png"],
            ])["id"]?.stringValue)
            func signInPage(organization: String?) async throws -> String {
                var query: [(String, String)] = [
                    ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback),
                    ("response_type", "code"), ("scope", "openid"), ("state", "s"),
                ]
                if let organization { query.append(("organization_id", organization)) }
                let started = try await browser.get("/oidc/auth?" + RequestParameters.encode(query))
                #expect(started.location == "/sign-in")
                return try await browser.get("/sign-in").text
            }
            let branded = try await signInPage(organization: acme)
            #expect(branded.contains("https://acme.test/logo.png") && branded.contains("#0A7D42"))
            let plain = try await signInPage(organization: "unknown-org")
            #expect(!plain.contains("acme.test") && !plain.contains("#0A7D42"))
            let malformed = try await browser.get("/oidc/auth?" + RequestParameters.encode([
                ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
                ("scope", "openid"), ("organization_id", "a b"),
            ]))
            #expect(malformed.redirectQuery["error"] == "invalid_request")
        }
    }

    @Test(arguments: TestDatabase.available)
    func theRulesAnswerWithLogtosCodes(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let token = try await API.token(fixture, browser)
            func expect(_ method: HTTPRequest.Method, _ path: String, _ body: JSONValue? = nil, status: Int,
                        code: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws
            {
                let response = try await API.call(browser, method, path, token: token, body)
                #expect(response.status.code == status, "\(method) \(path): \(response.json)",
                        sourceLocation: sourceLocation)
                if let code { #expect(response.json["code"]?.stringValue == code, sourceLocation: sourceLocation) }
            }
            let org = try #require(try await Self.post(browser, "/api/organizations", token: token,
                                                       ["name": "Acme"])["id"]?.stringValue)
            let role = try #require(try await Self.post(browser, "/api/organization-roles", token: token,
                                                        ["name": "admin"])["id"]?.stringValue)
            let bot = try #require(try await Self.post(browser, "/api/organization-roles", token: token,
                                                       ["name": "bot", "type": "MachineToMachine"])["id"]?.stringValue)
            let user = fixture.user.id
            let management = try #require(try await fixture.runtime.store.resource(indicator: API.managementResource))
            try await expect(.post, "/api/organization-roles", ["name": "admin"], status: 422,
                             code: "organization_role.name_in_use")
            try await expect(.post, "/api/organization-roles", ["name": "x", "resourceScopeIds": [
                .string(management.scopes[0].id)]], status: 422)
            try await expect(.post, "/api/organization-scopes", ["name": "two words"], status: 400)
            try await expect(.post, "/api/organizations/\(org)/users/\(user)/roles",
                             ["organizationRoleIds": [.string(role)]], status: 422, code: "organization.require_membership")
            try await expect(.post, "/api/organizations/\(org)/users", ["userIds": [.string(user)]], status: 201)
            try await expect(.post, "/api/organizations/\(org)/users/\(user)/roles",
                             ["organizationRoleIds": [.string(bot)]], status: 422, code: "organization.invalid_role_type")
            try await expect(.post, "/api/organizations/\(org)/users/\(user)/roles",
                             ["organizationRoleNames": ["ghost"]], status: 422, code: "organization.role_names_not_found")
            try await expect(.post, "/api/organizations/\(org)/applications",
                             ["applicationIds": [.string(fixture.webApp.client.id)]], status: 422,
                             code: "application.invalid_type")
            try await expect(.put, "/api/organizations/\(org)/users/\(user)/roles", ["organizationRoleIds": []],
                             status: 204)
            for (method, path, body) in [
                (HTTPRequest.Method.get, "/api/organizations/nope", nil), (.patch, "/api/organizations/nope", ["name": "x"]),
                (.delete, "/api/organizations/nope", nil), (.get, "/api/organizations/nope/users", nil),
                (.post, "/api/organizations/\(org)/users", ["userIds": ["nope"]]),
                (.delete, "/api/organizations/\(org)/users/nope", nil),
                (.get, "/api/organization-roles/nope", nil), (.get, "/api/organization-scopes/nope", nil),
                (.post, "/api/organization-roles/\(role)/scopes", ["organizationScopeIds": ["nope"]]),
                (.post, "/api/organization-roles/\(role)/resource-scopes", ["scopeIds": ["nope"]]),
                (.get, "/api/users/nope/organizations", nil), (.get, "/api/applications/nope/organizations", nil),
                (.post, "/api/organizations/\(org)/users/\(user)/roles", ["organizationRoleIds": ["nope"]]),
            ] as [(HTTPRequest.Method, String, JSONValue?)] {
                try await expect(method, path, body, status: 404)
            }
            for (method, path, body) in [
                (HTTPRequest.Method.post, "/api/organizations", [:]),
                (.post, "/api/organizations", ["name": "x", "color": "green"]),
                (.post, "/api/organizations", ["name": "x", "branding": ["logoUrl": "http://insecure.test/a.png"]]),
                (.post, "/api/organizations", ["name": "x", "customData": "text"]),
                (.post, "/api/organizations", ["name": "x", "tenant": "t"]),
                (.post, "/api/organizations", ["name": .string(String(repeating: "n", count: 129))]),
                (.patch, "/api/organizations/\(org)", ["isMfaRequired": "yes"]),
                (.post, "/api/organizations/\(org)/users", ["userIds": []]),
                (.post, "/api/organizations/\(org)/users/roles", ["userIds": [.string(user)]]),
            ] as [(HTTPRequest.Method, String, JSONValue)] {
                try await expect(method, path, body, status: 400)
            }
            // Deleting the organization ends the membership.
            try await expect(.delete, "/api/organizations/\(org)", status: 204)
            #expect(try await API.call(browser, .get, "/api/users/\(user)/organizations", token: token).json == [])
            // Every organization route is refused without a Management API token.
            let document = try await browser.get("/api/swagger.json").json
            let paths = (document["paths"]?.objectValue?.keys).map { Array($0) }?.filter { $0.contains("organization") } ?? []
            #expect(paths.count >= 14)
            for path in paths {
                let concrete = path.replacingOccurrences(of: #"\{[A-Za-z]+\}"#, with: "x", options: .regularExpression)
                for method in Array(document["paths"]?[path]?.objectValue?.keys ?? [:].keys) {
                    let response = try await browser.send(concrete, method: HTTPRequest.Method(method.uppercased())!,
                                                           headers: [:], body: nil)
                    #expect(response.status == .unauthorized, "\(method) \(concrete)")
                }
            }
        }
    }
}
