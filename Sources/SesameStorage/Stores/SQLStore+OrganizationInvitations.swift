import Foundation
import SesameIdentity
import SesameOIDC

extension SQLStore: OrganizationInvitationStore {
    private static let invitationColumns = """
        id, inviter_id, invitee, accepted_user_id, organization_id, status, created_at, updated_at, expires_at
        """

    public func insertInvitation(_ invitation: OrganizationInvitation, roleIDs: [String], now: Date) async throws {
        let invitationID = SQLValue.text(invitation.id)
        var statements: [(String, [SQLValue])] = [
            // A pending invitation past its expiry makes way for the new one.
            ("""
             UPDATE organization_invitations SET status = 'Expired', updated_at = ?
             WHERE organization_id = ? AND invitee = ? AND status = 'Pending' AND expires_at <= ?
             """, [.date(now), .text(invitation.organizationID), .text(invitation.invitee), .date(now)]),
            ("""
             INSERT INTO organization_invitations (\(Self.invitationColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             """, [invitationID, .string(invitation.inviterID), .text(invitation.invitee),
                   .string(invitation.acceptedUserID), .text(invitation.organizationID),
                   .text(invitation.status.rawValue), .date(invitation.createdAt), .date(invitation.updatedAt),
                   .date(invitation.expiresAt)]),
        ]
        statements += roleIDs.map {
            ("INSERT INTO organization_invitation_roles (invitation_id, role_id) VALUES (?, ?)", [invitationID, .text($0)])
        }
        do {
            try await write(statements)
        } catch {
            if Self.uniqueViolation(error) != nil {
                throw IdentityError(.organizationInvitationPendingExists, phrase: "organization_invitation.pending_exists",
                                    ["invitee": invitation.invitee])
            }
            throw error
        }
    }

    public func invitation(id: String) async throws -> OrganizationInvitation? {
        let rows = try await database.query("SELECT \(Self.invitationColumns) FROM organization_invitations WHERE id = ?",
                                            .text(id))
        return try await withRoles(try rows.map(Self.invitation)).first
    }

    public func invitations(organizationID: String?, inviterID: String?, invitee: String?, offset: Int, limit: Int)
        async throws -> (invitations: [OrganizationInvitation], total: Int)
    {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        for (column, value) in [("organization_id", organizationID), ("inviter_id", inviterID)] {
            if let value {
                conditions.append("\(column) = ?")
                binds.append(.text(value))
            }
        }
        if let invitee {
            // Stored addresses are lowercase.
            conditions.append("invitee = ?")
            binds.append(.text(invitee.trimmingCharacters(in: .whitespaces).lowercased()))
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let total = try await database.query("SELECT COUNT(*) AS total FROM organization_invitations \(filter)", binds)
            .first?.int("total") ?? 0
        let rows = try await database.query("""
            SELECT \(Self.invitationColumns) FROM organization_invitations \(filter)
            ORDER BY created_at DESC, id LIMIT ? OFFSET ?
            """, binds + [.integer(Int64(limit)), .integer(Int64(offset))])
        return (try await withRoles(try rows.map(Self.invitation)), Int(total))
    }

    public func deleteInvitation(id: String) async throws -> Bool {
        try await !writeQuery("DELETE FROM organization_invitations WHERE id = ? RETURNING id", .text(id)).isEmpty
    }

    public func revokeInvitation(id: String, at now: Date) async throws -> Bool {
        try await !writeQuery("""
            UPDATE organization_invitations SET status = 'Revoked', updated_at = ?
            WHERE id = ? AND status = 'Pending' AND expires_at > ? RETURNING id
            """, .date(now), .text(id), .date(now)).isEmpty
    }

    public func acceptInvitation(id: String, userID: String, at now: Date) async throws -> Bool {
        defer { authorizationChanged() }
        return try await writeTransaction { database in
            // The status check and the change are one statement: of two racing accepts, one finds no row;
            // the address is checked again in it, so a change of email meanwhile accepts nothing.
            guard let organizationID = try await database.query("""
                UPDATE organization_invitations SET status = 'Accepted', accepted_user_id = ?, updated_at = ?
                WHERE id = ? AND status = 'Pending' AND expires_at > ?
                AND EXISTS (SELECT 1 FROM users WHERE users.id = ? AND LOWER(users.primary_email) = invitee)
                RETURNING organization_id
                """, .text(userID), .date(now), .text(id), .date(now), .text(userID)).first?
                .string("organization_id")
            else { return false }
            try await database.query("""
                INSERT INTO organization_users (organization_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING
                """, .text(organizationID), .text(userID))
            try await database.query("""
                INSERT INTO organization_user_roles (organization_id, user_id, role_id)
                SELECT ?, ?, role_id FROM organization_invitation_roles WHERE invitation_id = ?
                ON CONFLICT DO NOTHING
                """, .text(organizationID), .text(userID), .text(id))
            return true
        }
    }

    /// The invitations with their roles (one query for all of them), by role name.
    private func withRoles(_ invitations: [OrganizationInvitation]) async throws -> [OrganizationInvitation] {
        guard !invitations.isEmpty else { return [] }
        var roles: [String: [OrganizationRole]] = [:]
        for row in try await database.query("""
            SELECT r.invitation_id AS invitation_id, \(Self.organizationRoleColumns) FROM organization_invitation_roles r
            JOIN organization_roles ON organization_roles.id = r.role_id
            WHERE r.invitation_id IN (\(Self.placeholders(invitations.count))) ORDER BY organization_roles.name
            """, invitations.map { .text($0.id) })
        {
            roles[try row.string("invitation_id"), default: []].append(try Self.organizationRole(row))
        }
        return invitations.map { invitation in
            var invitation = invitation
            invitation.roles = roles[invitation.id] ?? []
            return invitation
        }
    }

    private static func invitation(_ row: SQLRow) throws -> OrganizationInvitation {
        guard let status = OrganizationInvitation.Status(rawValue: try row.string("status")) else {
            throw StorageError.corrupt("status")
        }
        return OrganizationInvitation(
            id: try row.string("id"), inviterID: row.optionalString("inviter_id"), invitee: try row.string("invitee"),
            acceptedUserID: row.optionalString("accepted_user_id"), organizationID: try row.string("organization_id"),
            status: status, createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            expiresAt: try row.date("expires_at"))
    }
}
