import Foundation
import SesameIdentity

extension SQLStore: RateLimitStore {
    public func hit(key: String, windowStart: Date, expiresAt: Date) async throws -> Int {
        let row = try await database.query("""
            INSERT INTO rate_limits (key, window_start, hits, expires_at) VALUES (?, ?, 1, ?)
            ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits
            """, .text(key), .date(windowStart), .date(expiresAt)).first
        return Int(try row?.int("hits") ?? 1)
    }

    public func count(key: String, windowStart: Date) async throws -> Int {
        let row = try await database.query("SELECT hits FROM rate_limits WHERE key = ? AND window_start = ?",
                                           .text(key), .date(windowStart)).first
        return Int(try row?.int("hits") ?? 0)
    }

    public func release(key: String, windowStart: Date) async throws {
        try await database.query("""
            UPDATE rate_limits SET hits = hits - 1 WHERE key = ? AND window_start = ? AND hits > 0
            """, .text(key), .date(windowStart))
    }

    public func reset(key: String) async throws {
        try await database.query("DELETE FROM rate_limits WHERE key = ?", .text(key))
    }
}
