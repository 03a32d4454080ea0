import Foundation

/// What the host does after `/oidc/auth`.
public enum AuthorizationOutcome: Sendable {
    /// Send the browser back to the client: a code, or an error per RFC 6749 §4.1.2.1.
    case redirect(String)
    /// The client or redirect URI cannot be trusted: show the person a page, never redirect.
    case errorPage(OAuthError)
    /// The user must sign in or consent; the host shows its pages and resumes afterwards.
    case interaction(InteractionTicket)
}

public struct InteractionTicket: Sendable {
    public enum Step: String, Sendable { case login, consent }
    /// The cookie value naming the interaction (the store keeps only its digest).
    public let token: String
    public let interaction: Interaction
    public let step: Step
}

/// Where a redirect-able error goes once client and redirect URI are known.
struct RedirectTarget: Sendable {
    let redirectURI: String
    let state: String?
    let issuer: String

    func url(_ parameters: [(String, String)]) -> String {
        var pairs = parameters
        if let state { pairs.append(("state", state)) }
        pairs.append(("iss", issuer))
        let separator = redirectURI.contains("?") ? "&" : "?"
        return redirectURI + separator + RequestParameters.encode(pairs)
    }

    func error(_ error: OAuthError) -> String {
        url([("error", error.code.rawValue), ("error_description", error.description)])
    }
}

/// The authorization endpoint (OIDC Core §3.1.2), as ordered steps.
extension OIDCProvider {
    public func authorize(_ params: RequestParameters, sessionToken: String?) async throws -> AuthorizationOutcome {
        // 1. The client and its redirect URI: until both check out, errors go to a page.
        let client: Client
        let redirectURI: String
        do {
            client = try await checkClient(params)
            redirectURI = try checkRedirectURI(params, client: client)
        } catch let error as OAuthError {
            return .errorPage(error)
        }
        let target = RedirectTarget(redirectURI: redirectURI, state: params["state"], issuer: issuer)
        do {
            let request = try await checkRequest(params, client: client, redirectURI: redirectURI)
            return try await decide(request, client: client, session: session(token: sessionToken))
        } catch let error as OAuthError {
            return .redirect(target.error(error))
        }
    }

    private func checkClient(_ params: RequestParameters) async throws -> Client {
        let clientID = try params.required("client_id")
        guard let client = try await storage.client(id: clientID) else {
            throw OAuthError(.invalidClient, "the client '\(clientID)' is not registered", status: 400)
        }
        return client
    }

    /// Exact string match against the registered list (OIDC Core §3.1.2.1; no wildcards, no normalising),
    /// loopback ports of native apps aside (RFC 8252 §7.3, `Client.isRegistered(redirectURI:)`).
    private func checkRedirectURI(_ params: RequestParameters, client: Client) throws -> String {
        guard let redirectURI = try params.single("redirect_uri") else {
            throw OAuthError.invalidRequest("missing required parameter 'redirect_uri'")
        }
        guard client.isRegistered(redirectURI: redirectURI) else {
            throw OAuthError(.invalidRedirectURI, "the redirect_uri is not registered for this application")
        }
        return redirectURI
    }

    private func checkRequest(_ params: RequestParameters, client: Client, redirectURI: String) async throws
        -> AuthorizationRequest
    {
        for name in ["state", "nonce", "scope", "prompt", "max_age", "login_hint", "ui_locales", "code_challenge",
                     "code_challenge_method", "response_mode", "id_token_hint", "acr_values", "claims"]
        {
            _ = try params.single(name)
        }
        if params["request"] != nil { throw OAuthError(.requestNotSupported, "request objects are not supported") }
        if params["request_uri"] != nil {
            throw OAuthError(.requestURINotSupported, "request_uri is not supported")
        }
        if params["registration"] != nil {
            throw OAuthError(.registrationNotSupported, "the registration parameter is not supported")
        }
        guard let responseType = try params.single("response_type") else {
            throw OAuthError.invalidRequest("missing required parameter 'response_type'")
        }
        guard responseType == "code" else {
            throw OAuthError(.unsupportedResponseType, "only response_type=code is supported")
        }
        if let mode = try params.single("response_mode"), mode != "query" {
            throw OAuthError.invalidRequest("only response_mode=query is supported")
        }
        guard client.allows(.authorizationCode) else {
            throw OAuthError(.unauthorizedClient, "this application may not use the authorization code flow")
        }
        let requested = ScopeList.parse(try params.single("scope"))
        guard requested.contains(StandardScope.openid) else {
            throw OAuthError(.invalidScope, "the openid scope is required")
        }
        let challenge = try checkPKCE(params, client: client)
        let prompts = try checkPrompt(params)
        var maxAge: Int?
        if let value = try params.single("max_age") {
            guard let seconds = Int(value), seconds >= 0 else {
                throw OAuthError.invalidRequest("max_age must be a non-negative integer")
            }
            maxAge = seconds
        }
        let resources = try await checkResources(params.all("resource"))
        if resources.contains(where: { $0.indicator == configuration.managementResource }) {
            throw OAuthError(.invalidTarget, "the Management API is only for machine-to-machine applications")
        }
        var request = AuthorizationRequest(
            clientID: client.id, redirectURI: redirectURI,
            scopes: try await grantableScopes(requested, client: client, resources: resources),
            state: try params.single("state"), nonce: try params.single("nonce"), codeChallenge: challenge,
            prompts: prompts, maxAge: maxAge, loginHint: try params.single("login_hint"),
            uiLocales: try params.single("ui_locales"), resources: resources.map(\.indicator))
        request.organizationID = try requestedOrganization(params)
        if let values = try params.single("acr_values") {
            let list = ScopeList.parse(values)
            guard !list.isEmpty, list.count <= 10, values.utf8.count <= 512 else {
                throw OAuthError.invalidRequest("acr_values must name one to ten classes")
            }
            request.acrValues = list
        }
        if let text = try params.single("claims") {
            let claims = try ClaimsRequest.parse(text)
            request.claims = claims
            let offered = ["urn:sesame:acr:sfa", "urn:sesame:acr:mfa"]
            // An essential acr no offered class meets is a failed authentication (OpenID Connect Core §5.5.1.1).
            if claims.acrIsEssential, !claims.acrValues.contains(where: offered.contains) {
                throw OAuthError(.accessDenied, "the essential acr cannot be met: Sesame offers " + offered.joined(separator: " and "))
            }
            if !claims.acrValues.isEmpty {
                var merged = request.acrValues ?? []
                for value in claims.acrValues.prefix(10) where !merged.contains(value) { merged.append(value) }
                request.acrValues = merged
            }
        }
        return request
    }

    /// S256 required for public clients and checked whenever sent; `plain` refused (RFC 7636, RFC 9700 §2.1.1).
    private func checkPKCE(_ params: RequestParameters, client: Client) throws -> String? {
        let challenge = try params.single("code_challenge")
        let method = try params.single("code_challenge_method")
        guard let challenge else {
            if method != nil { throw OAuthError.invalidRequest("code_challenge_method given without code_challenge") }
            if !client.type.isConfidential {
                throw OAuthError.invalidRequest("PKCE is required for this application: send code_challenge")
            }
            return nil
        }
        guard method == "S256" else {
            throw OAuthError.invalidRequest("code_challenge_method must be S256 (plain is not allowed)")
        }
        guard challenge.utf8.count == 43, Base64URL.decode(challenge)?.count == 32 else {
            throw OAuthError.invalidRequest("code_challenge must be the base64url SHA-256 of the code verifier")
        }
        return challenge
    }

    private func checkPrompt(_ params: RequestParameters) throws -> Set<AuthorizationRequest.Prompt> {
        var prompts = Set<AuthorizationRequest.Prompt>()
        for value in ScopeList.parse(try params.single("prompt")) {
            guard let prompt = AuthorizationRequest.Prompt(rawValue: value) else {
                throw OAuthError.invalidRequest("unsupported prompt value '\(value)'")
            }
            prompts.insert(prompt)
        }
        if prompts.contains(.none), prompts.count > 1 {
            throw OAuthError.invalidRequest("prompt=none must not be combined with other values")
        }
        return prompts
    }

    /// Resource indicators (RFC 8707 §2): absolute URIs without a fragment, registered as API resources.
    func checkResources(_ values: [String]) async throws -> [APIResource] {
        var resources: [APIResource] = []
        for value in values where value != OrganizationToken.reservedResource {
            guard let url = URL(string: value), url.scheme != nil, url.fragment == nil else {
                throw OAuthError(.invalidTarget, "resource must be an absolute URI without a fragment")
            }
            guard let resource = try await storage.resource(indicator: value) else {
                throw OAuthError(.invalidTarget, "the resource '\(value)' is not registered")
            }
            if !resources.contains(where: { $0.id == resource.id }) { resources.append(resource) }
        }
        return resources
    }

    /// The requested scopes Sesame can grant: OIDC scopes it knows, `offline_access` for clients that may
    /// refresh, and scopes the requested resources define. Unknown scopes are ignored (OIDC Core §3.1.2.1).
    func grantableScopes(_ requested: [String], client: Client, resources: [APIResource]) async throws
        -> [String]
    {
        let resourceScopes = Set(resources.flatMap { $0.scopes.map(\.name) })
        // With the organizations scope, organization scope names are asked for too; they are kept as asked and
        // bounded at the token endpoint by the member's roles in the organization.
        let keepsOthers = requested.contains(OrganizationToken.organizationsScope)
        return requested.filter { scope in
            if scope == StandardScope.offlineAccess { return client.allows(.refreshToken) }
            return StandardScope.supported.contains(scope) || resourceScopes.contains(scope) || keepsOthers
        }
    }

    /// Whether the user must sign in or consent, and with `prompt=none` the errors when they must.
    /// `expiresBy`: the latest the interaction may live (a device authorization's expiry).
    func decide(_ request: AuthorizationRequest, client: Client, session: Session?, expiresBy: Date? = nil)
        async throws -> AuthorizationOutcome
    {
        let now = now()
        var account: Account?
        if let session { account = try await accounts.account(id: session.accountID) }
        var needsLogin = account == nil || request.prompts.contains(.login) || request.prompts.contains(.selectAccount)
        if let maxAge = request.maxAge, let session, now.timeIntervalSince(session.authTime) > TimeInterval(maxAge) {
            needsLogin = true
        }
        // A `sub` the claims parameter names that is not the session's user: that user must sign in (Core §5.5.1).
        if let subjects = request.claims?.requiredSubjects, let account, !subjects.contains(account.id) {
            needsLogin = true
        }
        // A client demanding a multi-factor sign-in from a session that had one factor: sign in again, with two.
        if request.demandsMFA, let session, !session.amr.contains("mfa") { needsLogin = true }
        if request.prompts.contains(.none) {
            if needsLogin { throw OAuthError(.loginRequired, "the user is not signed in") }
            if let account, try await needsConsent(request, client: client, accountID: account.id) {
                throw OAuthError(.consentRequired, "the user has not consented to this application")
            }
        }
        if !needsLogin, let account, let session,
           try await !needsConsent(request, client: client, accountID: account.id)
        {
            // No interaction to spend: the code is always stored.
            return .redirect(try await issueCode(request, accountID: account.id, session: session,
                                                 consumingInteraction: nil) ?? "")
        }
        let token = SecureRandom.token()
        let interaction = Interaction(
            id: SecretDigest.sha256Hex(token), request: request, createdAt: now,
            expiresAt: min(now.addingTimeInterval(TimeInterval(configuration.interactionTTL)), expiresBy ?? .distantFuture),
            requiresLogin: needsLogin,
            accountID: needsLogin ? nil : account?.id, authTime: needsLogin ? nil : session?.authTime,
            sessionID: needsLogin ? nil : session?.id)
        try await storage.insertInteraction(interaction)
        return .interaction(InteractionTicket(token: token, interaction: interaction,
                                              step: needsLogin ? .login : .consent))
    }

    func needsConsent(_ request: AuthorizationRequest, client: Client, accountID: String) async throws -> Bool {
        guard client.isThirdParty else { return false }
        if request.prompts.contains(.consent) { return true }
        let consented = try await storage.consentedScopes(accountID: accountID, clientID: client.id)
        return try await !consentDetails(for: request, accountID: accountID).entries.isSubset(of: consented)
    }

    /// Records the grant and a single-use code, and returns the redirect that carries it; nil when
    /// `interactionID` names an interaction that was spent already (another resume of it won).
    /// `session`: the IdP session the user signed in with; its `auth_time` and `amr` go into the ID tokens, and
    /// with `acr_values` sent, the `acr` the sign-in achieved (OpenID Connect Core §2).
    func issueCode(_ request: AuthorizationRequest, accountID: String, session: Session,
                   consumingInteraction interactionID: String?) async throws -> String?
    {
        let now = now()
        let grant = Grant(id: SecureRandom.identifier(), clientID: request.clientID, accountID: accountID,
                          scopes: request.scopes, createdAt: now)
        let code = SecureRandom.token()
        let asksForACR = request.acrValues != nil || request.claims?.asksForACR == true
        var context = IssuanceContext(grantID: grant.id, clientID: request.clientID, accountID: accountID,
                                      scopes: request.scopes, resources: request.resources, authTime: session.authTime,
                                      nonce: request.nonce, sessionID: session.id, amr: session.amr,
                                      acr: !asksForACR ? nil
                                          : session.amr.contains("mfa") ? "urn:sesame:acr:mfa" : "urn:sesame:acr:sfa")
        context.claims = request.claims
        if let deviceID = request.deviceAuthorizationID {
            // A device's sign-in ends with the device approved, not a code: the device polls for its tokens.
            let approved = try await storage.approveDeviceAuthorization(id: deviceID, grant: grant, context: context,
                                                                        consumingInteraction: interactionID, now: now)
            return deviceResult(approved ? .approved : .expired)
        }
        let stored = try await storage.insertGrant(grant, code: AuthorizationCode(
            id: SecretDigest.sha256Hex(code), context: context, redirectURI: request.redirectURI,
            codeChallenge: request.codeChallenge,
            expiresAt: now.addingTimeInterval(TimeInterval(configuration.authorizationCodeTTL))),
            consumingInteraction: interactionID)
        guard stored else { return nil }
        let target = RedirectTarget(redirectURI: request.redirectURI, state: request.state, issuer: issuer)
        return target.url([("code", code)])
    }
}
