import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO

/// SQLite in WAL mode behind a small pool of connections; each statement has a connection to itself.
public final class SQLiteDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    private let pool: ConnectionPool
    public let statistics: ConnectionStatistics? = ConnectionStatistics()

    public static func open(path: String, connections: Int = 4, logger: Logger) async throws -> SQLiteDatabase {
        // One thread per connection, of its own: a statement waiting on the busy timeout blocks its thread,
        // and a transaction holding the write lock must always find a thread to finish on.
        let count = max(1, connections)
        let threadPool = NIOThreadPool(numberOfThreads: count)
        threadPool.start()
        var opened: [SQLiteConnection] = []
        do {
            for index in 0..<count {
                let connection = try await SQLiteConnection.open(storage: .file(path: path), threadPool: threadPool,
                                                                 logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
                opened.append(connection)
                // The first connection turns on WAL; it is a property of the file, so the others see it.
                if index == 0 { _ = try await connection.query("PRAGMA journal_mode=WAL", []) }
                // A writer waits up to 15 s for the write lock: on a starved two-core machine 5 s proved too short
                // for a few short transactions queued behind each other, and the request deadline bounds the wait.
                _ = try await connection.query("PRAGMA busy_timeout=15000", [])
                _ = try await connection.query("PRAGMA foreign_keys=ON", [])
                _ = try await connection.query("PRAGMA synchronous=NORMAL", [])
            }
        } catch {
            // A file that is not a database fails at the first statement: close what was opened (an unclosed
            // connection traps when freed) and hand the reason on.
            for connection in opened { try? await connection.close() }
            try? await threadPool.shutdownGracefully()
            throw error
        }
        return SQLiteDatabase(pool: ConnectionPool(opened), threadPool: threadPool)
    }

    private let threadPool: NIOThreadPool

    private init(pool: ConnectionPool, threadPool: NIOThreadPool) {
        self.pool = pool
        self.threadPool = threadPool
    }

    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await withConnection { try await Self.run(sql, binds, on: $0) }
    }

    public func withTransaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws
        -> T
    {
        try await withConnection { connection in
            _ = try await connection.query("BEGIN IMMEDIATE", [])
            do {
                let result = try await body(Transaction(connection: connection))
                _ = try await connection.query("COMMIT", [])
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", [])
                throw error
            }
        }
    }

    public func withSnapshot<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await withConnection { connection in
            // Deferred: the snapshot starts at the first read and takes no write lock; `query_only` makes a write
            // inside it fail instead of upgrading the transaction to a writer.
            _ = try await connection.query("PRAGMA query_only=ON", [])
            _ = try await connection.query("BEGIN DEFERRED", [])
            do {
                let result = try await body(Transaction(connection: connection))
                _ = try await connection.query("COMMIT", [])
                _ = try await connection.query("PRAGMA query_only=OFF", [])
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", [])
                _ = try? await connection.query("PRAGMA query_only=OFF", [])
                throw error
            }
        }
    }

    /// The statements of one transaction, on the connection that holds it.
    private struct Transaction: SQLDatabase {
        let dialect = SQLDialect.sqlite
        let connection: SQLiteConnection

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try await SQLiteDatabase.run(sql, binds, on: connection)
        }

        func withTransaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
            try await body(self)
        }

        func withSnapshot<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
            try await body(self)
        }

        func close() async throws {}
    }

    private func withConnection<T: Sendable>(_ body: (SQLiteConnection) async throws -> T) async throws -> T {
        let asked = ContinuousClock.now
        let connection = await pool.acquire()
        statistics?.leased(after: ContinuousClock.now - asked)
        defer { statistics?.released() }
        do {
            let result = try await body(connection)
            await pool.release(connection)
            return result
        } catch {
            await pool.release(connection)
            throw error
        }
    }

    public func close() async throws {
        for connection in await pool.drain() { try await connection.close() }
        try await threadPool.shutdownGracefully()
    }

    fileprivate static func run(_ sql: String, _ binds: [SQLValue], on connection: SQLiteConnection) async throws
        -> [SQLRow]
    {
        try SQLValue.checkText(binds)
        let data: [SQLiteData] = binds.map {
            switch $0 {
            case .null: .null
            case .integer(let value): .integer(Int(value))
            case .text(let value): .text(value)
            }
        }
        return try await connection.query(sql, data).map { row in
            var values: [String: SQLValue] = [:]
            for column in row.columns {
                switch column.data {
                case .integer(let value): values[column.name] = .integer(Int64(value))
                case .text(let value): values[column.name] = .text(value)
                case .float(let value): values[column.name] = .integer(Int64(value))
                case .blob(let buffer): values[column.name] = .text(String(buffer: buffer))
                case .null: values[column.name] = .null
                }
            }
            return SQLRow(values)
        }
    }

    /// Hands out connections one caller at a time, in arrival order.
    private actor ConnectionPool {
        private var idle: [SQLiteConnection]
        private var waiters: [CheckedContinuation<SQLiteConnection, Never>] = []

        init(_ connections: [SQLiteConnection]) {
            idle = connections
        }

        func acquire() async -> SQLiteConnection {
            if let connection = idle.popLast() { return connection }
            return await withCheckedContinuation { waiters.append($0) }
        }

        func release(_ connection: SQLiteConnection) {
            if waiters.isEmpty {
                idle.append(connection)
            } else {
                waiters.removeFirst().resume(returning: connection)
            }
        }

        func drain() -> [SQLiteConnection] {
            defer { idle = [] }
            return idle
        }
    }
}
