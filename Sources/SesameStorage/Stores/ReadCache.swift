import Foundation
import Synchronization

/// A small read-through cache for configuration read on every request (applications, API resources).
/// Entries live `ttl` seconds, so a change made by another instance is seen within that time, as key
/// rotation is; writes through this process drop the whole cache at once. Bounded: past `capacity`
/// entries it starts over, so unknown ids cannot grow it.
final class ReadCache<Value: Sendable>: Sendable {
    private let entries = Mutex<[String: (value: Value, expiresAt: Date)]>([:])
    private let ttl: TimeInterval
    private let capacity: Int

    init(ttl: TimeInterval, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    func value(_ key: String, load: () async throws -> Value?) async throws -> Value? {
        let now = Date()
        if ttl > 0, let entry = entries.withLock({ $0[key] }), entry.expiresAt > now { return entry.value }
        guard let value = try await load() else { return nil }
        if ttl > 0 {
            entries.withLock { entries in
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                entries[key] = (value, now.addingTimeInterval(ttl))
            }
        }
        return value
    }

    func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}
