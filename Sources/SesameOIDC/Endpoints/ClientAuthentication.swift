import Foundation

/// Authenticates the client at the token, introspection and revocation endpoints:
/// `client_secret_basic`, `client_secret_post`, or `none` for public clients (RFC 6749 §2.3).
extension OIDCProvider {
    public func authenticateClient(_ params: RequestParameters, authorization: String?) async throws -> Client {
        let basic = try Self.basicCredentials(authorization)
        let postedID = try params.single("client_id")
        let postedSecret = try params.single("client_secret")
        if basic != nil, postedSecret != nil {
            throw OAuthError.invalidRequest("client authentication must only use one method")
        }
        if let basic {
            if let postedID, postedID != basic.id {
                throw OAuthError.invalidRequest("client_id in the body differs from the authenticated client")
            }
            return try await confidentialClient(id: basic.id, secret: basic.secret)
        }
        guard let clientID = postedID else {
            throw OAuthError.invalidClient("no client authentication was provided")
        }
        if let postedSecret {
            return try await confidentialClient(id: clientID, secret: postedSecret)
        }
        guard let client = try await storage.client(id: clientID) else {
            throw OAuthError.invalidClient("client authentication failed")
        }
        guard !client.type.isConfidential else {
            throw OAuthError.invalidClient("this client must authenticate with its secret")
        }
        return client
    }

    private func confidentialClient(id: String, secret: String) async throws -> Client {
        guard let client = try await storage.client(id: id) else {
            // Same answer and similar work for an unknown client and a wrong secret.
            _ = SecretDigest.constantTimeEquals(SecretDigest.sha256Hex(secret), String(repeating: "0", count: 64))
            throw OAuthError.invalidClient("client authentication failed")
        }
        guard client.type.isConfidential, client.verifySecret(secret, at: now()) else {
            throw OAuthError.invalidClient("client authentication failed")
        }
        return client
    }

    /// Parses `Authorization: Basic`, whose id and secret are form-urlencoded before base64 (RFC 6749 §2.3.1).
    static func basicCredentials(_ header: String?) throws(OAuthError) -> (id: String, secret: String)? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic" else { return nil }
        guard let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8),
              let colon = text.firstIndex(of: ":")
        else { throw OAuthError.invalidRequest("malformed Basic authorization header") }
        guard let id = RequestParameters.decode(text[..<colon]), let secret = RequestParameters.decode(text[text.index(after: colon)...]),
              !id.isEmpty
        else { throw OAuthError.invalidRequest("malformed client credentials in the Basic authorization header") }
        return (id, secret)
    }
}
