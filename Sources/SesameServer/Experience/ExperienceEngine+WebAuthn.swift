import Foundation
import SesameIdentity
import SesameOIDC
import SesameStorage

/// Passkeys (WebAuthn) in an experience: registering one as a second factor, verifying one the user has, and
/// signing in with one alone (a discoverable credential with user verification, which counts as two factors).
/// Each challenge is single use: it is taken out of the experience before the answer is checked.
extension ExperienceEngine {
    /// The relying party: `SESAME_ENDPOINT`'s host and origin, the sign-in experience's name.
    func relyingParty(_ visit: Visit) -> WebAuthnRelyingParty {
        WebAuthnRelyingParty(id: runtime.configuration.endpointHost,
                             name: visit.settings.branding.appName ?? "Sesame",
                             origin: runtime.configuration.endpointOrigin)
    }

    /// The user's passkeys with their factor ids.
    func passkeys(of userID: String) async throws -> [(id: String, credential: WebAuthnCredential)] {
        try await runtime.mfa.store.mfaVerifications(userID: userID).compactMap { verification in
            if case .webAuthn(let credential) = verification.kind { return (verification.id, credential) }
            return nil
        }
    }

    /// Logto's `POST /verification/web-authn/registration`: options for `navigator.credentials.create()`.
    func webAuthnRegistration(_ session: ExperienceSession) async throws -> (id: String, options: JSONValue) {
        var experience = try await session.load()
        let user = try await mfaUser(experience)
        try await checkCanBindFactor(.webAuthn, experience, user: user, visit: session.visit)
        let challenge = SecureRandom.bytes(32)
        let id = SecureRandom.identifier()
        let options = try await registrationOptions(for: user, challenge: challenge, visit: session.visit)
        experience.updateMfa(for: user.id) { state in
            state.proofs.removeAll { $0.factor == .webAuthn && $0.isRegistration && !$0.isVerified }
            state.proofs.append(.init(id: id, factor: .webAuthn, challenge: Base64URL.encode(challenge),
                                      isRegistration: true, createdAt: runtime.provider.now()))
        }
        try await session.save(experience)
        return (id, options)
    }

    /// The options to register a passkey for `user` (the sign-in's set-up and the account page's): the user id as
    /// the user handle, the account's passkeys excluded.
    func registrationOptions(for user: User, challenge: [UInt8], visit: Visit) async throws -> JSONValue {
        relyingParty(visit).registrationOptions(
            challenge: challenge, userHandle: user.id,
            userName: user.username ?? user.primaryEmail ?? user.primaryPhone ?? user.id,
            displayName: user.name ?? user.username ?? user.primaryEmail ?? user.id,
            exclude: try await passkeys(of: user.id).map(\.credential))
    }

    /// Logto's `.../registration/verify`: checks the new credential (§7.1); `profile/mfa` then stores it.
    func verifyWebAuthnRegistration(_ session: ExperienceSession, verificationID: String, payload: JSONValue,
                                    agent: String?) async throws -> String
    {
        var experience = try await session.load()
        let user = try await mfaUser(experience)
        let challenge = try takeChallenge(&experience, verificationID: verificationID, registration: true,
                                          userID: user.id)
        try await session.save(experience)
        let credential: WebAuthnCredential
        do {
            credential = try relyingParty(session.visit).verifyRegistration(payload, challenge: challenge, agent: agent)
        } catch let failure as WebAuthnRelyingParty.Failure {
            audit("Mfa.Verify.Failure", user: user.id, factor: .webAuthn, session.visit)
            throw Self.webAuthnError(failure)
        }
        if try await runtime.mfa.store.webAuthnVerification(credentialID: credential.credentialID) != nil {
            throw IdentityError(.conflict, phrase: "mfa.credential_registered")
        }
        experience.updateMfa(for: user.id) { state in
            if let index = state.proofs.firstIndex(where: { $0.id == verificationID }) {
                state.proofs[index].isVerified = true
                state.proofs[index].credential = credential
            }
        }
        try await session.save(experience)
        return verificationID
    }

    /// Logto's `POST /verification/web-authn/authentication`: options for `navigator.credentials.get()` listing
    /// the user's passkeys.
    func webAuthnAuthentication(_ session: ExperienceSession) async throws -> (id: String, options: JSONValue) {
        var experience = try await session.load()
        let user = try await mfaUser(experience)
        try Self.checkMfaOn(session.visit, .webAuthn)
        let passkeys = try await passkeys(of: user.id)
        guard !passkeys.isEmpty else { throw IdentityError(.mfaFactorNotSetUp, phrase: "mfa.factor_not_set_up") }
        return try await issueAssertionChallenge(session, &experience, userID: user.id, allow: passkeys.map(\.credential))
    }

    /// Logto's `.../authentication/verify`: the user's passkey answered the challenge (§7.2); the sign-in has its
    /// second factor.
    func verifyWebAuthnAuthentication(_ session: ExperienceSession, verificationID: String, payload: JSONValue)
        async throws -> String
    {
        var experience = try await session.load()
        let user = try await mfaUser(experience)
        let challenge = try takeChallenge(&experience, verificationID: verificationID, registration: false,
                                          userID: user.id)
        try await session.save(experience)
        let credentialID = try Self.credentialID(payload)
        if let handle = WebAuthnRelyingParty.userHandle(of: payload), handle != user.id {
            throw Self.webAuthnError(.init("the passkey's user handle is not this account's"))
        }
        guard let passkey = try await passkeys(of: user.id).first(where: { $0.credential.credentialID == credentialID })
        else {
            audit("Mfa.Verify.Failure", user: user.id, factor: .webAuthn, session.visit)
            throw Self.webAuthnError(.init("the passkey is not one of this account's"))
        }
        try await checkAssertion(payload, challenge: challenge, factorID: passkey.id, credential: passkey.credential,
                                 userID: user.id, visit: session.visit)
        experience.updateMfa(for: user.id) { state in
            state.verifiedFactor = .webAuthn
            if let index = state.proofs.firstIndex(where: { $0.id == verificationID }) { state.proofs[index].isVerified = true }
        }
        try await session.save(experience)
        audit("Mfa.Verify.Success", user: user.id, factor: .webAuthn, session.visit)
        return verificationID
    }

    // MARK: Passkey sign-in (first factor)

    /// Options for a passkey sign-in: any discoverable credential of this RP (conditional UI where the browser
    /// offers it). Needs `passkeySignIn.enabled` and passkeys offered.
    func passkeySignInOptions(_ session: ExperienceSession) async throws -> (id: String, options: JSONValue) {
        var experience = try await session.load()
        try Self.checkPasskeySignIn(session.visit.settings, experience)
        return try await issueAssertionChallenge(session, &experience, userID: nil, allow: [])
    }

    /// Checks a passkey sign-in and records it as a verification that identifies the user; `identification` and
    /// `submit` follow as for a password. The passkey proves possession and user verification: MFA is satisfied.
    func verifyPasskeySignIn(_ session: ExperienceSession, verificationID: String, payload: JSONValue) async throws
        -> String
    {
        var experience = try await session.load()
        try Self.checkPasskeySignIn(session.visit.settings, experience)
        let challenge = try takeChallenge(&experience, verificationID: verificationID, registration: false, userID: nil)
        try await session.save(experience)
        let credentialID = try Self.credentialID(payload)
        guard let factor = try await runtime.mfa.store.webAuthnVerification(credentialID: credentialID),
              case .webAuthn(let credential) = factor.kind
        else { throw Self.webAuthnError(.init("no account has this passkey")) }
        // A discoverable credential names its user (§7.2 step 6); it must be the account the credential belongs to.
        guard WebAuthnRelyingParty.userHandle(of: payload) == factor.userID else {
            throw Self.webAuthnError(.init("the passkey's user handle is missing or not its account's"))
        }
        try await checkAssertion(payload, challenge: challenge, factorID: factor.id, credential: credential,
                                 userID: factor.userID, visit: session.visit)
        guard let user = try await runtime.store.user(id: factor.userID) else {
            throw IdentityError(.userNotExist, phrase: "experience.no_account.username")
        }
        let now = runtime.provider.now()
        experience.addVerification(.init(id: verificationID, kind: .passkey,
                                         identifier: .init(type: .username, value: user.username ?? user.id),
                                         isVerified: true, userID: user.id, verifiedAt: now))
        // The state is the passkey's account's from now on: nothing proved for another account carries over.
        experience.updateMfa(for: user.id) { state in
            state.verifiedFactor = .webAuthn
        }
        try await session.save(experience)
        audit("Mfa.PasskeySignIn", user: user.id, factor: .webAuthn, session.visit)
        return verificationID
    }

    static func checkPasskeySignIn(_ settings: SignInExperience, _ experience: Experience) throws {
        guard settings.passkeySignIn.enabled, settings.mfa.factors.contains(.webAuthn) else {
            throw IdentityError(.methodDisabled, phrase: "mfa.passkey_sign_in_off")
        }
        guard experience.event == .signIn else {
            throw IdentityError.invalidInput(phrase: "experience.password_for_sign_in_only")
        }
    }

    // MARK: Shared

    /// `userID`: the account whose state keeps the challenge (nil for a passkey sign-in).
    private func issueAssertionChallenge(_ session: ExperienceSession, _ experience: inout Experience, userID: String?,
                                         allow: [WebAuthnCredential]) async throws -> (id: String, options: JSONValue)
    {
        let challenge = SecureRandom.bytes(32)
        let id = SecureRandom.identifier()
        experience.updateMfa(for: userID) { state in
            // Only the newest unanswered challenges are kept.
            state.proofs.removeAll { $0.factor == .webAuthn && !$0.isRegistration && !$0.isVerified }
            state.proofs.append(.init(id: id, factor: .webAuthn, challenge: Base64URL.encode(challenge),
                                      isRegistration: false, createdAt: runtime.provider.now()))
        }
        try await session.save(experience)
        return (id, relyingParty(session.visit).authenticationOptions(challenge: challenge, allow: allow))
    }

    /// Takes the challenge of a WebAuthn proof out of the experience (single use, whatever the answer), refusing
    /// one that is older than `webAuthnChallengeLifetime`.
    private func takeChallenge(_ experience: inout Experience, verificationID: String, registration: Bool,
                               userID: String?) throws -> [UInt8]
    {
        let proof = try experience.mfaProof(verificationID, for: userID)
        guard proof.factor == .webAuthn, proof.isRegistration == registration, let encoded = proof.challenge,
              let challenge = Base64URL.decode(encoded)
        else { throw IdentityError(.notFound, phrase: "experience.verification_not_found", ["id": verificationID]) }
        experience.updateMfa(for: userID) { state in
            if let index = state.proofs.firstIndex(where: { $0.id == verificationID }) { state.proofs[index].challenge = nil }
        }
        guard runtime.provider.now().timeIntervalSince(proof.createdAt) <= Self.webAuthnChallengeLifetime else {
            throw Self.webAuthnError(.init("the challenge has expired"))
        }
        return Array(challenge)
    }

    /// How long a WebAuthn challenge may be answered, in seconds (the browser's own timeout).
    static let webAuthnChallengeLifetime: TimeInterval = TimeInterval(WebAuthnRelyingParty.timeout / 1000)

    private func checkAssertion(_ payload: JSONValue, challenge: [UInt8], factorID: String,
                                credential: WebAuthnCredential, userID: String, visit: Visit) async throws
    {
        let counter: UInt32
        do {
            counter = try relyingParty(visit).verifyAuthentication(payload, challenge: challenge, credential: credential)
        } catch let failure as WebAuthnRelyingParty.Failure {
            audit("Mfa.Verify.Failure", user: userID, factor: .webAuthn, visit)
            throw Self.webAuthnError(failure)
        }
        // The counter moves only from the value this check read: of two racing assertions, one wins.
        guard try await runtime.mfa.store.updateWebAuthnCounter(verificationID: factorID, previous: credential.counter,
                                                               counter: counter, at: runtime.provider.now())
        else { throw Self.webAuthnError(.init("another sign-in used this passkey at the same moment")) }
    }

    /// A passkey's first name, from the browser that made it ("Chrome on Android"); people rename it on `/account`.
    static func passkeyName(agent: String?) -> String? {
        guard let agent else { return nil }
        let browsers = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                        ("Safari/", "Safari")]
        let systems = [("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Mac OS X", "macOS"),
                       ("Windows", "Windows"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]
        let browser = browsers.first { agent.contains($0.0) }?.1 ?? "Browser"
        guard let system = systems.first(where: { agent.contains($0.0) })?.1 else { return browser }
        return browser + " on " + system
    }

    static func credentialID(_ payload: JSONValue) throws -> String {
        do { return try WebAuthnRelyingParty.credentialID(of: payload) } catch let failure as WebAuthnRelyingParty.Failure {
            throw webAuthnError(failure)
        }
    }

    static func webAuthnError(_ failure: WebAuthnRelyingParty.Failure) -> IdentityError {
        IdentityError(.webAuthnVerificationFailed, phrase: "mfa.webauthn_failed", ["reason": failure.reason])
    }
}
