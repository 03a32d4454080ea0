import Foundation
import SesameOIDC

extension SQLStore: DeviceAuthorizationStore {
    private static let deviceColumns = """
        id, user_code_digest, client_id, request, status, interval_seconds, last_polled_at, grant_id, context,
        created_at, expires_at, consumed_at
        """

    public func insertDeviceAuthorization(_ authorization: DeviceAuthorization) async throws -> Bool {
        do {
            try await database.query("""
                INSERT INTO device_codes (\(Self.deviceColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, .text(authorization.id), .text(authorization.userCodeDigest), .text(authorization.clientID),
                .json(authorization.request), .text(authorization.status.rawValue),
                .integer(Int64(authorization.interval)), .date(authorization.lastPolledAt),
                .string(authorization.context?.grantID), authorization.context.map { .json($0) } ?? .null,
                .date(authorization.createdAt), .date(authorization.expiresAt), .date(authorization.consumedAt))
            return true
        } catch {
            // Only the user code can clash: the device code's digest is of 256 random bits.
            if Self.uniqueViolation(error) != nil { return false }
            throw error
        }
    }

    public func deviceAuthorization(userCodeDigest: String) async throws -> DeviceAuthorization? {
        try await database.query("SELECT \(Self.deviceColumns) FROM device_codes WHERE user_code_digest = ?",
                                 .text(userCodeDigest)).first.map(Self.deviceAuthorization(from:))
    }

    public func pollDeviceAuthorization(id: String, now: Date, tolerance: TimeInterval) async throws
        -> (authorization: DeviceAuthorization, slowDown: Bool)?
    {
        try await writeTransaction { database in
            // Under the row's lock (SQLite: the write lock), so of two polls at once the second sees the first's time.
            guard let authorization = try await database.query("""
                SELECT \(Self.deviceColumns) FROM device_codes WHERE id = ?\(database.dialect.forUpdate)
                """, .text(id)).first.map(Self.deviceAuthorization(from:))
            else { return nil }
            let slowDown = authorization.lastPolledAt.map {
                now.timeIntervalSince($0) < TimeInterval(authorization.interval) - tolerance
            } ?? false
            try await database.query("""
                UPDATE device_codes SET last_polled_at = ?, interval_seconds = interval_seconds + ? WHERE id = ?
                """, .date(now), .integer(slowDown ? 5 : 0), .text(id))
            return (authorization, slowDown)
        }
    }

    public func approveDeviceAuthorization(id: String, grant: Grant, context: IssuanceContext,
                                           consumingInteraction interactionID: String?, now: Date) async throws -> Bool
    {
        do {
            return try await writeTransaction { database in
                guard try await !database.query("""
                    UPDATE device_codes SET status = 'approved', grant_id = ?, context = ?
                    WHERE id = ? AND status = 'pending' AND consumed_at IS NULL AND expires_at > ? RETURNING id
                    """, .text(grant.id), .json(context), .text(id), .date(now)).isEmpty
                else { return false }
                if let interactionID,
                   try await database.query("DELETE FROM interactions WHERE id = ? RETURNING id", .text(interactionID))
                       .isEmpty
                {
                    throw InteractionSpent()
                }
                try await database.query("""
                    INSERT INTO grants (id, client_id, account_id, scopes, created_at) VALUES (?, ?, ?, ?, ?)
                    """, .text(grant.id), .text(grant.clientID), .string(grant.accountID), .json(grant.scopes),
                    .date(grant.createdAt))
                return true
            }
        } catch is InteractionSpent {
            return false
        }
    }

    public func denyDeviceAuthorization(id: String, consumingInteraction interactionID: String?) async throws -> Bool {
        try await writeTransaction { database in
            if let interactionID {
                try await database.query("DELETE FROM interactions WHERE id = ?", .text(interactionID))
            }
            return try await !database.query("""
                UPDATE device_codes SET status = 'denied' WHERE id = ? AND status = 'pending' RETURNING id
                """, .text(id)).isEmpty
        }
    }

    private static func deviceAuthorization(from row: SQLRow) throws -> DeviceAuthorization {
        guard let status = DeviceAuthorization.Status(rawValue: try row.string("status")) else {
            throw StorageError.corrupt("status")
        }
        return DeviceAuthorization(
            id: try row.string("id"), userCodeDigest: try row.string("user_code_digest"),
            clientID: try row.string("client_id"), request: try row.json("request"),
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"),
            interval: Int(try row.int("interval_seconds")), lastPolledAt: row.optionalDate("last_polled_at"),
            status: status, context: row.optionalString("context") == nil ? nil : try row.json("context"),
            consumedAt: row.optionalDate("consumed_at"))
    }
}

/// Rolls an approval back when its interaction was spent by another request.
private struct InteractionSpent: Error {}
