import Foundation
import SesameIdentity
import SesameOIDC
import SesameStorage
import Testing

/// What JWT client authentication keeps (RFC 7523, OpenID Connect Core §9), on SQLite and PostgreSQL: the method
/// and keys round-trip, sealed secrets exist only for `client_secret_jwt` applications and only for secrets they
/// still have, a rotation re-seals them, and a `jti` is spent once even when requests race.
@Suite("Client assertion storage")
struct ClientAssertionStoreTests {
    @Test(arguments: Backend.available)
    func methodKeysAndSealedSecretsFollowTheApplication(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let service = ApplicationService(store: store)
            let ec = try SigningKey.generate(.es256, now: Date())
            // private_key_jwt with an inline JWK Set round-trips; nothing is kept recoverable.
            let signed = try await service.create(
                name: "Signed", type: .machineToMachine, redirectURIs: [], postLogoutRedirectURIs: [],
                authentication: .init(method: .privateKeyJWT, jwks: ["keys": [ec.publicKey.jwk]], signingAlg: "ES256"))
            let stored = try #require(try await store.client(id: signed.client.id))
            var expected = signed.client
            expected.createdAt = stored.createdAt  // stored to the millisecond
            #expect(stored == expected)
            #expect(stored.tokenEndpointAuthMethod == .privateKeyJWT)
            #expect(stored.jwks == ["keys": [ec.publicKey.jwk]])
            #expect(stored.tokenEndpointAuthSigningAlg == "ES256")
            #expect(try await store.recoverableSecrets(clientID: signed.client.id).isEmpty)
            // Its key is its credential: no secret was made, and none can be added.
            #expect(signed.secret == nil && stored.secretHash == nil)
            await #expect(throws: IdentityError.self) {
                _ = try await service.addSecret(applicationID: signed.client.id, name: "x", expiresAt: nil)
            }
            await #expect(throws: IdentityError.self) { _ = try await service.rotateSecret(id: signed.client.id) }

            // client_secret_jwt keeps the secret sealed (never in clear in the row), and only while it uses it.
            let maced = try await service.create(name: "MACed", type: .traditional, redirectURIs: ["https://a.test/cb"],
                                                 postLogoutRedirectURIs: [],
                                                 authentication: .init(method: .clientSecretJWT))
            let secret = try #require(maced.secret)
            #expect(try await store.recoverableSecrets(clientID: maced.client.id) == [secret])
            let rows = try await store.database.query("SELECT sealed_secret FROM application_sealed_secrets")
            #expect(rows.count == 1)
            #expect(try rows.allSatisfy { !(try $0.string("sealed_secret")).contains(secret) })
            // A named secret added while it uses client_secret_jwt is kept too; deleting it drops its copy.
            let named = try await service.addSecret(applicationID: maced.client.id, name: "next", expiresAt: nil)
            #expect(Set(try await store.recoverableSecrets(clientID: maced.client.id)) == [secret, named.value])
            try await service.deleteSecret(applicationID: maced.client.id, name: "next")
            #expect(try await store.recoverableSecrets(clientID: maced.client.id) == [secret])
            // Rotating the original secret replaces its copy.
            let rotated = try await service.rotateSecret(id: maced.client.id)
            #expect(try await store.recoverableSecrets(clientID: maced.client.id) == [try #require(rotated.secret)])
            // Leaving client_secret_jwt drops every copy; coming back keeps none until a new secret is made.
            _ = try await service.update(id: maced.client.id, .init(authentication: .init(method: .some(nil))))
            #expect(try await store.recoverableSecrets(clientID: maced.client.id).isEmpty)
            _ = try await service.update(id: maced.client.id, .init(authentication: .init(method: .clientSecretJWT)))
            #expect(try await store.recoverableSecrets(clientID: maced.client.id).isEmpty)
            // Switching to private_key_jwt drops every secret, named ones included: none comes back when switching away.
            _ = try await service.addSecret(applicationID: maced.client.id, name: "kept?", expiresAt: nil)
            _ = try await service.update(id: maced.client.id, .init(authentication: .init(
                method: .privateKeyJWT, jwks: ["keys": [ec.publicKey.jwk]])))
            let keyed = try #require(try await store.client(id: maced.client.id))
            #expect(keyed.secretHash == nil && keyed.secrets.isEmpty)
            #expect(try await store.recoverableSecrets(clientID: maced.client.id).isEmpty)
            _ = try await service.update(id: maced.client.id, .init(authentication: .init(method: .some(nil))))
            #expect(try await store.client(id: maced.client.id)?.secretHash == nil)
            // Back on client_secret_jwt with a new secret; a named secret's sealed copy is swept once it expires.
            _ = try await service.update(id: maced.client.id, .init(authentication: .init(method: .clientSecretJWT)))
            let fresh = try #require(try await service.rotateSecret(id: maced.client.id).secret)
            let short = try await service.addSecret(applicationID: maced.client.id, name: "short",
                                                    expiresAt: Date().addingTimeInterval(60))
            #expect(Set(try await store.recoverableSecrets(clientID: maced.client.id)) == [fresh, short.value])
            try await store.deleteExpired(before: Date().addingTimeInterval(120))
            #expect(try await store.recoverableSecrets(clientID: maced.client.id) == [fresh])
            // Deleting the application leaves no sealed secret behind.
            try await service.delete(id: maced.client.id)
            #expect(try await store.database.query("SELECT id FROM application_sealed_secrets").isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func registrationRefusesWhatCannotWork(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let service = ApplicationService(store: store)
            let ec = try SigningKey.generate(.es256, now: Date())
            func phrase(_ type: ApplicationType, _ settings: ClientAuthenticationSettings) async -> String? {
                do {
                    _ = try await service.create(name: "X", type: type, redirectURIs: [], postLogoutRedirectURIs: [],
                                                 authentication: settings)
                    return nil
                } catch let error as IdentityError {
                    return error.phrase
                } catch {
                    return "\(error)"
                }
            }
            let jwks: JSONValue = ["keys": [ec.publicKey.jwk]]
            #expect(await phrase(.machineToMachine, .init(method: .privateKeyJWT)) == "application.private_key_jwt_needs_keys")
            #expect(await phrase(.machineToMachine, .init(method: .privateKeyJWT, jwks: jwks,
                                                          jwksURI: "https://k.test/jwks")) == "application.jwks_and_uri")
            #expect(await phrase(.spa, .init(method: .privateKeyJWT, jwks: jwks)) == "application.auth_method_type")
            #expect(await phrase(.machineToMachine, .init(method: ClientAuthenticationMethod.none))
                == "application.auth_method_type")
            #expect(await phrase(.machineToMachine, .init(method: .privateKeyJWT, jwks: ["keys": "x"]))
                == "application.jwks_invalid")
            #expect(await phrase(.spa, .init(jwks: jwks)) == "application.public_has_no_keys")
            #expect(await phrase(.native, .init(signingAlg: "RS256")) == "application.public_has_no_keys")
            for uri in ["http://keys.example.test/jwks", "ftp://k.test/jwks", "https://k.test/jwks#x",
                        "https://user:pw@k.test/jwks", "https://k.test/\u{0}", "not a url", ""]
            {
                #expect(await phrase(.machineToMachine, .init(method: .privateKeyJWT, jwksURI: uri))
                    == "application.jwks_uri_invalid", "\(uri)")
            }
            #expect(await phrase(.machineToMachine, .init(method: .privateKeyJWT, jwks: jwks, signingAlg: "HS256"))
                == "input.one_of")
            #expect(await phrase(.machineToMachine, .init(method: .clientSecretJWT, signingAlg: "ES256")) == "input.one_of")
            #expect(await phrase(.machineToMachine, .init(method: .privateKeyJWT, jwksURI: "http://127.0.0.1:9/jwks"))
                == nil)
            // Nothing refused was stored.
            #expect(try await store.clients().count == 1)
        }
    }

    @Test(arguments: Backend.available)
    func aJTIIsSpentOnceEvenWhenRequestsRace(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let expiresAt = Date().addingTimeInterval(60)
            let successes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await store.useClientAssertion(clientID: "c", jti: "j-1", expiresAt: expiresAt) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(successes == 1)
            // Another client may use the same jti; the expiry sweep forgets spent ones.
            #expect(try await store.useClientAssertion(clientID: "d", jti: "j-1", expiresAt: expiresAt))
            try await store.deleteExpired(before: expiresAt.addingTimeInterval(1))
            #expect(try await store.useClientAssertion(clientID: "c", jti: "j-1", expiresAt: expiresAt))
        }
    }

    @Test(arguments: Backend.available)
    func aSecretRotationReSealsClientSecrets(_ backend: Backend) async throws {
        let old = String(repeating: "k", count: 32)
        let new = String(repeating: "n", count: 32)
        try await withStore(backend) { store in
            try await store.verifySecret(old)
            let created = try await ApplicationService(store: store).create(
                name: "MACed", type: .machineToMachine, redirectURIs: [], postLogoutRedirectURIs: [],
                authentication: .init(method: .clientSecretJWT))
            let rotation = try await store.rotateSecret(from: old, to: new)
            #expect(rotation.applicationSecrets == 1)
            let rotated = SQLStore(database: store.database, secretBox: SecretBox(secret: new), secret: new)
            #expect(try await rotated.recoverableSecrets(clientID: created.client.id) == [try #require(created.secret)])
            await #expect(throws: SecretBox.DecryptionError.self) {
                _ = try await store.recoverableSecrets(clientID: created.client.id)
            }
        }
    }
}
