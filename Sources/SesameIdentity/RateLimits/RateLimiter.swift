import Foundation

/// Counters in the store, so every instance sees the same limits.
public protocol RateLimitStore: Sendable {
    /// Adds one hit to `key` in the fixed window starting at `windowStart` and returns the count.
    func hit(key: String, windowStart: Date, expiresAt: Date) async throws -> Int
    func count(key: String, windowStart: Date) async throws -> Int
    func reset(key: String) async throws
    /// Takes one hit back from `key` in the window starting at `windowStart` (never below zero).
    func release(key: String, windowStart: Date) async throws
}

/// Fixed-window limits: at most `limit` events per `window` for a key.
public struct RateLimiter: Sendable {
    /// The part of a client address that per-IP limits count: an IPv4 address whole, an IPv6 address by its
    /// /64 network (one subscriber usually holds a whole /64, so counting single addresses would give them
    /// billions of allowances), an IPv4-mapped IPv6 address as its IPv4 address. Anything else as given.
    public static func addressKey(_ ip: String) -> String {
        guard let address = IPAddress(ip) else { return ip }
        guard address.bytes.count == 16 else { return address.description }
        var groups: [String] = []
        for index in stride(from: 0, to: 8, by: 2) {
            groups.append(String(UInt16(address.bytes[index]) << 8 | UInt16(address.bytes[index + 1]), radix: 16))
        }
        return groups.joined(separator: ":") + "::/64"
    }

    public let store: any RateLimitStore
    public let now: @Sendable () -> Date

    public init(store: any RateLimitStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.now = now
    }

    public struct Rule: Sendable {
        public var limit: Int
        public var window: TimeInterval
        public init(limit: Int, window: TimeInterval) {
            self.limit = limit
            self.window = window
        }
    }

    private func windowStart(_ rule: Rule) -> Date {
        let now = now().timeIntervalSince1970
        return Date(timeIntervalSince1970: (now / rule.window).rounded(.down) * rule.window)
    }

    /// True when the key is already at its limit in this window.
    public func isLimited(_ key: String, rule: Rule) async throws -> Bool {
        try await store.count(key: key, windowStart: windowStart(rule)) >= rule.limit
    }

    /// Events so far in this window.
    public func count(_ key: String, rule: Rule) async throws -> Int {
        try await store.count(key: key, windowStart: windowStart(rule))
    }

    /// Records one event and returns the count in this window, the event included: one atomic step, so
    /// concurrent callers each see a different count.
    public func hit(_ key: String, rule: Rule) async throws -> Int {
        let start = windowStart(rule)
        return try await store.hit(key: key, windowStart: start, expiresAt: start.addingTimeInterval(rule.window))
    }

    /// Records one event.
    public func record(_ key: String, rule: Rule) async throws {
        let start = windowStart(rule)
        _ = try await store.hit(key: key, windowStart: start, expiresAt: start.addingTimeInterval(rule.window))
    }

    /// Gives back a hit taken with `hit` (an attempt that turned out to succeed and must not count).
    public func release(_ key: String, rule: Rule) async throws {
        try await store.release(key: key, windowStart: windowStart(rule))
    }

    /// A place taken with `take`, given back to the window it was taken in.
    public struct Place: Sendable {
        let key: String
        let windowStart: Date
    }

    /// Takes a place for something in progress and returns the places held now: this window's, this one
    /// included, and the previous window's not given back yet (a place taken just before a window ends is still
    /// counted after it). One atomic step for this window's count. A place never given back (a crashed process)
    /// stops counting after two windows.
    public func take(_ key: String, rule: Rule) async throws -> (held: Int, place: Place) {
        let start = windowStart(rule)
        let current = try await store.hit(key: key, windowStart: start,
                                          expiresAt: start.addingTimeInterval(rule.window * 2))
        let previous = try await store.count(key: key, windowStart: start.addingTimeInterval(-rule.window))
        return (current + previous, Place(key: key, windowStart: start))
    }

    /// Gives a place back to the window it was taken in.
    public func release(_ place: Place) async throws {
        try await store.release(key: place.key, windowStart: place.windowStart)
    }

    public func reset(_ key: String) async throws {
        try await store.reset(key: key)
    }
}
