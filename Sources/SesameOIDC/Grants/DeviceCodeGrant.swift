import Foundation

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5): the device polls with its
/// `device_code` until the person decides. Answers, in this order: `invalid_grant` for an unknown code or another
/// client's; for a code already spent, `invalid_grant` and the grant revoked (a leaked code, as for authorization
/// codes); `expired_token`; `access_denied`; `slow_down` when polled sooner than the interval (which then grows by
/// 5 s); `authorization_pending`; else the tokens, the code spent in the same transaction that stores them. Two polls
/// racing an approved code: one gets tokens, the other revokes them.
struct DeviceCodeGrant: GrantHandler {
    /// How much sooner than `interval` a poll may come without a `slow_down` (network and timer jitter), in seconds.
    static let pollTolerance: TimeInterval = 1

    func handle(_ params: RequestParameters, client: Client, provider: OIDCProvider) async throws -> OAuthResponse {
        let deviceCode = try params.required("device_code")
        let id = SecretDigest.sha256Hex(deviceCode)
        let now = provider.now()
        guard let (authorization, slowDown) = try await provider.storage.pollDeviceAuthorization(
            id: id, now: now, tolerance: Self.pollTolerance)
        else { throw OAuthError.invalidGrant("device code not found") }
        guard authorization.clientID == client.id else {
            throw OAuthError.invalidGrant("device code was issued to another client")
        }
        if authorization.consumedAt != nil {
            if let grantID = authorization.context?.grantID { try await provider.storage.revokeGrant(id: grantID) }
            throw OAuthError.invalidGrant(TokenExchange.Spent.deviceCode(id: id).replayDescription)
        }
        guard authorization.expiresAt > now else {
            throw OAuthError(.expiredToken, "the device code has expired; start again")
        }
        switch authorization.status {
        case .denied:
            throw OAuthError(.accessDenied, "the user denied the request")
        case .pending:
            if slowDown {
                throw OAuthError(.slowDown, "polling too fast: wait \(authorization.interval + 5) seconds between requests")
            }
            throw OAuthError(.authorizationPending, "the user has not yet approved the request")
        case .approved:
            guard let context = authorization.context else { throw OAuthError.serverError() }
            let resource = try await provider.requestedResource(params, allowed: context.resources)
            return try await provider.exchangeForTokens(spending: .deviceCode(id: id), context: context,
                                                        scopes: context.scopes, resource: resource, includeNonce: false)
        }
    }
}
