import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization

/// PostgreSQL through PostgresNIO's pooled client, which runs in a task owned by this value.
public final class PostgresDatabase: SQLDatabase {
    public let dialect = SQLDialect.postgres
    public let statistics: ConnectionStatistics? = ConnectionStatistics()
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger

    /// Connects to `postgres://user:password@host:port/database` (`?sslmode=require` for TLS).
    /// `watchingConnections`: each statement of a transaction also watches its connection and fails as soon as the
    /// server closes it (for long transactions such as `sesame db copy` and `import`, whose statement in flight when
    /// the backend was terminated was seen to wait forever); it costs a task per statement, so servers leave it off.
    public static func open(url: String, logger: Logger, maximumConnections: Int = 16, watchingConnections: Bool = false)
        async throws -> PostgresDatabase
    {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme),
              let host = components.host, !host.isEmpty
        else { throw StorageError.invalidURL("expected postgres://user:password@host:port/database") }
        guard let user = components.user, !user.isEmpty else {
            throw StorageError.invalidURL("the PostgreSQL URL needs a user name")
        }
        let databaseName = String(components.path.drop(while: { $0 == "/" }))
        let sslMode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable"
        // libpq's `connect_timeout` (seconds): here also how long a statement waits for a pooled connection
        // before the database counts as unreachable (503). Default 1 s.
        var leaseTimeout = Self.defaultLeaseTimeout
        if let text = components.queryItems?.first(where: { $0.name == "connect_timeout" })?.value {
            guard let seconds = Int(text), (1...60).contains(seconds) else {
                throw StorageError.invalidURL("connect_timeout must be 1 to 60 seconds")
            }
            leaseTimeout = .seconds(seconds)
        }
        let tls: PostgresClient.Configuration.TLS
        var probe = PostgresConnection.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: databaseName.isEmpty ? nil : databaseName, tls: .disable)
        switch sslMode {
        case "disable":
            tls = .disable
        case "prefer":
            tls = .prefer(.makeClientConfiguration())
            probe.tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case "require", "verify-full":
            tls = .require(.makeClientConfiguration())
            probe.tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        default:
            throw StorageError.invalidURL("sslmode must be disable, prefer, require or verify-full")
        }
        // One direct connection first: a refused or misconfigured server fails now with its reason,
        // instead of the pool retrying in the background.
        probe.options.connectTimeout = .seconds(5)
        do {
            try await PostgresConnection.connect(configuration: probe, id: 0, logger: logger).close()
        } catch {
            throw StorageError(description: "PostgreSQL at \(host):\(components.port ?? 5432): \(describe(error))")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: databaseName.isEmpty ? nil : databaseName, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let database = PostgresDatabase(client: client, logger: logger, leaseTimeout: leaseTimeout,
                                        watchingConnections: watchingConnections)
        // Give the pool's run loop a moment to start, so the first query does not race it.
        try await Task.sleep(for: .milliseconds(10))
        return database
    }

    private let watchingConnections: Bool

    private init(client: PostgresClient, logger: Logger, leaseTimeout: Duration, watchingConnections: Bool) {
        self.watchingConnections = watchingConnections
        self.leaseTimeout = leaseTimeout
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
    }

    /// How long a statement waits for a pooled connection before the database counts as unreachable
    /// (`DatabaseUnavailable`, answered 503 with `Retry-After`): the pool keeps no deadline of its own and would
    /// wait up to a minute while the server is down.
    static let defaultLeaseTimeout: Duration = .seconds(1)
    /// This pool's wait (`connect_timeout` in the URL, else `defaultLeaseTimeout`).
    let leaseTimeout: Duration

    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let query = try Self.makeQuery(sql, binds)
        let logger = logger
        return try await withConnection { connection in
            try await Self.rows(try await connection.query(query, logger: logger))
        }
    }

    private enum LeaseState { case waiting, leased, abandoned }

    /// Whether a statement got its connection or was given up, decided once under a lock.
    private final class Lease: Sendable {
        private let state = Mutex(LeaseState.waiting)

        /// Moves from waiting to `next`; false when the other side decided first.
        func settle(_ next: LeaseState) -> Bool {
            state.withLock { state in
                guard state == .waiting else { return false }
                state = next
                return true
            }
        }
    }
    private enum LeaseOutcome<T: Sendable>: Sendable { case done(T), deadline }

    /// Runs `body` on a pooled connection, or throws `DatabaseUnavailable` when none comes within
    /// `leaseTimeout`. A statement that has its connection is never abandoned half-way: the deadline only
    /// covers the wait, and is decided under a lock, so a write the caller was told failed never runs.
    private func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T)
        async throws -> T
    {
        let lease = Lease()
        let client = client
        let statistics = statistics
        let asked = ContinuousClock.now
        let leaseTimeout = leaseTimeout
        return try await withThrowingTaskGroup(of: LeaseOutcome<T>.self) { group in
            group.addTask {
                .done(try await client.withConnection { connection in
                    guard lease.settle(.leased) else { throw DatabaseUnavailable() }
                    statistics?.leased(after: ContinuousClock.now - asked)
                    defer { statistics?.released() }
                    return try await body(connection)
                })
            }
            group.addTask {
                try await Task.sleep(for: leaseTimeout)
                return .deadline
            }
            while let outcome = try await group.next() {
                switch outcome {
                case .done(let value):
                    group.cancelAll()
                    return value
                case .deadline:
                    if lease.settle(.abandoned) {
                        group.cancelAll()
                        throw DatabaseUnavailable()
                    }
                }
            }
            throw DatabaseUnavailable()
        }
    }

    fileprivate static func rows(_ rows: PostgresRowSequence) async throws -> [SQLRow] {
        var result: [SQLRow] = []
        for try await row in rows {
            var values: [String: SQLValue] = [:]
            for cell in row {
                values[cell.columnName] = try Self.value(of: cell)
            }
            result.append(SQLRow(values))
        }
        return result
    }

    public func withTransaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws
        -> T
    {
        try await transaction("BEGIN", body)
    }

    /// BEGIN (as `begin` says), `body`, COMMIT; ROLLBACK when `body` throws, unless the connection is closed already:
    /// a statement sent on a connection the server closed (a terminated backend, a restart) was seen to wait
    /// forever instead of failing, PostgresNIO's own `withTransaction` rollback among them, and the server has
    /// rolled the transaction back anyway. The caller's own error comes out as itself.
    private func transaction<T: Sendable>(_ begin: String, _ body: @Sendable (any SQLDatabase) async throws -> T)
        async throws -> T
    {
        let logger = logger
        let watched = watchingConnections
        // The task group inside `withConnection` ends before this returns, so `body` does not outlive it.
        return try await withoutActuallyEscaping(body) { body in
            try await withConnection { connection in
                let transaction = Transaction(connection: connection, logger: logger, watched: watched)
                try await transaction.query(begin, [])
                do {
                    let result = try await body(transaction)
                    try await transaction.query("COMMIT", [])
                    return result
                } catch {
                    if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
                    throw error
                }
            }
        }
    }

    public func withSnapshot<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await transaction("START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", body)
    }

    /// The statements of one transaction, on the connection that holds it.
    private struct Transaction: SQLDatabase {
        let dialect = SQLDialect.postgres
        let connection: PostgresConnection
        let logger: Logger
        var watched = false

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            // A statement sent on a connection the server already closed (a terminated backend, a restart) was seen
            // to wait forever instead of failing: a transaction's connection is checked before each statement.
            guard !connection.isClosed else { throw DatabaseUnavailable() }
            let query = try PostgresDatabase.makeQuery(sql, binds)
            let (connection, logger) = (connection, logger)
            guard watched else { return try await PostgresDatabase.rows(try await connection.query(query, logger: logger)) }
            // The statement runs in a task of its own while this one checks the connection every 200 ms: when the
            // server closes it, the caller gets `DatabaseUnavailable` at once and the statement's task is left to end.
            let outcome = Outcome<[SQLRow]>()
            return try await withCheckedThrowingContinuation { continuation in
                let work = Task {
                    do {
                        let rows = try await PostgresDatabase.rows(try await connection.query(query, logger: logger))
                        outcome.settle(continuation, with: .success(rows))
                    } catch {
                        outcome.settle(continuation, with: .failure(error))
                    }
                }
                Task {
                    while !outcome.isSettled {
                        try? await Task.sleep(for: .milliseconds(200))
                        if connection.isClosed {
                            outcome.settle(continuation, with: .failure(DatabaseUnavailable()))
                            work.cancel()
                        }
                    }
                }
            }
        }

        /// Resumes a continuation once, whichever side comes first.
        final class Outcome<T: Sendable>: Sendable {
            private let settled = Mutex(false)
            var isSettled: Bool { settled.withLock { $0 } }

            func settle(_ continuation: CheckedContinuation<T, any Error>, with result: Result<T, any Error>) {
                let first = settled.withLock { settled in
                    defer { settled = true }
                    return !settled
                }
                if first { continuation.resume(with: result) }
            }
        }

        func withTransaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
            try await body(self)
        }

        func withSnapshot<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
            try await body(self)
        }

        func close() async throws {}
    }

    public func close() async throws {
        runner.cancel()
        await runner.value
    }

    /// A reason a person can act on, without the connection's password: the server's message for a `PSQLError`
    /// (whose own description hides everything), else the error's description.
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return String(describing: underlying) }
        switch error.code {
        case .connectionError: return "could not connect"
        case .authMechanismRequiresPassword: return "the server requires a password"
        case .sslUnsupported: return "the server does not support TLS"
        default: return "connection failed (\(error.code))"
        }
    }

    /// Numbers `?` placeholders as `$1, $2, ...`, leaving quoted text alone.
    static func makeQuery(_ sql: String, _ binds: [SQLValue]) throws -> PostgresQuery {
        try SQLValue.checkText(binds)
        var text = ""
        var index = 0
        var inQuote = false
        for character in sql {
            if character == "'" { inQuote.toggle() }
            if character == "?", !inQuote {
                index += 1
                text += "$\(index)"
            } else {
                text.append(character)
            }
        }
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            switch bind {
            case .null: bindings.appendNull()
            case .integer(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: bindings)
    }

    private static func value(of cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2: return .integer(try cell.decode(Int64.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .numeric, .float8, .float4: return .integer(Int64(try cell.decode(Double.self)))
        default: return .text(try cell.decode(String.self))
        }
    }
}
