import Foundation
@testable import SesameIdentity
import SesameOIDC
import Testing

/// The relying party's checks (WebAuthn §7.1, §7.2) against registrations and assertions a software authenticator
/// made (soft-webauthn on python-fido2: `interop/make_webauthn_vectors.py` writes the fixture), good and bad.
@Suite("WebAuthn relying party")
struct WebAuthnTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let json: JSONValue
        var name: String { json["name"]?.stringValue ?? "" }
        var testDescription: String { name }
    }

    static let document: JSONValue = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/webauthn-vectors.json")
        return (try? JSONValue.decode(Data(contentsOf: url))) ?? .null
    }()

    static var cases: [Case] { (document["cases"]?.arrayValue ?? []).map(Case.init) }

    struct MissingField: Error {}

    /// A base64url member of the fixture, decoded.
    static func bytes(_ value: JSONValue?) throws -> [UInt8] {
        guard let text = value?.stringValue, let data = Base64URL.decode(text) else { throw MissingField() }
        return Array(data)
    }

    static let party = WebAuthnRelyingParty(id: "localhost", name: "Sesame", origin: "http://localhost:3001")

    @Test func theFixtureIsThere() {
        #expect(Self.cases.count >= 19)
        #expect(Self.document["rpId"] == "localhost" && Self.document["origin"] == "http://localhost:3001")
    }

    @Test(arguments: cases)
    func vector(_ test: Case) throws {
        let vector = test.json
        let challenge = try Self.bytes(vector["challenge"])
        let response = try #require(vector["response"])
        let expectedError = vector["error"]?.stringValue
        do {
            switch vector["ceremony"]?.stringValue {
            case "registration":
                let credential = try Self.party.verifyRegistration(response, challenge: challenge, agent: "test")
                #expect(expectedError == nil, "accepted: \(test.name)")
                #expect(credential.credentialID == vector["credentialId"]?.stringValue)
                #expect(Base64URL.encode(credential.publicKey) == vector["publicKey"]?.stringValue)
                #expect(credential.transports == ["internal", "hybrid"] && credential.rpID == "localhost")
            default:
                let stored = WebAuthnCredential(
                    credentialID: try #require(vector["credentialId"]?.stringValue),
                    publicKey: try Self.bytes(vector["publicKey"]),
                    counter: UInt32(vector["storedCounter"]?.intValue ?? 0), transports: [], agent: nil, name: nil,
                    rpID: "localhost")
                let counter = try Self.party.verifyAuthentication(response, challenge: challenge, credential: stored)
                #expect(expectedError == nil, "accepted: \(test.name)")
                #expect(Int64(counter) == vector["newCounter"]?.intValue)
                #expect(WebAuthnRelyingParty.userHandle(of: response) == "user-1")
            }
        } catch let failure as WebAuthnRelyingParty.Failure {
            #expect(failure.reason == expectedError, "\(test.name)")
        }
    }

    @Test func anAssertionIsCheckedAgainstItsOwnCredential() throws {
        let assertion = try #require(Self.cases.first { $0.name == "es256 assertion" }?.json)
        let other = try #require(Self.cases.first { $0.name == "eddsa assertion" }?.json)
        let stored = WebAuthnCredential(
            credentialID: try #require(other["credentialId"]?.stringValue),
            publicKey: try Self.bytes(other["publicKey"]),
            counter: 0, transports: [], agent: nil, name: nil, rpID: "localhost")
        let challenge = try Self.bytes(assertion["challenge"])
        #expect(throws: WebAuthnRelyingParty.Failure("the assertion is for another credential")) {
            try Self.party.verifyAuthentication(try #require(assertion["response"]), challenge: challenge, credential: stored)
        }
    }

    @Test func malformedResponsesAreRefusedWithAReason() throws {
        let good = try #require(Self.cases.first { $0.name == "es256 registration" }?.json)
        let challenge = try Self.bytes(good["challenge"])
        var mutations: [JSONValue] = [.null, "text", [:], ["id": "***"], ["id": "AAAA", "rawId": "AAAB"],
                                      ["id": "AAAA", "type": "password"], ["id": "AAAA", "response": "x"]]
        let response = try #require(good["response"]?.objectValue)
        for (field, value) in [("clientDataJSON", "bm90IGpzb24"), ("attestationObject", "AAAA"),
                               ("attestationObject", String(repeating: "A", count: 70_000)), ("clientDataJSON", "%%%")] {
            var inner = response["response"]?.objectValue ?? [:]
            inner[field] = .string(value)
            var copy = response
            copy["response"] = .object(inner)
            mutations.append(.object(copy))
        }
        for mutation in mutations {
            #expect(throws: WebAuthnRelyingParty.Failure.self) {
                try Self.party.verifyRegistration(mutation, challenge: challenge)
            }
        }
    }

    @Test func cborRefusesHostileInput() throws {
        let hostile: [[UInt8]] = [
            [], [0x5F], [0x9F, 0xFF], [0xBF, 0xFF], [0xF9, 0x3C, 0x00], [0xC0, 0x00],   // indefinite, float, tag
            [0x5A, 0xFF, 0xFF, 0xFF, 0xFF],                                             // a 4 GiB byte string
            [0x9B] + [UInt8](repeating: 0xFF, count: 8),                                // 2^64 - 1 items
            [0xA2, 0x01, 0x01, 0x01, 0x02],                                             // a repeated map key
            [0x62, 0xC3, 0x28],                                                         // text that is not UTF-8
            [UInt8](repeating: 0x81, count: 40) + [0x00],                               // nested 40 deep
            [0x01, 0x02],                                                               // bytes after the item
            [0x98, 65] + [UInt8](repeating: 0x00, count: 65),                           // an array too long
            [0xB8, 65] + (0..<65).flatMap { [UInt8(0x18), UInt8($0 + 24), UInt8(0x00)] }, // a map too long
        ]
        // Many short arrays: the number of items in all is bounded too.
        let wide: [UInt8] = [0x98, 60] + (0..<60).flatMap { _ in [UInt8(0x94)] + [UInt8](repeating: 0, count: 20) }
        #expect(throws: CBOR.DecodingError(description: "too many CBOR items")) { try CBOR.decode(wide) }
        #expect(throws: Never.self) { try CBOR.decode([0x90] + [UInt8](repeating: 0x00, count: 16)) }
        for bytes in hostile {
            #expect(throws: CBOR.DecodingError.self, "\(bytes.prefix(8))") { try CBOR.decode(bytes) }
        }
        #expect(try CBOR.decode([0xA2, 0x01, 0x02, 0x20, 0x43, 0x61, 0x62, 0x63]) == .map([
            (.unsigned(1), .unsigned(2)), (.negative(0), .bytes([0x61, 0x62, 0x63])),
        ]))
        #expect(try CBOR.decode([0x1B, 0, 0, 0, 1, 0, 0, 0, 0]) == .unsigned(1 << 32))
    }

    @Test func optionsAreWhatBrowsersExpect() {
        let options = Self.party.registrationOptions(challenge: [1, 2, 3], userHandle: "u1", userName: "alice",
                                                     displayName: "Alice", exclude: [])
        #expect(options["rp"]?["id"] == "localhost" && options["challenge"] == "AQID")
        #expect(options["user"]?["id"] == .string(Base64URL.encode(Array("u1".utf8))))
        #expect(options["attestation"] == "none")
        #expect(options["authenticatorSelection"]?["userVerification"] == "required")
        #expect(options["authenticatorSelection"]?["residentKey"] == "required")
        #expect(options["pubKeyCredParams"]?.arrayValue?.compactMap { $0["alg"]?.intValue } == [-7, -8, -35, -257])
        let request = Self.party.authenticationOptions(challenge: [9], allow: [])
        #expect(request["rpId"] == "localhost" && request["allowCredentials"] == [] && request["userVerification"] == "required")
    }
}
