import Foundation
import HTTPTypes
import Logging
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Testing

/// One current key per algorithm and an ID token algorithm per application (OpenID Connect Registration
/// `id_token_signed_response_alg`): an RS256 relying party and the seed's ES384 Auth.js app on one server.
@Suite("ID token algorithms per application")
struct SigningAlgorithmTests {
    /// The code flow for `app` (the browser may already be signed in), returning the token response.
    static func tokens(_ fixture: Fixture, _ browser: Browser, app: ApplicationService.Created, redirectURI: String)
        async throws -> JSONValue
    {
        try await tokens(fixture, browser, clientID: app.client.id, secret: app.secret ?? "", redirectURI: redirectURI)
    }

    static func tokens(_ fixture: Fixture, _ browser: Browser, clientID: String, secret: String, redirectURI: String)
        async throws -> JSONValue
    {
        let authorization = try await CodeFlowTests.signIn(fixture, browser, clientID: clientID, redirectURI: redirectURI)
        let response = try await browser.post("/oidc/token", form: [
            ("grant_type", "authorization_code"), ("code", authorization.code), ("redirect_uri", redirectURI),
            ("code_verifier", authorization.verifier),
        ], headers: [.authorization: basicAuthorization(clientID, secret)])
        #expect(response.status == .ok)
        return response.json
    }

    @Test(arguments: TestDatabase.available)
    func anRS256AppAndTheSeedsES384AppShareOneServer(_ database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let legacy = try await fixture.runtime.applications.create(
                name: "Legacy RP", type: .traditional, redirectURIs: [Fixture.secondCallback], postLogoutRedirectURIs: [],
                idTokenSignedResponseAlg: .rs256)
            let seed = try await Self.tokens(fixture, browser, app: fixture.webApp, redirectURI: Fixture.callback)
            let seedToken = try await CodeFlowTests.verify(try #require(seed["id_token"]?.stringValue), browser)
            #expect(seedToken.header["alg"] == "ES384")
            let rs = try await Self.tokens(fixture, browser, app: legacy, redirectURI: Fixture.secondCallback)
            let rsToken = try await CodeFlowTests.verify(try #require(rs["id_token"]?.stringValue), browser)
            #expect(rsToken.header["alg"] == "RS256")
            #expect(rsToken.claims["aud"]?.stringValue == legacy.client.id)
            // at_hash follows the token's algorithm (SHA-256 for RS256, OIDC Core §3.1.3.6).
            #expect(rsToken.claims["at_hash"]?.stringValue
                == JWT.halfHash(try #require(rs["access_token"]?.stringValue), algorithm: .rs256))
            // A refresh keeps the application's algorithm.
            let refreshed = try await browser.post("/oidc/token", form: [
                ("grant_type", "refresh_token"), ("refresh_token", try #require(rs["refresh_token"]?.stringValue)),
            ], headers: [.authorization: basicAuthorization(legacy.client.id, legacy.secret ?? "")])
            let refreshedToken = try await CodeFlowTests.verify(try #require(refreshed.json["id_token"]?.stringValue), browser)
            #expect(refreshedToken.header["alg"] == "RS256")
            // The JWKS has both keys; the RSA modulus is 2048 bits; discovery lists the default first.
            let keys = try await browser.get("/oidc/jwks").json["keys"]?.arrayValue ?? []
            #expect(Set(keys.compactMap { $0["kty"]?.stringValue }) == ["EC", "RSA", "OKP"])
            let modulus = try #require(keys.first { $0["kty"] == "RSA" }?["n"]?.stringValue)
            #expect(try #require(Base64URL.decode(modulus)).count * 8 >= 2048)
            let document = try await browser.get("/oidc/.well-known/openid-configuration").json
            #expect(document["id_token_signing_alg_values_supported"]?.arrayValue?.prefix(2) == ["ES384", "RS256"])
            // Rotating RS256 leaves the ES384 key signing.
            let rotated = try await fixture.runtime.rotateKeys(algorithm: .rs256, immediately: true)
            let again = try await Self.tokens(fixture, browser, app: legacy, redirectURI: Fixture.secondCallback)
            #expect(try await CodeFlowTests.verify(try #require(again["id_token"]?.stringValue), browser)
                .header["kid"]?.stringValue == rotated.kid)
            let seedAgain = try await Self.tokens(fixture, browser, app: fixture.webApp, redirectURI: Fixture.callback)
            #expect(try await CodeFlowTests.verify(try #require(seedAgain["id_token"]?.stringValue), browser)
                .header["kid"] == seedToken.header["kid"])
        }
    }

    /// `SESAME_SIGNING_ALG` picks the default algorithm: access tokens for API resources are signed with it.
    @Test func theDefaultAlgorithmIsConfigurable() async throws {
        let secret = String(repeating: "s", count: 40)
        let configuration = try ConfigurationLoader(environment: ["SESAME_SECRET": secret, "SESAME_SIGNING_ALG": "ES256"])
            .load()
        #expect(configuration.defaultSigningAlgorithm == .es256)
        #expect(throws: ConfigurationError.self) {
            _ = try ConfigurationLoader(environment: ["SESAME_SECRET": secret, "SESAME_SIGNING_ALG": "HS256"]).load()
        }
        try await TestDatabase.sqlite.withURL { url in
            var server = configuration
            server.databaseURL = url
            let runtime = try await SesameRuntime.open(server, logger: Logger(label: "sesame.tests"))
            do {
                let snapshot = try await runtime.provider.keys.snapshot()
                #expect(snapshot.current.algorithm == .es256)
                #expect(Set(snapshot.currentByAlgorithm.keys) == [.es256, .es384, .rs256, .edDSA])
            } catch {
                try? await runtime.close()
                throw error
            }
            try await runtime.close()
        }
    }

    @Test func theManagementAPIAndTheConsoleChooseTheAlgorithm() async throws {
        try await Fixture.withServer { fixture, browser in
            let token = try await ManagementAPITests.token(fixture, browser)
            let created = try await ManagementAPITests.call(browser, .post, "/api/applications", token: token, [
                "name": "Edwards", "type": "Traditional",
                "oidcClientMetadata": ["redirectUris": [.string(Fixture.secondCallback)], "idTokenSignedResponseAlg": "EdDSA"],
            ])
            #expect(created.status == .ok)
            #expect(created.json["oidcClientMetadata"]?["idTokenSignedResponseAlg"] == "EdDSA")
            let id = try #require(created.json["id"]?.stringValue)
            let secret = try #require(created.json["secret"]?.stringValue)
            // The EdDSA key made at first start signs this app's ID tokens.
            let tokens = try await Self.tokens(fixture, browser, clientID: id, secret: secret,
                                               redirectURI: Fixture.secondCallback)
            let verified = try await CodeFlowTests.verify(try #require(tokens["id_token"]?.stringValue), browser)
            #expect(verified.header["alg"] == "EdDSA")
            // Back to the default with null; a value Sesame does not sign with is refused.
            let reset = try await ManagementAPITests.call(browser, .patch, "/api/applications/\(id)", token: token,
                                                          ["oidcClientMetadata": ["idTokenSignedResponseAlg": .null]])
            #expect(reset.json["oidcClientMetadata"]?["idTokenSignedResponseAlg"] == "ES384")
            for bad: JSONValue in ["HS256", "none", 5, ["RS256"]] {
                let refused = try await ManagementAPITests.call(browser, .patch, "/api/applications/\(id)", token: token,
                                                                ["oidcClientMetadata": ["idTokenSignedResponseAlg": bad]])
                #expect(refused.status == .badRequest, "\(bad)")
            }
            #expect(try await fixture.runtime.applications.application(id: id).idTokenSignedResponseAlg == nil)
            // A PATCH without the field leaves it alone.
            _ = try await ManagementAPITests.call(browser, .patch, "/api/applications/\(id)", token: token,
                                                  ["oidcClientMetadata": ["idTokenSignedResponseAlg": "RS256"]])
            _ = try await ManagementAPITests.call(browser, .patch, "/api/applications/\(id)", token: token, ["name": "Renamed"])
            #expect(try await fixture.runtime.applications.application(id: id).idTokenSignedResponseAlg == .rs256)

            // The Console's application page: a select, saved with the other settings; a forged value is refused.
            try await ConsoleTests.signIn(fixture, browser)
            let path = "/console/applications/\(fixture.secondApp.client.id)"
            let page = try await browser.get(path)
            #expect(page.text.contains(#"<select id="idTokenAlg" name="idTokenAlg""#))
            let fields: [(String, String)] = [("name", "Reader"), ("description", ""),
                                              ("redirectUris", Fixture.secondCallback), ("postLogoutRedirectUris", "")]
            let saved = try await ConsoleTests.submit(browser, page: path, to: path, fields + [("idTokenAlg", "RS256")])
            #expect(saved.status == .seeOther)
            #expect(try await fixture.runtime.applications.application(id: fixture.secondApp.client.id)
                .idTokenSignedResponseAlg == .rs256)
            #expect(try await browser.get(path).text.contains(#"<option value="RS256" selected>"#))
            let forged = try await ConsoleTests.submit(browser, page: path, to: path, fields + [("idTokenAlg", "HS256")])
            #expect(forged.status == .badRequest)
            let reset2 = try await ConsoleTests.submit(browser, page: path, to: path, fields + [("idTokenAlg", "default")])
            #expect(reset2.status == .seeOther)
            #expect(try await fixture.runtime.applications.application(id: fixture.secondApp.client.id)
                .idTokenSignedResponseAlg == nil)
        }
    }
}
