import Crypto
import Foundation
import SesameOIDC
import Synchronization
import Testing

/// A `KeySetFetcher` serving one JWK Set from memory, counting fetches; `failing` makes every fetch throw.
final class FakeKeySetFetcher: KeySetFetcher {
    struct Down: Error {}
    let document = Mutex<JSONValue>(["keys": []])
    let fetches = Atomic<Int>(0)
    let failing = Atomic<Bool>(false)
    /// Milliseconds each fetch takes.
    let delay = Atomic<Int>(0)

    func fetchKeySet(from uri: String) async throws -> Data {
        fetches.add(1, ordering: .relaxed)
        let milliseconds = delay.load(ordering: .relaxed)
        if milliseconds > 0 { try await Task.sleep(nanoseconds: UInt64(milliseconds) * 1_000_000) }
        if failing.load(ordering: .relaxed) { throw Down() }
        return document.withLock { $0.encoded() }
    }
}

/// `private_key_jwt` and `client_secret_jwt` (RFC 7523 §2.2 and §3, OpenID Connect Core §9) at the token,
/// introspection and revocation endpoints, through the engine with in-memory storage.
@Suite("Client assertions")
struct ClientAssertionTests {
    static let tokenEndpoint = EngineFixture.issuer + "/token"

    /// A fixture with a `private_key_jwt` M2M client ("signed") holding `key`'s public half, and a `client_secret_jwt`
    /// one ("maced") whose secret is kept recoverable.
    static func fixture(key: SigningKey, fetcher: FakeKeySetFetcher? = nil) -> EngineFixture {
        let fixture = EngineFixture(keySetFetcher: fetcher)
        fixture.storage.permit(.client("signed"), ["read:books"])
        let jwks: JSONValue = ["keys": [key.publicKey.jwk]]
        fetcher?.document.withLock { $0 = jwks }
        fixture.storage.state.withLock { state in
            var signed = Client(id: "signed", name: "Signed", type: .machineToMachine,
                                secretHash: SecretDigest.sha256Hex("unused secret"), redirectURIs: [],
                                postLogoutRedirectURIs: [], createdAt: fixture.clock.now)
            signed.tokenEndpointAuthMethod = .privateKeyJWT
            if fetcher != nil { signed.jwksURI = "https://keys.example.test/jwks" } else { signed.jwks = jwks }
            var maced = Client(id: "maced", name: "MACed", type: .machineToMachine,
                               secretHash: SecretDigest.sha256Hex(macSecret), redirectURIs: [],
                               postLogoutRedirectURIs: [], createdAt: fixture.clock.now)
            maced.tokenEndpointAuthMethod = .clientSecretJWT
            state.clients["signed"] = signed
            state.clients["maced"] = maced
            state.recoverableSecrets["maced"] = [macSecret]
        }
        return fixture
    }

    static let macSecret = "a MAC secret of the maced client, 43 bytes.."

    static func claims(_ clientID: String, now: Date, _ overrides: [String: JSONValue?] = [:]) -> JSONValue {
        var claims: [String: JSONValue] = [
            "iss": .string(clientID), "sub": .string(clientID), "aud": .string(tokenEndpoint),
            "exp": .int(Int64(now.timeIntervalSince1970) + 60), "iat": .int(Int64(now.timeIntervalSince1970)),
            "jti": .string(UUID().uuidString),
        ]
        for (name, value) in overrides { claims[name] = value }
        return .object(claims)
    }

    static func signed(_ claims: JSONValue, with key: SigningKey) throws -> String {
        try JWT.sign(claims, with: key)
    }

    /// A compact JWS with any header, MACed with `secret` (HS256 unless the header says otherwise).
    static func maced(_ claims: JSONValue, secret: String, header: JSONValue = ["alg": "HS256", "typ": "JWT"]) -> String {
        let input = Base64URL.encode(header.encoded()) + "." + Base64URL.encode(claims.encoded())
        let key = SymmetricKey(data: Data(secret.utf8))
        let mac: Data = switch header["alg"]?.stringValue {
        case "HS384": Data(HMAC<SHA384>.authenticationCode(for: Data(input.utf8), using: key))
        case "HS512": Data(HMAC<SHA512>.authenticationCode(for: Data(input.utf8), using: key))
        default: Data(HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: key))
        }
        return input + "." + Base64URL.encode(mac)
    }

    static func request(_ assertion: String, extra: [String: [String]] = [:]) -> RequestParameters {
        var values: [String: [String]] = [
            "grant_type": ["client_credentials"], "resource": [EngineFixture.resource], "scope": ["read:books"],
            "client_assertion_type": ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"],
            "client_assertion": [assertion],
        ]
        values.merge(extra) { $1 }
        return RequestParameters(values)
    }

    @Test(arguments: SigningAlgorithm.allCases)
    func privateKeyJWTWorksOnceWithEveryAlgorithm(_ algorithm: SigningAlgorithm) async throws {
        let key = try SigningKey.generate(algorithm, now: Date())
        let fixture = Self.fixture(key: key)
        let assertion = try Self.signed(Self.claims("signed", now: fixture.clock.now), with: key)
        let response = try await fixture.provider.token(Self.request(assertion), authorization: nil)
        #expect(response.body?["access_token"]?.stringValue != nil)
        #expect(response.body?["scope"] == "read:books")
        // The same assertion again is a replay (jti), whatever the endpoint.
        let replay = await oauthError { _ = try await fixture.provider.token(Self.request(assertion), authorization: nil) }
        #expect(replay?.code == .invalidClient)
        #expect(replay?.status == 401)
        #expect(replay?.description.contains("used before") == true)
    }

    @Test func clientSecretJWTWorksWithEveryMACAlgorithm() async throws {
        let fixture = Self.fixture(key: try SigningKey.generate(.es256, now: Date()))
        fixture.storage.permit(.client("maced"), ["read:books"])
        for alg in ["HS256", "HS384", "HS512"] {
            let assertion = Self.maced(Self.claims("maced", now: fixture.clock.now), secret: Self.macSecret,
                                       header: ["alg": .string(alg)])
            let response = try await fixture.provider.token(Self.request(assertion), authorization: nil)
            #expect(response.body?["access_token"]?.stringValue != nil, "\(alg)")
        }
        let wrong = Self.maced(Self.claims("maced", now: fixture.clock.now), secret: "not the secret")
        #expect(await oauthError { _ = try await fixture.provider.token(Self.request(wrong), authorization: nil) }?
            .code == .invalidClient)
    }

    @Test func aRecoverableSecretThatNoLongerVerifiesIsNotUsed() async throws {
        let fixture = Self.fixture(key: try SigningKey.generate(.es256, now: Date()))
        // The secret was rotated: the digest changed, the stale sealed copy must not authenticate.
        fixture.storage.state.withLock { $0.clients["maced"]?.secretHash = SecretDigest.sha256Hex("the new secret") }
        let assertion = Self.maced(Self.claims("maced", now: fixture.clock.now), secret: Self.macSecret)
        #expect(await oauthError { _ = try await fixture.provider.token(Self.request(assertion), authorization: nil) }?
            .code == .invalidClient)
    }

    @Test func aClientRegisteredForOneMethodIsRefusedWithAnother() async throws {
        let key = try SigningKey.generate(.es384, now: Date())
        let fixture = Self.fixture(key: key)
        // The private_key_jwt client's secret (it still has one) does not authenticate it.
        let basic = await oauthError {
            _ = try await fixture.provider.token(RequestParameters(["grant_type": ["client_credentials"]]),
                                                 authorization: EngineFixture.basic("signed", "unused secret"))
        }
        #expect(basic?.code == .invalidClient)
        // Told only to a caller who proved the secret.
        #expect(basic?.description.contains("private_key_jwt") == true)
        // A MAC for a private_key_jwt client (the algorithm-confusion attack: HS256 keyed with the public key).
        let confused = Self.maced(Self.claims("signed", now: fixture.clock.now),
                                  secret: key.publicKey.jwk.encodedString())
        let confusion = await oauthError { _ = try await fixture.provider.token(Self.request(confused), authorization: nil) }
        #expect(confusion?.code == .invalidClient)
        // A default client (secret, basic or post) cannot use an assertion, nor a client_secret_jwt one a signature.
        let webKey = try Self.signed(Self.claims("web", now: fixture.clock.now), with: key)
        #expect(await oauthError { _ = try await fixture.provider.token(Self.request(webKey), authorization: nil) }?
            .code == .invalidClient)
        let macedSigned = try Self.signed(Self.claims("maced", now: fixture.clock.now), with: key)
        #expect(await oauthError { _ = try await fixture.provider.token(Self.request(macedSigned), authorization: nil) }?
            .code == .invalidClient)
    }

    static let now: Int64 = 1_800_000_000
    /// Claims that each make an assertion invalid: a name and the claims replaced (nil removes one).
    static let badClaims: [(String, [String: JSONValue?])] = [
        ("aud elsewhere", ["aud": .string("https://elsewhere.test/token")]),
        ("no aud", ["aud": nil]),
        ("no exp", ["exp": nil]),
        ("expired", ["exp": .int(now - 31)]),
        ("exp too far", ["exp": .int(now + 3700)]),
        ("iss not sub", ["iss": .string("web")]),
        ("no sub", ["sub": nil]),
        ("no jti", ["jti": nil]),
        ("empty jti", ["jti": .string("")]),
        ("long jti", ["jti": .string(String(repeating: "j", count: 257))]),
        ("nbf ahead", ["nbf": .int(now + 120)]),
        ("iat ahead", ["iat": .int(now + 120)]),
        ("iat not a number", ["iat": .string("yesterday")]),
        ("unknown client", ["iss": .string("nobody"), "sub": .string("nobody")]),
    ]

    @Test(arguments: badClaims)
    func badClaimsAreRefused(_ name: String, _ overrides: [String: JSONValue?]) async throws {
        let key = try SigningKey.generate(.es256, now: Date())
        let fixture = Self.fixture(key: key)
        let assertion = try Self.signed(Self.claims("signed", now: fixture.clock.now, overrides), with: key)
        let error = await oauthError { _ = try await fixture.provider.token(Self.request(assertion), authorization: nil) }
        #expect(error?.code == .invalidClient, "\(name)")
        #expect(error?.status == 401, "\(name)")
    }

    @Test func audMayBeTheIssuerAnArrayOrTheEndpointAsked() async throws {
        let key = try SigningKey.generate(.edDSA, now: Date())
        let fixture = Self.fixture(key: key)
        let now = fixture.clock.now
        for aud: JSONValue in [.string(EngineFixture.issuer), [.string("https://other.test"), .string(Self.tokenEndpoint)]] {
            let assertion = try Self.signed(Self.claims("signed", now: now, ["aud": aud]), with: key)
            #expect(try await fixture.provider.token(Self.request(assertion), authorization: nil).body?["access_token"] != nil)
        }
        // The introspection endpoint's URL is an audience at introspection, not at the token endpoint.
        let introspectionAud: [String: JSONValue?] = ["aud": .string(EngineFixture.issuer + "/token/introspection")]
        let atIntrospection = try Self.signed(Self.claims("signed", now: now, introspectionAud), with: key)
        let introspection = try await fixture.provider.introspect(RequestParameters([
            "token": ["unknown"], "client_assertion_type": [ClientAssertionTests.assertionType],
            "client_assertion": [atIntrospection],
        ]), authorization: nil)
        #expect(introspection.body?["active"] == false)
        let atToken = try Self.signed(Self.claims("signed", now: now, introspectionAud), with: key)
        #expect(await oauthError { _ = try await fixture.provider.token(Self.request(atToken), authorization: nil) }?
            .code == .invalidClient)
        // Revocation authenticates the same way.
        let revocation = try Self.signed(Self.claims("signed", now: now), with: key)
        let revoked = try await fixture.provider.revoke(RequestParameters([
            "token": ["unknown"], "client_assertion_type": [ClientAssertionTests.assertionType],
            "client_assertion": [revocation],
        ]), authorization: nil)
        #expect(revoked.status == 200)
    }

    static let assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    @Test func malformedAssertionsAndMixedMethodsAreRefused() async throws {
        let key = try SigningKey.generate(.es256, now: Date())
        let other = try SigningKey.generate(.es256, now: Date())
        let fixture = Self.fixture(key: key)
        let now = fixture.clock.now
        let claims = Self.claims("signed", now: now)
        let noneHeader: JSONValue = ["alg": "none"]
        let header = Base64URL.encode(noneHeader.encoded())
        let unsigned = header + "." + Base64URL.encode(claims.encoded()) + "."
        let critical = try { () throws -> String in
            let criticalHeader: JSONValue = ["alg": "ES256", "kid": .string(key.kid), "crit": ["exp"]]
            let input = Base64URL.encode(criticalHeader.encoded())
                + "." + Base64URL.encode(claims.encoded())
            return input + "." + Base64URL.encode(try key.sign(Array(input.utf8)))
        }()
        // An empty value is an omitted one (RFC 6749 §3.1): the type alone is half a pair.
        #expect(await oauthError { _ = try await fixture.provider.token(Self.request(""), authorization: nil) }?
            .code == .invalidRequest)
        for assertion in ["a.b", "not.a.jwt", unsigned, critical, String(repeating: "a", count: 20000),
                          try Self.signed(Self.claims("signed", now: now), with: other)]
        {
            let error = await oauthError { _ = try await fixture.provider.token(Self.request(assertion), authorization: nil) }
            #expect(error?.code == .invalidClient, "\(assertion.prefix(40)): \(error?.description ?? "")")
        }
        let good = try Self.signed(Self.claims("signed", now: now), with: key)
        // An unknown assertion type, a lone half of the pair, two methods at once, a client_id naming another client.
        let unknownType = await oauthError {
            _ = try await fixture.provider.token(Self.request(good, extra: ["client_assertion_type": ["urn:x:saml"]]),
                                                 authorization: nil)
        }
        #expect(unknownType?.code == .invalidClient)
        let half = await oauthError {
            _ = try await fixture.provider.token(RequestParameters([
                "grant_type": ["client_credentials"], "client_assertion": [good],
            ]), authorization: nil)
        }
        #expect(half?.code == .invalidRequest)
        let mixed = await oauthError {
            _ = try await fixture.provider.token(Self.request(good), authorization: EngineFixture.basic("signed", "x"))
        }
        #expect(mixed?.code == .invalidRequest)
        let mixedPost = await oauthError {
            _ = try await fixture.provider.token(Self.request(good, extra: ["client_secret": ["x"]]), authorization: nil)
        }
        #expect(mixedPost?.code == .invalidRequest)
        let otherID = await oauthError {
            _ = try await fixture.provider.token(Self.request(good, extra: ["client_id": ["web"]]), authorization: nil)
        }
        #expect(otherID?.code == .invalidRequest)
        // The good one, with its own client_id, still works: nothing above spent its jti.
        let response = try await fixture.provider.token(Self.request(good, extra: ["client_id": ["signed"]]),
                                                        authorization: nil)
        #expect(response.body?["access_token"] != nil)
    }

    @Test func aRegisteredSigningAlgorithmIsEnforced() async throws {
        let key = try SigningKey.generate(.es256, now: Date())
        let fixture = Self.fixture(key: key)
        fixture.storage.state.withLock { $0.clients["signed"]?.tokenEndpointAuthSigningAlg = "RS256" }
        let assertion = try Self.signed(Self.claims("signed", now: fixture.clock.now), with: key)
        let error = await oauthError { _ = try await fixture.provider.token(Self.request(assertion), authorization: nil) }
        #expect(error?.code == .invalidClient)
        #expect(error?.description == "client authentication failed")
        #expect(error?.reason?.contains("RS256") == true)
    }

    @Test func concurrentUsesOfOneAssertionSucceedOnce() async throws {
        let key = try SigningKey.generate(.es256, now: Date())
        let fixture = Self.fixture(key: key)
        let assertion = try Self.signed(Self.claims("signed", now: fixture.clock.now), with: key)
        let successes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (try? await fixture.provider.token(Self.request(assertion), authorization: nil)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(successes == 1)
    }

    @Test func keysAtAJWKSURIAreCachedRefetchedForANewKidAndKeptThroughAnOutage() async throws {
        let key = try SigningKey.generate(.es256, now: Date())
        let fetcher = FakeKeySetFetcher()
        let fixture = Self.fixture(key: key, fetcher: fetcher)
        func token(_ key: SigningKey) async throws -> JSONValue? {
            try await fixture.provider.token(Self.request(try Self.signed(Self.claims("signed", now: fixture.clock.now),
                                                                          with: key)), authorization: nil).body
        }
        #expect(try await token(key)?["access_token"] != nil)
        #expect(try await token(key)?["access_token"] != nil)
        #expect(fetcher.fetches.load(ordering: .relaxed) == 1)
        // The client rotates: a new kid makes one fetch (once the refetch interval has passed), and the new key works.
        let rotated = try SigningKey.generate(.es256, now: Date())
        fetcher.document.withLock { $0 = ["keys": [rotated.publicKey.jwk]] }
        fixture.clock.advance(31)
        #expect(try await token(rotated)?["access_token"] != nil)
        #expect(fetcher.fetches.load(ordering: .relaxed) == 2)
        // An unknown kid right after cannot make the server fetch again (no amplification).
        let stranger = try SigningKey.generate(.es256, now: Date())
        #expect(await oauthError { _ = try await token(stranger) }?.code == .invalidClient)
        #expect(fetcher.fetches.load(ordering: .relaxed) == 2)
        // The publisher goes down: the last good set serves until it is an hour old.
        fetcher.failing.store(true, ordering: .relaxed)
        fixture.clock.advance(600)
        #expect(try await token(rotated)?["access_token"] != nil)
        fixture.clock.advance(3600)
        let down = await oauthError { _ = try await token(rotated) }
        #expect(down?.code == .invalidClient)
        #expect(down?.reason?.contains("could not be fetched") == true)
    }

    @Test func anAnswerWithoutUsableKeysRevokesAndConcurrentRequestsShareOneFetch() async throws {
        let key = try SigningKey.generate(.es256, now: Date())
        let fetcher = FakeKeySetFetcher()
        fetcher.delay.store(200, ordering: .relaxed)
        let fixture = Self.fixture(key: key, fetcher: fetcher)
        // Ten requests while the first fetch is under way: one fetch, ten successes.
        let successes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    let assertion = try Self.signed(Self.claims("signed", now: fixture.clock.now), with: key)
                    return (try? await fixture.provider.token(Self.request(assertion), authorization: nil)) != nil
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(successes == 10)
        #expect(fetcher.fetches.load(ordering: .relaxed) == 1)
        // The publisher now serves an empty set: once fetched, the old key no longer works (no stale fallback).
        fetcher.delay.store(0, ordering: .relaxed)
        fetcher.document.withLock { $0 = ["keys": []] }
        fixture.clock.advance(301)
        let assertion = try Self.signed(Self.claims("signed", now: fixture.clock.now), with: key)
        #expect(await oauthError { _ = try await fixture.provider.token(Self.request(assertion), authorization: nil) }?
            .code == .invalidClient)
        #expect(fetcher.fetches.load(ordering: .relaxed) == 2)
        let again = try Self.signed(Self.claims("signed", now: fixture.clock.now), with: key)
        #expect(await oauthError { _ = try await fixture.provider.token(Self.request(again), authorization: nil) }?
            .code == .invalidClient)
    }

    @Test func fractionalTimesAreNumericDatesAndControlCharactersAreAnUnknownClient() async throws {
        let key = try SigningKey.generate(.es256, now: Date())
        let fixture = Self.fixture(key: key)
        let now = fixture.clock.now.timeIntervalSince1970
        let fractional = try Self.signed(Self.claims("signed", now: fixture.clock.now,
                                                     ["exp": .double(now + 60.5), "iat": .double(now - 0.25)]), with: key)
        #expect(try await fixture.provider.token(Self.request(fractional), authorization: nil).body?["access_token"] != nil)
        let nul = try Self.signed(Self.claims("sig\u{0}ned", now: fixture.clock.now), with: key)
        let error = await oauthError { _ = try await fixture.provider.token(Self.request(nul), authorization: nil) }
        #expect(error?.code == .invalidClient)
        #expect(error?.status == 401)
    }

    @Test func keySetsAreCheckedBeforeUse() throws {
        let ec = try SigningKey.generate(.es256, now: Date())
        #expect(try ClientKeySets.publicKeys(in: ["keys": [ec.publicKey.jwk]]).count == 1)
        func phrase(_ document: JSONValue) -> String? {
            do {
                _ = try ClientKeySets.publicKeys(in: document)
                return nil
            } catch {
                return error.phrase
            }
        }
        var withPrivate = ec.publicKey.jwk.objectValue ?? [:]
        withPrivate["d"] = .string(Base64URL.encode(ec.privateKeyBytes))
        #expect(phrase(["keys": [.object(withPrivate)]]) == "application.jwks_private")
        var withOthers = ec.publicKey.jwk.objectValue ?? [:]
        withOthers["oth"] = [["r": "AQAB"]]
        #expect(phrase(["keys": [.object(withOthers)]]) == "application.jwks_private")
        #expect(phrase(["keys": []]) == "application.jwks_no_usable_key")
        #expect(phrase(["keys": "no"]) == "application.jwks_invalid")
        #expect(phrase([ec.publicKey.jwk]) == "application.jwks_invalid")
        #expect(phrase(["keys": .array(Array(repeating: ec.publicKey.jwk, count: 101))]) == "application.jwks_too_many")
        // A 1024-bit RSA key, and an encryption key only.
        let weak: JSONValue = ["kty": "RSA", "n": .string(Base64URL.encode(Data([0xC1]) + Data(repeating: 0xAB, count: 127))),
                               "e": "AQAB"]
        #expect(phrase(["keys": [weak]]) == "application.jwks_weak_rsa")
        var encryption = ec.publicKey.jwk.objectValue ?? [:]
        encryption["use"] = "enc"
        #expect(phrase(["keys": [.object(encryption)]]) == "application.jwks_no_usable_key")
    }

    @Test func discoveryListsTheMethodsAndTheirAlgorithms() async throws {
        let document = try await EngineFixture().provider.discoveryDocument()
        for endpoint in ["token", "introspection", "revocation"] {
            let methods = document["\(endpoint)_endpoint_auth_methods_supported"]?.arrayValue?.compactMap(\.stringValue)
            #expect(methods == ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"])
            let algorithms = document["\(endpoint)_endpoint_auth_signing_alg_values_supported"]?.arrayValue?
                .compactMap(\.stringValue) ?? []
            #expect(Set(algorithms) == ["ES384", "ES256", "RS256", "EdDSA", "HS256", "HS384", "HS512"])
        }
    }
}
