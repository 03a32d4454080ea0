import Foundation

/// Authenticates the client at the token, introspection and revocation endpoints: `client_secret_basic`,
/// `client_secret_post`, `client_secret_jwt` and `private_key_jwt` (OpenID Connect Core §9, RFC 7523 §2.2), or
/// `none` for public clients (RFC 6749 §2.3). A client registered with one method (`Client.tokenEndpointAuthMethod`)
/// is refused with any other.
extension OIDCProvider {
    /// `endpoint`: the path of the endpoint asking (`/token`, `/token/introspection`, `/token/revocation`); a client
    /// assertion may name its URL as the audience. Throws `OAuthError` `invalid_request` for a request that mixes
    /// methods or is malformed, `invalid_client` (401) when authentication fails.
    public func authenticateClient(_ params: RequestParameters, authorization: String?, endpoint: String = "/token")
        async throws -> Client
    {
        let basic = try Self.basicCredentials(authorization)
        let postedID = try params.single("client_id")
        let postedSecret = try params.single("client_secret")
        let assertionType = try params.single("client_assertion_type")
        let assertion = try params.single("client_assertion")
        let methodsUsed = [basic != nil, postedSecret != nil, assertionType != nil || assertion != nil].filter { $0 }
        if methodsUsed.count > 1 {
            throw OAuthError.invalidRequest("client authentication must only use one method")
        }
        if assertionType != nil || assertion != nil {
            guard let assertionType, let assertion else {
                throw OAuthError.invalidRequest("client_assertion and client_assertion_type go together")
            }
            guard assertionType == ClientAssertion.type else {
                throw OAuthError.invalidClient("client_assertion_type must be \(ClientAssertion.type)")
            }
            return try await assertedClient(assertion, postedID: postedID, endpoint: endpoint)
        }
        if let basic {
            if let postedID, postedID != basic.id {
                throw OAuthError.invalidRequest("client_id in the body differs from the authenticated client")
            }
            return try await confidentialClient(id: basic.id, secret: basic.secret, method: .clientSecretBasic)
        }
        guard let clientID = postedID else {
            throw OAuthError.invalidClient("no client authentication was provided")
        }
        if let postedSecret {
            return try await confidentialClient(id: clientID, secret: postedSecret, method: .clientSecretPost)
        }
        guard let client = try await storage.client(id: clientID) else {
            throw OAuthError.clientAuthenticationFailed(reason: "unknown client")
        }
        guard client.authenticationMethods.contains(.none) else {
            throw OAuthError.clientAuthenticationFailed(
                reason: "client \(client.id) sent no credentials; it authenticates with \(client.effectiveAuthenticationMethod.rawValue)")
        }
        return client
    }

    private func confidentialClient(id: String, secret: String, method: ClientAuthenticationMethod) async throws
        -> Client
    {
        guard let client = try await storage.client(id: id) else {
            // Same answer and similar work for an unknown client and a wrong secret.
            _ = SecretDigest.constantTimeEquals(SecretDigest.sha256Hex(secret), String(repeating: "0", count: 64))
            throw OAuthError.invalidClient("client authentication failed")
        }
        guard client.type.isConfidential, client.verifySecret(secret, at: now()) else {
            throw OAuthError.invalidClient("client authentication failed")
        }
        // Checked after the secret, so the answer tells nothing about a client to someone without its secret.
        guard client.authenticationMethods.contains(method) else {
            throw OAuthError.invalidClient("this client must authenticate with \(client.effectiveAuthenticationMethod.rawValue)")
        }
        return client
    }

    /// `client_secret_jwt` and `private_key_jwt` (RFC 7523 §3, OpenID Connect Core §9): `iss` and `sub` are the
    /// client id, `aud` names the issuer or the endpoint's URL, `exp` is at most `ClientAssertion.maximumLifetime`
    /// seconds away, `jti` is remembered until `exp` so the assertion works once, and the signature checks with the
    /// client's secret (HS256/384/512) or one of its registered public keys.
    private func assertedClient(_ token: String, postedID: String?, endpoint: String) async throws -> Client {
        let assertion = try ClientAssertion(parsing: token)
        if let postedID, postedID != assertion.clientID {
            throw OAuthError.invalidRequest("client_id differs from the client assertion's subject")
        }
        // What does not depend on the client is checked first and told in detail; from here on, every failure gets the
        // same answer as an unknown client, so nobody learns whether a client exists or how it authenticates.
        let now = now()
        let audiences = [issuer, configuration.endpoint("/token"), configuration.endpoint(endpoint)]
        let expiresAt = try assertion.validateClaims(audiences: audiences, now: now)
        guard !assertion.clientID.utf8.contains(where: RequestParameters.isRefusedControl),
              let client = try await storage.client(id: assertion.clientID), client.type.isConfidential
        else { throw OAuthError.clientAuthenticationFailed(reason: "unknown or public client in a client assertion") }
        let method: ClientAuthenticationMethod = assertion.isMAC ? .clientSecretJWT : .privateKeyJWT
        guard client.authenticationMethods.contains(method) else {
            throw OAuthError.clientAuthenticationFailed(reason: "client \(client.id) is not registered for \(method.rawValue)")
        }
        if let required = client.tokenEndpointAuthSigningAlg, required != assertion.algorithm {
            throw OAuthError.clientAuthenticationFailed(
                reason: "client \(client.id) signs its assertions with \(required), not \(assertion.algorithm)")
        }
        switch method {
        case .clientSecretJWT:
            let secrets = try await storage.recoverableSecrets(clientID: client.id).filter {
                client.verifySecret($0, at: now)
            }
            guard !secrets.isEmpty else {
                throw OAuthError.clientAuthenticationFailed(
                    reason: "client \(client.id) has no secret kept for client_secret_jwt: make one after choosing the method")
            }
            guard assertion.hasValidMAC(anyOf: secrets) else {
                throw OAuthError.clientAuthenticationFailed(reason: "client \(client.id): the assertion's MAC does not check")
            }
        default:
            let keys: [VerificationKey]
            do {
                keys = try await publicKeys(of: client, kid: assertion.kid, now: now)
            } catch let error as KeySetError {
                throw OAuthError.clientAuthenticationFailed(reason: "client \(client.id): \(error.description)")
            }
            guard assertion.hasValidSignature(from: keys) else {
                throw OAuthError.clientAuthenticationFailed(
                    reason: "client \(client.id): the assertion's signature does not check with its registered keys")
            }
        }
        guard try await storage.useClientAssertion(clientID: client.id, jti: assertion.jti,
                                                   expiresAt: expiresAt.addingTimeInterval(ClientAssertion.clockSkew))
        else { throw OAuthError.invalidClient("this client assertion was used before (jti)") }
        return client
    }

    private func publicKeys(of client: Client, kid: String?, now: Date) async throws -> [VerificationKey] {
        if let jwks = client.jwks { return try ClientKeySets.publicKeys(in: jwks) }
        if let uri = client.jwksURI { return try await clientKeySets.keys(at: uri, missingKid: kid, now: now) }
        throw KeySetError.unreachable
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
