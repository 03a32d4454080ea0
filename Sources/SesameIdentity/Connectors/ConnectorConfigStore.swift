import Foundation
import SesameOIDC

/// A connector's saved configuration. The store encrypts `config` at rest: it holds access keys and
/// passwords.
public struct StoredConnector: Sendable, Equatable {
    /// The connector's id (`aliyun-direct-mail`, `smtp`, ...).
    public var id: String
    /// `Email` or `Sms`: at most one of each kind is enabled.
    public var kind: String
    public var config: JSONValue
    public var isEnabled: Bool
    public var updatedAt: Date

    public init(id: String, kind: String, config: JSONValue, isEnabled: Bool, updatedAt: Date) {
        self.id = id
        self.kind = kind
        self.config = config
        self.isEnabled = isEnabled
        self.updatedAt = updatedAt
    }
}

public protocol ConnectorConfigStore: Sendable {
    func connectors() async throws -> [StoredConnector]
    func connector(id: String) async throws -> StoredConnector?
    /// The enabled connector of `kind`, if any: only its configuration is decrypted.
    func enabledConnector(kind: String) async throws -> StoredConnector?
    /// Inserts or replaces the configuration, keeping whether it is enabled.
    func saveConnector(id: String, kind: String, config: JSONValue, now: Date) async throws
    /// Enabling one connector disables the others of its kind, in one transaction.
    func setConnectorEnabled(id: String, kind: String, isEnabled: Bool, now: Date) async throws
    func deleteConnector(id: String) async throws
}
