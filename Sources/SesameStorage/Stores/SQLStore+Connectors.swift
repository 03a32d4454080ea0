import Foundation
import SesameIdentity
import SesameOIDC

extension SQLStore: ConnectorConfigStore {
    public func connectors() async throws -> [StoredConnector] {
        try await database.query("SELECT id, kind, sealed_config, is_enabled, updated_at FROM connectors ORDER BY id")
            .map(connector)
    }

    public func connector(id: String) async throws -> StoredConnector? {
        try await database.query("""
            SELECT id, kind, sealed_config, is_enabled, updated_at FROM connectors WHERE id = ?
            """, .text(id)).first.map(connector)
    }

    public func enabledConnector(kind: String) async throws -> StoredConnector? {
        try await database.query("""
            SELECT id, kind, sealed_config, is_enabled, updated_at FROM connectors WHERE is_enabled = 1 AND kind = ?
            ORDER BY id LIMIT 1
            """, .text(kind)).first.map(connector)
    }

    public func saveConnector(id: String, kind: String, config: JSONValue, now: Date) async throws {
        let sealed = try secretBox.seal(config.encoded())
        try await sealing { database in
            try await database.query("""
            INSERT INTO connectors (id, kind, sealed_config, is_enabled, updated_at) VALUES (?, ?, ?, 0, ?)
            ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, sealed_config = excluded.sealed_config,
            updated_at = excluded.updated_at
            """, .text(id), .text(kind), .text(sealed), .date(now))
        }
    }

    public func setConnectorEnabled(id: String, kind: String, isEnabled: Bool, now: Date) async throws {
        var statements: [(String, [SQLValue])] = []
        if isEnabled {
            statements.append(("UPDATE connectors SET is_enabled = 0, updated_at = ? WHERE kind = ? AND id <> ?",
                               [.date(now), .text(kind), .text(id)]))
        }
        statements.append(("UPDATE connectors SET is_enabled = ?, updated_at = ? WHERE id = ?",
                           [.bool(isEnabled), .date(now), .text(id)]))
        try await database.transaction(statements)
    }

    public func deleteConnector(id: String) async throws {
        try await database.query("DELETE FROM connectors WHERE id = ?", .text(id))
    }

    private func connector(_ row: SQLRow) throws -> StoredConnector {
        let id = try row.string("id")
        let config = try JSONValue.decode(try secretBox.open(try row.string("sealed_config"),
                                                             subject: "the configuration of connector '\(id)'"))
        return StoredConnector(id: id, kind: try row.string("kind"), config: config,
                               isEnabled: try row.bool("is_enabled"), updatedAt: try row.date("updated_at"))
    }
}
