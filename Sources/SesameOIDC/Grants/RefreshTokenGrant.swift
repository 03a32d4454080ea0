import Foundation

/// `grant_type=refresh_token` (RFC 6749 §6), rotating: every use returns a new refresh token, and a
/// second use of an old one revokes the whole grant (RFC 9700 §4.14.2). With `organization_id` it issues Logto's
/// organization token (or, with `resource` too, an organization-level API token). Detection wins: parallel refreshes
/// with one token get one success, and the replays among them revoke the grant, that success's tokens too.
struct RefreshTokenGrant: GrantHandler {
    func handle(_ params: RequestParameters, client: Client, provider: OIDCProvider) async throws -> OAuthResponse {
        let token = try params.required("refresh_token")
        let id = SecretDigest.sha256Hex(token)
        guard let record = try await provider.storage.refreshToken(id: id) else {
            throw OAuthError.invalidGrant("refresh token not found")
        }
        guard record.context.clientID == client.id else {
            throw OAuthError.invalidGrant("refresh token was issued to another client")
        }
        if record.consumedAt != nil {
            try await provider.storage.revokeGrant(id: record.context.grantID)
            throw OAuthError.invalidGrant("refresh token has already been used; the grant is revoked")
        }
        guard record.expiresAt > provider.now() else { throw OAuthError.invalidGrant("refresh token is expired") }
        var scopes = record.context.scopes
        if let requested = try params.single("scope") {
            let narrowed = ScopeList.parse(requested)
            guard Set(narrowed).isSubset(of: Set(scopes)) else {
                throw OAuthError(.invalidScope, "requested scope exceeds the original grant")
            }
            scopes = narrowed
        }
        let resource = try await provider.requestedResource(params, allowed: record.context.resources)
        // Logto's organization token: the refresh token must carry the organizations scope.
        let organizationID = try provider.requestedOrganization(params)
        if organizationID != nil, !record.context.scopes.contains(OrganizationToken.organizationsScope) {
            throw OAuthError(.insufficientScope, "the refresh token lacks the scope \(OrganizationToken.organizationsScope)",
                             status: 403)
        }
        return try await provider.exchangeForTokens(spending: .refreshToken(id: id), context: record.context,
                                                    scopes: scopes, resource: resource, organizationID: organizationID,
                                                    includeNonce: false)
    }
}
