import Foundation
import SesameOIDC

public protocol ResourceAdminStore: Sendable {
    func insertResource(_ resource: APIResource) async throws
    func resources() async throws -> [APIResource]
}

/// API resources (Logto: "API resources") and the permission scopes they define.
public struct ResourceService: Sendable {
    public let store: any ResourceAdminStore
    public let now: @Sendable () -> Date

    public init(store: any ResourceAdminStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.now = now
    }

    public func create(name: String?, indicator: String, scopes: [String], accessTokenTTL: Int = 3600) async throws
        -> APIResource
    {
        guard let url = URL(string: indicator), let scheme = url.scheme, ["http", "https"].contains(scheme.lowercased()),
              url.host?.isEmpty == false, url.fragment == nil
        else { throw IdentityError.invalidInput("the indicator must be an absolute http(s) URI without a fragment") }
        guard (60...86_400).contains(accessTokenTTL) else {
            throw IdentityError.invalidInput("the access token lifetime must be 60 to 86400 seconds")
        }
        var seen = Set<String>()
        for scope in scopes {
            guard !scope.isEmpty, !scope.contains(where: { $0.isWhitespace }), scope.count <= 256 else {
                throw IdentityError.invalidInput("'\(scope)' is not a valid scope name (no spaces)")
            }
            guard seen.insert(scope).inserted else { throw IdentityError.invalidInput("scope '\(scope)' is repeated") }
        }
        let resource = APIResource(
            id: SecureRandom.identifier(), name: name ?? indicator, indicator: indicator, accessTokenTTL: accessTokenTTL,
            scopes: scopes.map { ResourceScope(id: SecureRandom.identifier(), name: $0) }, createdAt: now())
        try await store.insertResource(resource)
        return resource
    }
}
