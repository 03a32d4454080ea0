import Foundation
import SesameIdentity
import Testing

@Suite("Sign-in experience settings and password policy")
struct SignInExperienceTests {
    @Test func theDefaultIsValid() throws {
        try SignInExperience.default.validate(canSendCode: { $0 == .email })
    }

    static func changed(_ change: (inout SignInExperience) -> Void) -> SignInExperience {
        var settings = SignInExperience.default
        change(&settings)
        return settings
    }

    @Test(arguments: [
        (changed { $0.signIn.methods = [] }, "nobody can sign in"),
        (changed { $0.signIn.methods = [.init(identifier: .email, password: false, verificationCode: false)] },
         "needs a password or a verification code"),
        (changed { $0.signIn.methods.append(.init(identifier: .email, password: true, verificationCode: false)) }, "twice"),
        (changed { $0.signIn.methods = [.init(identifier: .phone, password: false, verificationCode: true)] },
         "SMS connector"),
        (changed { $0.signIn.methods = [.init(identifier: .username, password: true, verificationCode: true)] },
         "cannot receive verification codes"),
        (changed { $0.signUp = .init(identifiers: [.username], password: false) }, "needs a password"),
        (changed { $0.signUp = .init(identifiers: [.phone], password: true) }, "SMS connector"),
        (changed {
            $0.signUp = .init(identifiers: [.email], password: false)
            $0.signIn.methods = [.init(identifier: .email, password: true, verificationCode: false)]
        }, "without a password"),
        (changed { $0.passwordPolicy.minLength = 4 }, "minimum password length"),
        (changed { $0.passwordPolicy.bcryptCost = 8 }, "bcrypt cost"),
        (changed { $0.branding.primaryColor = "purple" }, "primary color"),
        (changed { $0.branding.logoURL = "javascript:alert(1)" }, "http(s) URL"),
        (changed { $0.languages = ["xx"] }, "Languages must be"),
    ] as [(SignInExperience, String)])
    func settingsThatWouldLockPeopleOutAreRefused(_ settings: SignInExperience, _ reason: String) {
        do {
            try settings.validate(canSendCode: { $0 == .email })
            Issue.record("accepted settings that should fail with \(reason)")
        } catch let error as IdentityError {
            #expect(error.message.contains(reason), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func settingsRoundTripAsJSON() throws {
        let data = try JSONEncoder().encode(SignInExperience.default)
        #expect(try JSONDecoder().decode(SignInExperience.self, from: data) == SignInExperience.default)
    }

    @Test(arguments: [
        ("short1A", "at least 8"),
        ("password", "too common"),
        ("iloveyou", "too common"),
        ("qwertyuiop", "too common"),
        ("alice-rocks-2024", "must not contain"),
        ("Liddell-4-ever", "must not contain"),
    ])
    func weakPasswordsAreRefusedWithAReason(_ password: String, _ reason: String) {
        let checker = PasswordPolicyChecker(policy: .init())
        do {
            try checker.check(password, userInfo: ["alice@example.com", "Alice Liddell", "alice"])
            Issue.record("accepted \(password)")
        } catch let error as IdentityError {
            #expect(error.code == .weakPassword)
            #expect(error.message.contains(reason), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func characterTypesAreCounted() throws {
        let strict = PasswordPolicyChecker(policy: .init(characterTypes: 3))
        #expect(throws: IdentityError.self) { try strict.check("onlylowercaseletters") }
        try strict.check("Mixed-case-words")
        try PasswordPolicyChecker(policy: .init()).check("correct horse battery staple")
    }

    @Test func duplicatesAndUnreadableBrandingAreRefused() {
        var settings = SignInExperience.default
        settings.signUp.identifiers = [.email, .email]
        #expect(throws: IdentityError.self) { try settings.validate(canSendCode: { _ in true }) }
        settings = .default
        settings.languages = ["en", "en"]
        #expect(throws: IdentityError.self) { try settings.validate(canSendCode: { _ in true }) }
        for name in ["Book\u{202E}store", String(repeating: "a", count: 65), ""] {
            settings = .default
            settings.branding.appName = name
            #expect(throws: IdentityError.self, "\(name.debugDescription)") { try settings.validate(canSendCode: { _ in true }) }
        }
        settings = .default
        settings.branding.appName = "书店 Bookstore"
        #expect(throws: Never.self) { try settings.validate(canSendCode: { _ in true }) }
    }
}
