import Foundation
import SesameOIDC

/// An end user (Logto: a user).
public struct User: Sendable, Codable, Equatable {
    public var id: String
    public var username: String?
    public var primaryEmail: String?
    public var primaryPhone: String?
    public var name: String?
    public var avatar: String?
    /// bcrypt; nil for users who sign in with codes only.
    public var passwordHash: String?
    public var isSuspended: Bool
    public var createdAt: Date
    public var updatedAt: Date
    public var lastSignInAt: Date?
    /// The standard profile beyond name and avatar (given and family names, address, ...).
    public var profile = UserProfile()

    public init(id: String, username: String? = nil, primaryEmail: String? = nil, primaryPhone: String? = nil,
                name: String? = nil, avatar: String? = nil, passwordHash: String? = nil, isSuspended: Bool = false,
                createdAt: Date, updatedAt: Date, lastSignInAt: Date? = nil)
    {
        self.id = id
        self.username = username
        self.primaryEmail = primaryEmail
        self.primaryPhone = primaryPhone
        self.name = name
        self.avatar = avatar
        self.passwordHash = passwordHash
        self.isSuspended = isSuspended
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastSignInAt = lastSignInAt
    }

    /// The standard claims this user can release (OIDC Core §5.1). Emails and phones on file are verified:
    /// Sesame only stores them after a code proved them, or when an admin set them.
    public var claims: [String: JSONValue] {
        var claims: [String: JSONValue] = ["updated_at": .int(Int64(updatedAt.timeIntervalSince1970))]
        if let name { claims["name"] = .string(name) }
        if let username { claims["username"] = .string(username) }
        if let avatar { claims["picture"] = .string(avatar) }
        if let primaryEmail {
            claims["email"] = .string(primaryEmail)
            claims["email_verified"] = true
        }
        if let primaryPhone {
            claims["phone_number"] = .string(primaryPhone)
            claims["phone_number_verified"] = true
        }
        claims.merge(profile.claims) { current, _ in current }
        return claims
    }
}

public protocol UserStore: Sendable {
    /// Inserts a user with the default roles; throws `IdentityError.conflict` when the username, email or phone
    /// is taken. With `justInTimeDomain` (the domain of a verified email at registration), the user also joins, in
    /// the same transaction, every organization provisioning that domain, with its just-in-time roles.
    func insertUser(_ user: User, justInTimeDomain: String?) async throws
    func user(id: String) async throws -> User?
    /// Finds by username (case-insensitive) or email (case-insensitive) or phone.
    func user(identifier: String) async throws -> User?
    func updateUser(_ user: User) async throws
    /// Updates the user and ends everything that signs them in (IdP sessions, grants, access and refresh
    /// tokens), in one transaction: a password change or a suspension that half happened would leave an old
    /// session working.
    func updateUserSigningOut(_ user: User) async throws
    func recordSignIn(userID: String, at date: Date) async throws
    func users(offset: Int, limit: Int) async throws -> (users: [User], total: Int)
    /// Users whose username, email, phone or name contains `term` (case-insensitive), newest first.
    func searchUsers(term: String?, offset: Int, limit: Int) async throws -> (users: [User], total: Int)
    /// Deletes the user with its sessions, grants and tokens, in one transaction.
    func deleteUser(id: String) async throws
}

extension UserStore {
    /// Inserts a user with the default roles and no just-in-time provisioning (administrators' creations).
    public func insertUser(_ user: User) async throws {
        try await insertUser(user, justInTimeDomain: nil)
    }
}
