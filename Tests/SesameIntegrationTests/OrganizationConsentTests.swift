import Foundation
import HTTPTypes
import HummingbirdTesting
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Testing

/// Third-party apps see only the organizations the user consented to (Logto's consent organizations): picked on
/// the consent page or set through the Management API, withdrawn when the membership ends.
@Suite("Organization consent")
struct OrganizationConsentTests {
    typealias API = ManagementAPITests
    static let partnerCallback = "https://partner.example.com/callback"

    @Test(arguments: TestDatabase.available)
    func thirdPartyAppsGetOnlyConsentedOrganizations(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let runtime = fixture.runtime
            let alice = fixture.user.id
            let partner = try await runtime.applications.create(
                name: "Partner", type: .traditional, redirectURIs: [Self.partnerCallback], postLogoutRedirectURIs: [],
                isThirdParty: true)
            let acme = try await runtime.organizations.create(.init(name: "Acme"))
            let globex = try await runtime.organizations.create(.init(name: "Globex"))
            let initech = try await runtime.organizations.create(.init(name: "Initech"))
            try await runtime.organizations.addMembers([.account(alice)], to: acme.id)
            try await runtime.organizations.addMembers([.account(alice)], to: globex.id)
            _ = try await runtime.store.saveIDTokenConfig(IDTokenConfig(enabledExtendedClaims: ["organizations"]))

            // The consent page lists her organizations; she picks Acme (and a forged Initech, which she is not in).
            let verifier = SecureRandom.token(bytes: 48)
            let query: [(String, String)] = [
                ("client_id", partner.client.id), ("redirect_uri", Self.partnerCallback), ("response_type", "code"),
                ("scope", "openid offline_access urn:logto:scope:organizations"), ("state", "s"),
                ("code_challenge", PKCE.challenge(for: verifier)), ("code_challenge_method", "S256"),
            ]
            _ = try await browser.get("/oidc/auth?" + RequestParameters.encode(query))
            let form = try await browser.get("/sign-in")
            _ = try await browser.post("/sign-in", form: [
                ("csrf_token", try #require(form.csrfToken)), ("identifier", "alice"), ("password", Fixture.password),
            ])
            let resumed = try await browser.get("/oidc/auth/resume")
            #expect(resumed.location == "/consent")
            let consent = try await browser.get("/consent")
            #expect(consent.text.contains(#"name="organizationIds" value="\#(acme.id)""#))
            #expect(consent.text.contains(#"name="organizationIds" value="\#(globex.id)""#))
            #expect(!consent.text.contains(initech.id))
            _ = try await browser.post("/consent", form: [
                ("csrf_token", try #require(consent.csrfToken)), ("decision", "allow"),
                ("organizationIds", acme.id), ("organizationIds", initech.id),
            ])
            let back = try await browser.get("/oidc/auth/resume")
            let code = try #require(back.redirectQuery["code"])
            let auth = basicAuthorization(partner.client.id, partner.secret ?? "")
            let tokens = try await browser.post("/oidc/token", form: [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Self.partnerCallback),
                ("code_verifier", verifier),
            ], headers: [.authorization: auth])
            #expect(tokens.status == .ok, "\(tokens.json)")
            let idToken = try await CodeFlowTests.verify(try #require(tokens.json["id_token"]?.stringValue), browser)
            #expect(idToken.claims["organizations"] == [.string(acme.id)])
            let userinfo = try await browser.get("/oidc/me", headers: [
                .authorization: "Bearer " + (tokens.json["access_token"]?.stringValue ?? ""),
            ])
            #expect(userinfo.json["organizations"] == [.string(acme.id)])
            #expect(userinfo.json["organization_data"]?.arrayValue?.map { $0["name"] } == ["Acme"])

            var refresh = try #require(tokens.json["refresh_token"]?.stringValue)
            func organizationToken(_ organization: String) async throws -> Reply {
                let answer = try await browser.post("/oidc/token", form: [
                    ("grant_type", "refresh_token"), ("refresh_token", refresh), ("organization_id", organization),
                ], headers: [.authorization: auth])
                if let next = answer.json["refresh_token"]?.stringValue { refresh = next }
                return answer
            }
            #expect(try await organizationToken(acme.id).status == .ok)
            for refused in [globex.id, initech.id] {
                let answer = try await organizationToken(refused)
                #expect(answer.status == .forbidden && answer.json["error"] == "access_denied")
            }

            // The Management API's view of the same consent, and its refusals.
            let token = try await API.token(fixture, browser)
            let path = "/api/applications/\(partner.client.id)/users/\(alice)/consent-organizations"
            let listed = try await API.call(browser, .get, path, token: token)
            #expect(listed.json["organizations"]?.arrayValue?.map { $0["id"] } == [.string(acme.id)])
            #expect(try await API.call(browser, .put, path, token: token,
                                       ["organizationIds": [.string(globex.id)]]).status == .noContent)
            #expect(try await organizationToken(globex.id).status == .ok)
            #expect(try await organizationToken(acme.id).status == .forbidden)
            let outsider = try await API.call(browser, .post, path, token: token, ["organizationIds": [.string(initech.id)]])
            #expect(outsider.status == .unprocessableContent && outsider.json["code"] == "organization.require_membership")
            #expect(try await API.call(browser, .post, path, token: token,
                                       ["organizationIds": ["nope"]]).status == .notFound)
            let firstParty = try await API.call(
                browser, .get, "/api/applications/\(fixture.webApp.client.id)/users/\(alice)/consent-organizations",
                token: token)
            #expect(firstParty.status == .unprocessableContent
                && firstParty.json["code"] == "application.third_party_application_only")
            #expect(try await API.call(browser, .get, "/api/applications/nope/users/\(alice)/consent-organizations",
                                       token: token).status == .notFound)
            #expect(try await API.call(browser, .get,
                                       "/api/applications/\(partner.client.id)/users/nobody/consent-organizations",
                                       token: token).status == .notFound)

            // Leaving the organization withdraws the consent to it.
            try await runtime.organizations.removeMember(.account(alice), from: globex.id)
            #expect(try await API.call(browser, .get, path, token: token).json["organizations"]?.arrayValue?.isEmpty == true)
            try await runtime.organizations.addMembers([.account(alice)], to: globex.id)
            #expect(try await organizationToken(globex.id).status == .forbidden)
            #expect(try await API.call(browser, .post, path, token: token,
                                       ["organizationIds": [.string(globex.id)]]).status == .created)
            #expect(try await API.call(browser, .delete, path + "/\(globex.id)", token: token).status == .noContent)
            #expect(try await API.call(browser, .delete, path + "/\(globex.id)", token: token).status == .notFound)
        }
    }
}
