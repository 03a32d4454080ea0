import Foundation

/// What a consent page shows and what accepting it records: the OIDC scopes asked for, and per API resource
/// the requested permissions the user's roles hold (only those can ever reach a token).
public struct ConsentDetails: Sendable, Equatable {
    public struct ResourcePermissions: Sendable, Equatable {
        public var resource: APIResource
        public var scopes: [ResourceScope]
    }

    /// The OIDC scopes of the request (`openid`, `profile`, `roles`, ...), in request order.
    public var scopes: [String]
    /// The API permissions being granted, per resource in request order; resources with none are left out.
    public var permissions: [ResourcePermissions]

    /// The consent entries (`ConsentScope`) these details stand for.
    var entries: Set<String> {
        Set(scopes).union(permissions.flatMap { group in
            group.scopes.map { ConsentScope.qualified($0.name, of: group.resource.indicator) }
        })
    }
}

extension OIDCProvider {
    /// The consent a request needs from `accountID`: its OIDC scopes, and the requested scopes of each
    /// requested resource that the user's roles hold now.
    public func consentDetails(for request: AuthorizationRequest, accountID: String) async throws -> ConsentDetails {
        var details = ConsentDetails(scopes: request.scopes.filter { StandardScope.supported.contains($0) },
                                     permissions: [])
        let requested = Set(request.scopes)
        for indicator in request.resources {
            guard let resource = try await storage.resource(indicator: indicator) else { continue }
            let permitted = try await storage.permittedScopes(of: .account(accountID), resourceID: resource.id)
            let scopes = resource.scopes.filter { requested.contains($0.name) && permitted.contains($0.name) }
            if !scopes.isEmpty { details.permissions.append(.init(resource: resource, scopes: scopes)) }
        }
        return details
    }
}
