import Foundation

/// The seam where sign-in happens outside the engine: the host shows pages, then reports the result
/// here and resumes the authorization request.
extension OIDCProvider {
    /// The pending interaction named by the cookie value, if it exists and has not expired.
    public func interaction(token: String?) async throws -> Interaction? {
        guard let token, !token.isEmpty else { return nil }
        guard let interaction = try await storage.interaction(id: SecretDigest.sha256Hex(token)) else { return nil }
        return interaction.expiresAt > now() ? interaction : nil
    }

    /// The user proved who they are: start an IdP session and attach it to the interaction.
    /// Returns the new session's cookie value. A previous session of this browser is ended.
    public func completeLogin(interactionToken: String, accountID: String, previousSessionToken: String?,
                              amr: [String] = []) async throws -> String
    {
        guard var interaction = try await interaction(token: interactionToken) else {
            throw OAuthError.sessionExpired
        }
        let now = now()
        let token = SecureRandom.token()
        let session = Session(id: SecretDigest.sha256Hex(token), accountID: accountID, authTime: now, createdAt: now,
                              expiresAt: now.addingTimeInterval(TimeInterval(configuration.sessionTTL)), amr: amr)
        interaction.accountID = accountID
        interaction.amr = amr
        interaction.authTime = now
        interaction.sessionID = session.id
        interaction.requiresLogin = false
        try await storage.startSession(session, replacing: previousSessionToken.flatMap(Self.sessionID),
                                       interaction: interaction)
        return token
    }

    /// Starts an IdP session without an authorization request (a person signing in at `/sign-in` directly).
    /// `amr`: how the user signed in (RFC 8176), kept for the ID tokens issued from this session.
    public func startSession(accountID: String, previousSessionToken: String?, amr: [String] = []) async throws
        -> String
    {
        let now = now()
        let token = SecureRandom.token()
        try await storage.startSession(Session(
            id: SecretDigest.sha256Hex(token), accountID: accountID, authTime: now, createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(configuration.sessionTTL)), amr: amr),
            replacing: previousSessionToken.flatMap(Self.sessionID), interaction: nil)
        return token
    }

    /// The stored id of a session cookie value (nil for an empty one).
    static func sessionID(_ token: String) -> String? {
        token.isEmpty ? nil : SecretDigest.sha256Hex(token)
    }

    /// What the consent page shows for the interaction, remembered with it so that accepting records exactly
    /// that (`completeConsent`). Throws `sessionExpired` when the interaction is gone or nobody signed in yet.
    public func prepareConsent(interactionToken: String) async throws -> ConsentDetails {
        guard var interaction = try await interaction(token: interactionToken), let accountID = interaction.accountID
        else { throw OAuthError.sessionExpired }
        let details = try await consentDetails(for: interaction.request, accountID: accountID)
        interaction.shownConsent = details.entries.sorted()
        try await storage.updateInteraction(interaction)
        return details
    }

    /// The user accepted the consent page: remember what it showed (`prepareConsent`) for this client; later
    /// tokens for a third-party app never carry an API permission outside it. Without a shown page, only the
    /// OIDC scopes are recorded. `organizationIDs`: the organizations the user picked for the app to see (with
    /// `urn:logto:scope:organizations` requested); those the user is not a member of are left out.
    public func completeConsent(interactionToken: String, organizationIDs: [String] = []) async throws {
        guard var interaction = try await interaction(token: interactionToken), let accountID = interaction.accountID
        else { throw OAuthError.sessionExpired }
        // What the page showed, of what the user may still hold now: a role given while the page was open is not
        // consented to by accepting it, and one taken away meanwhile is not recorded.
        let now = try await consentDetails(for: interaction.request, accountID: accountID).entries
        let shown = Set(interaction.shownConsent ?? interaction.request.scopes.filter {
            StandardScope.supported.contains($0)
        })
        let organizations = interaction.request.scopes.contains(OrganizationToken.organizationsScope)
            ? organizationIDs : []
        try await storage.saveConsent(accountID: accountID, clientID: interaction.request.clientID,
                                      scopes: now.intersection(shown), organizationIDs: organizations, now: self.now())
        interaction.isConsentGiven = true
        try await storage.updateInteraction(interaction)
    }

    /// The user cancelled: the client gets `access_denied`.
    public func abortInteraction(interactionToken: String) async throws -> String {
        guard let interaction = try await interaction(token: interactionToken) else { throw OAuthError.sessionExpired }
        if let deviceID = interaction.request.deviceAuthorizationID {
            let denied = try await storage.denyDeviceAuthorization(id: deviceID, consumingInteraction: interaction.id)
            return deviceResult(denied ? .denied : .expired)
        }
        try await storage.deleteInteraction(id: interaction.id)
        let target = RedirectTarget(redirectURI: interaction.request.redirectURI, state: interaction.request.state,
                                    issuer: issuer)
        return target.error(OAuthError(.accessDenied, "the user cancelled the sign-in"))
    }

    /// Picks the authorization request up again after a login or consent step.
    public func resume(interactionToken: String?, sessionToken: String?) async throws -> AuthorizationOutcome {
        guard let token = interactionToken, var interaction = try await interaction(token: token) else {
            return .errorPage(OAuthError.sessionExpired)
        }
        guard let client = try await storage.client(id: interaction.request.clientID) else {
            return .errorPage(OAuthError(.invalidClient, "the application no longer exists", status: 400))
        }
        // The browser's session must still be the one the interaction was completed with.
        let session = try await session(token: sessionToken)
        guard !interaction.requiresLogin, let accountID = interaction.accountID, let session,
              session.id == interaction.sessionID, session.accountID == accountID,
              try await accounts.account(id: accountID) != nil
        else {
            interaction.requiresLogin = true
            interaction.accountID = nil
            try await storage.updateInteraction(interaction)
            return .interaction(InteractionTicket(token: token, interaction: interaction, step: .login))
        }
        // Someone else signed in than the `sub` the claims parameter names: no positive answer (Core §5.5.1).
        if let subjects = interaction.request.claims?.requiredSubjects, !subjects.contains(accountID) {
            try await storage.deleteInteraction(id: interaction.id)
            let target = RedirectTarget(redirectURI: interaction.request.redirectURI, state: interaction.request.state,
                                        issuer: issuer)
            return .redirect(target.error(OAuthError(.accessDenied,
                                                     "the user who signed in is not the sub the claims parameter names")))
        }
        if !interaction.isConsentGiven,
           try await needsConsent(interaction.request, client: client, accountID: accountID)
        {
            return .interaction(InteractionTicket(token: token, interaction: interaction, step: .consent))
        }
        // The interaction is spent with the code, in one transaction: of two resumes racing, one gets a code.
        guard let redirect = try await issueCode(interaction.request, accountID: accountID, session: session,
                                                 consumingInteraction: interaction.id)
        else { return .errorPage(OAuthError.sessionExpired) }
        return .redirect(redirect)
    }
}

extension OAuthError {
    /// The interaction cookie is missing or the sign-in took too long.
    public static let sessionExpired = OAuthError(
        .sessionNotFound, "this sign-in has expired or was already completed; go back to the application and start again")
}
