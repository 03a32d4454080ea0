import Foundation
import SesameOIDC

/// Creating users and checking their passwords; also the engine's `AccountProvider`.
public struct UserService: AccountProvider {
    public let store: any UserStore
    public let hasher: PasswordHasher
    public let now: @Sendable () -> Date

    public init(store: any UserStore, hasher: PasswordHasher, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.hasher = hasher
        self.now = now
    }

    public struct NewUser: Sendable {
        public var username: String?
        public var email: String?
        public var phone: String?
        public var name: String?
        public var avatar: String?
        public var password: String?

        public init(username: String? = nil, email: String? = nil, phone: String? = nil, name: String? = nil,
                    avatar: String? = nil, password: String? = nil)
        {
            self.username = username
            self.email = email
            self.phone = phone
            self.name = name
            self.avatar = avatar
            self.password = password
        }
    }

    public func create(_ input: NewUser, policy: SignInExperience.PasswordPolicy = .init()) async throws -> User {
        let username = try input.username.map(Self.validateUsername)
        let email = try input.email.map(Self.normalizeEmail)
        let phone = try input.phone.map(Self.normalizePhone)
        guard username != nil || email != nil || phone != nil else {
            throw IdentityError.invalidInput("a user needs a username, an email address or a phone number")
        }
        if let password = input.password {
            try PasswordPolicyChecker(policy: policy).check(password, userInfo: [username, email, input.name].compactMap { $0 })
        }
        if let avatar = input.avatar, URL(string: avatar)?.scheme == nil {
            throw IdentityError.invalidInput("the avatar must be an absolute URL")
        }
        let now = now()
        let user = User(
            id: SecureRandom.identifier(length: 12), username: username, primaryEmail: email, primaryPhone: phone,
            name: input.name?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty, avatar: input.avatar,
            passwordHash: try await input.password.asyncMap(PasswordHasher(cost: UInt8(clamping: policy.bcryptCost)).hash), createdAt: now, updatedAt: now)
        try await store.insertUser(user)
        return user
    }

    /// The user whose identifier and password match. Unknown users and wrong passwords take the same time
    /// and give the same error.
    public func authenticate(identifier: String, password: String) async throws -> User {
        let user = try await store.user(identifier: identifier.trimmingCharacters(in: .whitespaces))
        guard try await hasher.verify(password, hash: user?.passwordHash), let user else {
            throw IdentityError(.invalidCredentials, "the account or password is incorrect")
        }
        guard !user.isSuspended else { throw IdentityError(.suspended, "this account is suspended") }
        return user
    }

    /// Sets a new password (already checked against the policy).
    public func setPassword(userID: String, password: String, cost: Int) async throws {
        guard var user = try await store.user(id: userID) else { throw IdentityError(.notFound, "no such user") }
        user.passwordHash = try await PasswordHasher(cost: UInt8(clamping: cost)).hash(password)
        user.updatedAt = now()
        try await store.updateUser(user)
    }

    public func account(id: String) async throws -> Account? {
        guard let user = try await store.user(id: id), !user.isSuspended else { return nil }
        return Account(id: user.id, claims: user.claims)
    }

    public static func validateUsername(_ raw: String) throws -> String {
        let value = raw.trimmingCharacters(in: .whitespaces)
        let allowed = value.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_")
        }
        guard (1...128).contains(value.count), allowed, let first = value.first, !first.isNumber else {
            throw IdentityError.invalidInput(
                "the username must start with a letter or underscore and use only letters, digits and underscores")
        }
        return value
    }

    public static func normalizeEmail(_ raw: String) throws -> String {
        let value = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
              !parts[1].hasSuffix("."), value.count <= 254, !value.contains(where: { $0.isWhitespace })
        else { throw IdentityError.invalidInput("'\(raw)' is not a valid email address") }
        return value
    }

    public static func normalizePhone(_ raw: String) throws -> String {
        let digits = raw.filter { !" -()".contains($0) }.trimmingPrefix("+")
        guard (6...15).contains(digits.count), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
            throw IdentityError.invalidInput("'\(raw)' is not a valid phone number (use digits with country code)")
        }
        return String(digits)
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
