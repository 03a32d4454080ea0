import Foundation
import HTTPTypes
import SesameIdentity
import SesameOIDC
import Testing

/// The standard profile (Logto's `profile`) through the Management API, released as OpenID Connect's standard claims
/// with the `profile` and `address` scopes (Core §5.1, §5.1.1).
@Suite("Standard profile claims")
struct ProfileClaimsTests {
    @Test(arguments: TestDatabase.available)
    func theProfileAndAddressReachTheTokensAndUserinfo(_ database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let token = try await ManagementAPITests.token(fixture, browser)
            let path = "/api/users/\(fixture.user.id)/profile"
            let set = try await ManagementAPITests.call(browser, .patch, path, token: token, ["profile": [
                "givenName": "Alice", "familyName": "Liddell", "locale": "en-GB",
                "address": ["streetAddress": "1 Rabbit Hole", "locality": "Oxford", "postalCode": "OX1 1AA",
                            "country": "GB"],
            ]])
            #expect(set.status == .ok)
            #expect(set.json["address"]?["locality"] == "Oxford")
            // Field by field: null clears, the rest stays.
            let merged = try await ManagementAPITests.call(browser, .patch, path, token: token, ["profile": [
                "locale": .null, "website": "https://alice.example", "address": ["region": "Oxfordshire"],
            ]])
            #expect(merged.json["locale"] == nil)
            #expect(merged.json["givenName"] == "Alice")
            #expect(merged.json["address"]?["region"] == "Oxfordshire")
            #expect(merged.json["address"]?["country"] == "GB")
            let shown = try await ManagementAPITests.call(browser, .get, "/api/users/\(fixture.user.id)", token: token)
            #expect(shown.json["profile"]?["website"] == "https://alice.example")

            let authorization = try await CodeFlowTests.signIn(fixture, browser, scope: "openid profile address")
            let tokens = try await CodeFlowTests.exchange(fixture, browser, authorization).json
            let claims = try await CodeFlowTests.verify(try #require(tokens["id_token"]?.stringValue), browser).claims
            #expect(claims["given_name"] == "Alice")
            #expect(claims["family_name"] == "Liddell")
            #expect(claims["website"] == "https://alice.example")
            #expect(claims["locale"] == nil)
            #expect(claims["address"]?["street_address"] == "1 Rabbit Hole")
            #expect(claims["address"]?["postal_code"] == "OX1 1AA")
            #expect(claims["updated_at"]?.intValue != nil)
            let userinfo = try await browser.get("/oidc/me", headers: [
                .authorization: "Bearer \(try #require(tokens["access_token"]?.stringValue))",
            ]).json
            #expect(userinfo["address"]?["locality"] == "Oxford")
            #expect(userinfo["given_name"] == "Alice")
            // Without the address scope, no address.
            let narrow = try await CodeFlowTests.signIn(fixture, browser, scope: "openid profile")
            let narrowTokens = try await CodeFlowTests.exchange(fixture, browser, narrow).json
            #expect(try await CodeFlowTests.verify(try #require(narrowTokens["id_token"]?.stringValue), browser)
                .claims["address"] == nil)
            let document = try await browser.get("/oidc/.well-known/openid-configuration").json
            #expect(document["scopes_supported"]?.arrayValue?.contains("address") == true)
            #expect(document["claims_supported"]?.arrayValue?.contains("address") == true)

            // A user created with a profile; bad profiles refused with nothing changed.
            let created = try await ManagementAPITests.call(browser, .post, "/api/users", token: token, [
                "username": "bob", "profile": ["nickname": "Bobby", "address": ["country": "NZ"]],
            ])
            #expect(created.json["profile"]?["nickname"] == "Bobby")
            #expect(created.json["profile"]?["address"]?["country"] == "NZ")
            for bad: JSONValue in [["age": 3], ["givenName": 5], ["givenName": .string(String(repeating: "a", count: 257))],
                                   ["address": "Oxford"], ["address": ["planet": "Earth"]], ["givenName": "A\u{0}B"]] {
                let refused = try await ManagementAPITests.call(browser, .patch, path, token: token, ["profile": bad])
                #expect(refused.status == .badRequest, "\(bad)")
            }
            let notObject = try await ManagementAPITests.call(browser, .patch, path, token: token, ["profile": ["x"]])
            #expect(notObject.status == .badRequest)
            let after = try await ManagementAPITests.call(browser, .get, "/api/users/\(fixture.user.id)", token: token)
            #expect(after.json["profile"] == merged.json)
        }
    }
}
