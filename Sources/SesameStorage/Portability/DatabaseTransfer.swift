import Crypto
import Foundation
import Logging
import SesameOIDC
import Synchronization

/// One table of a copy, export or import: how many rows it holds and their digest.
public struct TableSummary: Sendable, Equatable {
    /// The table's name.
    public let table: String
    /// Its row count.
    public let rows: Int
    /// `TableDigest`'s value of its rows: lowercase hex SHA-256, equal on both databases for equal contents.
    public let digest: String

    public init(table: String, rows: Int, digest: String) {
        self.table = table
        self.rows = rows
        self.digest = digest
    }
}

/// How far a long transfer is, for a progress bar: `done` of `total` units (rows, or bytes for an import) of `table`.
public struct TransferProgress: Sendable {
    public let table: String
    public let done: Int
    public let total: Int
}

/// Why a portability verb will not run, in one line a person can act on (the target is not empty, not migrated, the
/// secret differs, the file is truncated, ...). Nothing was written when it is thrown.
public struct TransferRefusal: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The digest of a table's contents, independent of row order and of the database that holds them: each row is
/// hashed (SHA-256) over its columns in name order, each as its name and a typed value (null, integer, or text with its
/// length in bytes), and the table's digest is SHA-256 over the sorted row hashes. Equal tables on SQLite and
/// PostgreSQL have equal digests.
public struct TableDigest: Sendable {
    private var rowHashes: [[UInt8]] = []

    public init() {}

    /// Adds one row given as its values in `columns` order (as `DatabaseTransfer.forEachPage` reads them).
    public mutating func add(columns: [String], values: [SQLValue]) {
        add(zip(columns, values).map { (column: $0, value: $1) })
    }

    /// The rows added so far.
    public var count: Int { rowHashes.count }

    /// Adds one row, given as column name and value pairs in any order.
    public mutating func add(_ row: [(column: String, value: SQLValue)]) {
        var hasher = SHA256()
        for (column, value) in row.sorted(by: { $0.column < $1.column }) {
            hasher.update(data: Data("\(column.utf8.count):\(column)=".utf8))
            switch value {
            case .null: hasher.update(data: Data("n;".utf8))
            case .integer(let integer): hasher.update(data: Data("i\(integer);".utf8))
            case .text(let text): hasher.update(data: Data("t\(text.utf8.count):".utf8) + Data(text.utf8) + Data(";".utf8))
            }
        }
        rowHashes.append(Array(hasher.finalize()))
    }

    /// The table's digest, lowercase hex.
    public func finalize() -> String {
        var hasher = SHA256()
        for hash in rowHashes.sorted(by: { $0.lexicographicallyPrecedes($1) }) { hasher.update(data: hash) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// Moves Sesame's tables between databases, SQLite or PostgreSQL in either direction: `sesame db copy`, the live path
/// of `sesame restore --force`, and the checks `sesame export`/`import` share. Every write is one transaction on the
/// target, verified (row counts and `TableDigest`s read back) before it commits; the source is read from one
/// consistent snapshot, so a live installation keeps serving while it is copied.
public enum DatabaseTransfer {
    /// Rows read per page (keyset pagination by primary key) and, at most, inserted per statement.
    static let pageSize = 500
    /// Bound values per INSERT statement: below SQLite's 32,766 and PostgreSQL's 65,535.
    static let maximumBinds = 8_000

    /// The migration versions this build knows, in order.
    static var knownVersions: [Int] { Migration.all.map(\.version) }

    /// The applied migration versions, or nil when the database was never migrated. Throws what the database throws.
    public static func appliedVersions(in database: any SQLDatabase) async throws -> [Int]? {
        guard try await TableCatalog.tableNames(in: database).contains("schema_migrations") else { return nil }
        return try await Migrator(database: database).appliedVersions()
    }

    /// Refuses a database whose schema is not exactly this build's (`role` names it in the message: "source",
    /// "target").
    static func requireCurrentSchema(_ database: any SQLDatabase, role: String, hint: String) async throws {
        guard let versions = try await appliedVersions(in: database), !versions.isEmpty else {
            throw TransferRefusal("the \(role) database is not migrated: \(hint)")
        }
        let latest = knownVersions.last ?? 0
        if let newest = versions.last, newest > latest {
            throw TransferRefusal("the \(role) database is at migration \(newest), newer than this sesame (\(latest)): "
                + "use the sesame that migrated it")
        }
        guard versions == knownVersions else {
            throw TransferRefusal("the \(role) database is at migration \(versions.last ?? 0), this sesame at \(latest): \(hint)")
        }
        let unknown = try await TableCatalog.unknownTables(in: database)
        guard unknown.isEmpty else {
            throw TransferRefusal("the \(role) database has tables this sesame does not know (\(unknown.joined(separator: ", ")))")
        }
    }

    /// Refuses a database sealed with another `SESAME_SECRET` than `secret` (a database without a check value yet is
    /// accepted).
    static func requireSecret(_ secret: String, in database: any SQLDatabase, role: String) async throws {
        guard let stored = try await storedSecretCheck(in: database) else { return }
        guard SecretDigest.constantTimeEquals(stored, SQLStore.checkValue(for: secret)) else {
            throw TransferRefusal("the \(role) was sealed with a different SESAME_SECRET: run this with the secret its "
                + "servers use (sealed keys and connector settings open only with it)")
        }
    }

    static func storedSecretCheck(in database: any SQLDatabase) async throws -> String? {
        try await database.query("SELECT value FROM installation WHERE key = ?", .text(SQLStore.secretCheckKey))
            .first?.string("value")
    }

    /// The tables whose contents differ from a freshly migrated database's (migrations seed a few rows, such as the
    /// Management API role), with their row counts: empty when the database holds no data of its own. Call inside a
    /// transaction or snapshot. Throws what the database throws.
    public static func occupiedTables(in database: any SQLDatabase) async throws -> [(table: String, rows: Int)] {
        let pristine = try await pristineSummaries()
        return try await summarize(database).filter { summary in
            summary != pristine.first { $0.table == summary.table }
        }.map { (table: $0.table, rows: $0.rows) }
    }

    /// The summaries of a database that was just migrated, from a private in-memory SQLite database (once per process:
    /// they depend only on the build's migrations).
    static func pristineSummaries() async throws -> [TableSummary] {
        if let known = pristine.withLock({ $0 }) { return known }
        let summaries = try await migratedSummaries()
        pristine.withLock { $0 = summaries }
        return summaries
    }

    private static let pristine = Mutex<[TableSummary]?>(nil)

    private static func migratedSummaries() async throws -> [TableSummary] {
        var logger = Logger(label: "sesame.transfer")
        logger.logLevel = .warning
        let database = try await SQLiteDatabase.open(path: ":memory:", connections: 1, logger: logger)
        do {
            try await Migrator(database: database).migrate()
            let summaries = try await summarize(database)
            try await database.close()
            return summaries
        } catch {
            try? await database.close()
            throw error
        }
    }

    /// Deletes every row of every catalog table the schema has (an older schema lacks later ones), children first.
    static func deleteAll(in database: any SQLDatabase) async throws {
        let existing = Set(try await TableCatalog.tableNames(in: database))
        for table in TableCatalog.tables.reversed() where existing.contains(table.name) {
            try await database.query("DELETE FROM \(quoted(table.name))")
        }
    }

    /// "users: 3, roles: 2, ..." for a refusal.
    static func listing(_ occupied: [(table: String, rows: Int)]) -> String {
        occupied.prefix(3).map { "\($0.table): \($0.rows) \($0.rows == 1 ? "row" : "rows")" }.joined(separator: ", ") + (occupied.count > 3 ? ", ..." : "")
    }

    static func count(_ table: String, in database: any SQLDatabase) async throws -> Int {
        Int(try await database.query("SELECT COUNT(*) AS n FROM \(quoted(table))").first?.int("n") ?? 0)
    }

    /// Copies every table from `source` (read in one snapshot) into `target` (one transaction), then reads the
    /// target back and compares row counts and digests before committing. Both must be migrated to this build's
    /// version; `target` must be empty unless `replacing`, which first deletes every row it holds (the live restore).
    /// The source must have been sealed with `secret`. Returns the source's tables.
    /// Throws `TransferRefusal` for each refusal (nothing written), or what either database throws (rolled back).
    public static func copy(from source: any SQLDatabase, to target: any SQLDatabase, secret: String,
                            replacing: Bool = false, migrateHint: String = "run `sesame migrate` on it first",
                            progress: @escaping @Sendable (TransferProgress) -> Void = { _ in }) async throws
        -> [TableSummary]
    {
        try await source.withSnapshot { source in
            try await requireCurrentSchema(source, role: "source", hint: migrateHint)
            try await requireSecret(secret, in: source, role: "source database")
            var totals: [String: Int] = [:]
            for table in TableCatalog.tables { totals[table.name] = try await count(table.name, in: source) }
            let sizes = totals
            return try await target.withTransaction { target in
                try await requireCurrentSchema(target, role: "target", hint: migrateHint)
                try await requireSecret(secret, in: target, role: "target database")
                if !replacing {
                    let occupied = try await occupiedTables(in: target)
                    guard occupied.isEmpty else {
                        throw TransferRefusal("the target database is not empty (\(listing(occupied))): "
                            + "copy into a new database, migrated with `sesame migrate`")
                    }
                }
                // What is left is either to be replaced or the rows migrations seed, which the source has too.
                try await deleteAll(in: target)
                var summaries: [TableSummary] = []
                for table in TableCatalog.tables {
                    let columns = try await TableCatalog.columns(of: table.name, in: source)
                    let targetColumns = try await TableCatalog.columns(of: table.name, in: target)
                    guard columns == targetColumns else {
                        throw TransferRefusal("table \(table.name) has different columns in the source and the target")
                    }
                    let total = sizes[table.name] ?? 0
                    var digest = TableDigest()
                    try await forEachPage(of: table, columns: columns, in: source) { rows in
                        for row in rows { digest.add(columns: columns, values: row) }
                        try await insert(rows, into: table, columns: columns, conflict: .refuse, in: target)
                        progress(TransferProgress(table: table.name, done: digest.count, total: total))
                    }
                    summaries.append(TableSummary(table: table.name, rows: digest.count, digest: digest.finalize()))
                }
                let written = try await summarize(target)
                for (read, written) in zip(summaries, written) where read != written {
                    throw TransferRefusal("verification failed for table \(read.table): \(read.rows) rows read, "
                        + "\(written.rows) written, digests \(read.digest == written.digest ? "equal" : "differ"); "
                        + "nothing was written")
                }
                return summaries
            }
        }
    }

    /// Every catalog table's row count and digest, read from the database as it is given (call inside
    /// `withSnapshot` or a transaction for one consistent view). Throws what the database throws.
    public static func summarize(_ database: any SQLDatabase) async throws -> [TableSummary] {
        var summaries: [TableSummary] = []
        for table in TableCatalog.tables {
            let columns = try await TableCatalog.columns(of: table.name, in: database)
            var digest = TableDigest()
            try await forEachPage(of: table, columns: columns, in: database) { rows in
                for row in rows { digest.add(columns: columns, values: row) }
            }
            summaries.append(TableSummary(table: table.name, rows: digest.count, digest: digest.finalize()))
        }
        return summaries
    }

    /// Reads a table in pages of `pageSize` rows ordered by its primary key, each row's values in `columns` order.
    static func forEachPage(of table: TableCatalog.Table, columns: [String], in database: any SQLDatabase,
                            _ body: ([[SQLValue]]) async throws -> Void) async throws
    {
        let selected = columns.map(quoted).joined(separator: ", ")
        let key = table.primaryKey.map(quoted).joined(separator: ", ")
        let keyIndexes = table.primaryKey.compactMap { columns.firstIndex(of: $0) }
        guard keyIndexes.count == table.primaryKey.count else {
            throw TransferRefusal("table \(table.name) lacks its primary key columns")
        }
        var last: [SQLValue]?
        while true {
            var sql = "SELECT \(selected) FROM \(quoted(table.name))"
            var binds: [SQLValue] = []
            if let last {
                sql += " WHERE (\(key)) > (\(Array(repeating: "?", count: last.count).joined(separator: ", ")))"
                binds = last
            }
            sql += " ORDER BY \(key) LIMIT \(pageSize)"
            let rows = try await database.query(sql, binds).map { row in columns.map { row.values[$0] ?? .null } }
            if rows.isEmpty { return }
            try await body(rows)
            guard rows.count == pageSize, let final = rows.last else { return }
            last = keyIndexes.map { final[$0] }
        }
    }

    /// What an insert does with a row whose primary key the target already holds.
    public enum Conflict: String, Sendable, CaseIterable {
        /// Fails (the transaction rolls back).
        case refuse
        /// Keeps the target's row.
        case skip
        /// Overwrites the target's row with the incoming one.
        case replace
    }

    /// Inserts rows (values in `columns` order) in statements of at most `maximumBinds` values.
    static func insert(_ rows: [[SQLValue]], into table: TableCatalog.Table, columns: [String], conflict: Conflict,
                       in database: any SQLDatabase) async throws
    {
        guard !rows.isEmpty, !columns.isEmpty else { return }
        let perStatement = max(1, maximumBinds / columns.count)
        let placeholders = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        let key = table.primaryKey.map(quoted).joined(separator: ", ")
        let updates = columns.filter { !table.primaryKey.contains($0) }.map { "\(quoted($0)) = excluded.\(quoted($0))" }
        let onConflict = switch conflict {
        case .refuse: ""
        case .skip: " ON CONFLICT (\(key)) DO NOTHING"
        case .replace: updates.isEmpty ? " ON CONFLICT (\(key)) DO NOTHING"
            : " ON CONFLICT (\(key)) DO UPDATE SET \(updates.joined(separator: ", "))"
        }
        var start = 0
        while start < rows.count {
            let batch = rows[start..<min(rows.count, start + perStatement)]
            let sql = "INSERT INTO \(quoted(table.name)) (\(columns.map(quoted).joined(separator: ", "))) VALUES "
                + Array(repeating: placeholders, count: batch.count).joined(separator: ", ") + onConflict
            try await database.query(sql, batch.flatMap { $0 })
            start += batch.count
        }
    }

    /// An SQL identifier, double-quoted (both dialects).
    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
