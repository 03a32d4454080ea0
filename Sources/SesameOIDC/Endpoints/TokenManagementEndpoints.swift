import Foundation

/// Introspection (RFC 7662) and revocation (RFC 7009); both authenticate the client.
extension OIDCProvider {
    public func introspect(_ params: RequestParameters, authorization: String?) async throws -> OAuthResponse {
        let client = try await authenticateClient(params, authorization: authorization, endpoint: "/token/introspection")
        let token = try params.required("token")
        _ = try params.single("token_type_hint")
        let inactive = OAuthResponse.noStore(["active": false])
        let id = SecretDigest.sha256Hex(token)
        let now = now()
        if let record = try await storage.accessToken(id: id) {
            guard record.expiresAt > now, record.clientID == client.id else { return inactive }
            var body: [String: JSONValue] = [
                "active": true, "client_id": .string(record.clientID), "token_type": "Bearer",
                "scope": .string(ScopeList.format(record.scopes)), "iss": .string(issuer),
                "iat": .int(record.createdAt.epochSeconds), "exp": .int(record.expiresAt.epochSeconds),
            ]
            if let accountID = record.accountID { body["sub"] = .string(accountID) }
            return .noStore(.object(body))
        }
        if let record = try await storage.refreshToken(id: id) {
            guard record.expiresAt > now, record.consumedAt == nil, record.context.clientID == client.id else {
                return inactive
            }
            return .noStore(.object([
                "active": true, "client_id": .string(record.context.clientID), "token_type": "refresh_token",
                "scope": .string(ScopeList.format(record.context.scopes)), "sub": .string(record.context.accountID),
                "iss": .string(issuer), "iat": .int(record.createdAt.epochSeconds),
                "exp": .int(record.expiresAt.epochSeconds),
            ]))
        }
        if let verified = try? JWT.verify(token, keys: try await keys.snapshot().published),
           verified.claims["iss"]?.stringValue == issuer,
           let exp = verified.claims["exp"]?.intValue, exp > now.epochSeconds
        {
            var body = verified.claims.objectValue ?? [:]
            body["active"] = true
            body["token_type"] = "Bearer"
            return .noStore(.object(body))
        }
        return inactive
    }

    public func revoke(_ params: RequestParameters, authorization: String?) async throws -> OAuthResponse {
        let client = try await authenticateClient(params, authorization: authorization, endpoint: "/token/revocation")
        let token = try params.required("token")
        // A hint is only a hint: one Sesame does not know is ignored and every kind searched (RFC 7009 §2.2).
        _ = try params.single("token_type_hint")
        let id = SecretDigest.sha256Hex(token)
        if let record = try await storage.accessToken(id: id), record.clientID == client.id {
            try await storage.deleteAccessToken(id: id)
        } else if let record = try await storage.refreshToken(id: id), record.context.clientID == client.id {
            // Revoking a refresh token ends the grant and every token issued under it (RFC 7009 §2.1).
            try await storage.revokeGrant(id: record.context.grantID)
        }
        // Unknown or foreign tokens get the same answer (RFC 7009 §2.2).
        return OAuthResponse(body: nil, headers: [("Cache-Control", "no-store")])
    }
}
