import Foundation

/// One second factor a user has (Logto's `users.mfa_verifications` entries, `../design/logto-reference.md` §3),
/// kept in a table of its own so that a used TOTP step, a backup code or a sign counter is spent by one atomic
/// update (two requests racing for one code cannot both win).
public struct MfaVerification: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `sealedSecret`: the base32 secret sealed with `SecretBox`; `lastUsedStep`: the last accepted step.
        case totp(sealedSecret: String, lastUsedStep: Int64?)
        case webAuthn(WebAuthnCredential)
        /// The codes as keyed digests (`MfaService.digest`), each spent once.
        case backupCode([BackupCode])
    }

    public var id: String
    public var userID: String
    public var kind: Kind
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(id: String, userID: String, kind: Kind, createdAt: Date, lastUsedAt: Date? = nil) {
        self.id = id
        self.userID = userID
        self.kind = kind
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }

    /// Which factor this is (Logto's `type`).
    public var factor: MfaFactor {
        switch kind {
        case .totp: .totp
        case .webAuthn: .webAuthn
        case .backupCode: .backupCode
        }
    }

    /// Whether it can still be used: a backup code set only while an unused code remains.
    public var isUsable: Bool {
        if case .backupCode(let codes) = kind { return codes.contains { $0.usedAt == nil } }
        return true
    }
}

public struct BackupCode: Sendable, Equatable {
    /// `MfaService.digest(backupCode:)` of the code.
    public var digest: String
    public var usedAt: Date?

    public init(digest: String, usedAt: Date? = nil) {
        self.digest = digest
        self.usedAt = usedAt
    }
}

/// A WebAuthn public key credential (W3C Web Authentication Level 2 §6.1 and §7.1): what registration stores.
public struct WebAuthnCredential: Sendable, Equatable, Codable {
    /// The credential id, base64url without padding.
    public var credentialID: String
    /// The COSE_Key (RFC 9053 §7) from the attested credential data, as sent.
    public var publicKey: [UInt8]
    /// The authenticator's signature counter (§6.1.1); 0 when it keeps none.
    public var counter: UInt32
    /// `AuthenticatorTransport` values the browser reported (`usb`, `internal`, `hybrid`, ...).
    public var transports: [String]
    /// The browser's User-Agent at registration, shown to tell passkeys apart.
    public var agent: String?
    /// A name the user gave it.
    public var name: String?
    /// The relying party id it is scoped to.
    public var rpID: String

    public init(credentialID: String, publicKey: [UInt8], counter: UInt32, transports: [String], agent: String?,
                name: String?, rpID: String)
    {
        self.credentialID = credentialID
        self.publicKey = publicKey
        self.counter = counter
        self.transports = transports
        self.agent = agent
        self.name = name
        self.rpID = rpID
    }
}

/// Where factors are kept.
public protocol MfaStore: Sendable {
    /// Every factor of the user, oldest first.
    func mfaVerifications(userID: String) async throws -> [MfaVerification]
    /// Adds a factor. A second TOTP throws `IdentityError` `user.totp_already_in_use`; a backup code set replaces
    /// the user's previous set in the same transaction. A user that is gone throws `notFound`.
    func insertMfaVerification(_ verification: MfaVerification) async throws
    /// Removes one factor of the user; false when the user has no such factor.
    func deleteMfaVerification(id: String, userID: String) async throws -> Bool
    /// Removes every factor of the user and forgets a skip; returns how many were removed.
    func deleteMfaVerifications(userID: String) async throws -> Int
    /// Accepts TOTP step `step` for the factor only if it is later than the last accepted one (one atomic
    /// update): false when another request used this or a later step first.
    func useTotpStep(verificationID: String, step: Int64, at date: Date) async throws -> Bool
    /// Spends one unused backup code of the user by its digest: false when there is none (wrong, or used).
    func useBackupCode(userID: String, digest: String, at date: Date) async throws -> Bool
    /// Records a WebAuthn assertion's counter, only if it is still `previous` (so a racing assertion with the
    /// same counter loses): false otherwise.
    func updateWebAuthnCounter(verificationID: String, previous: UInt32, counter: UInt32, at date: Date)
        async throws -> Bool
    /// Renames a passkey of the user; false when the user has no such passkey.
    func renameWebAuthn(id: String, userID: String, name: String) async throws -> Bool
    /// The user of the passkey with this credential id, with the factor (discoverable sign-in).
    func webAuthnVerification(credentialID: String) async throws -> MfaVerification?
    /// Remembers that the user declined to set a factor up (skippable policies ask no more).
    func setMfaSkipped(userID: String, at date: Date) async throws
    func isMfaSkipped(userID: String) async throws -> Bool
    /// The installation's key for backup code digests (32 bytes), made on first use.
    func backupCodeKey() async throws -> [UInt8]
}
