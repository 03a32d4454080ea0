import Crypto
import Foundation
import SesameOIDC

/// Second factors: setting them up, checking them, listing and removing them. The rules of
/// `../design/logto-reference.md` §3 (one TOTP per user; ten backup codes of ten hex characters, each spent once;
/// backup codes never the only factor), with Sesame's limits: ten wrong TOTP or backup codes per user in fifteen
/// minutes lock that factor for the rest of the window, counted in the database so every instance sees them.
public struct MfaService: Sendable {
    public let store: any MfaStore
    /// Seals TOTP secrets at rest (the store's secrets-at-rest box, so `sesame secret rotate` re-seals them).
    public let box: SecretBox
    public let limiter: RateLimiter
    public let now: @Sendable () -> Date

    /// Wrong codes per user and factor before that factor is locked for the rest of the window (15 minutes).
    public static let failureRule = RateLimiter.Rule(limit: 10, window: 15 * 60)
    /// Wrong codes per IP over every account, the same window.
    public static let ipRule = RateLimiter.Rule(limit: 50, window: 15 * 60)
    /// Backup codes per set.
    public static let backupCodeCount = 10

    public init(store: any MfaStore, box: SecretBox, limiter: RateLimiter, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.box = box
        self.limiter = limiter
        self.now = now
    }

    /// The factors the user can use now (backup codes only while an unused one remains).
    public func factors(userID: String) async throws -> Set<MfaFactor> {
        Set(try await store.mfaVerifications(userID: userID).filter(\.isUsable).map(\.factor))
    }

    // MARK: TOTP

    /// A fresh secret: 20 random bytes as 32 base32 characters (Logto's length).
    public static func newTotpSecret() -> String {
        Base32.encode(TOTP.generate().secret)
    }

    /// The secret of an imported TOTP: base32 (spaces and case ignored, as apps print it), 16 to 32 characters
    /// (80 to 160 bits), Logto's rule. Throws `user.totp_secret_invalid` (422).
    public static func validTotpSecret(_ text: String) throws -> String {
        let cleaned = text.filter { !$0.isWhitespace }.uppercased().trimmingCharacters(in: CharacterSet(charactersIn: "="))
        guard (16...32).contains(cleaned.count), Base32.decode(cleaned) != nil else {
            throw IdentityError(.totpSecretInvalid, phrase: "mfa.totp_secret_invalid")
        }
        return cleaned
    }

    /// Checks `code` against a secret being set up (not yet stored): the person proves their app has it. Returns
    /// the step it matched, to be stored as used. Throws `session.mfa.invalid_totp_code` when it does not match.
    public func checkNewTotp(secret: String, code: String) throws -> Int64 {
        guard let bytes = Base32.decode(secret),
              let step = TOTP(secret: bytes).verify(code, at: now(), lastUsedStep: nil)
        else { throw IdentityError(.invalidTotpCode, phrase: "mfa.invalid_totp_code") }
        return step
    }

    /// Stores the user's TOTP factor (the secret sealed); `lastUsedStep`: the step of the code that proved the
    /// set-up, which is then not accepted again. Throws `user.totp_already_in_use` when the user has one.
    @discardableResult
    public func addTotp(userID: String, secret: String, lastUsedStep: Int64? = nil) async throws -> MfaVerification {
        let verification = MfaVerification(id: SecureRandom.identifier(), userID: userID,
                                           kind: .totp(sealedSecret: try box.seal(Data(secret.utf8)),
                                                       lastUsedStep: lastUsedStep),
                                           createdAt: now())
        try await store.insertMfaVerification(verification)
        return verification
    }

    /// Checks a code from the user's authenticator app: within one step of now, a step later than the last one
    /// accepted (spent atomically). Returns the factor's id. Throws `session.mfa.invalid_totp_code`,
    /// `mfa.factor_not_set_up` when the user has no TOTP, or `tooManyAttempts` while locked.
    public func verifyTotp(userID: String, code: String, ip: String) async throws -> String {
        guard let factor = try await store.mfaVerifications(userID: userID).first(where: { $0.factor == .totp }),
              case .totp(let sealed, _) = factor.kind
        else { throw IdentityError(.mfaFactorNotSetUp, phrase: "mfa.factor_not_set_up") }
        let secret = try box.open(sealed, subject: "the TOTP secret of user \(userID)")
        let totp = TOTP(secret: Base32.decode(String(decoding: secret, as: UTF8.self)) ?? [])
        try await gate("totp").attempt(account: userID, ip: ip) {
            // Reads the last step again inside the gate: a racing request may have spent it meanwhile.
            let current = try await store.mfaVerifications(userID: userID).first { $0.id == factor.id }
            guard case .totp(_, let lastUsed)? = current?.kind,
                  let step = totp.verify(code, at: now(), lastUsedStep: lastUsed),
                  try await store.useTotpStep(verificationID: factor.id, step: step, at: now())
            else { throw IdentityError(.invalidCredentials, phrase: "mfa.invalid_totp_code") }
        }
        return factor.id
    }

    // MARK: Backup codes

    /// Ten fresh codes of ten lowercase hex characters (40 bits each; the digest is keyed, so a stolen database
    /// does not give them up to an offline search).
    public static func newBackupCodes() -> [String] {
        (0..<backupCodeCount).map { _ in String(SecretDigest.hex(SecureRandom.bytes(5))) }
    }

    /// Imported codes: exactly ten, each ten hex characters (Logto's rule). Throws `user.wrong_backup_code_format`.
    public static func validBackupCodes(_ codes: [String]) throws -> [String] {
        let cleaned = codes.map { $0.lowercased() }
        guard cleaned.count == backupCodeCount, Set(cleaned).count == cleaned.count,
              cleaned.allSatisfy({ $0.count == 10 && $0.allSatisfy { $0.isHexDigit && $0.isASCII } })
        else { throw IdentityError(.wrongBackupCodeFormat, phrase: "mfa.wrong_backup_code_format") }
        return cleaned
    }

    /// The keyed digest a backup code is stored as: hex HMAC-SHA-256 under the installation's backup code key.
    public func digest(backupCode: String) async throws -> String {
        let key = SymmetricKey(data: try await store.backupCodeKey())
        let normalized = backupCode.filter { !$0.isWhitespace && $0 != "-" }.lowercased()
        return SecretDigest.hex(HMAC<SHA256>.authenticationCode(for: Data(normalized.utf8), using: key))
    }

    /// Stores a set of codes, replacing the user's previous set. With `replacing` false, a set with unused codes
    /// left is refused (`user.backup_code_already_in_use`). Backup codes need another factor first
    /// (`session.mfa.backup_code_can_not_be_alone`).
    public func setBackupCodes(userID: String, codes: [String], replacing: Bool) async throws {
        let existing = try await store.mfaVerifications(userID: userID)
        guard existing.contains(where: { $0.factor != .backupCode }) else {
            throw IdentityError(.backupCodeAlone, phrase: "mfa.backup_code_alone")
        }
        if !replacing, existing.contains(where: { $0.factor == .backupCode && $0.isUsable }) {
            throw IdentityError(.backupCodeInUse, phrase: "mfa.backup_code_in_use")
        }
        var digests: [BackupCode] = []
        for code in codes { digests.append(BackupCode(digest: try await digest(backupCode: code))) }
        try await store.insertMfaVerification(MfaVerification(
            id: SecureRandom.identifier(), userID: userID, kind: .backupCode(digests), createdAt: now()))
    }

    /// Spends one backup code. Throws `session.mfa.invalid_backup_code` for a wrong or used code, or
    /// `tooManyAttempts` while locked. Returns the factor's id.
    public func verifyBackupCode(userID: String, code: String, ip: String) async throws -> String {
        guard let set = try await store.mfaVerifications(userID: userID).first(where: { $0.factor == .backupCode })
        else { throw IdentityError(.mfaFactorNotSetUp, phrase: "mfa.factor_not_set_up") }
        let digest = try await digest(backupCode: code)
        try await gate("backup-code").attempt(account: userID, ip: ip) {
            guard code.count <= 64, try await store.useBackupCode(userID: userID, digest: digest, at: now()) else {
                throw IdentityError(.invalidCredentials, phrase: "mfa.invalid_backup_code")
            }
        }
        return set.id
    }

    private func gate(_ factor: String) -> PasswordAttemptGate {
        PasswordAttemptGate(limiter: limiter, scope: "mfa-" + factor, accountRule: Self.failureRule, ipRule: Self.ipRule)
    }

    /// Maps the gate's `invalidCredentials` to the factor's own Logto code, keeping the phrase.
    public static func factorError(_ error: IdentityError) -> IdentityError {
        guard error.code == .invalidCredentials else { return error }
        var mapped = error
        mapped.code = error.phrase == "mfa.invalid_backup_code" ? .invalidBackupCode : .invalidTotpCode
        return mapped
    }

    // MARK: Removal

    /// Removes one factor. Refused when it is the user's last real factor and `policy` is `Mandatory`
    /// (`mfa.last_factor_required`, unless `force`: an administrator's reset); backup codes go with the last
    /// real factor, since they are never alone. Throws `notFound` for a factor the user does not have.
    public func remove(userID: String, id: String, policy: MfaPolicy, force: Bool = false) async throws {
        let factors = try await store.mfaVerifications(userID: userID)
        guard let target = factors.first(where: { $0.id == id }) else {
            throw IdentityError(.notFound, phrase: "mfa.factor_not_found")
        }
        let othersLeft = factors.filter { $0.id != id && $0.factor != .backupCode }
        if target.factor != .backupCode, othersLeft.isEmpty {
            if policy == .mandatory, !force {
                throw IdentityError(.mfaLastFactorRequired, phrase: "mfa.last_factor_required")
            }
            _ = try await store.deleteMfaVerifications(userID: userID)
            return
        }
        _ = try await store.deleteMfaVerification(id: id, userID: userID)
    }
}

extension IdentityError.Code {
    /// Submit needs a second factor verified first (403, with `availableFactors`).
    public static let mfaVerificationRequired = Self(rawValue: "session.mfa.require_mfa_verification")
    /// Submit needs a factor set up first (422, with `availableFactors` and `skippable`).
    public static let missingMfa = Self(rawValue: "user.missing_mfa")
    public static let backupCodeRequired = Self(rawValue: "session.mfa.backup_code_required")
    public static let backupCodeAlone = Self(rawValue: "session.mfa.backup_code_can_not_be_alone")
    public static let mfaFactorNotEnabled = Self(rawValue: "session.mfa.mfa_factor_not_enabled")
    public static let mfaPolicyNotUserControlled = Self(rawValue: "session.mfa.mfa_policy_not_user_controlled")
    public static let invalidTotpCode = Self(rawValue: "session.mfa.invalid_totp_code")
    public static let invalidBackupCode = Self(rawValue: "session.mfa.invalid_backup_code")
    public static let totpAlreadyInUse = Self(rawValue: "user.totp_already_in_use")
    public static let totpSecretInvalid = Self(rawValue: "user.totp_secret_invalid")
    public static let backupCodeInUse = Self(rawValue: "user.backup_code_already_in_use")
    public static let wrongBackupCodeFormat = Self(rawValue: "user.wrong_backup_code_format")
    public static let mfaFactorNotSetUp = Self(rawValue: "session.mfa.factor_not_set_up")
    public static let mfaLastFactorRequired = Self(rawValue: "user.mfa_last_factor_required")
    public static let webAuthnVerificationFailed = Self(rawValue: "session.mfa.webauthn_verification_failed")

    /// The MFA codes answered with 422 (the rest are 400, `mfaVerificationRequired` 403).
    public static let mfaUnprocessable: Set<Self> = [
        .missingMfa, .backupCodeRequired, .backupCodeAlone, .mfaPolicyNotUserControlled, .totpAlreadyInUse,
        .totpSecretInvalid, .backupCodeInUse, .wrongBackupCodeFormat, .mfaLastFactorRequired,
    ]
}
