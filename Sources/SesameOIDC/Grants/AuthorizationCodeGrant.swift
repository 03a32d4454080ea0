import Foundation

/// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6).
struct AuthorizationCodeGrant: GrantHandler {
    func handle(_ params: RequestParameters, client: Client, provider: OIDCProvider) async throws -> OAuthResponse {
        let code = try params.required("code")
        let redirectURI = try params.single("redirect_uri")
        let verifier = try params.single("code_verifier")
        let id = SecretDigest.sha256Hex(code)
        guard let (record, isConsumed) = try await provider.storage.authorizationCode(id: id) else {
            throw OAuthError.invalidGrant("authorization code not found")
        }
        // A second use means the code leaked: revoke what the first use issued (RFC 6749 §4.1.2).
        if isConsumed {
            try await provider.storage.revokeGrant(id: record.context.grantID)
            throw OAuthError.invalidGrant(TokenExchange.Spent.authorizationCode(id: id).replayDescription)
        }
        guard record.expiresAt > provider.now() else { throw OAuthError.invalidGrant("authorization code is expired") }
        guard record.context.clientID == client.id else {
            throw OAuthError.invalidGrant("authorization code was issued to another client")
        }
        guard redirectURI == record.redirectURI else {
            throw OAuthError.invalidGrant("redirect_uri does not match the authorization request")
        }
        if let challenge = record.codeChallenge {
            guard let verifier else { throw OAuthError.invalidGrant("missing code_verifier") }
            guard PKCE.verify(verifier: verifier, challenge: challenge) else {
                throw OAuthError.invalidGrant("PKCE verification failed")
            }
        } else if verifier != nil {
            throw OAuthError.invalidGrant("code_verifier sent but the authorization request had no code_challenge")
        }
        let resource = try await provider.requestedResource(params, allowed: record.context.resources)
        return try await provider.exchangeForTokens(spending: .authorizationCode(id: id), context: record.context,
                                                    scopes: record.context.scopes, resource: resource,
                                                    includeNonce: true)
    }
}
