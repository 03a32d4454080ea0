import Crypto
import Foundation

/// A JWT a client authenticates with (RFC 7523 §2.2 and §3, OpenID Connect Core §9): MACed with its secret
/// (`client_secret_jwt`: HS256, HS384, HS512) or signed with its private key (`private_key_jwt`: RS256, ES256, ES384,
/// EdDSA). Parsing checks only the shape; `validateClaims`, `hasValidMAC` and `hasValidSignature` do the rest.
struct ClientAssertion {
    /// `client_assertion_type` for JWTs (RFC 7523 §2.2).
    static let type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    /// The longest an assertion may be valid from now, in seconds: Authlib's default lifetime (an hour), and short
    /// enough that the `jti` store stays small.
    static let maximumLifetime: TimeInterval = 3600
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
    static let clockSkew: TimeInterval = 30
    /// The longest assertion accepted, in bytes.
    static let maximumLength = 16 * 1024
    /// MAC algorithms, for `client_secret_jwt`.
    static let macAlgorithms = ClientAuthenticationMethod.clientSecretJWT.assertionAlgorithms

    let algorithm: String
    let kid: String?
    /// `iss`, which equals `sub`.
    let clientID: String
    let jti: String
    let claims: JSONValue
    let signingInput: [UInt8]
    let signature: Data

    var isMAC: Bool { Self.macAlgorithms.contains(algorithm) }

    /// Throws `invalid_client` for anything but a compact JWS whose header names an algorithm Sesame accepts and
    /// whose claims have `iss` = `sub` and a `jti`.
    init(parsing token: String) throws(OAuthError) {
        guard token.utf8.count <= Self.maximumLength else {
            throw OAuthError.invalidClient("the client assertion is longer than \(Self.maximumLength) bytes")
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Base64URL.decode(parts[0]), let claimsData = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = try? JSONValue.decode(headerData), header.objectValue != nil,
              let claims = try? JSONValue.decode(claimsData), claims.objectValue != nil
        else { throw OAuthError.invalidClient("the client assertion is not a signed JWT (compact JWS)") }
        guard let algorithm = header["alg"]?.stringValue,
              ClientAuthenticationMethod.assertionAlgorithms.contains(algorithm)
        else {
            throw OAuthError.invalidClient("the client assertion's alg must be one of "
                + ClientAuthenticationMethod.assertionAlgorithms.joined(separator: ", "))
        }
        // A `crit` header names extensions the verifier must understand (RFC 7515 §4.1.11): Sesame knows none.
        guard header["crit"] == nil else {
            throw OAuthError.invalidClient("the client assertion has critical header parameters Sesame does not know")
        }
        if let kid = header["kid"], kid.stringValue == nil {
            throw OAuthError.invalidClient("the client assertion's kid must be a string")
        }
        guard let issuer = claims["iss"]?.stringValue, !issuer.isEmpty, claims["sub"]?.stringValue == issuer else {
            throw OAuthError.invalidClient("the client assertion's iss and sub must both be the client_id")
        }
        guard let jti = claims["jti"]?.stringValue, (1...256).contains(jti.utf8.count) else {
            throw OAuthError.invalidClient("the client assertion needs a jti of 1 to 256 bytes")
        }
        self.algorithm = algorithm
        kid = header["kid"]?.stringValue
        clientID = issuer
        self.jti = jti
        self.claims = claims
        signingInput = Array((parts[0] + "." + parts[1]).utf8)
        self.signature = signature
    }

    /// Checks `aud` (one of `audiences`), `exp` (present, not past, at most `maximumLifetime` ahead), and `nbf` and
    /// `iat` when present, each with `clockSkew`. Returns `exp`. Throws `invalid_client` naming the claim.
    func validateClaims(audiences: [String], now: Date) throws(OAuthError) -> Date {
        let audience: [String]
        switch claims["aud"] {
        case .string(let value)?: audience = [value]
        case .array(let values)?: audience = values.compactMap(\.stringValue)
        default: throw OAuthError.invalidClient("the client assertion has no aud")
        }
        guard audience.contains(where: audiences.contains) else {
            throw OAuthError.invalidClient("the client assertion's aud must be the issuer or the token endpoint's URL")
        }
        guard let exp = Self.numericDate(claims["exp"]) else {
            throw OAuthError.invalidClient("the client assertion has no exp")
        }
        let expiresAt = Date(timeIntervalSince1970: exp)
        guard expiresAt.addingTimeInterval(Self.clockSkew) > now else {
            throw OAuthError.invalidClient("the client assertion has expired")
        }
        guard expiresAt <= now.addingTimeInterval(Self.maximumLifetime + Self.clockSkew) else {
            throw OAuthError.invalidClient("the client assertion's exp is more than \(Int(Self.maximumLifetime)) seconds away")
        }
        for name in ["nbf", "iat"] {
            guard let value = claims[name] else { continue }
            guard let seconds = Self.numericDate(value) else {
                throw OAuthError.invalidClient("the client assertion's \(name) must be a number of seconds")
            }
            guard Date(timeIntervalSince1970: seconds) <= now.addingTimeInterval(Self.clockSkew) else {
                throw OAuthError.invalidClient("the client assertion's \(name) is in the future")
            }
        }
        return expiresAt
    }

    /// A NumericDate (RFC 7519 §2): seconds since the epoch, whole or fractional, finite; nil for anything else.
    static func numericDate(_ value: JSONValue?) -> TimeInterval? {
        switch value {
        case .int(let seconds)?: TimeInterval(seconds)
        case .double(let seconds)? where seconds.isFinite && abs(seconds) < 1e15: seconds
        default: nil
        }
    }

    /// Whether the MAC checks with one of `secrets` (the UTF-8 octets of the client secret as the key, OpenID
    /// Connect Core §16.19); every secret is tried and compared in constant time.
    func hasValidMAC(anyOf secrets: [String]) -> Bool {
        var matches = false
        for secret in secrets {
            let key = SymmetricKey(data: Data(secret.utf8))
            // `isValidAuthenticationCode` compares in constant time.
            let valid = switch algorithm {
            case "HS256": HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key)
            case "HS384": HMAC<SHA384>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key)
            case "HS512": HMAC<SHA512>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key)
            default: false
            }
            matches = valid || matches
        }
        return matches
    }

    /// Whether the signature checks with one of `keys` whose algorithm is the header's (and whose `kid` is the
    /// header's, when it names one). An RSA key never checks an HS or EC algorithm and so on: the key decides.
    func hasValidSignature(from keys: [VerificationKey]) -> Bool {
        keys.contains { key in
            key.algorithm.rawValue == algorithm && (kid == nil || key.kid == kid)
                && key.isValidSignature(signature, for: signingInput)
        }
    }
}
