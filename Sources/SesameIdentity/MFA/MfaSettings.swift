import Foundation

/// A second factor (Logto's `MfaFactor`, `../design/logto-reference.md` §3). Sesame offers TOTP, WebAuthn
/// (passkeys) and backup codes; Logto's email and phone MFA codes are not offered (an address that signs in
/// with a code cannot also be its second factor).
public enum MfaFactor: String, Sendable, Codable, CaseIterable, Hashable {
    case totp = "Totp"
    case webAuthn = "WebAuthn"
    case backupCode = "BackupCode"
}

/// When people are asked to set up a second factor (Logto's `MfaPolicy`). Whatever the policy, a user who has a
/// factor is asked for it at every sign-in.
public enum MfaPolicy: String, Sendable, Codable, CaseIterable {
    /// Logto's deprecated name for `PromptAtSignInAndSignUp`; accepted and kept as given.
    case userControlled = "UserControlled"
    /// Everyone must set one up; no skipping.
    case mandatory = "Mandatory"
    /// Suggested at sign-in, not at registration; skippable, and a skip is remembered.
    case promptOnlyAtSignIn = "PromptOnlyAtSignIn"
    /// Suggested at registration and sign-in; skippable, and a skip is remembered.
    case promptAtSignInAndSignUp = "PromptAtSignInAndSignUp"
    /// Never suggested: users set a factor up on their account page.
    case noPrompt = "NoPrompt"

    /// Whether a person may decline to set a factor up.
    public var isSkippable: Bool { self != .mandatory }
}

/// The sign-in experience's `mfa` settings: the factors offered and the policy.
public struct MfaSettings: Sendable, Codable, Equatable {
    public var factors: [MfaFactor]
    public var policy: MfaPolicy

    public init(factors: [MfaFactor] = [], policy: MfaPolicy = .userControlled) {
        self.factors = factors
        self.policy = policy
    }

    /// Logto's rules (`libraries/sign-in-experience/mfa.ts`): no factor twice, backup codes never alone (they
    /// are a way back in when the real factor is lost), and `Mandatory` needs a factor to set up. Throws
    /// `IdentityError.invalidInput`.
    public func validate() throws {
        guard Set(factors).count == factors.count else {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.mfa_factor_listed_twice")
        }
        if factors.contains(.backupCode), !factors.contains(where: { $0 != .backupCode }) {
            throw IdentityError(.backupCodeAlone, phrase: "mfa.backup_code_alone")
        }
        if policy == .mandatory, factors.isEmpty {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.mfa_mandatory_needs_factor")
        }
    }

    /// The factors a person can set up at sign-in first: every offered one but backup codes.
    public var primaryFactors: [MfaFactor] { factors.filter { $0 != .backupCode } }
}

/// What a sign-in still needs after the first factor.
public enum MfaRequirement: Sendable, Equatable {
    /// Nothing: the sign-in may finish.
    case none
    /// The user has these factors (offered ones only): one must be verified.
    case verify([MfaFactor])
    /// The user has no factor and must (or is asked to) set one of these up.
    case enrol([MfaFactor], skippable: Bool)

    /// The policy table. `userFactors`: the factors the user has (backup codes only while unused ones remain), each
    /// asked for while MFA is on at all, even one the settings no longer offer (so nobody is locked out, or
    /// silently loses their second factor, when an administrator changes the offer);
    /// `isRegistration`: the account was created in this experience; `hasSkipped`: the user declined before;
    /// `isDemanded`: MFA is required whatever the policy (the client asked for `urn:sesame:acr:mfa`, or an
    /// organization of the user has `isMfaRequired`).
    public static func decide(settings: MfaSettings, userFactors: Set<MfaFactor>, isRegistration: Bool,
                              hasSkipped: Bool, isDemanded: Bool) -> MfaRequirement
    {
        let usable = settings.factors.isEmpty ? [] : MfaFactor.allCases.filter(userFactors.contains)
        if !usable.isEmpty { return .verify(usable) }
        let offered = settings.primaryFactors
        guard !offered.isEmpty else { return .none }
        if isDemanded { return .enrol(offered, skippable: false) }
        switch settings.policy {
        case .mandatory: return .enrol(offered, skippable: false)
        case .noPrompt: return .none
        case .promptOnlyAtSignIn: return isRegistration || hasSkipped ? .none : .enrol(offered, skippable: true)
        case .promptAtSignInAndSignUp, .userControlled: return hasSkipped ? .none : .enrol(offered, skippable: true)
        }
    }
}

/// Authentication Context Class References Sesame answers with (OpenID Connect Core §2, `acr`) and accepts in
/// `acr_values`.
public enum AuthenticationContext {
    /// Two factors were used (or a passkey with user verification, which is two in one).
    public static let mfa = "urn:sesame:acr:mfa"
    /// One factor was used.
    public static let singleFactor = "urn:sesame:acr:sfa"
    public static let supported = [singleFactor, mfa]

    /// The class a sign-in with these `amr` values (RFC 8176) achieved.
    public static func achieved(amr: [String]) -> String {
        amr.contains("mfa") ? mfa : singleFactor
    }
}
