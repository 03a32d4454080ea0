import Foundation

import Crypto

/// JWS algorithms Sesame signs with. ES384 is the default, as Logto's.
public enum SigningAlgorithm: String, Sendable, CaseIterable, Codable {
    case es384 = "ES384"
    case es256 = "ES256"
    case rs256 = "RS256"
    case edDSA = "EdDSA"

    /// The hash whose left half is `at_hash` (OIDC Core §3.1.3.6) for tokens signed with this algorithm.
    func leftHalfHash(of value: String) -> [UInt8] {
        let data = Array(value.utf8)
        let digest: [UInt8]
        switch self {
        case .es384: digest = Array(SHA384.hash(data: data))
        case .es256, .rs256: digest = Array(SHA256.hash(data: data))
        case .edDSA: digest = Array(SHA512.hash(data: data))
        }
        return Array(digest.prefix(digest.count / 2))
    }
}
