import Foundation
import SesameConnectors
import SesameIdentity
import SesameOIDC
import SesameStorage

/// The steps of a sign-in, registration or recovery, on the stored `Experience` state machine. The
/// Experience API and the hosted pages both drive it, so the same rules hold whichever a person uses.
struct ExperienceEngine: Sendable {
    let runtime: SesameRuntime

    enum Outcome {
        /// The user proved who they are (signed in or just registered), with the methods used (RFC 8176 `amr`).
        case signedIn(User, amr: [String])
        case passwordReset
        /// The first factor is done; a second factor must be verified, set up or skipped (`MfaStep`) first.
        case needsMfa(MfaStep)
    }

    /// Registrations by username per IP and hour.
    static let usernameRegistrationRule = RateLimiter.Rule(limit: 20, window: 3600)

    func start(_ event: Experience.Event, _ session: ExperienceSession) async throws {
        try await session.save(Experience(event: event, startedAt: runtime.provider.now()))
    }

    /// The settings must allow `event` for this kind of identifier: the same rule for the hosted pages and
    /// the Experience API.
    static func checkAllowed(_ event: Experience.Event, _ type: SignInExperience.Identifier,
                             settings: SignInExperience) throws
    {
        switch event {
        case .signIn:
            guard settings.method(for: type)?.verificationCode == true else {
                throw disabled("experience.code_sign_in_off", type)
            }
        case .register:
            guard settings.signUp.identifiers.contains(type) else {
                throw disabled("experience.sign_up_off", type)
            }
        case .forgotPassword:
            guard settings.method(for: type)?.password == true else {
                throw disabled("experience.password_recovery_off", type)
            }
        }
    }

    /// `methodDisabled` for a kind of identifier, with the phrase family `experience.<something>_off`.
    static func disabled(_ family: String, _ type: SignInExperience.Identifier) -> IdentityError {
        IdentityError(.methodDisabled, phrase: family, per: type)
    }

    /// Sends a code for the experience's event and records the verification; returns its id. The code goes out
    /// whether or not an account uses the address, with the same answer, limits and timing, so nobody learns
    /// which addresses have accounts without proving the address first (as Logto does): only after the code is
    /// verified does identification tell, and the experience may then switch between sign-in and registration
    /// (`switchEvent`) with the same verification.
    func sendCode(_ session: ExperienceSession, to identifier: Experience.Identifier) async throws -> String {
        var experience = try await session.load()
        guard identifier.type == .email else {
            throw IdentityError.invalidInput(phrase: "experience.codes_by_email_only")
        }
        try Self.checkAllowed(experience.event, identifier.type, settings: session.visit.settings)
        let id = SecureRandom.identifier()
        experience.addVerification(.init(id: id, kind: .verificationCode, identifier: identifier, isVerified: false))
        try await runtime.sendEmailCode(to: identifier.value, usage: Self.usage(experience.event),
                                        ip: session.visit.clientIP, locale: session.visit.t.language)
        try await session.save(experience)
        return id
    }

    /// Logto's `PUT /api/experience/interaction-event`: a verified address with no account may register instead
    /// of signing in, and one that has an account may sign in instead of registering, without a second code.
    /// The settings must allow the new event for the verified identifier.
    func switchEvent(_ session: ExperienceSession, to event: Experience.Event) async throws {
        var experience = try await session.load()
        try experience.switchEvent(to: event)
        if let verified = experience.verifications.last(where: { $0.isVerified && $0.kind == .verificationCode }) {
            try Self.checkAllowed(event, verified.identifier.type, settings: session.visit.settings)
        }
        try await session.save(experience)
    }

    /// Checks a code; without a verification id, the newest code verification for the identifier.
    func verifyCode(_ session: ExperienceSession, id: String?, identifier: Experience.Identifier, code: String)
        async throws -> String
    {
        var experience = try await session.load()
        let verification: Experience.Verification
        if let id {
            verification = try experience.verification(id)
        } else {
            guard let latest = experience.verifications.last(where: {
                $0.kind == .verificationCode && $0.identifier == identifier
            }) else { throw IdentityError(.invalidCode, phrase: "code.invalid") }
            verification = latest
        }
        guard verification.identifier == identifier else {
            throw IdentityError.invalidInput(phrase: "experience.identifier_mismatch")
        }
        try Self.checkAllowed(experience.event, identifier.type, settings: session.visit.settings)
        do {
            try await runtime.codes.verify(identifier: identifier.value, usage: Self.usage(experience.event).rawValue,
                                           code: code)
        } catch {
            if experience.event == .signIn { runtime.metrics.signIn(method: "verificationCode", result: "failure") }
            throw error
        }
        try experience.markVerified(verification.id, at: runtime.provider.now())
        try await session.save(experience)
        return verification.id
    }

    /// Checks a password with the per-account and per-IP limits; returns the verification id.
    func verifyPassword(_ session: ExperienceSession, identifier: Experience.Identifier, password: String)
        async throws -> String
    {
        var experience = try await session.load()
        guard experience.event == .signIn else {
            throw IdentityError.invalidInput(phrase: "experience.password_for_sign_in_only")
        }
        guard session.visit.settings.method(for: identifier.type)?.password == true else {
            throw Self.disabled("experience.password_sign_in_off", identifier.type)
        }
        // The lock is per account, whichever identifier names it (username or email), and per IP; a success
        // never counts as a failure (`PasswordAttemptGate`).
        let lookup = identifier.value.trimmingCharacters(in: .whitespaces)
        let account = try await runtime.store.user(identifier: lookup)
        let gate = PasswordAttemptGate(limiter: runtime.rateLimiter, scope: "sign-in",
                                       accountRule: SignInRoutes.accountRule, ipRule: SignInRoutes.ipRule)
        // An unknown identifier is counted under the form an account would be found by (the store's lookup:
        // case-insensitive, `+` ignored in phone numbers), so its variants share one count, as a real
        // account's do, and the lock tells nobody which identifiers exist.
        let unknownKey = identifier.type == .phone ? lookup.filter { $0 != "+" } : lookup.lowercased()
        let user = try await gate.attempt(
            account: account?.id ?? SecretDigest.sha256Hex(identifier.type.rawValue + ":" + unknownKey),
            ip: session.visit.clientIP,
            onFailure: { failures in
                runtime.metrics.signIn(method: "password", result: "failure")
                runtime.audit.record(AuditEvent(
                    key: "SignIn.Failure", applicationID: session.visit.interaction?.request.clientID,
                    ip: session.visit.clientIP, payload: ["identifierType": .string(identifier.type.rawValue)],
                    createdAt: runtime.provider.now()))
                // Slow down before the lock: from the third failure in the window, each answer waits longer.
                if failures >= 3 {
                    try await Task.sleep(for: runtime.configuration.passwordFailureDelay * min(failures - 2, 8))
                }
            }) {
            try await runtime.users.authenticate(account, password: password,
                                                 cost: session.visit.settings.passwordPolicy.bcryptCost)
        }
        let id = SecureRandom.identifier()
        experience.addVerification(.init(id: id, kind: .password, identifier: identifier, isVerified: true,
                                         userID: user.id, verifiedAt: runtime.provider.now()))
        try await session.save(experience)
        return id
    }

    func identify(_ session: ExperienceSession, verificationID: String) async throws {
        var experience = try await session.load()
        let verification = try experience.verification(verificationID)
        let existing = try await runtime.store.user(identifier: verification.identifier.value)
        try experience.identify(verificationID: verificationID, existingUserID: existing?.id,
                                now: runtime.provider.now())
        try await session.save(experience)
    }

    /// Registration profile: a username, a password (checked against the policy, kept as bcrypt) or a name.
    func setProfile(_ session: ExperienceSession, username: String? = nil, password: String? = nil,
                    name: String? = nil) async throws
    {
        var experience = try await session.load()
        guard experience.event == .register else {
            throw IdentityError.invalidInput(phrase: "experience.profile_only_at_registration")
        }
        if let username {
            // A username alone is an identifier only when sign-up by username is on.
            if experience.newIdentifier == nil || experience.newIdentifier?.type == .username {
                try Self.checkAllowed(.register, .username, settings: session.visit.settings)
            }
            // No code bounds registration by username: a limit per IP does, counted before any work.
            let attempts = try await runtime.rateLimiter.hit("register:ip:" + RateLimiter.addressKey(session.visit.clientIP),
                                                             rule: Self.usernameRegistrationRule)
            guard attempts <= Self.usernameRegistrationRule.limit else {
                throw IdentityError(.tooManyAttempts, phrase: "experience.too_many_registrations")
            }
            let valid = try UserService.validateUsername(username)
            try experience.setUsername(valid, isTaken: try await runtime.store.user(identifier: valid) != nil)
        }
        if let name { experience.name = name }
        if let password {
            let policy = session.visit.settings.passwordPolicy
            try PasswordPolicyChecker(policy: policy).check(
                password, userInfo: [experience.newIdentifier?.value, experience.username, experience.name]
                    .compactMap { $0 })
            experience.passwordHash = try await PasswordHasher(cost: UInt8(clamping: policy.bcryptCost)).hash(password)
        }
        try await session.save(experience)
    }

    /// Recovery: the new password of the identified user.
    func setNewPassword(_ session: ExperienceSession, _ password: String) async throws {
        var experience = try await session.load()
        guard experience.event == .forgotPassword, let userID = experience.identifiedUserID else {
            throw IdentityError.invalidInput(phrase: "experience.forgot_password_identify_first")
        }
        let user = try await runtime.store.user(id: userID)
        let policy = session.visit.settings.passwordPolicy
        try PasswordPolicyChecker(policy: policy).check(
            password, userInfo: [user?.primaryEmail, user?.username, user?.name].compactMap { $0 })
        experience.passwordHash = try await PasswordHasher(cost: UInt8(clamping: policy.bcryptCost)).hash(password)
        try await session.save(experience)
    }

    /// Carries the experience out and ends it.
    func submit(_ session: ExperienceSession) async throws -> Outcome {
        var experience = try await session.load()
        let settings = session.visit.settings
        let outcome: Outcome
        let createdHere = experience.mfaState(for: experience.identifiedUserID).isRegistration
        // The settings may have changed since the experience started: they decide at the end too (for an account
        // this experience created, they did when it was created).
        if !createdHere, let verified = experience.verifications.first(where: \.isVerified) {
            if verified.kind == .passkey {
                try Self.checkPasskeySignIn(settings, experience)
            } else if verified.kind == .verificationCode {
                try Self.checkAllowed(experience.event, verified.identifier.type, settings: settings)
            } else if settings.method(for: verified.identifier.type)?.password != true {
                throw Self.disabled("experience.password_sign_in_off", verified.identifier.type)
            }
        }
        switch try experience.submission(passwordRequired: settings.signUp.password, now: runtime.provider.now()) {
        case .signIn(let userID):
            guard let user = try await runtime.store.user(id: userID), !user.isSuspended else {
                throw IdentityError(.suspended, phrase: "user.suspended")
            }
            if let step = try await mfaStep(experience, user: user, visit: session.visit) { return .needsMfa(step) }
            outcome = .signedIn(user, amr: experience.authenticationMethods)
        case .register(let identifier):
            guard settings.signUp.identifiers.contains(identifier.type) else {
                throw Self.disabled("experience.sign_up_off", identifier.type)
            }
            // One insert, the password with it: no account ever exists without the password it was given.
            // A verified email's domain places the new user in the organizations that provision it.
            var newUser = UserService.NewUser(
                username: experience.username, email: identifier.type == .email ? identifier.value : nil,
                name: experience.name, passwordHash: experience.passwordHash)
            newUser.provisionsJustInTime = identifier.type == .email
            let user = try await runtime.users.create(newUser)
            if let step = try await mfaStep(experience, user: user, visit: session.visit, isRegistration: true) {
                // The account exists; the experience goes on as its sign-in, which the second factor finishes.
                experience.event = .signIn
                experience.identifiedUserID = user.id
                experience.updateMfa(for: user.id) { $0.isRegistration = true }
                try await session.save(experience)
                recordSuccess("Register.Success", experience, userID: user.id, session.visit)
                return .needsMfa(step)
            }
            outcome = .signedIn(user, amr: experience.authenticationMethods)
        case .resetPassword(let userID, let hash):
            // The new password and the end of every session and token of the account, in one transaction.
            try await runtime.users.resetPassword(userID: userID, passwordHash: hash)
            outcome = .passwordReset
        }
        try await session.delete()
        let key = switch (experience.event, outcome) {
        case (.register, _): "Register.Success"
        case (_, .passwordReset): "PasswordReset.Success"
        default: "SignIn.Success"
        }
        var userID: String?
        if case .signedIn(let user, _) = outcome { userID = user.id } else { userID = experience.identifiedUserID }
        // A registration that asked for a second factor was recorded when the account was created.
        if !createdHere { recordSuccess(key, experience, userID: userID, session.visit) }
        return outcome
    }

    private func recordSuccess(_ key: String, _ experience: Experience, userID: String?, _ visit: Visit) {
        let method = experience.verifications.first(where: \.isVerified)?.kind.rawValue ?? "unknown"
        if key == "SignIn.Success" {
            let kind = experience.verifications.first(where: \.isVerified)?.kind
            runtime.metrics.signIn(method: kind == .password ? "password" : "verificationCode", result: "success")
        }
        var payload: [String: JSONValue] = ["method": .string(method)]
        if let userID, case let mfa = experience.mfaState(for: userID), mfa.isSatisfied {
            payload["mfa"] = .string((mfa.verifiedFactor ?? mfa.boundFactors.first)?.rawValue ?? "")
        }
        runtime.audit.record(AuditEvent(key: key, userID: userID, applicationID: visit.interaction?.request.clientID,
                                        ip: visit.clientIP, payload: .object(payload),
                                        createdAt: runtime.provider.now()))
    }

    static func usage(_ event: Experience.Event) -> UsageType {
        switch event {
        case .signIn: .signIn
        case .register: .register
        case .forgotPassword: .forgotPassword
        }
    }
}
