import Foundation

/// `grant_type=client_credentials` (RFC 6749 §4.4) for machine-to-machine apps. With a `resource`, the
/// access token is a JWT for that API carrying the requested scopes that the app's roles hold (requested ∩
/// allowed, Logto's rule: no `scope` gives a token with no scopes). `scope` is always in the response, empty
/// when nothing was granted (RFC 6749 §3.3: the issued scope differs from the requested one).
struct ClientCredentialsGrant: GrantHandler {
    func handle(_ params: RequestParameters, client: Client, provider: OIDCProvider) async throws -> OAuthResponse {
        let requested = ScopeList.parse(try params.single("scope"))
        let resource = try await provider.requestedResource(params, allowed: nil)
        if let resource, resource.indicator == provider.configuration.managementResource, !client.canManage {
            throw OAuthError(.invalidTarget, "this application holds no role with the Management API's permission")
        }
        if let resource {
            let defined = Set(resource.scopes.map(\.name))
            if let unknown = requested.first(where: { !defined.contains($0) }) {
                throw OAuthError(.invalidScope, "the scope '\(unknown)' is not defined by the resource")
            }
        }
        let organizationID = try provider.requestedOrganization(params)
        if resource == nil, !requested.isEmpty, organizationID == nil {
            throw OAuthError(.invalidScope, "scopes need a resource: send the resource parameter")
        }
        var permitted = Set<String>()
        if let organizationID {
            // A member app's roles in that organization decide (Logto's rule), for the organization or for the API.
            permitted = try await provider.organizationPermissions(.client(client.id), organizationID: organizationID,
                                                                   resource: resource, client: client)
        } else if let resource {
            permitted = try await provider.storage.permittedScopes(of: .client(client.id), resourceID: resource.id)
        }
        let access = try await provider.prepareAccessToken(clientID: client.id, accountID: nil, grantID: nil,
                                                           scopes: requested, resource: resource,
                                                           permitted: permitted, organizationID: organizationID)
        if let record = access.record { try await provider.storage.insertAccessToken(record) }
        var body: [String: JSONValue] = [
            "access_token": .string(access.token), "token_type": "Bearer", "expires_in": .int(Int64(access.expiresIn)),
        ]
        body["scope"] = .string(ScopeList.format(access.scopes))
        return .noStore(.object(body))
    }
}
