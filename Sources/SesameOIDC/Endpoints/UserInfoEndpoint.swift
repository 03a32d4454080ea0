import Foundation

/// The userinfo endpoint (OIDC Core §5.3): the bearer token in the header (GET or POST) or in a form
/// body (POST, RFC 6750 §2.2), never both.
extension OIDCProvider {
    public func userInfo(authorization: String?, form: RequestParameters?) async throws -> OAuthResponse {
        let headerToken = try Self.bearerToken(authorization)
        let bodyToken = try form?.single("access_token")
        if headerToken != nil, bodyToken != nil {
            throw OAuthError.invalidRequest("the access token must be sent in only one place")
        }
        guard let token = headerToken ?? bodyToken else {
            throw OAuthError(.invalidToken, "no access token was provided", status: 401,
                             wwwAuthenticate: "Bearer realm=\"oidc\"")
        }
        guard let record = try await storage.accessToken(id: SecretDigest.sha256Hex(token)),
              record.expiresAt > now(), let accountID = record.accountID
        else { throw OAuthError.invalidToken("the access token is invalid or expired") }
        guard record.scopes.contains(StandardScope.openid) else {
            throw OAuthError(.insufficientScope, "the access token lacks the openid scope", status: 403,
                             wwwAuthenticate: "Bearer realm=\"oidc\", error=\"insufficient_scope\", scope=\"openid\"")
        }
        let releasing = record.scopes + ClaimsRequest.scopes(releasing: record.claims).filter { !record.scopes.contains($0) }
        guard let found = try await accounts.account(id: accountID, releasing: releasing) else {
            throw OAuthError.invalidToken("the user no longer exists")
        }
        guard let client = try await storage.client(id: record.clientID) else {
            throw OAuthError.invalidToken("the application no longer exists")
        }
        let account = try await visible(found, to: client)
        var claims = StandardScope.claims(of: account, scopes: record.scopes)
        claims.merge(Self.requestedClaims(record.claims, of: account, scopes: record.scopes, client: client)) { $1 }
        claims["sub"] = .string(account.id)
        return OAuthResponse(body: .object(claims), headers: [("Cache-Control", "no-store")])
    }

    /// `Authorization: Bearer <token>` (RFC 6750 §2.1); nil when the header is absent.
    static func bearerToken(_ header: String?) throws -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw OAuthError(.invalidRequest, "the Authorization header must use the Bearer scheme", status: 400,
                             wwwAuthenticate: "Bearer realm=\"oidc\", error=\"invalid_request\"")
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { throw OAuthError.invalidToken("empty bearer token") }
        return token
    }
}
