import Foundation

/// The state of one sign-in, registration or password recovery driven through the Experience API:
/// verifications collected, the user identified, the profile to create. Transitions are pure and throw
/// `IdentityError` with the step that is missing.
public struct Experience: Sendable, Codable, Equatable {
    public enum Event: String, Sendable, Codable {
        case signIn = "SignIn"
        case register = "Register"
        case forgotPassword = "ForgotPassword"
    }

    public struct Identifier: Sendable, Codable, Equatable {
        public var type: SignInExperience.Identifier
        public var value: String

        public init(type: SignInExperience.Identifier, value: String) {
            self.type = type
            self.value = value
        }
    }

    public struct Verification: Sendable, Codable, Equatable {
        public enum Kind: String, Sendable, Codable {
            case verificationCode = "VerificationCode"
            case password = "Password"
            /// A passkey sign-in (a discoverable WebAuthn credential): the first factor and the second in one.
            case passkey = "Passkey"
        }

        public var id: String
        public var kind: Kind
        public var identifier: Identifier
        public var isVerified: Bool
        /// The account a password verification proved.
        public var userID: String?
        /// When it was verified: the proof is good for `Experience.proofLifetime` after that.
        public var verifiedAt: Date?

        public init(id: String, kind: Kind, identifier: Identifier, isVerified: Bool, userID: String? = nil,
                    verifiedAt: Date? = nil)
        {
            self.id = id
            self.kind = kind
            self.identifier = identifier
            self.isVerified = isVerified
            self.userID = userID
            self.verifiedAt = verifiedAt
        }

        /// Verified, and recently enough to act on at `now`.
        public func isFresh(at now: Date) -> Bool {
            guard isVerified, let verifiedAt else { return false }
            return now.timeIntervalSince(verifiedAt) <= Experience.proofLifetime
        }
    }

    /// How long a verified code or password proves its identifier, in seconds: as long as a code lives, so a
    /// mailbox once controlled cannot be used to sign in to whatever account holds the address later.
    public static let proofLifetime: TimeInterval = 600
    /// How long an experience lives from its start, in seconds, however often it is saved.
    public static let lifetime: TimeInterval = 3600

    public var event: Event
    /// When the experience started; it ends `lifetime` after that.
    public var startedAt: Date?
    public var verifications: [Verification] = []
    public var identifiedUserID: String?
    /// The verification that identified the user or proved the new address (not set for a registration by
    /// username, which no code proves).
    public var identifiedBy: String?
    /// The verified address a new account will use.
    public var newIdentifier: Identifier?
    /// bcrypt of the password chosen in the profile step (registration and recovery).
    public var passwordHash: String?
    public var name: String?
    /// The username chosen in the profile step of a registration: the new account's identifier when no
    /// email was verified (sign-up by username), an extra one otherwise.
    public var username: String?

    /// The second-factor part of a sign-in (nil until a factor is asked for, set up or skipped).
    public var mfa: MfaState?

    /// What happened with second factors in this experience, for one account.
    public struct MfaState: Sendable, Codable, Equatable {
        /// The account this state is about (nil: a passkey sign-in before anyone is identified). A factor proved
        /// for one account never counts for another: the state is read and changed only for its own account.
        public var userID: String?
        /// Factors being set up or checked, by verification id (Logto's MFA verification records).
        public var proofs: [MfaProof] = []
        /// The factor the user proved in this experience (an existing one).
        public var verifiedFactor: MfaFactor?
        /// Factors set up in this experience.
        public var boundFactors: [MfaFactor] = []
        /// The account was created in this experience: its registration asked for a factor before signing in.
        public var isRegistration = false
        /// The user declined to set a factor up.
        public var isSkipped = false

        public init(userID: String? = nil) {
            self.userID = userID
        }

        /// Whether a second factor was proved or set up: the sign-in counts as multi-factor.
        public var isSatisfied: Bool { verifiedFactor != nil || boundFactors.contains { $0 != .backupCode } }
    }

    /// A factor being set up (a TOTP secret waiting for its first code, backup codes waiting to be kept) or a
    /// check of one the user has.
    public struct MfaProof: Sendable, Codable, Equatable {
        public var id: String
        public var factor: MfaFactor
        public var isVerified: Bool
        /// TOTP set-up: the secret, sealed. Backup codes: the codes, sealed (shown until they are kept).
        public var sealedSecret: String?
        /// WebAuthn: the challenge (base64url) and whether it registers or authenticates.
        public var challenge: String?
        public var isRegistration: Bool
        /// WebAuthn registration: the credential, once verified.
        public var credential: WebAuthnCredential?
        /// TOTP set-up: the step of the code that proved it (stored as used when the factor is bound).
        public var totpStep: Int64?
        public var createdAt: Date

        public init(id: String, factor: MfaFactor, isVerified: Bool = false, sealedSecret: String? = nil,
                    challenge: String? = nil, isRegistration: Bool, credential: WebAuthnCredential? = nil,
                    createdAt: Date)
        {
            self.id = id
            self.factor = factor
            self.isVerified = isVerified
            self.sealedSecret = sealedSecret
            self.challenge = challenge
            self.isRegistration = isRegistration
            self.credential = credential
            self.createdAt = createdAt
        }
    }

    /// The second-factor state of `userID`: the stored one when it is that account's, else a fresh one.
    public func mfaState(for userID: String?) -> MfaState {
        guard let mfa, mfa.userID == userID else { return MfaState(userID: userID) }
        return mfa
    }

    /// Changes the second-factor state of `userID` (another account's state is dropped first).
    public mutating func updateMfa(for userID: String?, _ change: (inout MfaState) -> Void) {
        var state = mfaState(for: userID)
        change(&state)
        mfa = state
    }

    /// The proof `id` of `userID`'s state, or `session.verification_session_not_found` (404).
    public func mfaProof(_ id: String, for userID: String?) throws -> MfaProof {
        guard let proof = mfaState(for: userID).proofs.first(where: { $0.id == id }) else {
            throw IdentityError(.notFound, phrase: "experience.verification_not_found", ["id": id])
        }
        return proof
    }

    /// The authentication methods used (RFC 8176 `amr`): the first factor (`pwd` for a password, `otp` for an
    /// emailed code), the second (`otp` for TOTP and backup codes, `hwk` for a passkey), and `mfa` when there were
    /// two.
    public var authenticationMethods: [String] {
        var methods: [String] = []
        if let first = identifiedBy.flatMap({ id in verifications.first { $0.id == id } })
            ?? verifications.first(where: \.isVerified)
        {
            switch first.kind {
            case .password: methods.append("pwd")
            case .verificationCode: methods.append("otp")
            case .passkey: methods.append("hwk")
            }
        } else if passwordHash != nil {
            methods.append("pwd")
        }
        let mfa = mfaState(for: identifiedUserID)
        if identifiedUserID != nil, mfa.isSatisfied {
            let second = mfa.verifiedFactor ?? mfa.boundFactors.first { $0 != .backupCode }
            let value = second == .webAuthn ? "hwk" : "otp"
            if !methods.contains(value) { methods.append(value) }
            methods.append("mfa")
        }
        return methods
    }

    public init(event: Event, startedAt: Date? = nil) {
        self.event = event
        self.startedAt = startedAt
    }

    public mutating func addVerification(_ verification: Verification) {
        verifications.removeAll { $0.id == verification.id }
        verifications.append(verification)
    }

    public func verification(_ id: String) throws -> Verification {
        guard let verification = verifications.first(where: { $0.id == id }) else {
            throw IdentityError(.notFound, phrase: "experience.verification_not_found", ["id": id])
        }
        return verification
    }

    public mutating func markVerified(_ id: String, userID: String? = nil, at now: Date) throws {
        guard let index = verifications.firstIndex(where: { $0.id == id }) else {
            throw IdentityError(.notFound, phrase: "experience.verification_not_found", ["id": id])
        }
        verifications[index].isVerified = true
        verifications[index].verifiedAt = now
        if let userID { verifications[index].userID = userID }
    }

    static let staleProof = IdentityError(.invalidInput, phrase: "experience.verification_expired")

    /// Identifies the user from a verified verification; `existingUserID` is the account that owns the
    /// verified identifier, if any.
    public mutating func identify(verificationID: String, existingUserID: String?, now: Date) throws {
        let verification = try verification(verificationID)
        guard verification.isVerified else {
            throw IdentityError(.invalidInput, phrase: "experience.verification_not_verified")
        }
        guard verification.isFresh(at: now) else { throw Self.staleProof }
        switch event {
        case .signIn, .forgotPassword:
            guard let userID = verification.userID ?? existingUserID else {
                throw IdentityError(.userNotExist, phrase: "experience.no_account", per: verification.identifier.type)
            }
            if event == .forgotPassword, verification.kind != .verificationCode {
                throw IdentityError(.invalidInput, phrase: "experience.recovery_needs_code")
            }
            identifiedUserID = userID
        case .register:
            guard verification.kind == .verificationCode else {
                throw IdentityError(.invalidInput, phrase: "experience.registration_needs_code")
            }
            guard existingUserID == nil else {
                let type = verification.identifier.type
                throw IdentityError(type == .email ? .emailAlreadyInUse : .conflict,
                                    phrase: "experience.already_registered", per: type)
            }
            newIdentifier = verification.identifier
        }
        identifiedBy = verificationID
    }

    /// Switches between sign-in and registration, keeping the verifications (Logto's interaction-event switch).
    /// Identification and the profile start over; password recovery neither starts nor ends a switch.
    public mutating func switchEvent(to newEvent: Event) throws {
        guard event != .forgotPassword, newEvent != .forgotPassword else {
            throw IdentityError.invalidInput(phrase: "experience.forgot_password_cannot_switch")
        }
        guard newEvent != event else { return }
        event = newEvent
        mfa = nil
        identifiedUserID = nil
        identifiedBy = nil
        newIdentifier = nil
        passwordHash = nil
        username = nil
        name = nil
    }

    /// Registration by username: no code proves a username, so the profile names it. It becomes the new
    /// account's identifier unless an email was verified first.
    public mutating func setUsername(_ username: String, isTaken: Bool) throws {
        guard event == .register else {
            throw IdentityError.invalidInput(phrase: "experience.username_only_at_registration")
        }
        guard !isTaken else { throw IdentityError(.conflict, phrase: "user.username_taken") }
        self.username = username
        if newIdentifier == nil || newIdentifier?.type == .username {
            newIdentifier = Identifier(type: .username, value: username)
        }
    }

    /// What submitting does now, or the step still missing.
    public enum Submission: Equatable {
        case signIn(userID: String)
        case register(identifier: Identifier)
        case resetPassword(userID: String, passwordHash: String)
    }

    /// What submitting does at `now`: the verification that identified the user (or proved the new address)
    /// must still be fresh.
    public func submission(passwordRequired: Bool, now: Date) throws -> Submission {
        if let identifiedBy, try !verification(identifiedBy).isFresh(at: now) { throw Self.staleProof }
        switch event {
        case .signIn:
            guard let identifiedUserID else {
                throw IdentityError(.invalidInput, phrase: "experience.identify_user_first")
            }
            return .signIn(userID: identifiedUserID)
        case .register:
            guard let newIdentifier else {
                throw IdentityError(.invalidInput, phrase: "experience.registration_needs_identifier")
            }
            if passwordRequired, passwordHash == nil {
                throw IdentityError(.invalidInput, phrase: "experience.password_required")
            }
            return .register(identifier: newIdentifier)
        case .forgotPassword:
            guard let identifiedUserID else {
                throw IdentityError(.invalidInput, phrase: "experience.identify_user_first")
            }
            guard let passwordHash else {
                throw IdentityError(.invalidInput, phrase: "experience.new_password_required")
            }
            return .resetPassword(userID: identifiedUserID, passwordHash: passwordHash)
        }
    }
}

public protocol ExperienceStore: Sendable {
    /// The experience, unless it expired before `now`.
    func experience(id: String, now: Date) async throws -> Experience?
    func saveExperience(_ experience: Experience, id: String, expiresAt: Date) async throws
    func deleteExperience(id: String) async throws
}
