import Foundation

/// Checks a new password against the policy, and says in words what is wrong.
public struct PasswordPolicyChecker: Sendable {
    public let policy: SignInExperience.PasswordPolicy

    public init(policy: SignInExperience.PasswordPolicy) {
        self.policy = policy
    }

    /// Throws `IdentityError.invalidInput` naming the first rule the password breaks.
    public func check(_ password: String, userInfo: [String] = []) throws {
        guard password.count >= policy.minLength else {
            throw IdentityError(.weakPassword, phrase: "password.too_short", ["min": String(policy.minLength)])
        }
        guard password.count <= 256 else {
            throw IdentityError(.weakPassword, phrase: "password.too_long")
        }
        var kinds = 0
        if password.contains(where: \.isLowercase) { kinds += 1 }
        if password.contains(where: \.isUppercase) { kinds += 1 }
        if password.contains(where: \.isNumber) { kinds += 1 }
        if password.contains(where: { !$0.isLetter && !$0.isNumber }) { kinds += 1 }
        guard kinds >= policy.characterTypes else {
            throw IdentityError(.weakPassword, phrase: "password.too_few_character_types",
                                ["min": String(policy.characterTypes)])
        }
        let lowered = password.lowercased()
        if policy.rejectUserInfo {
            // The whole value and each word of it; for an email, of its local part only (not the domain).
            var fragments: [String] = []
            for info in userInfo.map({ $0.lowercased() }) {
                fragments.append(info)
                let personal = info.contains("@") ? String(info.split(separator: "@").first ?? "") : info
                fragments.append(personal)
                fragments += personal.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
            }
            for fragment in fragments where fragment.count >= 3 && lowered.contains(fragment) {
                throw IdentityError(.weakPassword, phrase: "password.contains_user_info")
            }
        }
        if policy.rejectCommon, CommonPasswords.contains(lowered) {
            throw IdentityError(.weakPassword, phrase: "password.too_common")
        }
    }
}
