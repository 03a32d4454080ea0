import Crypto
import Foundation
import SesameOIDC

/// Time-based one-time passwords (RFC 6238 over HOTP, RFC 4226) as authenticator apps use them: HMAC-SHA-1,
/// 6 digits, 30-second steps, checked within one step either side of now (RFC 6238 §5.2), and never the same
/// step twice (§5.2: "the verifier MUST NOT accept the second attempt of the OTP after the successful
/// validation has been issued for the first OTP").
public struct TOTP: Sendable, Equatable {
    /// The shared secret, 20 random bytes by default (RFC 4226 §4 asks for at least 128 bits, 160 recommended).
    public let secret: [UInt8]
    /// 6 or 8.
    public let digits: Int
    /// The step, in seconds.
    public let period: Int

    public init(secret: [UInt8], digits: Int = 6, period: Int = 30) {
        precondition(digits == 6 || digits == 8, "TOTP codes have 6 or 8 digits")
        precondition(period > 0, "the TOTP step must be positive")
        self.secret = secret
        self.digits = digits
        self.period = period
    }

    /// A fresh 160-bit secret.
    public static func generate() -> TOTP {
        TOTP(secret: SecureRandom.bytes(20))
    }

    /// The step `date` falls in: seconds since 1970 divided by `period`, rounded down.
    public func step(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / Double(period)).rounded(.down))
    }

    /// The code of one step: HOTP (RFC 4226 §5.3) with the step as the counter, zero-padded.
    public func code(step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let modulus: UInt32 = digits == 8 ? 100_000_000 : 1_000_000
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    public func code(at date: Date) -> String {
        code(step: step(at: date))
    }

    /// The step `entered` matches, within one step of `date`, and only if it is later than `lastUsedStep` (a step
    /// that was accepted once is never accepted again); nil otherwise. Spaces in `entered` are ignored; the
    /// comparison takes the same time whatever the digits.
    public func verify(_ entered: String, at date: Date, lastUsedStep: Int64?) -> Int64? {
        let typed = entered.filter { !$0.isWhitespace }
        guard typed.count == digits, typed.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let now = step(at: date)
        var matched: Int64?
        for candidate in [now - 1, now, now + 1] {
            let equal = SecretDigest.constantTimeEquals(code(step: candidate), typed)
            if equal, matched == nil, candidate > (lastUsedStep ?? Int64.min) { matched = candidate }
        }
        return matched
    }

    /// The `otpauth://` URI authenticator apps read from the QR code (Google Authenticator's key URI format):
    /// `otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`.
    public func uri(issuer: String, account: String) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
        return "otpauth://totp/\(encoded(issuer)):\(encoded(account))?secret=\(Base32.encode(secret))"
            + "&issuer=\(encoded(issuer))&algorithm=SHA1&digits=\(digits)&period=\(period)"
    }
}

/// RFC 4648 §6 base32 (`A`–`Z`, `2`–`7`), without padding on output, as authenticator apps take TOTP secrets.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: output, as: UTF8.self)
    }

    /// Case-insensitive; spaces, hyphens and `=` padding are ignored. Nil for any other character, or for
    /// trailing bits that are not zero (a mistyped last character).
    public static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.uppercased().utf8 where ![UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "=")].contains(character) {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                output.append(UInt8((buffer >> UInt32(bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }
}
