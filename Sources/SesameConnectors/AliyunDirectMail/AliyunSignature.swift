import Crypto
import Foundation
import SesameOIDC

/// Aliyun's RPC signature, version 1.0: HMAC-SHA1 over `METHOD&%2F&percent(canonical query)`, keyed
/// with the access key secret plus `&`.
public enum AliyunSignature {
    /// Aliyun's percent-encoding: RFC 3986 unreserved characters stay, everything else is `%XX` in upper
    /// case, so a space is `%20`, `*` is `%2A`, and `~` stays.
    public static func percentEncode(_ value: String) -> String {
        // The same rule as RFC 3986 form encoding of unreserved characters.
        RequestParameters.encode(value)
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
