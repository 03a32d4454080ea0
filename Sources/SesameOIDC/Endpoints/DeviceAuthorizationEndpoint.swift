import Foundation

/// The device authorization grant (RFC 8628): the device authorization endpoint (§3.1–3.2), and the steps the host's
/// verification page takes (§3.3): find the request by its user code, then sign the person in and approve, or deny.
extension OIDCProvider {
    /// How a device sign-in ended, for the verification page's result (`deviceResult`).
    public enum DeviceResult: String, Sendable {
        /// Approved: the device's next poll gets its tokens.
        case approved
        /// The person refused: the device hears `access_denied`.
        case denied
        /// The code expired, or was decided elsewhere, while the person was signing in.
        case expired
    }

    /// `POST /oidc/device/auth` (RFC 8628 §3.1): authenticates the client as the token endpoint does (a native app
    /// sends only `client_id`), checks it may use the device grant, and answers `device_code`, `user_code`
    /// (`XXXX-XXXX`), `verification_uri`, `verification_uri_complete`, `expires_in` (seconds) and `interval`
    /// (seconds). `scope` is kept as the authorization endpoint keeps it (unknown scopes dropped); `resource`
    /// (RFC 8707) names registered API resources; Logto's extras `ui_locales` and `organization_id` pick the sign-in
    /// pages' language and look. Throws `OAuthError`: `invalid_client` (401), `unauthorized_client`
    /// for an app without the device flow, `invalid_target`, `invalid_request` for repeated parameters.
    public func deviceAuthorization(_ params: RequestParameters, authorization: String?) async throws -> OAuthResponse {
        let client = try await authenticateClient(params, authorization: authorization, endpoint: "/device/auth")
        guard client.allows(.deviceCode) else {
            throw OAuthError(.unauthorizedClient, "this application may not use the device authorization grant")
        }
        let requested = ScopeList.parse(try params.single("scope"))
        let resources = try await checkResources(params.all("resource"))
        if resources.contains(where: { $0.indicator == configuration.managementResource }) {
            throw OAuthError(.invalidTarget, "the Management API is only for machine-to-machine applications")
        }
        let now = now()
        let deviceCode = SecureRandom.token()
        let id = SecretDigest.sha256Hex(deviceCode)
        var request = AuthorizationRequest(
            clientID: client.id, redirectURI: "",
            scopes: try await grantableScopes(requested, client: client, resources: resources),
            uiLocales: try params.single("ui_locales"), resources: resources.map(\.indicator))
        request.deviceAuthorizationID = id
        // Logto's extra: the organization whose look the sign-in pages take.
        request.organizationID = try requestedOrganization(params)
        // A clash of user codes among live requests is rare (one in 10^10 per pair): draw again.
        for _ in 0..<5 {
            let userCode = UserCode.generate()
            let authorization = DeviceAuthorization(
                id: id, userCodeDigest: UserCode.digest(UserCode.normalize(userCode) ?? userCode), clientID: client.id,
                request: request, createdAt: now,
                expiresAt: now.addingTimeInterval(TimeInterval(configuration.deviceCodeTTL)),
                interval: configuration.devicePollInterval)
            guard try await storage.insertDeviceAuthorization(authorization) else { continue }
            let verificationURI = configuration.verificationURI
            return .noStore([
                "device_code": .string(deviceCode),
                "user_code": .string(userCode),
                "verification_uri": .string(verificationURI),
                "verification_uri_complete": .string(verificationURI + "?" + RequestParameters.encode([("user_code", userCode)])),
                "expires_in": .int(Int64(configuration.deviceCodeTTL)),
                "interval": .int(Int64(configuration.devicePollInterval)),
            ])
        }
        throw OAuthError.serverError("no free user code could be drawn")
    }

    /// A pending, unexpired device authorization and its client, by what the person typed (any case, with or without
    /// the dash); nil when the code is malformed, unknown, decided, expired, or its application is gone. The caller
    /// counts nil answers against its attempt limits.
    public func pendingDeviceAuthorization(userCode typed: String) async throws
        -> (authorization: DeviceAuthorization, client: Client)?
    {
        guard let normalized = UserCode.normalize(typed),
              let authorization = try await storage.deviceAuthorization(userCodeDigest: UserCode.digest(normalized)),
              authorization.status == .pending, authorization.consumedAt == nil, authorization.expiresAt > now(),
              let client = try await storage.client(id: authorization.clientID), client.allows(.deviceCode)
        else { return nil }
        return (authorization, client)
    }

    /// The person confirmed the code on the verification page: the sign-in starts as an authorization request would,
    /// bound to the device. With a session that needs neither a new sign-in nor consent the device is approved at
    /// once (`.redirect` to the result); else an interaction is made (`.interaction`) whose end approves it (or, when
    /// cancelled, denies it). `.errorPage(sessionExpired)` when the code is no longer pending.
    public func startDeviceSignIn(userCode: String, sessionToken: String?) async throws -> AuthorizationOutcome {
        guard let (authorization, client) = try await pendingDeviceAuthorization(userCode: userCode) else {
            return .redirect(deviceResult(.expired))
        }
        return try await decide(authorization.request, client: client, session: session(token: sessionToken),
                                expiresBy: authorization.expiresAt)
    }

    /// The person refused on the verification page: the device hears `access_denied`. Returns the result page.
    public func denyDevice(userCode: String) async throws -> String {
        guard let (authorization, _) = try await pendingDeviceAuthorization(userCode: userCode) else {
            return deviceResult(.expired)
        }
        let denied = try await storage.denyDeviceAuthorization(id: authorization.id, consumingInteraction: nil)
        return deviceResult(denied ? .denied : .expired)
    }

    /// The verification page's result: `verification_uri/done?result=...`.
    func deviceResult(_ result: DeviceResult) -> String {
        configuration.verificationURI + "/done?result=" + result.rawValue
    }
}
