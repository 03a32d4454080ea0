import Foundation

/// Compact JWS for JWTs: sign claims with a `SigningKey`, verify with a set of `VerificationKey`s.
public enum JWT {
    public struct VerificationError: Error, Sendable, Equatable {
        public let reason: String
        public init(_ reason: String) { self.reason = reason }
    }

    public struct Verified: Sendable {
        public let header: JSONValue
        public let claims: JSONValue
    }

    public static func sign(_ claims: JSONValue, with key: SigningKey, type: String = "JWT") throws -> String {
        let header: JSONValue = ["alg": .string(key.algorithm.rawValue), "typ": .string(type), "kid": .string(key.kid)]
        let input = Base64URL.encode(header.encoded()) + "." + Base64URL.encode(claims.encoded())
        let signature = try key.sign(Array(input.utf8))
        return input + "." + Base64URL.encode(signature)
    }

    /// Checks structure and signature; the caller checks the claims it cares about (iss, aud, exp).
    public static func verify(_ token: String, keys: [VerificationKey]) throws -> Verified {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerData = Base64URL.decode(parts[0]),
              let claimsData = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = try? JSONValue.decode(headerData),
              let claims = try? JSONValue.decode(claimsData),
              claims.objectValue != nil
        else { throw VerificationError("malformed token") }
        guard let alg = header["alg"]?.stringValue, let kid = header["kid"]?.stringValue else {
            throw VerificationError("token header lacks alg or kid")
        }
        guard let key = keys.first(where: { $0.kid == kid }) else { throw VerificationError("unknown signing key") }
        guard key.algorithm.rawValue == alg else { throw VerificationError("algorithm does not match the key") }
        let input = Array((parts[0] + "." + parts[1]).utf8)
        guard key.isValidSignature(signature, for: input) else { throw VerificationError("invalid signature") }
        return Verified(header: header, claims: claims)
    }

    /// `at_hash` / `c_hash`: base64url of the left half of the algorithm's hash (OIDC Core §3.1.3.6).
    public static func halfHash(_ value: String, algorithm: SigningAlgorithm) -> String {
        Base64URL.encode(algorithm.leftHalfHash(of: value))
    }
}
