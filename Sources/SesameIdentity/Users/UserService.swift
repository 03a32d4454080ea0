import Foundation
import Synchronization
import SesameOIDC

/// Creating users and checking their passwords; also the engine's `AccountProvider`.
public struct UserService: AccountProvider {
    public let store: any UserStore
    /// Role names for the `roles` claim and the ID token config; without it no `roles` claim is released.
    public let claimsStore: (any AccountClaimsStore)?
    public let hasher: PasswordHasher
    public let now: @Sendable () -> Date

    public init(store: any UserStore, claimsStore: (any AccountClaimsStore)? = nil, hasher: PasswordHasher,
                now: @escaping @Sendable () -> Date = { Date() })
    {
        self.store = store
        self.claimsStore = claimsStore
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
        /// A password already checked and hashed (bcrypt), as a registration's profile step keeps it; used when
        /// `password` is nil, so the account is stored with its password in one insert.
        public var passwordHash: String?
        /// The standard profile (Logto's `profile`).
        public var profile = UserProfile()
        /// A registration whose email a code proved: the user joins the organizations that provision its domain
        /// just in time. Users created by administrators are not provisioned.
        public var provisionsJustInTime = false

        public init(username: String? = nil, email: String? = nil, phone: String? = nil, name: String? = nil,
                    avatar: String? = nil, password: String? = nil, passwordHash: String? = nil)
        {
            self.passwordHash = passwordHash
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
            throw IdentityError.invalidInput(phrase: "user.identifier_required")
        }
        if let password = input.password {
            try PasswordPolicyChecker(policy: policy).check(password, userInfo: [username, email, input.name].compactMap { $0 })
        }
        if let avatar = input.avatar { try Self.validateAvatar(avatar) }
        let now = now()
        let user = User(
            id: SecureRandom.identifier(length: 12), username: username, primaryEmail: email, primaryPhone: phone,
            name: input.name?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty, avatar: input.avatar,
            passwordHash: try await input.password.asyncMap(PasswordHasher(cost: UInt8(clamping: policy.bcryptCost)).hash)
                ?? input.passwordHash,
            createdAt: now, updatedAt: now)
        var created = user
        created.profile = input.profile
        let domain = input.provisionsJustInTime ? email.flatMap { $0.split(separator: "@").last.map(String.init) } : nil
        try await store.insertUser(created, justInTimeDomain: domain)
        return created
    }

    /// The user whose identifier and password match. Unknown users and wrong passwords take the same time
    /// and give the same error.
    public func authenticate(identifier: String, password: String) async throws -> User {
        try await authenticate(try await store.user(identifier: identifier.trimmingCharacters(in: .whitespaces)),
                               password: password)
    }

    /// The same check for an account the caller already looked up (nil when there is none). `cost`: the
    /// password policy's bcrypt cost; an unknown account is checked against a decoy hash of that cost, so it
    /// takes as long as an account hashed under the policy, and a successful sign-in re-hashes a password
    /// stored under a lower cost, so accounts converge on the policy's (as Django and others do).
    public func authenticate(_ user: User?, password: String, cost: Int? = nil) async throws -> User {
        let checker = cost.map { PasswordHasher(cost: UInt8(clamping: $0)) } ?? hasher
        guard try await checker.verify(password, hash: user?.passwordHash), var user else {
            throw IdentityError(.invalidCredentials, phrase: "user.credentials_incorrect")
        }
        guard !user.isSuspended else { throw IdentityError(.suspended, phrase: "user.suspended") }
        if let hash = user.passwordHash, let stored = PasswordHasher.cost(of: hash), stored < checker.cost,
           Self.rehashing.withLock({ $0.insert(user.id).inserted })
        {
            // One re-hash per account at a time: parallel sign-ins do not each pay for it.
            defer { _ = Self.rehashing.withLock { $0.remove(user.id) } }
            user.passwordHash = try await checker.hash(password)
            try await store.updateUser(user)
        }
        return user
    }

    /// Accounts whose password is being re-hashed to the policy's cost in this process.
    private static let rehashing = Mutex<Set<String>>([])

    public func user(id: String) async throws -> User {
        guard let user = try await store.user(id: id) else {
            throw IdentityError(.notFound, phrase: "user.not_found", ["id": id])
        }
        return user
    }

    /// What an administrator may change on a profile: `nil` leaves a value alone, `.some(nil)` clears it.
    public struct ProfileChanges: Sendable {
        public var username: String??
        public var email: String??
        public var phone: String??
        public var name: String??
        public var avatar: String??
        /// Fields of the standard profile to set or clear (`UserProfile.merging`); nil leaves it alone.
        public var profile: JSONValue?

        public init(username: String?? = nil, email: String?? = nil, phone: String?? = nil, name: String?? = nil,
                    avatar: String?? = nil, profile: JSONValue? = nil)
        {
            self.profile = profile
            self.username = username
            self.email = email
            self.phone = phone
            self.name = name
            self.avatar = avatar
        }
    }

    /// Applies profile changes with the same checks as `create`; a user keeps at least one identifier.
    public func update(id: String, _ changes: ProfileChanges) async throws -> User {
        var user = try await user(id: id)
        if let username = changes.username { user.username = try username?.nilIfBlank.map(Self.validateUsername) }
        if let email = changes.email { user.primaryEmail = try email?.nilIfBlank.map(Self.normalizeEmail) }
        if let phone = changes.phone { user.primaryPhone = try phone?.nilIfBlank.map(Self.normalizePhone) }
        if let name = changes.name { user.name = name?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty }
        if let avatar = changes.avatar {
            let avatar = avatar?.nilIfBlank
            if let avatar { try Self.validateAvatar(avatar) }
            user.avatar = avatar
        }
        if let profile = changes.profile { user.profile = try user.profile.merging(profile) }
        guard user.username != nil || user.primaryEmail != nil || user.primaryPhone != nil else {
            throw IdentityError.invalidInput(phrase: "user.identifier_required")
        }
        user.updatedAt = now()
        try await store.updateUser(user)
        return user
    }

    /// Checks `password` against the policy and the user's own details, then stores its hash.
    public func changePassword(userID: String, password: String, policy: SignInExperience.PasswordPolicy) async throws
        -> User
    {
        let user = try await user(id: userID)
        try PasswordPolicyChecker(policy: policy).check(
            password, userInfo: [user.username, user.primaryEmail, user.name].compactMap { $0 })
        var changed = user
        changed.passwordHash = try await PasswordHasher(cost: UInt8(clamping: policy.bcryptCost)).hash(password)
        changed.updatedAt = now()
        // The new password and the end of every session and token, together.
        try await store.updateUserSigningOut(changed)
        return changed
    }

    /// Stores a password hash already checked against the policy (a recovery's profile step) and signs the user
    /// out everywhere, in one transaction.
    public func resetPassword(userID: String, passwordHash: String) async throws {
        var user = try await user(id: userID)
        user.passwordHash = passwordHash
        user.updatedAt = now()
        try await store.updateUserSigningOut(user)
    }

    /// Suspends (signing the user out everywhere, in the same transaction) or reactivates.
    public func setSuspended(id: String, _ isSuspended: Bool) async throws -> User {
        var user = try await user(id: id)
        user.isSuspended = isSuspended
        user.updatedAt = now()
        if isSuspended { try await store.updateUserSigningOut(user) } else { try await store.updateUser(user) }
        return user
    }

    /// Deletes the user with their sessions and tokens.
    public func delete(id: String) async throws {
        let user = try await user(id: id)
        try await store.deleteUser(id: user.id)
    }

    static func validateAvatar(_ avatar: String) throws {
        guard let scheme = URL(string: avatar)?.scheme?.lowercased(), ["http", "https"].contains(scheme) else {
            throw IdentityError.invalidInput(phrase: "user.avatar_not_http_url")
        }
    }

    public func account(id: String) async throws -> Account? {
        guard let user = try await store.user(id: id), !user.isSuspended else { return nil }
        return Account(id: user.id, claims: user.claims)
    }

    /// With the `roles` scope, the account also carries `roles`: the names of the user's `User` roles
    /// (Logto's claim; organization roles are not in it); with the organization scopes, `organizations`,
    /// `organization_data` and `organization_roles`.
    public func account(id: String, releasing scopes: [String]) async throws -> Account? {
        guard var account = try await account(id: id) else { return nil }
        guard let claimsStore else { return account }
        if scopes.contains("roles") {
            account.claims["roles"] = .array(try await claimsStore.roleNames(ofUser: id).map { .string($0) })
        }
        // Logto's organization claims: ids and data with the organizations scope, "orgId:roleName" with the
        // organization roles scope.
        let wantsOrganizations = scopes.contains(OrganizationToken.organizationsScope)
        let wantsRoles = scopes.contains(OrganizationToken.organizationRolesScope)
        if wantsOrganizations || wantsRoles {
            let memberships = try await claimsStore.organizations(of: .account(id))
            if wantsOrganizations {
                account.claims["organizations"] = .array(memberships.map { .string($0.organization.id) })
                account.claims["organization_data"] = .array(memberships.map { membership in
                    ["id": .string(membership.organization.id), "name": .string(membership.organization.name),
                     "description": membership.organization.description.map { .string($0) } ?? .null]
                })
            }
            if wantsRoles {
                account.claims["organization_roles"] = .array(memberships.flatMap { membership in
                    membership.roles.map { .string(membership.organization.id + ":" + $0.name) }
                })
            }
        }
        return account
    }

    public func enabledExtendedIDTokenClaims() async throws -> Set<String> {
        Set(try await claimsStore?.idTokenConfig().enabledExtendedClaims ?? [])
    }

    public static func validateUsername(_ raw: String) throws -> String {
        let value = raw.trimmingCharacters(in: .whitespaces)
        let allowed = value.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_")
        }
        guard (1...128).contains(value.count), allowed, let first = value.first, !first.isNumber else {
            throw IdentityError.invalidInput(phrase: "user.username_invalid")
        }
        return value
    }

    /// Characters an identifier may never hold: controls, and the invisible format characters (bidirectional
    /// overrides such as U+202E, zero-width joiners) that make one address look like another on screen.
    public static func hasInvisibleCharacters(_ value: String) -> Bool {
        value.unicodeScalars.contains { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned: true
            default: false
            }
        }
    }

    public static func normalizeEmail(_ raw: String) throws -> String {
        guard !hasInvisibleCharacters(raw) else {
            throw IdentityError.invalidInput(phrase: "user.email_invisible_characters")
        }
        let value = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
              !parts[1].hasSuffix("."), value.count <= 254, !value.contains(where: { $0.isWhitespace })
        else { throw IdentityError.invalidInput(phrase: "user.email_invalid", ["email": raw]) }
        return value
    }

    public static func normalizePhone(_ raw: String) throws -> String {
        let digits = raw.filter { !" -()".contains($0) }.trimmingPrefix("+")
        guard (6...15).contains(digits.count), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
            throw IdentityError.invalidInput(phrase: "user.phone_invalid", ["phone": raw])
        }
        return String(digits)
    }
}

extension String {
    public var nilIfEmpty: String? { isEmpty ? nil : self }
    /// nil when only whitespace: an empty form field clears a value.
    public var nilIfBlank: String? { trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : self }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
