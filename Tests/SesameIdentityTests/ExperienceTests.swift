import Foundation
import SesameIdentity
import Testing

/// The Experience API's state machine, transition by transition.
@Suite("Experience state machine")
struct ExperienceTests {
    let email = Experience.Identifier(type: .email, value: "a@b.test")

    @Test func signInNeedsAVerifiedVerificationOfAnExistingAccount() throws {
        var experience = Experience(event: .signIn)
        #expect(throws: IdentityError.self) { try experience.submission(passwordRequired: false) }
        #expect(throws: IdentityError.self) { try experience.identify(verificationID: "v1", existingUserID: "u1") }
        experience.addVerification(.init(id: "v1", kind: .verificationCode, identifier: email, isVerified: false))
        #expect(throws: IdentityError.self) { try experience.identify(verificationID: "v1", existingUserID: "u1") }
        try experience.markVerified("v1")
        #expect(throws: IdentityError.self) { try experience.identify(verificationID: "v1", existingUserID: nil) }
        try experience.identify(verificationID: "v1", existingUserID: "u1")
        #expect(try experience.submission(passwordRequired: false) == .signIn(userID: "u1"))
    }

    @Test func aPasswordVerificationCarriesItsAccount() throws {
        var experience = Experience(event: .signIn)
        experience.addVerification(.init(id: "p", kind: .password, identifier: .init(type: .username, value: "alice"),
                                         isVerified: true, userID: "u7"))
        try experience.identify(verificationID: "p", existingUserID: nil)
        #expect(try experience.submission(passwordRequired: true) == .signIn(userID: "u7"))
    }

    @Test func registrationNeedsAFreshVerifiedAddressAndAPasswordWhenRequired() throws {
        var experience = Experience(event: .register)
        experience.addVerification(.init(id: "v", kind: .verificationCode, identifier: email, isVerified: true))
        #expect(throws: IdentityError.self) { try experience.identify(verificationID: "v", existingUserID: "taken") }
        try experience.identify(verificationID: "v", existingUserID: nil)
        #expect(throws: IdentityError.self) { try experience.submission(passwordRequired: true) }
        #expect(try experience.submission(passwordRequired: false) == .register(identifier: email))
        experience.passwordHash = "$2b$10$hash"
        #expect(try experience.submission(passwordRequired: true) == .register(identifier: email))
        var byPassword = Experience(event: .register)
        byPassword.addVerification(.init(id: "p", kind: .password, identifier: email, isVerified: true, userID: "u"))
        #expect(throws: IdentityError.self) { try byPassword.identify(verificationID: "p", existingUserID: nil) }
    }

    @Test func recoveryNeedsACodeAndANewPassword() throws {
        var experience = Experience(event: .forgotPassword)
        experience.addVerification(.init(id: "v", kind: .verificationCode, identifier: email, isVerified: true))
        try experience.identify(verificationID: "v", existingUserID: "u1")
        #expect(throws: IdentityError.self) { try experience.submission(passwordRequired: false) }
        experience.passwordHash = "$2b$10$new"
        #expect(try experience.submission(passwordRequired: false) == .resetPassword(userID: "u1", passwordHash: "$2b$10$new"))
        var withPassword = Experience(event: .forgotPassword)
        withPassword.addVerification(.init(id: "p", kind: .password, identifier: email, isVerified: true, userID: "u1"))
        #expect(throws: IdentityError.self) { try withPassword.identify(verificationID: "p", existingUserID: "u1") }
    }

    @Test func unknownVerificationsAreNamed() {
        var experience = Experience(event: .signIn)
        do {
            try experience.markVerified("nope")
            Issue.record("an unknown verification was accepted")
        } catch let error as IdentityError {
            #expect(error.code == .notFound)
            #expect(error.message.contains("nope"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
