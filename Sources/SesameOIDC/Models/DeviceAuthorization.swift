import Foundation

/// One device authorization request (RFC 8628 §3.1–3.2): the `device_code` the device polls with and the `user_code`
/// a person types on another screen, both stored only as digests, with the request they approve.
public struct DeviceAuthorization: Sendable, Codable, Equatable {
    /// Where the person's decision stands.
    public enum Status: String, Sendable, Codable {
        /// Nobody approved or denied it yet: the device hears `authorization_pending`.
        case pending
        /// Approved: the next poll spends it for tokens (`context` is set).
        case approved
        /// Denied: the device hears `access_denied`.
        case denied
    }

    /// Hex SHA-256 of the `device_code`.
    public var id: String
    /// Hex SHA-256 of the normalized `user_code` (`UserCode.normalize`: eight consonants, no dash).
    public var userCodeDigest: String
    public var clientID: String
    /// The scopes and resources asked for, with `deviceAuthorizationID` set; its `redirectURI` is empty.
    public var request: AuthorizationRequest
    public var createdAt: Date
    public var expiresAt: Date
    /// The least time between two polls, in seconds (RFC 8628 §3.2 `interval`); raised by 5 at each `slow_down`.
    public var interval: Int
    /// When the device last polled.
    public var lastPolledAt: Date?
    public var status: Status
    /// What the tokens carry, set when the person approved; its `grantID` names the grant stored then.
    public var context: IssuanceContext?
    /// When the device spent it for tokens.
    public var consumedAt: Date?

    public init(id: String, userCodeDigest: String, clientID: String, request: AuthorizationRequest, createdAt: Date,
                expiresAt: Date, interval: Int, lastPolledAt: Date? = nil, status: Status = .pending,
                context: IssuanceContext? = nil, consumedAt: Date? = nil)
    {
        self.id = id
        self.userCodeDigest = userCodeDigest
        self.clientID = clientID
        self.request = request
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.interval = interval
        self.lastPolledAt = lastPolledAt
        self.status = status
        self.context = context
        self.consumedAt = consumedAt
    }
}

/// User codes (RFC 8628 §6.1): eight characters from Logto's twenty consonants (no vowels, so no words; no
/// look-alike digits), shown as `XXXX-XXXX`. 20^8 ≈ 2.6 × 10^10 codes (34.6 bits), which with the verification
/// page's attempt limits keeps guessing a live code out of reach (RFC 8628 §5.1).
public enum UserCode {
    /// Logto's alphabet: `BCDFGHJKLMNPQRSTVWXZ`.
    public static let alphabet = Array("BCDFGHJKLMNPQRSTVWXZ")
    public static let length = 8

    /// A fresh code, `XXXX-XXXX`, drawn uniformly (bytes of 240 and above are drawn again: 240 = 12 × 20).
    public static func generate() -> String {
        var characters: [Character] = []
        while characters.count < length {
            for byte in SecureRandom.bytes(length * 2) where byte < 240 && characters.count < length {
                characters.append(alphabet[Int(byte) % alphabet.count])
            }
        }
        return String(characters.prefix(4)) + "-" + String(characters.suffix(4))
    }

    /// What a person typed, as stored: letters upper-cased, dashes and whitespace dropped (RFC 8628 §6.1 asks servers
    /// to be lenient with case and punctuation). nil when the rest is not eight characters of the alphabet; at most
    /// 64 UTF-8 bytes are looked at.
    public static func normalize(_ typed: String) -> String? {
        guard typed.utf8.count <= 64 else { return nil }
        var out: [Character] = []
        for character in typed.uppercased() {
            if character == "-" || character == " " || character == "\t" { continue }
            guard alphabet.contains(character), out.count < length else { return nil }
            out.append(character)
        }
        return out.count == length ? String(out) : nil
    }

    /// A normalized code as shown: `XXXX-XXXX`.
    public static func display(_ normalized: String) -> String {
        guard normalized.count == length else { return normalized }
        return String(normalized.prefix(4)) + "-" + String(normalized.suffix(4))
    }

    /// The digest a normalized code is stored and looked up by.
    public static func digest(_ normalized: String) -> String {
        SecretDigest.sha256Hex("user_code:" + normalized)
    }
}
