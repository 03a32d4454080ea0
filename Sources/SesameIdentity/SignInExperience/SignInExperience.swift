import Foundation
import SesameOIDC

/// How people sign up and sign in, shaped like Logto's `/api/sign-in-exp` (the parts Sesame implements).
public struct SignInExperience: Sendable, Codable, Equatable {
    public enum Identifier: String, Sendable, Codable, CaseIterable {
        case email, phone, username
    }

    public struct SignUp: Sendable, Codable, Equatable {
        /// Empty: sign-up is off. `[email, phone]` means "email or phone".
        public var identifiers: [Identifier]
        /// Ask for a password at sign-up.
        public var password: Bool
        /// Verify email and phone with a code (always on for them).
        public var verify: Bool

        public init(identifiers: [Identifier], password: Bool, verify: Bool = true) {
            self.identifiers = identifiers
            self.password = password
            self.verify = verify
        }
    }

    public struct SignInMethod: Sendable, Codable, Equatable {
        public var identifier: Identifier
        public var password: Bool
        public var verificationCode: Bool
        public var isPasswordPrimary: Bool

        public init(identifier: Identifier, password: Bool, verificationCode: Bool, isPasswordPrimary: Bool = true) {
            self.identifier = identifier
            self.password = password
            self.verificationCode = verificationCode
            self.isPasswordPrimary = isPasswordPrimary
        }
    }

    public struct SignIn: Sendable, Codable, Equatable {
        public var methods: [SignInMethod]
        public init(methods: [SignInMethod]) { self.methods = methods }
    }

    public struct PasswordPolicy: Sendable, Codable, Equatable {
        public var minLength: Int
        /// How many of lower case, upper case, digits and symbols a password needs (1 to 4).
        public var characterTypes: Int
        /// Refuse passwords that contain the user's identifier or name.
        public var rejectUserInfo: Bool
        /// Refuse the most common passwords.
        public var rejectCommon: Bool
        public var bcryptCost: Int

        public init(minLength: Int = 8, characterTypes: Int = 1, rejectUserInfo: Bool = true, rejectCommon: Bool = true,
                    bcryptCost: Int = 10)
        {
            self.minLength = minLength
            self.characterTypes = characterTypes
            self.rejectUserInfo = rejectUserInfo
            self.rejectCommon = rejectCommon
            self.bcryptCost = bcryptCost
        }
    }

    public struct Branding: Sendable, Codable, Equatable {
        public var appName: String?
        public var logoURL: String?
        public var primaryColor: String
        public var isDarkModeEnabled: Bool
        public var termsOfUseURL: String?
        public var privacyPolicyURL: String?

        public init(appName: String? = nil, logoURL: String? = nil, primaryColor: String = "#5D34F2",
                    isDarkModeEnabled: Bool = true, termsOfUseURL: String? = nil, privacyPolicyURL: String? = nil)
        {
            self.appName = appName
            self.logoURL = logoURL
            self.primaryColor = primaryColor
            self.isDarkModeEnabled = isDarkModeEnabled
            self.termsOfUseURL = termsOfUseURL
            self.privacyPolicyURL = privacyPolicyURL
        }
    }

    public var signUp: SignUp
    public var signIn: SignIn
    public var passwordPolicy: PasswordPolicy
    public var branding: Branding
    /// Languages offered, first the fallback: `en`, `zh-CN`.
    public var languages: [String]
    /// Second factors offered and when people are asked to set one up (Logto's `mfa`).
    public var mfa: MfaSettings
    /// Passkeys as a first factor (Logto's `passkeySignIn`): needs `WebAuthn` among the MFA factors.
    public var passkeySignIn: PasskeySignIn

    public struct PasskeySignIn: Sendable, Codable, Equatable {
        public var enabled: Bool
        /// Show "Sign in with a passkey" on the sign-in page.
        public var showPasskeyButton: Bool
        /// Offer passkeys in the identifier field's autofill (conditional mediation) where the browser can.
        public var allowAutofill: Bool

        public init(enabled: Bool = false, showPasskeyButton: Bool = true, allowAutofill: Bool = true) {
            self.enabled = enabled
            self.showPasskeyButton = showPasskeyButton
            self.allowAutofill = allowAutofill
        }
    }

    public init(signUp: SignUp, signIn: SignIn, passwordPolicy: PasswordPolicy = .init(), branding: Branding = .init(),
                languages: [String] = ["en", "zh-CN"], mfa: MfaSettings = .init(), passkeySignIn: PasskeySignIn = .init())
    {
        self.passkeySignIn = passkeySignIn
        self.signUp = signUp
        self.signIn = signIn
        self.passwordPolicy = passwordPolicy
        self.branding = branding
        self.languages = languages
        self.mfa = mfa
    }

    private enum CodingKeys: String, CodingKey {
        case signUp, signIn, passwordPolicy, branding, languages, mfa, passkeySignIn
    }

    /// Settings saved before a setting existed decode with its default (`mfa`: no factors, Logto's default policy).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        signUp = try container.decode(SignUp.self, forKey: .signUp)
        signIn = try container.decode(SignIn.self, forKey: .signIn)
        passwordPolicy = try container.decode(PasswordPolicy.self, forKey: .passwordPolicy)
        branding = try container.decode(Branding.self, forKey: .branding)
        languages = try container.decode([String].self, forKey: .languages)
        mfa = try container.decodeIfPresent(MfaSettings.self, forKey: .mfa) ?? MfaSettings()
        passkeySignIn = try container.decodeIfPresent(PasskeySignIn.self, forKey: .passkeySignIn) ?? PasskeySignIn()
    }

    /// The seed's setup: email sign-up with a code and a password; sign in by email (password or code)
    /// or username (password).
    public static let `default` = SignInExperience(
        signUp: SignUp(identifiers: [.email], password: true),
        signIn: SignIn(methods: [
            SignInMethod(identifier: .email, password: true, verificationCode: true),
            SignInMethod(identifier: .username, password: true, verificationCode: false),
        ]))

    public func method(for identifier: Identifier) -> SignInMethod? {
        signIn.methods.first { $0.identifier == identifier }
    }

    public var isSignUpEnabled: Bool { !signUp.identifiers.isEmpty }

    /// Refuses settings that are inconsistent or would lock everyone out; `canSendCode` says whether a
    /// connector can deliver codes for an identifier.
    ///
    /// `assetOrigin`: when saving, Sesame's public base URL. The logo must then be an https URL or an image
    /// uploaded to this server (`<assetOrigin>/assets/branding/...`), because the hosted pages' policy loads
    /// images only from there (`img-src 'self' https: data:`): an http logo would be saved and never shown.
    public func validate(canSendCode: (Identifier) -> Bool, assetOrigin: String? = nil) throws {
        guard !signIn.methods.isEmpty else {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.no_sign_in_method")
        }
        var seen = Set<Identifier>()
        for method in signIn.methods {
            guard seen.insert(method.identifier).inserted else {
                throw IdentityError.invalidInput(phrase: "sign_in_experience.method_listed_twice",
                                                 ["identifier": method.identifier.rawValue])
            }
            guard method.password || method.verificationCode else {
                throw IdentityError.invalidInput(phrase: "sign_in_experience.method_needs_proof",
                                                 ["identifier": method.identifier.rawValue])
            }
            if method.identifier == .username, method.verificationCode {
                throw IdentityError.invalidInput(phrase: "sign_in_experience.username_cannot_receive_codes")
            }
            if method.verificationCode, !canSendCode(method.identifier) {
                throw IdentityError(.invalidInput, phrase: "sign_in_experience.codes_need_connector", per: method.identifier)
            }
        }
        guard Set(signUp.identifiers).count == signUp.identifiers.count else {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.sign_up_identifier_listed_twice")
        }
        if signUp.identifiers.contains(.username), !signUp.password {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.username_sign_up_needs_password")
        }
        for identifier in signUp.identifiers where identifier != .username {
            guard canSendCode(identifier) else {
                throw IdentityError(.invalidInput, phrase: "sign_in_experience.sign_up_needs_connector", per: identifier)
            }
            guard method(for: identifier) != nil else {
                throw IdentityError(.invalidInput, phrase: "sign_in_experience.sign_up_needs_sign_in_method",
                                    per: identifier)
            }
        }
        if signUp.password == false, signUp.identifiers.contains(where: { id in
            !(method(for: id)?.verificationCode ?? false)
        }) {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.passwordless_sign_up_needs_code_sign_in")
        }
        let policy = passwordPolicy
        guard (8...256).contains(policy.minLength) else {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.min_length_range")
        }
        guard (1...4).contains(policy.characterTypes) else {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.character_types_range")
        }
        guard (10...14).contains(policy.bcryptCost) else {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.bcrypt_cost_range")
        }
        let color = branding.primaryColor
        guard color.count == 7, color.hasPrefix("#"), color.dropFirst().allSatisfy(\.isHexDigit) else {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.primary_color_format")
        }
        for url in [branding.logoURL, branding.termsOfUseURL, branding.privacyPolicyURL].compactMap({ $0 }) {
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw IdentityError.invalidInput(phrase: "sign_in_experience.url_not_http", ["url": url])
            }
        }
        if let assetOrigin, let logo = branding.logoURL, !logo.hasPrefix("https://"),
           !logo.hasPrefix(assetOrigin + "/assets/branding/")
        {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.logo_not_https")
        }
        if let appName = branding.appName {
            guard (1...64).contains(appName.count), !UserService.hasInvisibleCharacters(appName) else {
                throw IdentityError.invalidInput(phrase: "sign_in_experience.app_name_invalid")
            }
        }
        for url in [branding.logoURL, branding.termsOfUseURL, branding.privacyPolicyURL].compactMap({ $0 }) {
            guard url.utf8.count <= 2048, !UserService.hasInvisibleCharacters(url) else {
                throw IdentityError.invalidInput(phrase: "sign_in_experience.url_too_long")
            }
        }
        guard Set(languages).count == languages.count else {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.language_listed_twice")
        }
        guard !languages.isEmpty, languages.allSatisfy({ PhraseBook.pageLocales.contains($0) }) else {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.languages_unsupported",
                                             ["values": PhraseBook.pageLocales.joined(separator: ", ")])
        }
        try mfa.validate()
        if passkeySignIn.enabled, !mfa.factors.contains(.webAuthn) {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.passkey_sign_in_needs_webauthn")
        }
    }
}

public protocol SignInExperienceStore: Sendable {
    /// The saved settings, or nil before the first save.
    func signInExperience() async throws -> SignInExperience?
    func saveSignInExperience(_ settings: SignInExperience, now: Date) async throws
}
