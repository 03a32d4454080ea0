import SesameOIDC

/// A domain error with a stable code (Logto style: `user.username_already_in_use`) and a message a person
/// can act on. The server maps it to an HTTP status in one place.
public struct IdentityError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let invalidInput = Code(rawValue: "guard.invalid_input")
        public static let conflict = Code(rawValue: "entity.unique_integrity_violation")
        public static let notFound = Code(rawValue: "entity.not_exists")
        public static let invalidCredentials = Code(rawValue: "session.invalid_credentials")
        public static let suspended = Code(rawValue: "user.suspended")
        public static let tooManyAttempts = Code(rawValue: "guard.too_many_requests")
        public static let weakPassword = Code(rawValue: "password.rejected")
        public static let invalidCode = Code(rawValue: "verification_code.code_mismatch")
        public static let codeExpired = Code(rawValue: "verification_code.expired")
        public static let methodDisabled = Code(rawValue: "sign_in_experiences.method_disabled")
        public static let invalidSetupLink = Code(rawValue: "console.invalid_setup_link")
        /// Identification found no account for a verified identifier (Logto's code; 404).
        public static let userNotExist = Code(rawValue: "user.user_not_exist")
        /// Registration with a verified email that already has an account (Logto's code; 422).
        public static let emailAlreadyInUse = Code(rawValue: "user.email_already_in_use")
    }

    public var code: Code
    /// The key of the phrase that says what happened, in the `errors` group of the phrase files
    /// (`Resources/phrases/<locale>.json`), e.g. `password.too_short`.
    public var phrase: String
    /// The values of the phrase's `%{name}` placeholders.
    public var parameters: [String: String]
    /// Logto's `data` beside `code` and `message` in the API's answer (MFA's `availableFactors`), or nil.
    public var data: [String: JSONValue]?

    /// An error whose text is the phrase `errors.<phrase>` with `parameters` filled in: English in the
    /// Management API's `message`, the person's language on the hosted pages and in the Console.
    public init(_ code: Code, phrase: String, _ parameters: [String: String] = [:]) {
        self.code = code
        self.phrase = phrase
        self.parameters = parameters
    }

    /// An error whose phrase depends on the kind of identifier it is about: `errors.<family>.<identifier>`
    /// (`experience.no_account.email`), one sentence per kind so each reads naturally in every language.
    public init(_ code: Code, phrase family: String, per identifier: SignInExperience.Identifier,
                _ parameters: [String: String] = [:])
    {
        self.init(code, phrase: family + "." + identifier.rawValue, parameters)
    }

    /// The English text (Management API, Experience API, CLI).
    public var message: String { PhraseBook.english.message(self) }

    public var description: String { message }

    public static func invalidInput(phrase: String, _ parameters: [String: String] = [:]) -> IdentityError {
        IdentityError(.invalidInput, phrase: phrase, parameters)
    }
}
