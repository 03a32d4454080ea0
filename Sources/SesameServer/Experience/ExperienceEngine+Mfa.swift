import Foundation
import SesameIdentity
import SesameOIDC
import SesameStorage

/// The second-factor steps of a sign-in (`../design/logto-reference.md` §3): after the first factor, `submit`
/// answers `needsMfa` until the user verified a factor they have, set one up, or skipped where the policy lets
/// them. The same steps serve the Experience API and the hosted pages.
extension ExperienceEngine {
    /// What the sign-in still needs before it may finish.
    enum MfaStep: Equatable {
        /// Verify one of these factors the user has.
        case verify([MfaFactor])
        /// Set one of these factors up (`skippable`: a "not now" is allowed).
        case enrol([MfaFactor], skippable: Bool)
        /// A factor was just set up and backup codes are offered: generate and keep them.
        case backupCodes

        /// Logto's error for the step, with its `data` (`availableFactors`, `skippable`).
        var error: IdentityError {
            switch self {
            case .verify(let factors):
                var error = IdentityError(.mfaVerificationRequired, phrase: "mfa.verification_required")
                error.data = ["availableFactors": .array(factors.map { .string($0.rawValue) })]
                return error
            case .enrol(let factors, let skippable):
                var error = IdentityError(.missingMfa, phrase: "mfa.missing")
                error.data = ["availableFactors": .array(factors.map { .string($0.rawValue) }),
                              "skippable": .bool(skippable)]
                return error
            case .backupCodes:
                var error = IdentityError(.backupCodeRequired, phrase: "mfa.backup_code_required")
                error.data = ["availableFactors": [.string(MfaFactor.backupCode.rawValue)]]
                return error
            }
        }
    }

    /// The MFA step `user`'s sign-in needs now, or nil when it may finish. `isRegistration`: the account is
    /// being created by this experience.
    func mfaStep(_ experience: Experience, user: User, visit: Visit, isRegistration: Bool = false) async throws
        -> MfaStep?
    {
        let settings = visit.settings.mfa
        let state = experience.mfaState(for: user.id)
        let factors = try await runtime.mfa.factors(userID: user.id)
        if state.isSatisfied {
            // A factor set up now: backup codes too, when offered and the user has none.
            if state.boundFactors.contains(where: { $0 != .backupCode }), settings.factors.contains(.backupCode),
               !factors.contains(.backupCode)
            {
                return .backupCodes
            }
            return nil
        }
        let demandedByClient = visit.interaction?.request.demandsMFA == true
        let demandedByOrganization = try await runtime.store.organizations(of: .account(user.id))
            .contains { $0.organization.isMfaRequired }
        let skipped = try await runtime.store.isMfaSkipped(userID: user.id)
        switch MfaRequirement.decide(settings: settings, userFactors: factors,
                                     isRegistration: isRegistration || state.isRegistration,
                                     hasSkipped: skipped || state.isSkipped,
                                     isDemanded: demandedByClient || demandedByOrganization)
        {
        case .none:
            if demandedByClient {
                // The client asked for two factors and none is offered: say so rather than pretend.
                throw IdentityError(.mfaFactorNotEnabled, phrase: "mfa.none_offered")
            }
            return nil
        case .verify(let available): return .verify(available)
        case .enrol(let offered, let skippable): return .enrol(offered, skippable: skippable)
        }
    }

    /// The identified user of a sign-in whose first factor is still fresh: the only one who may verify or set up
    /// a second factor. Throws `experience.identify_user_first`.
    func mfaUser(_ experience: Experience) async throws -> User {
        guard experience.event == .signIn, let userID = experience.identifiedUserID else {
            throw IdentityError(.invalidInput, phrase: "experience.identify_user_first")
        }
        // Freshness of the first factor, as submit checks it.
        _ = try experience.submission(passwordRequired: false, now: runtime.provider.now())
        guard let user = try await runtime.store.user(id: userID), !user.isSuspended else {
            throw IdentityError(.suspended, phrase: "user.suspended")
        }
        return user
    }

    /// Verifying a factor the user has needs MFA on (some factor offered), not this one: a factor the settings no
    /// longer offer still proves its holder.
    static func checkMfaOn(_ visit: Visit, _ factor: MfaFactor) throws {
        guard !visit.settings.mfa.factors.isEmpty else {
            throw IdentityError(.mfaFactorNotEnabled, phrase: "mfa.factor_not_enabled", ["factor": factor.rawValue])
        }
    }

    /// Setting a factor up needs the factor offered and, for a user who already has one, that factor verified
    /// first (a stolen password must not be enough to add the thief's authenticator).
    func checkCanBindFactor(_ factor: MfaFactor, _ experience: Experience, user: User, visit: Visit) async throws {
        guard visit.settings.mfa.factors.contains(factor) else {
            throw IdentityError(.mfaFactorNotEnabled, phrase: "mfa.factor_not_enabled", ["factor": factor.rawValue])
        }
        // Any factor the user can still use, backup codes included, must be proved first.
        let existing = try await runtime.mfa.factors(userID: user.id)
        if !existing.isEmpty, !experience.mfaState(for: user.id).isSatisfied {
            throw MfaStep.verify(MfaFactor.allCases.filter(existing.contains)).error
        }
    }

    /// Starts setting TOTP up: a new secret, kept sealed with the experience until a code proves the app has it.
    /// Returns the verification id, the secret (base32) and the `otpauth://` URI for the QR code.
    func createTotpSecret(_ session: ExperienceSession) async throws -> (id: String, secret: String, uri: String) {
        var experience = try await session.load()
        let user = try await mfaUser(experience)
        try await checkCanBindFactor(.totp, experience, user: user, visit: session.visit)
        if try await runtime.mfa.factors(userID: user.id).contains(.totp) {
            throw IdentityError(.totpAlreadyInUse, phrase: "mfa.totp_already_in_use")
        }
        let secret = MfaService.newTotpSecret()
        let sealed = try runtime.mfa.box.seal(Data(secret.utf8))
        let id = SecureRandom.identifier()
        experience.updateMfa(for: user.id) { state in
            state.proofs.removeAll { $0.factor == .totp && $0.isRegistration }
            state.proofs.append(.init(id: id, factor: .totp, sealedSecret: sealed, isRegistration: true,
                                      createdAt: runtime.provider.now()))
        }
        try await session.save(experience)
        return (id, secret, Self.totpURI(secret: secret, user: user, runtime: runtime))
    }

    /// The `otpauth://` URI of a secret: issuer Sesame's host (Logto's rule), account the user's display name.
    static func totpURI(secret: String, user: User, runtime: SesameRuntime) -> String {
        let account = user.name ?? user.primaryEmail ?? user.primaryPhone ?? user.username ?? "Unnamed User"
        return TOTP(secret: Base32.decode(secret) ?? []).uri(issuer: runtime.configuration.endpointHost, account: account)
    }

    /// The TOTP secret of a set-up in progress, or nil for an unknown id.
    func pendingTotpSecret(_ experience: Experience, id: String) throws -> String? {
        guard let proof = experience.mfaState(for: experience.identifiedUserID).proofs.first(where: { $0.id == id && $0.factor == .totp && $0.isRegistration }),
              let sealed = proof.sealedSecret
        else { return nil }
        return String(decoding: try runtime.mfa.box.open(sealed, subject: "a TOTP secret being set up"), as: UTF8.self)
    }

    /// With `verificationID` (a set-up from `createTotpSecret`): checks the code against the new secret. Without:
    /// checks the code against the user's TOTP (limited, replay-proof). Returns the verification id.
    func verifyTotp(_ session: ExperienceSession, code: String, verificationID: String?) async throws -> String {
        var experience = try await session.load()
        let user = try await mfaUser(experience)
        if let verificationID {
            guard let secret = try pendingTotpSecret(experience, id: verificationID) else {
                throw IdentityError(.notFound, phrase: "experience.verification_not_found", ["id": verificationID])
            }
            let step = try runtime.mfa.checkNewTotp(secret: secret, code: code)
            experience.updateMfa(for: user.id) { state in
                if let index = state.proofs.firstIndex(where: { $0.id == verificationID }) {
                    state.proofs[index].isVerified = true
                    state.proofs[index].totpStep = step
                }
            }
            try await session.save(experience)
            return verificationID
        }
        return try await verifyExisting(.totp, session, &experience, user: user) {
            try await runtime.mfa.verifyTotp(userID: user.id, code: code, ip: session.visit.clientIP)
        }
    }

    /// Checks a factor the user has with `check` (which throws the factor's error), audits the outcome, and records
    /// the factor as proved for this user's sign-in. Returns the verification id.
    private func verifyExisting(_ factor: MfaFactor, _ session: ExperienceSession, _ experience: inout Experience,
                                user: User, _ check: () async throws -> String) async throws -> String
    {
        try Self.checkMfaOn(session.visit, factor)
        do {
            _ = try await check()
        } catch let error as IdentityError {
            audit("Mfa.Verify.Failure", user: user.id, factor: factor, session.visit)
            throw MfaService.factorError(error)
        }
        let id = SecureRandom.identifier()
        let now = runtime.provider.now()
        experience.updateMfa(for: user.id) { state in
            state.verifiedFactor = factor
            state.proofs.append(.init(id: id, factor: factor, isVerified: true, isRegistration: false, createdAt: now))
        }
        try await session.save(experience)
        audit("Mfa.Verify.Success", user: user.id, factor: factor, session.visit)
        return id
    }

    /// Ten new backup codes, kept sealed with the experience until `bindMfa` stores them. Returns the
    /// verification id and the codes.
    func generateBackupCodes(_ session: ExperienceSession) async throws -> (id: String, codes: [String]) {
        var experience = try await session.load()
        let user = try await mfaUser(experience)
        try await checkCanBindFactor(.backupCode, experience, user: user, visit: session.visit)
        let codes = MfaService.newBackupCodes()
        let id = SecureRandom.identifier()
        let sealed = try runtime.mfa.box.seal(Data(codes.joined(separator: " ").utf8))
        experience.updateMfa(for: user.id) { state in
            state.proofs.removeAll { $0.factor == .backupCode && $0.isRegistration }
            state.proofs.append(.init(id: id, factor: .backupCode, isVerified: true, sealedSecret: sealed,
                                      isRegistration: true, createdAt: runtime.provider.now()))
        }
        try await session.save(experience)
        return (id, codes)
    }

    /// The codes of a backup code set-up in progress (the hosted page shows them until they are kept).
    func pendingBackupCodes(_ experience: Experience) throws -> (id: String, codes: [String])? {
        guard let proof = experience.mfaState(for: experience.identifiedUserID).proofs
            .last(where: { $0.factor == .backupCode && $0.isRegistration }),
              let sealed = proof.sealedSecret
        else { return nil }
        let text = String(decoding: try runtime.mfa.box.open(sealed, subject: "backup codes being set up"), as: UTF8.self)
        return (proof.id, text.split(separator: " ").map(String.init))
    }

    /// Spends one of the user's backup codes. Returns the verification id.
    func verifyBackupCode(_ session: ExperienceSession, code: String) async throws -> String {
        var experience = try await session.load()
        let user = try await mfaUser(experience)
        return try await verifyExisting(.backupCode, session, &experience, user: user) {
            try await runtime.mfa.verifyBackupCode(userID: user.id, code: code, ip: session.visit.clientIP)
        }
    }

    /// Logto's `POST /profile/mfa`: stores the factor a verified set-up proved (TOTP, backup codes, a passkey).
    func bindMfa(_ session: ExperienceSession, factor: MfaFactor, verificationID: String) async throws {
        var experience = try await session.load()
        let user = try await mfaUser(experience)
        try await checkCanBindFactor(factor, experience, user: user, visit: session.visit)
        let proof = try experience.mfaProof(verificationID, for: user.id)
        guard proof.factor == factor, proof.isRegistration, proof.isVerified else {
            throw IdentityError(.invalidInput, phrase: "experience.verification_not_verified")
        }
        switch factor {
        case .totp:
            guard let secret = try pendingTotpSecret(experience, id: verificationID) else {
                throw IdentityError(.notFound, phrase: "experience.verification_not_found", ["id": verificationID])
            }
            try await runtime.mfa.addTotp(userID: user.id, secret: secret, lastUsedStep: proof.totpStep)
        case .backupCode:
            guard let pending = try pendingBackupCodes(experience), pending.id == verificationID else {
                throw IdentityError(.notFound, phrase: "experience.verification_not_found", ["id": verificationID])
            }
            try await runtime.mfa.setBackupCodes(userID: user.id, codes: pending.codes, replacing: true)
        case .webAuthn:
            guard var credential = proof.credential else {
                throw IdentityError(.invalidInput, phrase: "experience.verification_not_verified")
            }
            credential.name = Self.passkeyName(agent: credential.agent)
            try await runtime.mfa.store.insertMfaVerification(MfaVerification(
                id: SecureRandom.identifier(), userID: user.id, kind: .webAuthn(credential),
                createdAt: runtime.provider.now()))
        }
        experience.updateMfa(for: user.id) { state in
            state.boundFactors.append(factor)
            state.proofs.removeAll { $0.id == verificationID }
        }
        try await session.save(experience)
        audit("Mfa.Bind", user: user.id, factor: factor, session.visit)
    }

    /// Logto's `POST /profile/mfa/mfa-skipped`: declines setting a factor up where the policy allows it (422
    /// `session.mfa.mfa_policy_not_user_controlled` otherwise), remembered for the user.
    func skipMfa(_ session: ExperienceSession) async throws {
        var experience = try await session.load()
        let user = try await mfaUser(experience)
        guard case .enrol(_, let skippable)? = try await mfaStep(experience, user: user, visit: session.visit),
              skippable
        else { throw IdentityError(.mfaPolicyNotUserControlled, phrase: "mfa.not_skippable") }
        try await runtime.store.setMfaSkipped(userID: user.id, at: runtime.provider.now())
        experience.updateMfa(for: user.id) { $0.isSkipped = true }
        try await session.save(experience)
        audit("Mfa.Skip", user: user.id, factor: nil, session.visit)
    }

    /// An `Mfa.*` audit event: the factor, never a code or secret.
    func audit(_ key: String, user: String, factor: MfaFactor?, _ visit: Visit) {
        var payload: [String: JSONValue] = [:]
        if let factor { payload["factor"] = .string(factor.rawValue) }
        runtime.audit.record(AuditEvent(key: key, userID: user, applicationID: visit.interaction?.request.clientID,
                                        ip: visit.clientIP, payload: .object(payload),
                                        createdAt: runtime.provider.now()))
    }
}
