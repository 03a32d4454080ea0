import Foundation
import SesameOIDC

public protocol ResourceAdminStore: Sendable {
    func insertResource(_ resource: APIResource) async throws
    func resources() async throws -> [APIResource]
    func resource(id: String) async throws -> APIResource?
    /// Saves the name and the access token lifetime.
    func updateResource(_ resource: APIResource) async throws
    /// Throws `IdentityError.conflict` when the resource already has a scope of that name.
    func insertScope(_ scope: ResourceScope, resourceID: String) async throws
    func deleteScope(id: String, resourceID: String) async throws
    /// Deletes the resource and its scopes.
    func deleteResource(id: String) async throws
}

/// API resources (Logto: "API resources") and the permission scopes they define.
public struct ResourceService: Sendable {
    public let store: any ResourceAdminStore
    public let now: @Sendable () -> Date
    /// The Management API's own resource: it cannot be deleted, and its scope `all` stays.
    public let protectedIndicator: String?

    public init(store: any ResourceAdminStore, protectedIndicator: String? = nil,
                now: @escaping @Sendable () -> Date = { Date() })
    {
        self.store = store
        self.protectedIndicator = protectedIndicator
        self.now = now
    }

    public func create(name: String?, indicator: String, scopes: [String], accessTokenTTL: Int = 3600) async throws
        -> APIResource
    {
        guard let url = URL(string: indicator), let scheme = url.scheme, ["http", "https"].contains(scheme.lowercased()),
              url.host?.isEmpty == false, url.fragment == nil
        else { throw IdentityError.invalidInput(phrase: "resource.indicator_invalid") }
        try Self.validateTTL(accessTokenTTL)
        var seen = Set<String>()
        for scope in scopes {
            try Self.validateScopeName(scope)
            guard seen.insert(scope).inserted else {
                throw IdentityError.invalidInput(phrase: "resource.scope_repeated", ["scope": scope])
            }
        }
        let name = name?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty ?? indicator
        let resource = APIResource(
            id: SecureRandom.identifier(), name: name, indicator: indicator, accessTokenTTL: accessTokenTTL,
            scopes: scopes.map { ResourceScope(id: SecureRandom.identifier(), name: $0) }, createdAt: now())
        try await store.insertResource(resource)
        return resource
    }

    public func resource(id: String) async throws -> APIResource {
        guard let resource = try await store.resource(id: id) else {
            throw IdentityError(.notFound, phrase: "resource.not_found", ["id": id])
        }
        return resource
    }

    /// Renames a resource or changes its access token lifetime; the indicator never changes (tokens name it).
    public func update(id: String, name: String?, accessTokenTTL: Int?) async throws -> APIResource {
        var resource = try await resource(id: id)
        if let name {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= 256 else {
                throw IdentityError.invalidInput(phrase: "resource.name_length")
            }
            resource.name = trimmed
        }
        if let accessTokenTTL {
            try Self.validateTTL(accessTokenTTL)
            resource.accessTokenTTL = accessTokenTTL
        }
        try await store.updateResource(resource)
        return resource
    }

    public func addScope(resourceID: String, name: String, description: String?) async throws -> ResourceScope {
        let resource = try await resource(id: resourceID)
        try Self.validateScopeName(name)
        guard !resource.scopes.contains(where: { $0.name == name }) else {
            throw IdentityError(.conflict, phrase: "resource.scope_exists", ["scope": name])
        }
        let scope = ResourceScope(id: SecureRandom.identifier(), name: name,
                                  description: description?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty)
        try await store.insertScope(scope, resourceID: resource.id)
        return scope
    }

    public func deleteScope(resourceID: String, scopeID: String) async throws {
        let resource = try await resource(id: resourceID)
        guard let scope = resource.scopes.first(where: { $0.id == scopeID }) else {
            throw IdentityError(.notFound, phrase: "resource.scope_not_found", ["id": scopeID])
        }
        if resource.indicator == protectedIndicator {
            throw IdentityError.invalidInput(phrase: "resource.management_scope_protected", ["scope": scope.name])
        }
        try await store.deleteScope(id: scope.id, resourceID: resource.id)
    }

    public func delete(id: String) async throws {
        let resource = try await resource(id: id)
        if resource.indicator == protectedIndicator {
            throw IdentityError.invalidInput(phrase: "resource.management_resource_protected")
        }
        try await store.deleteResource(id: resource.id)
    }

    static func validateTTL(_ seconds: Int) throws {
        guard (60...86_400).contains(seconds) else {
            throw IdentityError.invalidInput(phrase: "resource.access_token_ttl_range")
        }
    }

    static func validateScopeName(_ scope: String) throws {
        guard !scope.isEmpty, !scope.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "\\" }), scope.count <= 256
        else { throw IdentityError.invalidInput(phrase: "resource.scope_name_invalid", ["scope": scope]) }
    }
}
