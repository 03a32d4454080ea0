import Foundation
import Logging
import ServiceLifecycle
import SesameStorage

/// Deletes expired codes, tokens, sessions, interactions and counters every few minutes.
struct ExpiryService: Service {
    let store: SQLStore
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            do {
                try await store.deleteExpired(before: Date())
            } catch {
                logger.warning("could not delete expired records", metadata: ["error": "\(error)"])
            }
        }
    }
}
