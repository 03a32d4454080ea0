import Foundation
import SesameIdentity

/// A value bound to or read from SQL. The schema uses only text and 64-bit integers, so both databases
/// read and write the same values.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
}

public enum SQLDialect: String, Sendable {
    case sqlite, postgres
}

/// One result row, by column name.
public struct SQLRow: Sendable {
    public let values: [String: SQLValue]

    public init(_ values: [String: SQLValue]) {
        self.values = values
    }

    public func string(_ column: String) throws -> String {
        guard case .text(let value) = values[column] else { throw StorageError.corrupt(column) }
        return value
    }

    public func optionalString(_ column: String) -> String? {
        if case .text(let value) = values[column] { return value }
        return nil
    }

    public func int(_ column: String) throws -> Int64 {
        guard case .integer(let value) = values[column] else { throw StorageError.corrupt(column) }
        return value
    }

    public func optionalInt(_ column: String) -> Int64? {
        if case .integer(let value) = values[column] { return value }
        return nil
    }

    public func date(_ column: String) throws -> Date {
        Date(millisecondsSince1970: try int(column))
    }

    public func optionalDate(_ column: String) -> Date? {
        optionalInt(column).map(Date.init(millisecondsSince1970:))
    }

    public func bool(_ column: String) throws -> Bool {
        try int(column) != 0
    }

    /// A JSON column decoded into `T`.
    public func json<T: Decodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        do {
            return try JSONDecoder.storage.decode(T.self, from: Data(try string(column).utf8))
        } catch {
            throw StorageError.corrupt(column)
        }
    }
}

/// The narrow SQL surface the stores use. Statements are written once with `?` placeholders; the
/// PostgreSQL implementation numbers them.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    /// Runs `body` in one transaction, all or nothing: it commits when `body` returns and rolls back when it
    /// throws (or the process dies). `body` must use only the database it is given, which runs every statement
    /// on the transaction's connection; nested calls join the outer transaction. On SQLite the transaction
    /// takes the write lock at its start (`BEGIN IMMEDIATE`), so transactions run one at a time; on PostgreSQL
    /// it is `READ COMMITTED`, and `SELECT ... FOR UPDATE` (see `SQLDialect.forUpdate`) orders writers.
    func withTransaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body` on one consistent, read-only view of the database that does not hold writers up: every
    /// statement `body` runs through the database it is given sees the data as of the snapshot's first read,
    /// whatever other connections and processes commit meanwhile. On SQLite a deferred read transaction (in WAL
    /// mode writers go on beside it); on PostgreSQL `REPEATABLE READ, READ ONLY`. Used by backups and copies of a
    /// live installation; a write inside it fails.
    func withSnapshot<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    func close() async throws
    /// How the connection pool is used (the metrics endpoint reads it); nil inside a transaction.
    var statistics: ConnectionStatistics? { get }
}

extension SQLDatabase {
    public var statistics: ConnectionStatistics? { nil }
}

extension SQLDialect {
    /// The row-lock clause appended to a `SELECT` in a transaction: `FOR UPDATE` on PostgreSQL; nothing on
    /// SQLite, whose transactions already hold the database's write lock.
    public var forUpdate: String { self == .postgres ? " FOR UPDATE" : "" }
}

extension SQLDatabase {
    /// Runs several statements in one transaction.
    public func transaction(_ statements: [(String, [SQLValue])]) async throws {
        try await withTransaction { database in
            for (sql, binds) in statements { try await database.query(sql, binds) }
        }
    }

    @discardableResult
    public func query(_ sql: String, _ binds: SQLValue...) async throws -> [SQLRow] {
        try await query(sql, binds)
    }
}

/// The database cannot be reached right now (PostgreSQL down or unreachable, no pooled connection within a
/// second). Answered 503 with `Retry-After`; the pool reconnects by itself once the server is back.
public struct DatabaseUnavailable: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "the database is unavailable; try again shortly" }
}

public struct StorageError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public static func corrupt(_ column: String) -> StorageError {
        StorageError(description: "stored value in column '\(column)' has an unexpected type")
    }

    public static func invalidURL(_ reason: String) -> StorageError {
        StorageError(description: "SESAME_DB: \(reason)")
    }
}

extension Date {
    public init(millisecondsSince1970 value: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(value) / 1000)
    }

    /// Saturates instead of trapping for dates no 64-bit millisecond count can hold (or NaN).
    public var millisecondsSince1970: Int64 {
        let milliseconds = (timeIntervalSince1970 * 1000).rounded(.down)
        guard milliseconds.isFinite else { return 0 }
        return Int64(exactly: milliseconds) ?? (milliseconds < 0 ? Int64.min / 2 : Int64.max / 2)
    }
}

extension SQLValue {
    /// Refuses text with a NUL character, on both databases alike: PostgreSQL cannot store one in `TEXT`
    /// (and would answer with an error), and no identifier, name or setting has a use for one. The HTTP
    /// parsers refuse control characters earlier; this is the net under every other way in (path segments,
    /// decoded base64, CLI arguments). Throws `IdentityError.invalidInput`.
    static func checkText(_ binds: [SQLValue]) throws {
        for case .text(let value) in binds where value.utf8.contains(0) {
            throw IdentityError.invalidInput(phrase: "input.nul_character")
        }
    }

    public static func date(_ date: Date) -> SQLValue { .integer(date.millisecondsSince1970) }
    public static func date(_ date: Date?) -> SQLValue { date.map { .date($0) } ?? .null }
    public static func string(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    public static func bool(_ value: Bool) -> SQLValue { .integer(value ? 1 : 0) }
    public static func json(_ value: some Encodable) -> SQLValue {
        .text(String(decoding: (try? JSONEncoder.storage.encode(value)) ?? Data("null".utf8), as: UTF8.self))
    }
}

extension JSONEncoder {
    static let storage: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}

extension JSONDecoder {
    static let storage: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()
}
