import Crypto
import Foundation

/// Aliyun's RPC signature, version 1.0: HMAC-SHA1 over `METHOD&%2F&percent(canonical query)`, keyed
/// with the access key secret plus `&`.
public enum AliyunSignature {
    /// Aliyun's percent-encoding: RFC 3986 unreserved characters stay, everything else is `%XX` in upper
    /// case, so a space is `%20`, `*` is `%2A`, and `~` stays.
    public static func percentEncode(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        let digits = Array("0123456789ABCDEF".unicodeScalars)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(digits[Int(byte >> 4)])
                out.unicodeScalars.append(digits[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// The parameters sorted by name (byte order), each encoded, joined with `&`.
    public static func canonicalQuery(_ parameters: [String: String]) -> String {
        parameters.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { percentEncode($0) + "=" + percentEncode(parameters[$0]!) }
            .joined(separator: "&")
    }

    public static func stringToSign(method: String, parameters: [String: String]) -> String {
        method + "&" + percentEncode("/") + "&" + percentEncode(canonicalQuery(parameters))
    }

    public static func signature(method: String, parameters: [String: String], secret: String) -> String {
        let key = SymmetricKey(data: Data((secret + "&").utf8))
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Data(stringToSign(method: method, parameters: parameters).utf8), using: key)
        return Data(mac).base64EncodedString()
    }
}
