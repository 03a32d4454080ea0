import Synchronization

/// How a database's connection pool is used, for the metrics endpoint: connections lent out now, leases
/// handed out since start, and the total time callers waited for one. Updated by the pool, read at scrape time.
public final class ConnectionStatistics: Sendable {
    /// One reading: `inUse` connections now, `leases` since start, `waitSeconds` summed over those leases.
    public struct Snapshot: Sendable, Equatable {
        public var inUse = 0
        public var leases = 0
        public var waitSeconds = 0.0

        public init() {}
    }

    private let counts = Mutex(Snapshot())

    public init() {}

    /// A caller got a connection after waiting `wait`.
    func leased(after wait: Duration) {
        let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
        counts.withLock {
            $0.inUse += 1
            $0.leases += 1
            $0.waitSeconds += seconds
        }
    }

    /// A caller gave its connection back.
    func released() {
        counts.withLock { $0.inUse -= 1 }
    }

    public var snapshot: Snapshot { counts.withLock { $0 } }
}
