import Foundation

/// The token endpoint (RFC 6749 §3.2): authenticate the client, then hand the request to the grant
/// handler registered for its `grant_type`.
extension OIDCProvider {
    public func token(_ params: RequestParameters, authorization: String?) async throws -> OAuthResponse {
        let client = try await authenticateClient(params, authorization: authorization)
        guard let grantTypeName = try params.single("grant_type") else {
            throw OAuthError.invalidRequest("missing required parameter 'grant_type'")
        }
        guard let grantType = GrantType(rawValue: grantTypeName) else {
            throw OAuthError(.unsupportedGrantType, "unsupported grant_type '\(grantTypeName)'")
        }
        guard client.allows(grantType) else {
            throw OAuthError(.unauthorizedClient, "this application may not use the \(grantType.rawValue) grant")
        }
        let handler: any GrantHandler = switch grantType {
        case .authorizationCode: AuthorizationCodeGrant()
        case .refreshToken: RefreshTokenGrant()
        case .clientCredentials: ClientCredentialsGrant()
        case .deviceCode: DeviceCodeGrant()
        }
        return try await handler.handle(params, client: client, provider: self)
    }
}

/// A grant type plug-in: the parameters it reads and what it answers.
protocol GrantHandler: Sendable {
    func handle(_ params: RequestParameters, client: Client, provider: OIDCProvider) async throws -> OAuthResponse
}
