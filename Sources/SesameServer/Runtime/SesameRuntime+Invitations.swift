import Foundation
import SesameConnectors
import SesameIdentity
import SesameOIDC

extension SesameRuntime {
    /// At most 5 invitation messages per address an hour, and one per invitation a minute: resending cannot be
    /// used to flood an inbox.
    static let invitationAddressRule = RateLimiter.Rule(limit: 5, window: 3600)
    static let invitationResendRule = RateLimiter.Rule(limit: 1, window: 60)

    /// The hosted page an invitation's link opens when the caller gives none: `{endpoint}/invitation/{id}`.
    public func invitationLink(id: String) -> String {
        configuration.endpoint + "/invitation/" + id
    }

    /// What an invitation email carries besides what Sesame adds: `link` (default: the hosted page), the reader's
    /// `locale`, and further template variables (Logto's `messagePayload`).
    public struct InvitationMessage: Sendable {
        public var link: String?
        public var locale: String?
        public var extra: [String: String]

        public init(link: String? = nil, locale: String? = nil, extra: [String: String] = [:]) {
            self.link = link
            self.locale = locale
            self.extra = extra
        }

        /// What a caller's `link` may be: an http or https URL with a host, at most 2,048 characters.
        public static func isValidLink(_ link: String) -> Bool {
            guard link.count <= 2048, let url = URL(string: link) else { return false }
            return ["http", "https"].contains(url.scheme?.lowercased() ?? "") && url.host?.isEmpty == false
        }
    }

    /// Creates an invitation (`OrganizationInvitationService.create`, same errors) and, with `message`, sends it;
    /// an invitation whose message cannot be sent is taken back, so the same call can simply be made again.
    public func invite(organizationID: String, invitee: String, inviterID: String?, expiresAt: Date, roleIDs: [String],
                       message: InvitationMessage?) async throws -> OrganizationInvitation
    {
        let invitation = try await invitations.create(organizationID: organizationID, invitee: invitee,
                                                      inviterID: inviterID, expiresAt: expiresAt, roleIDs: roleIDs)
        guard let message else { return invitation }
        do {
            try await sendInvitation(invitation, link: message.link, locale: message.locale, extra: message.extra)
        } catch {
            try? await invitations.delete(id: invitation.id)
            throw error
        }
        return invitation
    }

    /// Sends a pending invitation by email with the usage type `OrganizationInvitation` (the connector falls back to
    /// its `Generic` template). The template gets `link` (`link`, or the hosted page), `organization.id`,
    /// `organization.name`, `inviter.name` when there is an inviter, and `extra` (the rest of Logto's
    /// `messagePayload`, strings by name). Throws `guard.too_many_requests` (429) past the limits, 422
    /// `organization_invitation.ended` when it is no longer pending, and the connector's error.
    public func sendInvitation(_ invitation: OrganizationInvitation, link: String?, locale: String?,
                               extra: [String: String] = [:]) async throws
    {
        let now = provider.now()
        guard invitation.status(at: now) == .pending else { throw OrganizationInvitationService.ended(invitation, at: now) }
        let addressHits = try await rateLimiter.hit("invitation:address:" + SecretDigest.sha256Hex(invitation.invitee),
                                                    rule: Self.invitationAddressRule)
        let resendHits = try await rateLimiter.hit("invitation:id:" + invitation.id, rule: Self.invitationResendRule)
        guard addressHits <= Self.invitationAddressRule.limit, resendHits <= Self.invitationResendRule.limit else {
            throw IdentityError(.tooManyAttempts, phrase: "organization_invitation.too_many_sent")
        }
        let organization = try await organizations.organization(id: invitation.organizationID)
        var variables = extra
        variables["organization.id"] = organization.id
        variables["organization.name"] = organization.name
        if let inviterID = invitation.inviterID, let inviter = try await users.store.user(id: inviterID) {
            variables["inviter.name"] = inviter.name ?? inviter.username ?? inviter.primaryEmail ?? inviter.id
        }
        let payload = MessagePayload(link: link ?? invitationLink(id: invitation.id), locale: locale,
                                     variables: variables)
        try await deliverEmail(to: invitation.invitee, usage: .organizationInvitation, payload: payload,
                               counting: metrics.invitationSent)
        audit.record(AuditEvent(key: "OrganizationInvitation.Sent", ip: nil,
                                payload: ["organizationId": .string(organization.id), "invitationId": .string(invitation.id)],
                                createdAt: now))
    }
}
