import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// `/api/organization-invitations` with Logto's paths, bodies and codes (`logto-reference.md` §2), and two
/// differences: without a `link` in `messagePayload` Sesame links to its own hosted page `/invitation/{id}`, and
/// a message that cannot be sent takes the new invitation back (no pending invitation blocks the retry).
struct OrganizationInvitationsRoutes: Sendable {
    let runtime: SesameRuntime

    func register(on api: RouterGroup<SesameRequestContext>) {
        let service = runtime.invitations
        api.get("organization-invitations") { request, _ in
            let query = try request.queryParameters()
            // Logto answers every invitation at once; `page`/`page_size` page as the other lists do.
            let paged = try query.single("page") != nil || query.single("page_size") != nil
            let (offset, limit) = paged ? try ManagementInput.page(request) : (0, 10_000)
            let result = try await runtime.store.invitations(
                organizationID: try query.single("organizationId"), inviterID: try query.single("inviterId"),
                invitee: try query.single("invitee"), offset: offset, limit: limit)
            let now = runtime.provider.now()
            return Responses.json(.array(result.invitations.map { Self.json($0, now: now) }),
                                  headers: ManagementInput.total(result.total))
        }
        api.post("organization-invitations") { request, _ in
            let body = try await ManagementInput.body(request)
            try ManagementInput.allowOnly(body, ["inviterId", "invitee", "organizationId", "expiresAt",
                                                 "organizationRoleIds", "messagePayload"])
            let message = try Self.messagePayload(body["messagePayload"], allowFalse: true)
            var invitation: OrganizationInvitation?
            try await SettingsRoutes.connectorCall {
                invitation = try await runtime.invite(
                    organizationID: try ManagementInput.requiredString(body, "organizationId"),
                    invitee: try ManagementInput.requiredString(body, "invitee"),
                    inviterID: try ManagementInput.optionalString(body, "inviterId") ?? nil,
                    expiresAt: try Self.expiry(body["expiresAt"]),
                    roleIDs: try ManagementInput.stringList(body["organizationRoleIds"], "organizationRoleIds") ?? [],
                    message: message)
            }
            guard let invitation else { throw OAuthError.serverError() }
            return Responses.json(Self.json(invitation, now: runtime.provider.now()), status: .created)
        }
        api.get("organization-invitations/:id") { _, context in
            Responses.json(Self.json(try await service.invitation(id: Self.id(context)), now: runtime.provider.now()))
        }
        api.delete("organization-invitations/:id") { _, context in
            try await service.delete(id: Self.id(context))
            return Response(status: .noContent)
        }
        api.put("organization-invitations/:id/status") { request, context in
            let body = try await ManagementInput.body(request)
            try ManagementInput.allowOnly(body, ["status", "acceptedUserId"])
            let status = try ManagementInput.requiredString(body, "status")
            let invitation: OrganizationInvitation
            switch status {
            case OrganizationInvitation.Status.accepted.rawValue:
                guard let userID = try ManagementInput.optionalString(body, "acceptedUserId") ?? nil else {
                    throw IdentityError(.organizationInvitationAcceptedUserRequired,
                                        phrase: "organization_invitation.accepted_user_required")
                }
                invitation = try await service.accept(id: Self.id(context), userID: userID)
            case OrganizationInvitation.Status.revoked.rawValue:
                invitation = try await service.revoke(id: Self.id(context))
            default:
                throw IdentityError.invalidInput(phrase: "input.one_of", ["field": "status", "values": "Accepted, Revoked"])
            }
            return Responses.json(Self.json(invitation, now: runtime.provider.now()))
        }
        api.post("organization-invitations/:id/message") { request, context in
            let body = try await ManagementInput.body(request)
            let message = try Self.messagePayload(body, allowFalse: false)
            let invitation = try await service.invitation(id: Self.id(context))
            try await SettingsRoutes.connectorCall {
                try await runtime.sendInvitation(invitation, link: message?.link, locale: message?.locale,
                                                 extra: message?.extra ?? [:])
            }
            return Response(status: .noContent)
        }
    }

    // MARK: Input and output

    private static func id(_ context: SesameRequestContext) -> String {
        context.parameters.get("id") ?? ""
    }

    /// `expiresAt`: epoch milliseconds (a JSON integer).
    private static func expiry(_ value: JSONValue?) throws -> Date {
        guard let value else { throw IdentityError.invalidInput(phrase: "input.required", ["field": "expiresAt"]) }
        guard let milliseconds = value.intValue, (0...253_402_300_799_000).contains(milliseconds) else {
            throw IdentityError.invalidInput(phrase: "input.must_be_milliseconds", ["field": "expiresAt"])
        }
        return Date(millisecondsSince1970: milliseconds)
    }

    /// Logto's `messagePayload`: `link` (an http(s) URL of at most 2,048 characters), `locale`, and further template
    /// variables (strings, numbers or booleans; one level of objects becomes dotted names), at most 32 of them, each
    /// value at most 1,024 characters. `false` (or nothing) sends no message.
    static func messagePayload(_ value: JSONValue?, allowFalse: Bool) throws -> SesameRuntime.InvitationMessage? {
        guard let value, value != .null, !(allowFalse && value == .bool(false)) else { return nil }
        guard let object = value.objectValue else {
            throw IdentityError.invalidInput(phrase: "input.must_be_object", ["field": "messagePayload"])
        }
        var message = SesameRuntime.InvitationMessage()
        func text(_ value: JSONValue, _ name: String) throws -> String {
            let text: String? = switch value {
            case .string(let string): string
            case .int(let number): String(number)
            case .double(let number): String(number)
            case .bool(let flag): String(flag)
            default: nil
            }
            guard let text, text.count <= 1024, !UserService.hasInvisibleCharacters(text) else {
                throw IdentityError.invalidInput(phrase: "organization_invitation.payload_invalid", ["field": name])
            }
            return text
        }
        for (key, item) in object {
            switch key {
            case "link":
                guard let link = item.stringValue, SesameRuntime.InvitationMessage.isValidLink(link) else {
                    throw IdentityError.invalidInput(phrase: "organization_invitation.link_invalid")
                }
                message.link = link
            case "locale":
                message.locale = try text(item, key)
            default:
                if let nested = item.objectValue {
                    for (inner, innerValue) in nested { message.extra[key + "." + inner] = try text(innerValue, key + "." + inner) }
                } else {
                    message.extra[key] = try text(item, key)
                }
            }
        }
        guard message.extra.count <= 32 else {
            throw IdentityError.invalidInput(phrase: "organization_invitation.payload_invalid", ["field": "messagePayload"])
        }
        return message
    }

    static func json(_ invitation: OrganizationInvitation, now: Date) -> JSONValue {
        ["id": .string(invitation.id), "inviterId": invitation.inviterID.map { .string($0) } ?? .null,
         "invitee": .string(invitation.invitee),
         "acceptedUserId": invitation.acceptedUserID.map { .string($0) } ?? .null,
         "organizationId": .string(invitation.organizationID), "status": .string(invitation.status(at: now).rawValue),
         "createdAt": ManagementInput.epochMilliseconds(invitation.createdAt),
         "updatedAt": ManagementInput.epochMilliseconds(invitation.updatedAt),
         "expiresAt": ManagementInput.epochMilliseconds(invitation.expiresAt),
         "organizationRoles": .array(invitation.roles.map { ["id": .string($0.id), "name": .string($0.name)] })]
    }
}
