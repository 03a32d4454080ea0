import Foundation
import SesameOIDC

extension IdentityError.Code {
    /// There is already a pending invitation for that address to that organization (422).
    public static let organizationInvitationPendingExists =
        IdentityError.Code(rawValue: "organization_invitation.pending_exists")
    /// The invitation is accepted, revoked or expired: its status cannot change any more (422).
    public static let organizationInvitationEnded = IdentityError.Code(rawValue: "organization_invitation.ended")
    /// The invited address is a member's already (422, as Logto refuses it).
    public static let organizationInvitationAlreadyMember =
        IdentityError.Code(rawValue: "organization_invitation.already_member")
    /// Accepting needs the accepting user's id (422, as Logto).
    public static let organizationInvitationAcceptedUserRequired =
        IdentityError.Code(rawValue: "organization_invitation.accepted_user_required")
    /// The accepting user's primary email is not the invited address (422).
    public static let organizationInvitationEmailMismatch =
        IdentityError.Code(rawValue: "organization_invitation.email_mismatch")
}

/// An invitation to join an organization, sent to an email address with the organization roles the invitee gets
/// on accepting (Logto's `organization_invitations`, `../design/logto-reference.md` §2).
///
/// Status moves only from `Pending`: to `Accepted` (once, by a user whose primary email is the invitee), to
/// `Revoked`, or to `Expired` once `expiresAt` has passed. At most one invitation per address and organization is
/// pending at a time.
public struct OrganizationInvitation: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case pending = "Pending", accepted = "Accepted", expired = "Expired", revoked = "Revoked"
    }

    /// 21 random characters.
    public var id: String
    /// The user who invited, if any (a Management API caller may name one).
    public var inviterID: String?
    /// The invited email address, normalized (trimmed, lowercase).
    public var invitee: String
    public var acceptedUserID: String?
    public var organizationID: String
    /// As stored; see `status(at:)` for the status a reader sees.
    public var status: Status
    public var createdAt: Date
    public var updatedAt: Date
    public var expiresAt: Date
    /// The organization roles given on acceptance (all `User` roles), by name.
    public var roles: [OrganizationRole]

    public init(id: String, inviterID: String?, invitee: String, acceptedUserID: String? = nil, organizationID: String,
                status: Status = .pending, createdAt: Date, updatedAt: Date, expiresAt: Date,
                roles: [OrganizationRole] = [])
    {
        self.id = id
        self.inviterID = inviterID
        self.invitee = invitee
        self.acceptedUserID = acceptedUserID
        self.organizationID = organizationID
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.roles = roles
    }

    /// The status at `now`: a pending invitation past its expiry reads `Expired` even before a write marks it so.
    public func status(at now: Date) -> Status {
        status == .pending && expiresAt <= now ? .expired : status
    }
}

/// Invitations and their roles. Every multi-row change is one transaction; the conditional ones (`accept`,
/// `revoke`) change only a pending, unexpired invitation, so two racing requests cannot both succeed.
public protocol OrganizationInvitationStore: Sendable {
    /// Marks a pending invitation for the same address and organization `Expired` when it is past its expiry,
    /// then inserts this one with its roles; one transaction. Throws `organization_invitation.pending_exists` (422)
    /// when an unexpired pending one remains.
    func insertInvitation(_ invitation: OrganizationInvitation, roleIDs: [String], now: Date) async throws
    func invitation(id: String) async throws -> OrganizationInvitation?
    /// Invitations matching every filter given (the invitee compared case-insensitively), newest first, at most
    /// `limit`, with the total.
    func invitations(organizationID: String?, inviterID: String?, invitee: String?, offset: Int, limit: Int)
        async throws -> (invitations: [OrganizationInvitation], total: Int)
    /// False when there was none.
    func deleteInvitation(id: String) async throws -> Bool
    /// Pending and unexpired at `now` becomes `Revoked`; false when it was not (any more).
    func revokeInvitation(id: String, at now: Date) async throws -> Bool
    /// Pending and unexpired at `now` becomes `Accepted` by `userID`, who joins the organization (kept if already a
    /// member) with the invitation's roles; one transaction. False when it was not pending (any more).
    func acceptInvitation(id: String, userID: String, at now: Date) async throws -> Bool
}

/// Invitations to organizations: checks the rules, then lets the store write. Sending the message is the
/// caller's (the server knows the connectors and the link).
public struct OrganizationInvitationService: Sendable {
    public let store: any OrganizationInvitationStore
    public let organizations: OrganizationService
    public let now: @Sendable () -> Date

    /// The longest an invitation may run: 90 days (Logto sets no bound; an open-ended invitation outlives the
    /// reason it was sent).
    public static let maximumLifetime: TimeInterval = 90 * 86_400

    public init(store: any OrganizationInvitationStore, organizations: OrganizationService,
                now: @escaping @Sendable () -> Date = { Date() })
    {
        self.store = store
        self.organizations = organizations
        self.now = now
    }

    /// Creates a pending invitation. Throws 404 for an unknown organization, inviter or role;
    /// `organization.invalid_role_type` (422) for a `MachineToMachine` role; invalid input for a bad address or
    /// an expiry not in the future or more than 90 days away; `organization_invitation.already_member` (422) when
    /// the address is a member's; `organization_invitation.pending_exists` (422).
    public func create(organizationID: String, invitee: String, inviterID: String?, expiresAt: Date,
                       roleIDs: [String]) async throws -> OrganizationInvitation
    {
        let organization = try await organizations.organization(id: organizationID)
        let address = try UserService.normalizeEmail(invitee)
        let now = now()
        guard expiresAt > now, expiresAt.timeIntervalSince(now) <= Self.maximumLifetime else {
            throw IdentityError.invalidInput(phrase: "organization_invitation.expiry_invalid",
                                             ["days": String(Int(Self.maximumLifetime / 86_400))])
        }
        if let member = try await organizations.roles.users.user(identifier: address),
           member.primaryEmail?.lowercased() == address,
           try await organizations.store.isMember(.account(member.id), of: organization.id)
        {
            throw IdentityError(.organizationInvitationAlreadyMember, phrase: "organization_invitation.already_member",
                                ["invitee": address])
        }
        if let inviterID, try await organizations.roles.users.user(id: inviterID) == nil {
            throw IdentityError(.notFound, phrase: "user.not_found", ["id": inviterID])
        }
        let roles = try await organizations.userRoles(ids: roleIDs)
        let invitation = OrganizationInvitation(
            id: SecureRandom.identifier(), inviterID: inviterID, invitee: address, organizationID: organization.id,
            createdAt: now, updatedAt: now, expiresAt: expiresAt, roles: roles)
        try await store.insertInvitation(invitation, roleIDs: roles.map(\.id), now: now)
        return invitation
    }

    /// Throws 404 `organization_invitation.not_found`.
    public func invitation(id: String) async throws -> OrganizationInvitation {
        guard let invitation = try await store.invitation(id: id) else {
            throw IdentityError(.notFound, phrase: "organization_invitation.not_found", ["id": id])
        }
        return invitation
    }

    public func delete(id: String) async throws {
        guard try await store.deleteInvitation(id: id) else {
            throw IdentityError(.notFound, phrase: "organization_invitation.not_found", ["id": id])
        }
    }

    /// Revokes a pending invitation. Throws 404, or `organization_invitation.ended` (422) when it is accepted,
    /// revoked or expired.
    public func revoke(id: String) async throws -> OrganizationInvitation {
        let invitation = try await invitation(id: id)
        guard try await store.revokeInvitation(id: invitation.id, at: now()) else {
            throw Self.ended(try await self.invitation(id: id), at: now())
        }
        return try await self.invitation(id: id)
    }

    /// Accepts a pending invitation for `userID`, whose primary email must be the invited address (compared
    /// case-insensitively): the user joins the organization with the invitation's roles, in one transaction.
    /// Throws 404 (invitation or user), `organization_invitation.email_mismatch` (422) and
    /// `organization_invitation.ended` (422, also for the loser of two racing accepts).
    public func accept(id: String, userID: String) async throws -> OrganizationInvitation {
        let invitation = try await invitation(id: id)
        guard let user = try await organizations.roles.users.user(id: userID) else {
            throw IdentityError(.notFound, phrase: "user.not_found", ["id": userID])
        }
        if invitation.status(at: now()) != .pending { throw Self.ended(invitation, at: now()) }
        guard user.primaryEmail?.lowercased() == invitation.invitee.lowercased() else {
            throw IdentityError(.organizationInvitationEmailMismatch, phrase: "organization_invitation.email_mismatch")
        }
        guard try await store.acceptInvitation(id: invitation.id, userID: user.id, at: now()) else {
            throw Self.ended(try await self.invitation(id: id), at: now())
        }
        return try await self.invitation(id: id)
    }

    /// `organization_invitation.ended` (422) naming the status the invitation has at `now`.
    public static func ended(_ invitation: OrganizationInvitation, at now: Date) -> IdentityError {
        IdentityError(.organizationInvitationEnded, phrase: "organization_invitation.ended",
                      ["status": invitation.status(at: now).rawValue])
    }
}
