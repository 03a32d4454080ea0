import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// Limits that keep slow, idle or hostile connections from crowding out real clients, and a shutdown that
/// ends in bounded time.
public enum ConnectionLimits {
    /// How long a connection may sit between requests, or between the parts of one request (headers still
    /// arriving, a body that stalls), before it is closed (by `PublishedDocumentHandler`, which sees every request), in
    /// seconds.
    public static let idleTimeout: Int64 = 15
    /// How long a whole request (head to end) may take to arrive, however it trickles in; then the connection
    /// is closed (`RequestDeadlineHandler`).
    public static let requestDeadline: TimeAmount = .seconds(10)
    /// Open file descriptors kept back from connections: the database, log files, outgoing connections.
    static let reservedDescriptors = 128
    /// After SIGTERM or SIGINT: in-flight requests may finish for this long, then they are cancelled.
    public static let gracefulShutdown: Duration = .seconds(10)
    /// How long cancelled work may take before the process ends regardless.
    public static let cancellation: Duration = .seconds(5)

    /// Raises the soft limit of open files to the hard limit (at most 65,536), as Go's runtime does, so the
    /// common default of 1,024 does not cap connections; returns the soft limit in force.
    public static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let target = min(limit.rlim_max, 65_536)
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// The most connections served at once for a soft open-file limit: what is left after the reserve (at
    /// least 64). Past it the listener stops accepting until connections close; idle ones close after
    /// `idleTimeout`.
    public static func maximumConnections(openFileLimit: Int) -> Int {
        max(64, openFileLimit - reservedDescriptors)
    }

    /// Runs `services` (the application, and the metrics listener when configured) until SIGTERM or SIGINT, then shuts down gracefully within
    /// `gracefulShutdown`, cancelling what is left, and ends the process after `cancellation` more at most.
    public static func run(_ services: [any Service], logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger)
        configuration.maximumGracefulShutdownDuration = gracefulShutdown
        configuration.maximumCancellationDuration = cancellation
        try await ServiceGroup(configuration: configuration).run()
    }
}
