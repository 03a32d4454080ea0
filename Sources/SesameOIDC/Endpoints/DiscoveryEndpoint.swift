import Foundation

/// OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414).
extension OIDCProvider {
    public func discoveryDocument() async throws -> JSONValue {
        let algorithms = try await keys.snapshot().algorithms
        func url(_ path: String) -> JSONValue { .string(configuration.endpoint(path)) }
        func list(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
        let authMethods = list(ClientAuthenticationMethod.allCases.map(\.rawValue))
        let assertionAlgorithms = list(ClientAuthenticationMethod.assertionAlgorithms)
        return .object([
            "issuer": .string(issuer),
            "authorization_endpoint": url("/auth"),
            "token_endpoint": url("/token"),
            "userinfo_endpoint": url("/me"),
            "jwks_uri": url("/jwks"),
            "end_session_endpoint": url("/session/end"),
            "revocation_endpoint": url("/token/revocation"),
            "introspection_endpoint": url("/token/introspection"),
            "device_authorization_endpoint": url("/device/auth"),
            "response_types_supported": list(["code"]),
            "response_modes_supported": list(["query"]),
            "grant_types_supported": list(GrantType.allCases.map(\.rawValue)),
            "subject_types_supported": list(["public"]),
            // Every algorithm an application may choose: those with a key now (the default and RS256 always), then
            // the others, whose first key is made when an application first needs it.
            "id_token_signing_alg_values_supported": list((algorithms + SigningAlgorithm.allCases.filter {
                !algorithms.contains($0)
            }).map(\.rawValue)),
            "scopes_supported": list(StandardScope.supported),
            "claims_supported": list(StandardScope.supportedClaims),
            "acr_values_supported": list(["urn:sesame:acr:sfa", "urn:sesame:acr:mfa"]),
            "claim_types_supported": list(["normal"]),
            "code_challenge_methods_supported": list(["S256"]),
            "token_endpoint_auth_methods_supported": authMethods,
            "token_endpoint_auth_signing_alg_values_supported": assertionAlgorithms,
            "revocation_endpoint_auth_methods_supported": authMethods,
            "revocation_endpoint_auth_signing_alg_values_supported": assertionAlgorithms,
            "introspection_endpoint_auth_methods_supported": authMethods,
            "introspection_endpoint_auth_signing_alg_values_supported": assertionAlgorithms,
            "authorization_response_iss_parameter_supported": true,
            "claims_parameter_supported": true,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "require_request_uri_registration": false,
        ])
    }

    /// The JSON Web Key Set: the current key and the retired keys whose tokens may still be valid.
    public func jwks() async throws -> JSONValue {
        .object(["keys": .array(try await keys.snapshot().published.map(\.jwk))])
    }
}
