import Foundation

/// RP-Initiated Logout 1.0: `/oidc/session/end`.
extension OIDCProvider {
    /// A checked logout request, kept in the confirmation form.
    public struct LogoutRequest: Sendable, Equatable {
        public var clientID: String?
        public var clientName: String?
        public var postLogoutRedirectURI: String?
        public var state: String?
    }

    public enum EndSessionOutcome: Sendable {
        /// Ask the person to confirm (no valid `id_token_hint`, and a session to end).
        case confirm(LogoutRequest)
        /// Signed out: go to the client's post-logout URI, or show a "signed out" page when nil.
        case signedOut(redirect: String?)
    }

    public func endSession(_ params: RequestParameters, sessionToken: String?) async throws -> EndSessionOutcome {
        let request = try await checkLogoutRequest(params)
        let hasValidHint = try params.single("id_token_hint") != nil
        let session = try await session(token: sessionToken)
        if hasValidHint || session == nil {
            return .signedOut(redirect: try await finishLogout(request, sessionToken: sessionToken))
        }
        return .confirm(request)
    }

    /// Validates `id_token_hint`, `client_id` and `post_logout_redirect_uri` (exact match).
    public func checkLogoutRequest(_ params: RequestParameters) async throws -> LogoutRequest {
        var clientID = try params.single("client_id")
        if let hint = try params.single("id_token_hint") {
            let verified: JWT.Verified
            do {
                verified = try JWT.verify(hint, keys: try await keys.snapshot().published)
            } catch {
                throw OAuthError.invalidRequest("id_token_hint could not be validated")
            }
            guard verified.claims["iss"]?.stringValue == issuer, let audience = verified.claims["aud"]?.stringValue
            else { throw OAuthError.invalidRequest("id_token_hint was not issued by this provider") }
            if let clientID, clientID != audience {
                throw OAuthError.invalidRequest("client_id does not match the id_token_hint audience")
            }
            clientID = audience
        }
        var client: Client?
        if let clientID {
            client = try await storage.client(id: clientID)
            if client == nil { throw OAuthError(.invalidClient, "the client '\(clientID)' is not registered") }
        }
        let redirect = try params.single("post_logout_redirect_uri")
        if let redirect {
            guard let client else {
                throw OAuthError.invalidRequest("post_logout_redirect_uri needs id_token_hint or client_id")
            }
            guard client.postLogoutRedirectURIs.contains(redirect) else {
                throw OAuthError.invalidRequest("post_logout_redirect_uri is not registered for this application")
            }
        }
        return LogoutRequest(clientID: client?.id, clientName: client?.name, postLogoutRedirectURI: redirect,
                             state: try params.single("state"))
    }

    /// Ends the browser's session and returns where to send it.
    public func finishLogout(_ request: LogoutRequest, sessionToken: String?) async throws -> String? {
        if let sessionToken, !sessionToken.isEmpty {
            try await storage.deleteSession(id: SecretDigest.sha256Hex(sessionToken))
        }
        guard let redirect = request.postLogoutRedirectURI else { return nil }
        guard let state = request.state else { return redirect }
        return redirect + (redirect.contains("?") ? "&" : "?") + RequestParameters.encode([("state", state)])
    }
}
