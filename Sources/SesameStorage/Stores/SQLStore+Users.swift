import Foundation
import SesameIdentity

extension SQLStore: UserStore {
    static let userColumns = """
        id, username, username_key, primary_email, primary_phone, name, avatar, password_hash, is_suspended,
        created_at, updated_at, last_sign_in_at, profile
        """

    /// Inserts the user and gives them every default `User` role, in one transaction.
    public func insertUser(_ user: User, justInTimeDomain: String?) async throws {
        var statements: [(String, [SQLValue])] = [
            ("INSERT INTO users (\(Self.userColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", Self.binds(user)),
            ("INSERT INTO users_roles (user_id, role_id) SELECT ?, id FROM roles WHERE type = 'User' AND is_default = 1",
             [.text(user.id)]),
        ]
        if let domain = justInTimeDomain?.lowercased() {
            statements += [
                ("INSERT INTO organization_users (organization_id, user_id) SELECT organization_id, ? "
                    + "FROM organization_jit_email_domains WHERE email_domain = ?", [.text(user.id), .text(domain)]),
                ("INSERT INTO organization_user_roles (organization_id, user_id, role_id) SELECT r.organization_id, ?, "
                    + "r.role_id FROM organization_jit_roles r JOIN organization_jit_email_domains d "
                    + "ON d.organization_id = r.organization_id WHERE d.email_domain = ?", [.text(user.id), .text(domain)]),
            ]
        }
        defer { if justInTimeDomain != nil { authorizationChanged() } }
        do {
            // A default role deleted at this very moment fails the insert's reference: run it again without it.
            try await write(statements, retryingReferences: true)
        } catch {
            if let detail = Self.uniqueViolation(error) { throw Self.conflictError(detail) }
            throw error
        }
    }

    public func user(id: String) async throws -> User? {
        try await database.query("SELECT \(Self.userColumns) FROM users WHERE id = ?", .text(id)).first.map(Self.userFromRow)
    }

    public func user(identifier: String) async throws -> User? {
        let key = identifier.lowercased()
        return try await database.query("""
            SELECT \(Self.userColumns) FROM users WHERE username_key = ? OR primary_email = ? OR primary_phone = ?
            """, .text(key), .text(key), .text(identifier.filter { $0 != "+" })).first.map(Self.userFromRow)
    }

    public func updateUser(_ user: User) async throws {
        try await Self.update(user, in: database)
    }

    public func updateUserSigningOut(_ user: User) async throws {
        try await database.withTransaction { database in
            try await Self.update(user, in: database)
            for (sql, binds) in Self.signOutStatements(accountID: user.id) { try await database.query(sql, binds) }
        }
    }

    private static func update(_ user: User, in database: any SQLDatabase) async throws {
        let binds = Self.binds(user)
        do {
            try await database.query("""
                UPDATE users SET username = ?, username_key = ?, primary_email = ?, primary_phone = ?, name = ?,
                avatar = ?, password_hash = ?, is_suspended = ?, created_at = ?, updated_at = ?, last_sign_in_at = ?,
                profile = ? WHERE id = ?
                """, Array(binds.dropFirst()) + [binds[0]])
        } catch {
            if let detail = Self.uniqueViolation(error) { throw Self.conflictError(detail) }
            throw error
        }
    }

    /// Everything that signs an account in: IdP sessions, grants (and so codes), access and refresh tokens.
    private static func signOutStatements(accountID: String) -> [(String, [SQLValue])] {
        let id = SQLValue.text(accountID)
        return [
            ("DELETE FROM sessions WHERE account_id = ?", [id]),
            ("DELETE FROM authorization_codes WHERE grant_id IN (SELECT id FROM grants WHERE account_id = ?)", [id]),
            ("DELETE FROM grants WHERE account_id = ?", [id]),
            ("DELETE FROM refresh_tokens WHERE account_id = ?", [id]),
            ("DELETE FROM access_tokens WHERE account_id = ?", [id]),
        ]
    }

    public func recordSignIn(userID: String, at date: Date) async throws {
        try await database.query("UPDATE users SET last_sign_in_at = ? WHERE id = ?", .date(date), .text(userID))
    }

    public func users(offset: Int, limit: Int) async throws -> (users: [User], total: Int) {
        try await pagedUsers(search: nil, offset: offset, limit: limit)
    }

    public func searchUsers(term: String?, offset: Int, limit: Int) async throws -> (users: [User], total: Int) {
        try await pagedUsers(search: term, offset: offset, limit: limit)
    }

    /// Users matching `condition` and `search` (case-insensitively in the username, email, phone or name),
    /// newest first, with their total: the users list, a role's holders, an organization's members.
    func pagedUsers(where condition: String = "1 = 1", _ binds: [SQLValue] = [], search: String?, offset: Int,
                    limit: Int) async throws -> (users: [User], total: Int)
    {
        var condition = condition
        var binds = binds
        if let search, !search.isEmpty {
            let pattern = SQLValue.text("%" + Self.likeEscaped(search.lowercased()) + "%")
            condition += """
                 AND (username_key LIKE ? ESCAPE '\\' OR primary_email LIKE ? ESCAPE '\\'
                 OR primary_phone LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\')
                """
            binds += [pattern, pattern, pattern, pattern]
        }
        let total = try await database.query("SELECT COUNT(*) AS total FROM users WHERE \(condition)", binds)
            .first?.int("total") ?? 0
        let users = try await database.query("""
            SELECT \(Self.userColumns) FROM users WHERE \(condition) ORDER BY created_at DESC, id LIMIT ? OFFSET ?
            """, binds + [.integer(Int64(limit)), .integer(Int64(offset))]).map(Self.userFromRow)
        return (users, Int(total))
    }

    public func deleteUser(id: String) async throws {
        try await database.transaction(Self.signOutStatements(accountID: id)
            + [("DELETE FROM users WHERE id = ?", [.text(id)])])
    }

    private static func conflictError(_ detail: String) -> IdentityError {
        if detail.contains("email") { return IdentityError(.conflict, phrase: "user.email_taken") }
        if detail.contains("phone") { return IdentityError(.conflict, phrase: "user.phone_taken") }
        if detail.contains("username") { return IdentityError(.conflict, phrase: "user.username_taken") }
        return IdentityError(.conflict, phrase: "user.already_exists")
    }

    private static func binds(_ user: User) -> [SQLValue] {
        [.text(user.id), .string(user.username), .string(user.username?.lowercased()), .string(user.primaryEmail),
         .string(user.primaryPhone), .string(user.name), .string(user.avatar), .string(user.passwordHash),
         .bool(user.isSuspended), .date(user.createdAt), .date(user.updatedAt), .date(user.lastSignInAt),
         user.profile.isEmpty ? .null : .json(user.profile)]
    }

    static func userFromRow(_ row: SQLRow) throws -> User {
        var user = User(id: try row.string("id"), username: row.optionalString("username"),
             primaryEmail: row.optionalString("primary_email"), primaryPhone: row.optionalString("primary_phone"),
             name: row.optionalString("name"), avatar: row.optionalString("avatar"),
             passwordHash: row.optionalString("password_hash"), isSuspended: try row.bool("is_suspended"),
             createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
             lastSignInAt: row.optionalDate("last_sign_in_at"))
        if row.optionalString("profile") != nil { user.profile = try row.json("profile") }
        return user
    }
}
