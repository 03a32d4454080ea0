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

    public init(signUp: SignUp, signIn: SignIn, passwordPolicy: PasswordPolicy = .init(), branding: Branding = .init(),
                languages: [String] = ["en", "zh-CN"])
    {
        self.signUp = signUp
        self.signIn = signIn
        self.passwordPolicy = passwordPolicy
        self.branding = branding
        self.languages = languages
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
    public func validate(canSendCode: (Identifier) -> Bool) throws {
        guard !signIn.methods.isEmpty else {
            throw IdentityError.invalidInput("at least one sign-in method is needed, or nobody can sign in")
        }
        var seen = Set<Identifier>()
        for method in signIn.methods {
            guard seen.insert(method.identifier).inserted else {
                throw IdentityError.invalidInput("the sign-in method \(method.identifier.rawValue) is listed twice")
            }
            guard method.password || method.verificationCode else {
                throw IdentityError.invalidInput(
                    "the sign-in method \(method.identifier.rawValue) needs a password or a verification code")
            }
            if method.identifier == .username, method.verificationCode {
                throw IdentityError.invalidInput("a username cannot receive verification codes")
            }
            if method.verificationCode, !canSendCode(method.identifier) {
                throw IdentityError.invalidInput("verification codes for \(method.identifier.rawValue) need an enabled "
                    + "\(method.identifier == .phone ? "SMS" : "email") connector")
            }
        }
        guard Set(signUp.identifiers).count == signUp.identifiers.count else {
            throw IdentityError.invalidInput("a sign-up identifier is listed twice")
        }
        if signUp.identifiers.contains(.username), !signUp.password {
            throw IdentityError.invalidInput("sign-up by username needs a password")
        }
        for identifier in signUp.identifiers where identifier != .username {
            guard canSendCode(identifier) else {
                throw IdentityError.invalidInput("sign-up by \(identifier.rawValue) needs an enabled "
                    + "\(identifier == .phone ? "SMS" : "email") connector to verify it")
            }
            guard method(for: identifier) != nil else {
                throw IdentityError.invalidInput("people who sign up by \(identifier.rawValue) must be able to sign in "
                    + "with it: add it to the sign-in methods")
            }
        }
        if signUp.password == false, signUp.identifiers.contains(where: { id in
            !(method(for: id)?.verificationCode ?? false)
        }) {
            throw IdentityError.invalidInput(
                "sign-up without a password needs sign-in by verification code for the same identifier")
        }
        let policy = passwordPolicy
        guard (8...256).contains(policy.minLength) else {
            throw IdentityError.invalidInput("the minimum password length must be 8 to 256")
        }
        guard (1...4).contains(policy.characterTypes) else {
            throw IdentityError.invalidInput("the required character types must be 1 to 4")
        }
        guard (10...14).contains(policy.bcryptCost) else {
            throw IdentityError.invalidInput("the bcrypt cost must be 10 to 14")
        }
        let color = branding.primaryColor
        guard color.count == 7, color.hasPrefix("#"), color.dropFirst().allSatisfy(\.isHexDigit) else {
            throw IdentityError.invalidInput("the primary color must look like #5D34F2")
        }
        for url in [branding.logoURL, branding.termsOfUseURL, branding.privacyPolicyURL].compactMap({ $0 }) {
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw IdentityError.invalidInput("'\(url)' must be an http(s) URL")
            }
        }
        if let appName = branding.appName {
            guard (1...64).contains(appName.count), !UserService.hasInvisibleCharacters(appName) else {
                throw IdentityError.invalidInput(
                    "the app name must be 1 to 64 characters, without control or invisible characters")
            }
        }
        for url in [branding.logoURL, branding.termsOfUseURL, branding.privacyPolicyURL].compactMap({ $0 }) {
            guard url.utf8.count <= 2048, !UserService.hasInvisibleCharacters(url) else {
                throw IdentityError.invalidInput("URLs must be at most 2,048 bytes, without control characters")
            }
        }
        guard Set(languages).count == languages.count else {
            throw IdentityError.invalidInput("a language is listed twice")
        }
        guard !languages.isEmpty, languages.allSatisfy({ ["en", "zh-CN"].contains($0) }) else {
            throw IdentityError.invalidInput("languages must be en and/or zh-CN")
        }
    }
}

public protocol SignInExperienceStore: Sendable {
    /// The saved settings, or nil before the first save.
    func signInExperience() async throws -> SignInExperience?
    func saveSignInExperience(_ settings: SignInExperience, now: Date) async throws
}
