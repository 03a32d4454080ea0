import Foundation
import SesameOIDC
import Testing

@Suite("Encodings")
struct SupportTests {
    @Test(arguments: [
        ("a=1&b=two+words&c=%C3%A9", ["a": ["1"], "b": ["two words"], "c": ["é"]]),
        ("scope=openid%20email&scope=x", ["scope": ["openid email", "x"]]),
        ("flag&empty=", ["flag": [""], "empty": [""]]),
        ("", [:]),
        ("redirect_uri=https%3A%2F%2Fa.test%2Fcb%3Fx%3D1", ["redirect_uri": ["https://a.test/cb?x=1"]]),
    ])
    func formEncodingIsParsed(_ text: String, _ expected: [String: [String]]) {
        #expect(RequestParameters(urlEncoded: text)?.values == expected)
    }

    @Test(arguments: ["a=%zz", "a=%", "a=%C3", "%FF=1"])
    func malformedEncodingIsRejected(_ text: String) {
        #expect(RequestParameters(urlEncoded: text) == nil)
    }

    @Test func parametersAppearOnceAndEmptyMeansAbsent() throws {
        let parameters = try #require(RequestParameters(urlEncoded: "state=a&state=b&nonce=&code=c"))
        #expect(throws: OAuthError.invalidRequest("'state' parameter must only be provided once")) {
            try parameters.single("state")
        }
        #expect(try parameters.single("nonce") == nil)
        #expect(try parameters.single("code") == "c")
        #expect(throws: OAuthError.self) { try parameters.required("missing") }
    }

    @Test func percentEncodingRoundTrips() {
        let value = "a b+c/d?é&=~"
        #expect(RequestParameters.encode(value) == "a%20b%2Bc%2Fd%3F%C3%A9%26%3D~")
        #expect(RequestParameters.decode(RequestParameters.encode(value)) == value)
    }

    @Test(arguments: [
        ([], ""), ([0x66], "Zg"), ([0x66, 0x6f], "Zm8"), ([0x66, 0x6f, 0x6f], "Zm9v"), ([0xfb, 0xff], "-_8"),
    ] as [([UInt8], String)])
    func base64URLMatchesRFC4648(_ bytes: [UInt8], _ text: String) {
        #expect(Base64URL.encode(bytes) == text)
        #expect(Base64URL.decode(text) == Data(bytes))
    }

    @Test(arguments: ["Zg==", "Zm9v+", "Zm9v/", "Z", "Zh", "a b"])
    func base64URLRejectsOtherAlphabetsPaddingAndNonCanonicalInput(_ text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test func pkceMatchesRFC7636AppendixB() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        #expect(PKCE.challenge(for: verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(PKCE.verify(verifier: verifier, challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"))
        #expect(!PKCE.verify(verifier: verifier + "x", challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"))
    }

    @Test(arguments: [
        (String(repeating: "a", count: 42), false), (String(repeating: "a", count: 43), true),
        (String(repeating: "a", count: 128), true), (String(repeating: "a", count: 129), false),
        (String(repeating: "a", count: 42) + "+", false), (String(repeating: "a", count: 42) + "~", true),
    ])
    func pkceVerifierLengthAndCharacters(_ verifier: String, _ valid: Bool) {
        #expect(PKCE.isWellFormed(verifier) == valid)
    }

    @Test func jsonIsCompactSortedAndEscaped() throws {
        let value: JSONValue = ["b": 1, "a": "x\"y\\z\n/é\u{01}", "c": [true, .null, .double(1.5)]]
        #expect(value.encodedString() == #"{"a":"x\"y\\z\n/é\u0001","b":1,"c":[true,null,1.5]}"#)
        #expect(try JSONValue.decode(value.encoded()) == value)
    }

    @Test func secretsCompareInConstantTimeShape() {
        #expect(SecretDigest.constantTimeEquals("abc", "abc"))
        #expect(!SecretDigest.constantTimeEquals("abc", "abd"))
        #expect(!SecretDigest.constantTimeEquals("abc", "abcd"))
        #expect(SecretDigest.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
