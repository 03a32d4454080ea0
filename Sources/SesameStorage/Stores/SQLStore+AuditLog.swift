import Foundation
import SesameIdentity
import SesameOIDC

extension SQLStore: AuditLogStore {
    public func insertAuditEvents(_ events: [AuditEvent]) async throws {
        // One statement per hundred events: short write locks, no transaction to hold open.
        var remaining = events[...]
        while !remaining.isEmpty {
            let batch = remaining.prefix(100)
            remaining = remaining.dropFirst(100)
            let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: batch.count).joined(separator: ", ")
            let binds: [SQLValue] = batch.flatMap { event -> [SQLValue] in
                [.text(event.id), .text(event.key), .string(event.userID), .string(event.applicationID),
                 .string(event.ip), .text(event.payload.encodedString()), .date(event.createdAt)]
            }
            try await database.query("""
                INSERT INTO audit_log (id, key, user_id, application_id, ip, payload, created_at) VALUES \(values)
                """, binds)
        }
    }

    public func auditEvents(_ query: AuditQuery) async throws -> (events: [AuditEvent], total: Int) {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        if let userID = query.userID {
            conditions.append("user_id = ?")
            binds.append(.text(userID))
        }
        if let applicationID = query.applicationID {
            conditions.append("application_id = ?")
            binds.append(.text(applicationID))
        }
        if let key = query.key {
            if key.hasSuffix(".") {
                conditions.append("key LIKE ? ESCAPE '\\'")
                binds.append(.text(Self.likeEscaped(key) + "%"))
            } else {
                conditions.append("key = ?")
                binds.append(.text(key))
            }
        }
        if let from = query.from {
            conditions.append("created_at >= ?")
            binds.append(.date(from))
        }
        if let to = query.to {
            conditions.append("created_at <= ?")
            binds.append(.date(to))
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let total = try await database.query("SELECT COUNT(*) AS total FROM audit_log \(filter)", binds).first?
            .int("total") ?? 0
        let rows = try await database.query("""
            SELECT id, key, user_id, application_id, ip, payload, created_at FROM audit_log \(filter)
            ORDER BY created_at DESC, id LIMIT ? OFFSET ?
            """, binds + [.integer(Int64(query.limit)), .integer(Int64(query.offset))])
        let events = try rows.map { row in
            AuditEvent(id: try row.string("id"), key: try row.string("key"), userID: row.optionalString("user_id"),
                       applicationID: row.optionalString("application_id"), ip: row.optionalString("ip"),
                       payload: (try? JSONValue.decode(Data(try row.string("payload").utf8))) ?? [:],
                       createdAt: try row.date("created_at"))
        }
        return (events, Int(total))
    }
}
