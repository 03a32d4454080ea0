import Crypto
import Foundation
import SesameOIDC

/// Encrypts secrets at rest (private keys, later connector secrets) with AES-256-GCM under a key
/// derived from `SESAME_SECRET` by HKDF-SHA256. Output: "v1." + base64(nonce ‖ ciphertext ‖ tag).
public struct SecretBox: Sendable {
    /// A sealed value that does not open: written under another `SESAME_SECRET`, or damaged. `subject` names
    /// what it was ("signing key 'k1'", "the configuration of connector 'smtp'") when the caller knows.
    public struct DecryptionError: Error, Sendable, CustomStringConvertible {
        public var subject: String?

        public init(subject: String? = nil) {
            self.subject = subject
        }

        public var description: String {
            "\(subject ?? "a stored secret") could not be decrypted: SESAME_SECRET differs from the one it was "
                + "written with (every process that opens this database needs the same SESAME_SECRET)"
        }
    }

    private let key: SymmetricKey

    public init(secret: String, purpose: String = "sesame.secrets-at-rest") {
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)),
                                     salt: Data("sesame".utf8), info: Data(purpose.utf8), outputByteCount: 32)
    }

    public func seal(_ plaintext: Data) throws -> String {
        let box = try AES.GCM.seal(plaintext, using: key)
        guard let combined = box.combined else { throw DecryptionError() }
        return "v1." + combined.base64EncodedString()
    }

    /// Opens a value `seal` wrote; throws `DecryptionError` naming `subject` when it does not open.
    public func open(_ sealed: String, subject: String? = nil) throws -> Data {
        guard sealed.hasPrefix("v1."), let combined = Data(base64Encoded: String(sealed.dropFirst(3))) else {
            throw DecryptionError(subject: subject)
        }
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: key)
        } catch {
            throw DecryptionError(subject: subject)
        }
    }

    /// An HMAC-SHA256 under a key derived for `purpose`: CSRF tokens and other values the server checks later.
    public func mac(_ message: String) -> String {
        Base64URL.encode(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key))
    }
}
