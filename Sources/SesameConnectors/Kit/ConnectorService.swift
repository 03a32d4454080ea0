import Foundation
import SesameIdentity
import SesameOIDC

/// Configuring, enabling and testing connectors, and finding the one that sends email now.
public struct ConnectorService: Sendable {
    public let store: any ConnectorConfigStore
    public let registry: ConnectorRegistry
    public let context: ConnectorContext
    public let now: @Sendable () -> Date

    public init(store: any ConnectorConfigStore, registry: ConnectorRegistry = .standard, context: ConnectorContext,
                now: @escaping @Sendable () -> Date = { Date() })
    {
        self.store = store
        self.registry = registry
        self.context = context
        self.now = now
    }

    func factory(_ id: String) throws -> any EmailConnectorFactory {
        guard let factory = registry.emailFactory(id: id) else {
            let known = registry.emailFactories.map(\.metadata.id).joined(separator: ", ")
            throw IdentityError(.notFound, phrase: "connector.unknown", ["id": id, "known": known])
        }
        return factory
    }

    /// Validates and saves a configuration; an enabled connector stays enabled.
    public func save(id: String, config: JSONValue) async throws {
        let factory = try factory(id)
        try factory.validate(config)
        try await store.saveConnector(id: id, kind: factory.metadata.kind.rawValue, config: config, now: now())
    }

    public func setEnabled(id: String, _ isEnabled: Bool) async throws {
        let factory = try factory(id)
        guard let stored = try await store.connector(id: id) else {
            throw IdentityError(.notFound, phrase: "connector.no_configuration", ["id": id])
        }
        if isEnabled { try factory.validate(stored.config) }
        try await store.setConnectorEnabled(id: id, kind: factory.metadata.kind.rawValue, isEnabled: isEnabled,
                                            now: now())
    }

    /// Sends a test code with the given configuration, or the saved one, before or after it is saved, with
    /// the template of `usage` (falling back to Generic as a real send would).
    public func test(id: String, to address: String, config: JSONValue? = nil, usage: UsageType = .generic)
        async throws
    {
        let factory = try factory(id)
        var saved: JSONValue?
        if config == nil { saved = try await store.connector(id: id)?.config }
        guard let config = config ?? saved else {
            throw IdentityError(.notFound, phrase: "connector.no_saved_configuration", ["id": id])
        }
        try factory.validate(config)
        let connector = try factory.makeConnector(config: config, context: context)
        // An invitation carries a link instead of a code: the test shows what its template makes of one.
        let payload = usage == .organizationInvitation
            ? MessagePayload(link: "https://example.com/invitation/test",
                             variables: ["organization.name": "Example", "inviter.name": "Example"])
            : MessagePayload(code: "123456")
        try await connector.sendMessage(to: address, type: usage, payload: payload)
    }

    /// The enabled email connector, or nil when none is.
    public func enabledEmailConnector() async throws -> (id: String, connector: any EmailConnector)? {
        guard let stored = try await store.enabledConnector(kind: ConnectorMetadata.Kind.email.rawValue) else {
            return nil
        }
        return (stored.id, try factory(stored.id).makeConnector(config: stored.config, context: context))
    }
}
