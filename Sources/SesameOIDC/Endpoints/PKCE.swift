import Crypto
import Foundation

/// Proof Key for Code Exchange, S256 only (RFC 7636; `plain` is refused).
public enum PKCE {
    /// 43 to 128 characters from the unreserved set (RFC 7636 §4.1, §4.2).
    public static func isWellFormed(_ value: String) -> Bool {
        (43...128).contains(value.utf8.count) && value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                true
            default:
                false
            }
        }
    }

    public static func challenge(for verifier: String) -> String {
        Base64URL.encode(SHA256.hash(data: Data(verifier.utf8)))
    }

    public static func verify(verifier: String, challenge: String) -> Bool {
        isWellFormed(verifier) && SecretDigest.constantTimeEquals(Self.challenge(for: verifier), challenge)
    }
}
