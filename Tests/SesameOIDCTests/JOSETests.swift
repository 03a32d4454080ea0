import Foundation
import SesameOIDC
import Testing

@Suite("JOSE")
struct JOSETests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: SigningAlgorithm.allCases)
    func signedTokensVerify(_ algorithm: SigningAlgorithm) throws {
        let key = try SigningKey.generate(algorithm, now: now)
        let token = try JWT.sign(["sub": "u1", "exp": 1_800_003_600, "iat": 1_800_000_000], with: key)
        let verified = try JWT.verify(token, keys: [key.publicKey])
        #expect(verified.header["alg"]?.stringValue == algorithm.rawValue)
        #expect(verified.header["kid"]?.stringValue == key.kid)
        #expect(verified.claims["sub"] == "u1")
        // Claims are integers, never fractions.
        let payload = try #require(Base64URL.decode(token.split(separator: ".")[1]))
        #expect(String(decoding: payload, as: UTF8.self) == #"{"exp":1800003600,"iat":1800000000,"sub":"u1"}"#)
        // The key survives its stored form.
        let restored = try SigningKey(kid: key.kid, algorithm: algorithm, privateKeyBytes: key.privateKeyBytes,
                                      createdAt: now)
        #expect(try JWT.verify(JWT.sign(["a": 1], with: restored), keys: [key.publicKey]).claims["a"] == 1)
    }

    @Test(arguments: SigningAlgorithm.allCases)
    func tamperedTokensFail(_ algorithm: SigningAlgorithm) throws {
        let key = try SigningKey.generate(algorithm, now: now)
        let other = try SigningKey.generate(algorithm, now: now)
        let token = try JWT.sign(["sub": "u1"], with: key)
        let parts = token.split(separator: ".").map(String.init)
        let forgedPayload = parts[0] + "." + Base64URL.encode(Array(#"{"sub":"admin"}"#.utf8)) + "." + parts[2]
        #expect(throws: JWT.VerificationError.self) { try JWT.verify(forgedPayload, keys: [key.publicKey]) }
        #expect(throws: JWT.VerificationError("unknown signing key")) { try JWT.verify(token, keys: [other.publicKey]) }
        let flipped = parts[0] + "." + parts[1] + "." + String(parts[2].reversed())
        #expect(throws: JWT.VerificationError.self) { try JWT.verify(flipped, keys: [key.publicKey]) }
        #expect(throws: JWT.VerificationError("malformed token")) { try JWT.verify("a.b", keys: [key.publicKey]) }
    }

    @Test func algorithmMustMatchTheKey() throws {
        let key = try SigningKey.generate(.es384, now: now)
        let token = try JWT.sign(["sub": "u1"], with: key)
        let parts = token.split(separator: ".").map(String.init)
        let header = Base64URL.encode(JSONValue.object(["alg": "ES256", "kid": .string(key.kid)]).encoded())
        #expect(throws: JWT.VerificationError("algorithm does not match the key")) {
            try JWT.verify(header + "." + parts[1] + "." + parts[2], keys: [key.publicKey])
        }
        let none = Base64URL.encode(JSONValue.object(["alg": "none", "kid": .string(key.kid)]).encoded())
        #expect(throws: JWT.VerificationError.self) { try JWT.verify(none + "." + parts[1] + ".", keys: [key.publicKey]) }
    }

    @Test func p384JWKHasTheRightShapeAndItsThumbprintIsTheKid() throws {
        let key = try SigningKey.generate(.es384, now: now)
        let jwk = key.publicKey.jwk
        #expect(jwk["kty"] == "EC")
        #expect(jwk["crv"] == "P-384")
        #expect(jwk["alg"] == "ES384")
        #expect(jwk["use"] == "sig")
        #expect(jwk["x"]?.stringValue?.count == 64)
        #expect(jwk["y"]?.stringValue?.count == 64)
        #expect(jwk["d"] == nil)
        #expect(key.kid == key.publicKey.thumbprint)
        #expect(key.kid.count == 43)
    }

    @Test(arguments: SigningAlgorithm.allCases)
    func publishedJWKsReadBack(_ algorithm: SigningAlgorithm) throws {
        let key = try SigningKey.generate(algorithm, now: now)
        let parsed = try VerificationKey(jwk: key.publicKey.jwk)
        #expect(parsed.kid == key.kid)
        #expect(parsed.thumbprint == key.kid)
        #expect(try JWT.verify(JWT.sign(["x": 1], with: key), keys: [parsed]).claims["x"] == 1)
    }

    @Test func rsaThumbprintMatchesRFC7638() throws {
        // RFC 7638 §3.1's example key and thumbprint.
        let jwk: JSONValue = [
            "kty": "RSA", "e": "AQAB", "kid": "2011-04-29",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        ]
        #expect(try VerificationKey(jwk: jwk).thumbprint == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }

    @Test func atHashIsTheLeftHalfOfTheAlgorithmsHash() {
        // OIDC Core §3.1.3.6 with SHA-256 (ES256): the example access token from the specification's
        // implicit-flow samples.
        #expect(JWT.halfHash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", algorithm: .es256) == "77QmUPtjPfzWtF2AnpK9RQ")
        #expect(JWT.halfHash("token", algorithm: .es384).count == 32)
        #expect(JWT.halfHash("token", algorithm: .edDSA).count == 43)
    }
}
