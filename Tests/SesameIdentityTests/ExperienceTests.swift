import Foundation
import SesameIdentity
import Testing

/// The Experience API's state machine, transition by transition.
@Suite("Experience state machine")
struct ExperienceTests {
    let email = Experience.Identifier(type: .email, value: "a@b.test")
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func signInNeedsAVerifiedVerificationOfAnExistingAccount() throws {
        var experience = Experience(event: .signIn)
        #expect(throws: IdentityError.self) { try experience.submission(passwordRequired: false, now: now) }
        #expect(throws: IdentityError.self) { try experience.identify(verificationID: "v1", existingUserID: "u1", now: now) }
        experience.addVerification(.init(id: "v1", kind: .verificationCode, identifier: email, isVerified: false))
        #expect(throws: IdentityError.self) { try experience.identify(verificationID: "v1", existingUserID: "u1", now: now) }
        try experience.markVerified("v1", at: now)
        #expect(throws: IdentityError.self) { try experience.identify(verificationID: "v1", existingUserID: nil, now: now) }
        try experience.identify(verificationID: "v1", existingUserID: "u1", now: now)
        #expect(try experience.submission(passwordRequired: false, now: now) == .signIn(userID: "u1"))
    }

    @Test func aPasswordVerificationCarriesItsAccount() throws {
        var experience = Experience(event: .signIn)
        experience.addVerification(.init(id: "p", kind: .password, identifier: .init(type: .username, value: "alice"),
                                         isVerified: true, userID: "u7", verifiedAt: now))
        try experience.identify(verificationID: "p", existingUserID: nil, now: now)
        #expect(try experience.submission(passwordRequired: true, now: now) == .signIn(userID: "u7"))
    }

    @Test func registrationNeedsAFreshVerifiedAddressAndAPasswordWhenRequired() throws {
        var experience = Experience(event: .register)
        experience.addVerification(.init(id: "v", kind: .verificationCode, identifier: email, isVerified: true, verifiedAt: now))
        #expect(throws: IdentityError.self) { try experience.identify(verificationID: "v", existingUserID: "taken", now: now) }
        try experience.identify(verificationID: "v", existingUserID: nil, now: now)
        #expect(throws: IdentityError.self) { try experience.submission(passwordRequired: true, now: now) }
        #expect(try experience.submission(passwordRequired: false, now: now) == .register(identifier: email))
        experience.passwordHash = "$2b$10$hash"
        #expect(try experience.submission(passwordRequired: true, now: now) == .register(identifier: email))
        var byPassword = Experience(event: .register)
        byPassword.addVerification(.init(id: "p", kind: .password, identifier: email, isVerified: true, userID: "u", verifiedAt: now))
        #expect(throws: IdentityError.self) { try byPassword.identify(verificationID: "p", existingUserID: nil, now: now) }
    }

    @Test func recoveryNeedsACodeAndANewPassword() throws {
        var experience = Experience(event: .forgotPassword)
        experience.addVerification(.init(id: "v", kind: .verificationCode, identifier: email, isVerified: true, verifiedAt: now))
        try experience.identify(verificationID: "v", existingUserID: "u1", now: now)
        #expect(throws: IdentityError.self) { try experience.submission(passwordRequired: false, now: now) }
        experience.passwordHash = "$2b$10$new"
        #expect(try experience.submission(passwordRequired: false, now: now) == .resetPassword(userID: "u1", passwordHash: "$2b$10$new"))
        var withPassword = Experience(event: .forgotPassword)
        withPassword.addVerification(.init(id: "p", kind: .password, identifier: email, isVerified: true, userID: "u1", verifiedAt: now))
        #expect(throws: IdentityError.self) { try withPassword.identify(verificationID: "p", existingUserID: "u1", now: now) }
    }

    @Test func unknownVerificationsAreNamed() {
        var experience = Experience(event: .signIn)
        do {
            try experience.markVerified("nope", at: now)
            Issue.record("an unknown verification was accepted")
        } catch let error as IdentityError {
            #expect(error.code == .notFound)
            #expect(error.message.contains("nope"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// A verified code proves its address for ten minutes: neither identification nor submission acts on an
    /// older proof, so a mailbox once controlled does not sign in to whatever account holds it later.
    @Test func aProofExpires() throws {
        var experience = Experience(event: .signIn, startedAt: now)
        experience.addVerification(.init(id: "v", kind: .verificationCode, identifier: email, isVerified: false))
        try experience.markVerified("v", at: now)
        let later = now.addingTimeInterval(Experience.proofLifetime + 1)
        #expect(throws: IdentityError.self) { try experience.identify(verificationID: "v", existingUserID: "u1", now: later) }
        try experience.identify(verificationID: "v", existingUserID: "u1", now: now.addingTimeInterval(60))
        #expect(try experience.submission(passwordRequired: false, now: now.addingTimeInterval(120)) == .signIn(userID: "u1"))
        #expect(throws: IdentityError.self) { try experience.submission(passwordRequired: false, now: later) }
        // A verification with no time (stored before proofs expired) proves nothing.
        var legacy = Experience(event: .signIn)
        legacy.addVerification(.init(id: "old", kind: .verificationCode, identifier: email, isVerified: true))
        #expect(throws: IdentityError.self) { try legacy.identify(verificationID: "old", existingUserID: "u1", now: now) }
    }
}
