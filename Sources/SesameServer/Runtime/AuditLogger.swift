import Foundation
import Logging
import ServiceLifecycle
import SesameIdentity
import SesameOIDC
import SesameStorage
import Synchronization

/// Buffers audit events and writes them in batches, so the hot paths (the token endpoint) pay a lock,
/// not a database write. Flushed every second, before the log is read, and at shutdown.
public final class AuditLogger: Sendable {
    private let store: SQLStore
    private let logger: Logger
    private let buffer = Mutex<[AuditEvent]>([])
    /// High-volume machine events (client_credentials grants), counted per key and client between flushes.
    private let counters = Mutex<[String: (applicationID: String?, key: String, count: Int, ip: String?)]>([:])

    init(store: SQLStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func record(_ event: AuditEvent) {
        buffer.withLock { events in
            events.append(event)
            // A stalled database must not grow memory without bound.
            if events.count > 10_000 { events.removeFirst(events.count - 10_000) }
        }
    }

    /// Counts an event that is logged once per flush and client, with `count` in its payload.
    public func count(key: String, applicationID: String?, ip: String?) {
        counters.withLock { counters in
            let id = key + "|" + (applicationID ?? "")
            counters[id, default: (applicationID, key, 0, ip)].count += 1
        }
    }

    public func flush() async {
        let counted = counters.withLock { counters -> [AuditEvent] in
            defer { counters.removeAll() }
            return counters.values.map { entry in
                AuditEvent(key: entry.key, applicationID: entry.applicationID, ip: entry.ip,
                           payload: ["count": .int(Int64(entry.count))], createdAt: Date())
            }
        }
        let pending = counted + buffer.withLock { events -> [AuditEvent] in
            defer { events.removeAll() }
            return events
        }
        guard !pending.isEmpty else { return }
        do {
            try await store.insertAuditEvents(pending)
        } catch {
            logger.error("could not write audit events", metadata: ["count": "\(pending.count)"])
        }
    }
}

/// Flushes the audit log every second while the server runs, and once more at shutdown.
struct AuditFlushService: Service {
    let audit: AuditLogger

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            } catch {
                break
            }
            await audit.flush()
        }
        await audit.flush()
    }
}
