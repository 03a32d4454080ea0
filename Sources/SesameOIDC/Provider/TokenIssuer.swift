import Foundation

/// Mints access, ID and refresh tokens for the grant handlers.
extension OIDCProvider {
    /// An access token before it is stored: the token itself and, for an opaque one, the record to store
    /// (a JWT for an API resource, RFC 9068, is self-contained and stored nowhere).
    struct PreparedAccessToken {
        let token: String
        let expiresIn: Int
        let scopes: [String]
        let record: AccessTokenRecord?
    }

    /// An opaque token (stored as a digest, for userinfo) or, for an API resource, a JWT (RFC 9068) whose
    /// audience is the resource and whose scopes are the requested ones that resource defines and `permitted`
    /// holds (requested ∩ allowed, as Logto and node-oidc-provider decide it).
    func prepareAccessToken(clientID: String, accountID: String?, grantID: String?, scopes: [String],
                            resource: APIResource?, permitted: Set<String> = [], organizationID: String? = nil,
                            userinfoClaims: [String] = []) async throws -> PreparedAccessToken
    {
        let now = now()
        if let resource {
            let defined = Set(resource.scopes.map(\.name))
            return try await signAccessToken(clientID: clientID, accountID: accountID, audience: resource.indicator,
                                             scopes: scopes.filter { defined.contains($0) && permitted.contains($0) },
                                             ttl: resource.accessTokenTTL, organizationID: organizationID, now: now)
        }
        if let organizationID {
            // An organization token (Logto's): the organization's own permissions, for that organization.
            return try await signAccessToken(clientID: clientID, accountID: accountID,
                                             audience: OrganizationToken.audience(organizationID),
                                             scopes: scopes.filter { permitted.contains($0) },
                                             ttl: OrganizationToken.ttl, organizationID: nil, now: now)
        }
        let oidcScopes = scopes.filter { StandardScope.supported.contains($0) }
        let token = SecureRandom.token()
        let record = AccessTokenRecord(
            id: SecretDigest.sha256Hex(token), grantID: grantID, clientID: clientID, accountID: accountID,
            scopes: oidcScopes, createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(configuration.accessTokenTTL)), claims: userinfoClaims)
        return PreparedAccessToken(token: token, expiresIn: configuration.accessTokenTTL, scopes: oidcScopes,
                                   record: record)
    }

    /// A JWT access token (RFC 9068): `typ` `at+jwt`, `jti`, `client_id`, `scope` when any was granted, and the
    /// `organization_id` of an organization-level API token.
    private func signAccessToken(clientID: String, accountID: String?, audience: String, scopes: [String], ttl: Int,
                                 organizationID: String?, now: Date) async throws -> PreparedAccessToken
    {
        var claims: [String: JSONValue] = [
            "iss": .string(issuer), "sub": .string(accountID ?? clientID), "aud": .string(audience),
            "client_id": .string(clientID), "iat": .int(now.epochSeconds), "exp": .int(now.epochSeconds + Int64(ttl)),
            "jti": .string(SecureRandom.token(bytes: 16)),
        ]
        if !scopes.isEmpty { claims["scope"] = .string(ScopeList.format(scopes)) }
        if let organizationID { claims["organization_id"] = .string(organizationID) }
        let token = try JWT.sign(.object(claims), with: try await keys.snapshot().current, type: "at+jwt")
        return PreparedAccessToken(token: token, expiresIn: ttl, scopes: scopes, record: nil)
    }

    /// The ID token (OIDC Core §2): registered claims, `at_hash`, `nonce` only when the client sent one,
    /// the profile claims the scopes release and those the `claims` request asked for the ID token
    /// (`requestedClaims`); signed with the current key of the client's `id_token_signed_response_alg` (none: the
    /// default algorithm's).
    /// `enabledExtendedClaims`: the ID token config when the caller read it already (else it is read here, only
    /// when an extended claim is released).
    func issueIDToken(context: IssuanceContext, account: Account, accessToken: String, includeNonce: Bool,
                      client: Client?, enabledExtendedClaims: Set<String>? = nil) async throws -> String
    {
        let now = now()
        let key = try await keys.key(for: client?.idTokenSignedResponseAlg)
        var claims = StandardScope.claims(of: account, scopes: context.scopes)
        if let requested = context.claims?.idToken.keys {
            // Before the extended-claims filter: a claim asked for one by one obeys the ID token config too.
            claims.merge(Self.requestedClaims(requested, of: account, scopes: context.scopes, client: client)) { $1 }
        }
        let extended = StandardScope.extendedClaims.filter { claims[$0] != nil }
        if !extended.isEmpty {
            var enabled = enabledExtendedClaims
            if enabled == nil { enabled = try await accounts.enabledExtendedIDTokenClaims() }
            for name in extended where enabled?.contains(name) != true { claims[name] = nil }
        }
        claims["iss"] = .string(issuer)
        claims["sub"] = .string(account.id)
        claims["aud"] = .string(context.clientID)
        claims["iat"] = .int(now.epochSeconds)
        claims["exp"] = .int(now.epochSeconds + Int64(configuration.idTokenTTL))
        claims["auth_time"] = .int(context.authTime.epochSeconds)
        if let amr = context.amr, !amr.isEmpty { claims["amr"] = .array(amr.map { .string($0) }) }
        if let acr = context.acr { claims["acr"] = .string(acr) }
        claims["at_hash"] = .string(JWT.halfHash(accessToken, algorithm: key.algorithm))
        if includeNonce, let nonce = context.nonce { claims["nonce"] = .string(nonce) }
        return try JWT.sign(.object(claims), with: key)
    }

    /// The token response for a user's grant: spends the authorization code or refresh token and stores the
    /// new tokens in one transaction (a crash or a database error at any point leaves the old token working),
    /// then signs the ID token. A replay, detected here or by the store, revokes the whole grant, and nothing
    /// the grant issued works afterwards, including tokens of an exchange that raced the replay
    /// (RFC 6749 §4.1.2 and §10.4, RFC 9700 §4.14.2).
    func exchangeForTokens(spending spent: TokenExchange.Spent, context: IssuanceContext, scopes: [String],
                           resource: APIResource?, organizationID: String? = nil, includeNonce: Bool) async throws
        -> OAuthResponse
    {
        var (releasing, enabledExtendedClaims) = try await idTokenScopes(scopes)
        if let claims = context.claims {
            // The scopes of claims asked for one by one, so the account is read with them.
            releasing += ClaimsRequest.scopes(releasing: Array(claims.idToken.keys) + Array(claims.userinfo.keys))
                .filter { !releasing.contains($0) }
        }
        guard var account = try await accounts.account(id: context.accountID, releasing: releasing) else {
            try await storage.revokeGrant(id: context.grantID)
            throw OAuthError.invalidGrant("the user no longer exists")
        }
        let client = try await storage.client(id: context.clientID)
        account = try await visible(account, to: client)
        var scoped = context
        scoped.scopes = scopes
        // Recomputed on every exchange: a role removed since the last token is gone from this one, and one
        // added appears (for a third-party app, only within what the user consented to).
        var permitted = Set<String>()
        if let organizationID {
            permitted = try await organizationPermissions(.account(context.accountID), amr: context.amr ?? [],
                                                          organizationID: organizationID,
                                                          resource: resource, client: client)
            if let resource {
                permitted.formUnion(try await permittedScopes(.account(context.accountID), resource: resource,
                                                              client: client))
            }
        } else if let resource {
            permitted = try await permittedScopes(.account(context.accountID), resource: resource, client: client)
        }
        let access = try await prepareAccessToken(clientID: context.clientID, accountID: context.accountID,
                                                  grantID: context.grantID, scopes: scopes, resource: resource,
                                                  permitted: permitted, organizationID: organizationID,
                                                  userinfoClaims: context.claims.map { $0.userinfo.keys.sorted() } ?? [])
        var refreshToken: String?
        var refreshRecord: RefreshTokenRecord?
        if context.scopes.contains(StandardScope.offlineAccess), let client, client.allows(.refreshToken) {
            let now = now()
            let token = SecureRandom.token()
            refreshToken = token
            refreshRecord = RefreshTokenRecord(
                id: SecretDigest.sha256Hex(token), context: context, createdAt: now,
                expiresAt: now.addingTimeInterval(TimeInterval(configuration.refreshTokenTTL)))
        }
        let exchange = TokenExchange(spent: spent, grantID: context.grantID, accessToken: access.record,
                                     refreshToken: refreshRecord)
        switch try await storage.exchange(exchange, now: now()) {
        case .issued:
            break
        case .alreadySpent:
            try await storage.revokeGrant(id: context.grantID)
            throw OAuthError.invalidGrant(spent.replayDescription)
        case .grantRevoked:
            throw OAuthError.invalidGrant("the grant was revoked")
        }
        var body: [String: JSONValue] = [
            "access_token": .string(access.token), "token_type": "Bearer", "expires_in": .int(Int64(access.expiresIn)),
        ]
        // Exactly what the access token carries (RFC 6749 §5.1): never a scope it was not given.
        body["scope"] = .string(ScopeList.format(access.scopes))
        if scopes.contains(StandardScope.openid) {
            body["id_token"] = .string(try await issueIDToken(context: scoped, account: account,
                                                              accessToken: access.token, includeNonce: includeNonce,
                                                              client: client,
                                                              enabledExtendedClaims: enabledExtendedClaims))
        }
        if let refreshToken { body["refresh_token"] = .string(refreshToken) }
        return .noStore(.object(body))
    }

    /// The scopes of `resource` that `subject` may hold now: those its roles hold and, for a user of a
    /// third-party application, only those the user consented to (`ConsentScope`).
    func permittedScopes(_ subject: PermissionSubject, resource: APIResource, client: Client?) async throws
        -> Set<String>
    {
        let permitted = try await storage.permittedScopes(of: subject, resourceID: resource.id)
        guard case .account(let accountID) = subject, let client, client.isThirdParty, !permitted.isEmpty else {
            return permitted
        }
        let consented = try await storage.consentedScopes(accountID: accountID, clientID: client.id)
        return permitted.filter { consented.contains(ConsentScope.qualified($0, of: resource.indicator)) }
    }

    /// The scopes whose claims the ID token can carry: a scope releasing only extended claims that are not
    /// enabled for ID tokens is left out, so its claims (a member of a thousand organizations has a long
    /// `organization_data`) are not even loaded. The config is read only when such a scope was granted, and
    /// returned (nil when not read) so that the ID token does not read it again.
    func idTokenScopes(_ scopes: [String]) async throws -> (scopes: [String], enabled: Set<String>?) {
        func onlyExtended(_ scope: String) -> Bool {
            guard let claims = StandardScope.claimsByScope[scope], !claims.isEmpty else { return false }
            return claims.allSatisfy { StandardScope.extendedClaims.contains($0) }
        }
        guard scopes.contains(where: onlyExtended) else { return (scopes, nil) }
        guard scopes.contains(StandardScope.openid) else { return (scopes.filter { !onlyExtended($0) }, nil) }
        let enabled = try await accounts.enabledExtendedIDTokenClaims()
        return (scopes.filter { scope in
            !onlyExtended(scope) || (StandardScope.claimsByScope[scope] ?? []).contains { enabled.contains($0) }
        }, enabled)
    }

    /// The claims of `account` asked for one by one (OpenID Connect Core §5.5) that `client` may receive: any claim a
    /// scope releases for a first-party app, and for a third-party app only those of the scopes the user granted
    /// (its consent page lists scopes). Registered claims (`sub`, `acr`, ...) are set by the issuer, not here.
    static func requestedClaims(_ names: some Sequence<String>, of account: Account, scopes: [String], client: Client?)
        -> [String: JSONValue]
    {
        var released: [String: JSONValue] = [:]
        for name in names {
            guard let scope = StandardScope.claimsByScope.first(where: { $0.value.contains(name) })?.key,
                  client?.isThirdParty == false || scopes.contains(scope),
                  let value = account.claims[name], value != .null
            else { continue }
            released[name] = value
        }
        return released
    }

    /// The account as `client` may see it: for a third-party app, the organization claims (`organizations`,
    /// `organization_data`, `organization_roles`) hold only the organizations the user consented to (Logto's rule).
    func visible(_ account: Account, to client: Client?) async throws -> Account {
        let organizationClaims = ["organizations", "organization_data", "organization_roles"]
        guard organizationClaims.contains(where: { account.claims[$0] != nil }), client?.isThirdParty != false else {
            return account
        }
        // A third-party app sees what the user consented to; an app that no longer exists sees none.
        let allowed = if let client {
            try await storage.consentedOrganizationIDs(accountID: account.id, clientID: client.id)
        } else {
            Set<String>()
        }
        var account = account
        if let ids = account.claims["organizations"]?.arrayValue {
            account.claims["organizations"] = .array(ids.filter { $0.stringValue.map(allowed.contains) == true })
        }
        if let data = account.claims["organization_data"]?.arrayValue {
            account.claims["organization_data"] = .array(data.filter { $0["id"]?.stringValue.map(allowed.contains) == true })
        }
        if let roles = account.claims["organization_roles"]?.arrayValue {
            // "orgId:roleName": organization ids hold no colon.
            account.claims["organization_roles"] = .array(roles.filter { role in
                role.stringValue.flatMap { $0.split(separator: ":", maxSplits: 1).first.map(String.init) }
                    .map(allowed.contains) == true
            })
        }
        return account
    }

    /// What `subject`'s roles in the organization permit (its organization scopes, or with `resource` that API's
    /// scopes). Refused with 403 `access_denied` for a non-member, for an organization that requires MFA when the
    /// sign-in used no second factor (`amr` without `mfa`), and for a third-party app the user has not consented
    /// the organization to.
    func organizationPermissions(_ subject: PermissionSubject, amr: [String] = [], organizationID: String,
                                 resource: APIResource?,
                                 client: Client?) async throws -> Set<String>
    {
        if case .account(let accountID) = subject, let client, client.isThirdParty,
           try await !storage.consentedOrganizationIDs(accountID: accountID, clientID: client.id).contains(organizationID)
        {
            throw OAuthError(.accessDenied, "the user has not consented this organization to the application",
                             status: 403)
        }
        guard let grant = try await storage.organizationGrant(of: subject, organizationID: organizationID,
                                                              resourceID: resource?.id)
        else {
            let who = if case .client = subject { "the application" } else { "the user" }
            throw OAuthError(.accessDenied, "\(who) is not a member of the organization", status: 403)
        }
        // Better than Logto (which asks only whether the user has a factor): the sign-in behind this grant must
        // have used one.
        if grant.requiresMFA, case .account = subject, !amr.contains("mfa") {
            throw OAuthError(.accessDenied, "the organization requires MFA and this sign-in did not use a second factor",
                             status: 403)
        }
        return grant.scopes
    }

    /// The `organization_id` parameter of a token request, checked for shape (Logto's organization ids).
    func requestedOrganization(_ params: RequestParameters) throws -> String? {
        guard let value = try params.single("organization_id") else { return nil }
        guard (1...64).contains(value.count), value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { throw OAuthError.invalidRequest("organization_id is not an organization id") }
        return value
    }

    /// The API resource a token request names with `resource`, among those the grant covers.
    func requestedResource(_ params: RequestParameters, allowed: [String]?) async throws -> APIResource? {
        let indicators = params.all("resource")
        guard !indicators.isEmpty else { return nil }
        guard indicators.count == 1 else {
            throw OAuthError(.invalidTarget, "only one resource may be requested per token request")
        }
        guard let resource = try await checkResources(indicators).first else { return nil }
        if let allowed, !allowed.contains(resource.indicator) {
            throw OAuthError(.invalidTarget, "the resource was not part of the authorization request")
        }
        return resource
    }
}

extension TokenExchange.Spent {
    /// The `error_description` of a replay.
    var replayDescription: String {
        switch self {
        case .authorizationCode: "authorization code has already been used; the grant is revoked"
        case .refreshToken: "refresh token has already been used; the grant is revoked"
        case .deviceCode: "device code has already been used; the grant is revoked"
        }
    }
}
