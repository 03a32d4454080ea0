import Foundation
import SesameOIDC

/// `sesame export` and `sesame import`: every table as JSON Lines, for moving between versions and databases and for
/// inspection.
///
/// The format, version 1 (UTF-8, one JSON object per line, `\n` after each):
/// - line 1, the header: `{"format":"sesame-export","formatVersion":1,"schemaVersion":15,"exportedAt":MS,
///   "secretCheck":"..."}` (`exportedAt` in milliseconds since 1970; `secretCheck` the database's `SESAME_SECRET`
///   check value, a MAC that reveals nothing about the secret);
/// - one line per row, tables in `TableCatalog` order: `{"table":"users","row":{"id":"...","created_at":1733...}}`,
///   every column as stored (text as a string, integers as numbers, null); secrets and private keys stay sealed or
///   hashed exactly as in the database;
/// - the trailer: `{"end":{"rows":N,"tables":[{"table":"users","rows":3,"digest":"..."}]}}` with each table's
///   `TableDigest`, so a truncated or altered file is refused as a whole.
public enum LogicalExport {
    public static let format = "sesame-export"
    public static let formatVersion = 1
    /// The longest line an import reads (bytes): far above any row Sesame stores (a branding asset is at most a few
    /// hundred kilobytes), low enough that a hostile file cannot exhaust memory.
    public static let maximumLineBytes = 32 * 1024 * 1024

    /// Writes the database, read in one snapshot (it may be serving), to `file`, which must not exist; the file
    /// appears under its name only once complete. Throws `TransferRefusal` (schema, existing file, a database sealed
    /// with another secret than `secret`) or what the database and the file system throw.
    public static func export(from database: any SQLDatabase, to file: String, secret: String, now: Date = Date(),
                              progress: @escaping @Sendable (TransferProgress) -> Void = { _ in }) async throws
        -> [TableSummary]
    {
        guard !SQLiteBackup.exists(file) else {
            throw TransferRefusal("\(file) exists: choose a new file name (an export never overwrites one)")
        }
        try SQLiteBackup.requireFolder(of: file)
        let partial = SQLiteBackup.temporaryPath(beside: file, purpose: "export")
        guard FileManager.default.createFile(atPath: partial, contents: nil),
              let handle = FileHandle(forWritingAtPath: partial)
        else { throw TransferRefusal("cannot write \(file)") }
        defer { try? FileManager.default.removeItem(atPath: partial) }
        let summaries: [TableSummary]
        do {
            summaries = try await database.withSnapshot { database in
                try await DatabaseTransfer.requireCurrentSchema(database, role: "source", hint: "run `sesame migrate` first")
                try await DatabaseTransfer.requireSecret(secret, in: database, role: "database")
                let writer = LineWriter(handle: handle)
                var header: [String: JSONValue] = [
                    "format": .string(format), "formatVersion": .int(Int64(formatVersion)),
                    "schemaVersion": .int(Int64(DatabaseTransfer.knownVersions.last ?? 0)),
                    "exportedAt": .int(now.millisecondsSince1970),
                ]
                if let check = try await DatabaseTransfer.storedSecretCheck(in: database) {
                    header["secretCheck"] = .string(check)
                }
                try writer.write(.object(header))
                var summaries: [TableSummary] = []
                for table in TableCatalog.tables {
                    let total = try await DatabaseTransfer.count(table.name, in: database)
                    let columns = try await TableCatalog.columns(of: table.name, in: database)
                    var digest = TableDigest()
                    try await DatabaseTransfer.forEachPage(of: table, columns: columns, in: database) { rows in
                        for row in rows {
                            digest.add(columns: columns, values: row)
                            var object: [String: JSONValue] = [:]
                            for (column, value) in zip(columns, row) { object[column] = json(value) }
                            try writer.write(.object(["table": .string(table.name), "row": .object(object)]))
                        }
                        progress(TransferProgress(table: table.name, done: digest.count, total: total))
                    }
                    summaries.append(TableSummary(table: table.name, rows: digest.count, digest: digest.finalize()))
                }
                try writer.write(trailer(summaries))
                try writer.flush()
                return summaries
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        guard link(partial, file) == 0 || (!FileManager.default.fileExists(atPath: file) && rename(partial, file) == 0)
        else { throw TransferRefusal("cannot write \(file): \(String(cString: strerror(errno)))") }
        return summaries
    }

    /// Reads an export into `database` (migrating it to this build's version first) in one transaction that commits
    /// only when the whole file was read and its trailer's counts and digests match. An empty database is required
    /// unless `conflict` says how to merge (`skip` keeps rows already there, `replace` overwrites them by primary
    /// key); an export sealed with another `SESAME_SECRET`, from a newer schema, with unknown tables or columns,
    /// or malformed at any line is refused with that line's number. Returns the file's tables.
    public static func `import`(from file: String, into database: any SQLDatabase, secret: String,
                                conflict: DatabaseTransfer.Conflict,
                                progress: @escaping @Sendable (TransferProgress) -> Void = { _ in }) async throws
        -> [TableSummary]
    {
        let (reader, handle, schemaVersion) = try open(file, secret: secret)
        defer { try? handle.close() }
        let total = Int(SQLiteBackup.size(of: file))
        let secretCheck = SQLStore.checkValue(for: secret)
        // An export from an older sesame goes into a new database brought to the file's version, and the migrations
        // since then run afterwards, with their data changes, as they would have on the installation it came from.
        let older = schemaVersion < Int64(DatabaseTransfer.knownVersions.last ?? 0)
        let fileMigrations = Migration.all.filter { Int64($0.version) <= schemaVersion }
        if older {
            guard conflict == .refuse else {
                throw TransferRefusal("\(file) comes from an older sesame (migration \(schemaVersion)): it imports only into "
                    + "a new database, without --merge")
            }
            guard try await TableCatalog.tableNames(in: database).isEmpty else {
                throw TransferRefusal("\(file) comes from an older sesame (migration \(schemaVersion)): import it into a new, "
                    + "unmigrated database (it is brought to this version after the import)")
            }
            try await Migrator(database: database, migrations: fileMigrations).migrate()
        } else {
            try await Migrator(database: database).migrate()
        }
        let summaries = try await database.withTransaction { database in
            if older {
                guard try await DatabaseTransfer.appliedVersions(in: database) == fileMigrations.map(\.version) else {
                    throw TransferRefusal("the database changed while it was prepared for the import")
                }
            } else {
                try await DatabaseTransfer.requireCurrentSchema(database, role: "target", hint: "run `sesame migrate` first")
            }
            try await DatabaseTransfer.requireSecret(secret, in: database, role: "target database")
            if conflict == .refuse {
                let occupied = older ? [] : try await DatabaseTransfer.occupiedTables(in: database)
                guard occupied.isEmpty else {
                    throw TransferRefusal("the database is not empty (\(DatabaseTransfer.listing(occupied))): import into "
                        + "a new one, or say how to merge with --merge skip or --merge replace")
                }
                // Only the rows migrations seed are there, and the file has them too.
                try await DatabaseTransfer.deleteAll(in: database)
            }
            let catalog = Dictionary(uniqueKeysWithValues: TableCatalog.tables.map { ($0.name, $0) })
            let order = Dictionary(uniqueKeysWithValues: TableCatalog.tables.enumerated().map { ($1.name, $0) })
            var columnsByTable: [String: [String: TableCatalog.ColumnType]] = [:]
            for table in TableCatalog.tables {
                columnsByTable[table.name] = try await TableCatalog.columnTypes(of: table.name, in: database)
            }
            var digests: [String: TableDigest] = [:]
            var pending: [[SQLValue]] = []
            var pendingTable: TableCatalog.Table?
            var pendingColumns: [String] = []
            var lineNumber = 1
            var trailer: JSONValue?
            func flush() async throws {
                if let table = pendingTable, !pending.isEmpty {
                    try await DatabaseTransfer.insert(pending, into: table, columns: pendingColumns, conflict: conflict,
                                                      in: database)
                    progress(TransferProgress(table: table.name, done: reader.bytesRead, total: total))
                }
                pending = []
            }
            while let line = try reader.next() {
                lineNumber += 1
                guard trailer == nil else { throw TransferRefusal("line \(lineNumber): data after the trailer") }
                let record = try parse(line, line: lineNumber)
                if let end = record["end"] {
                    trailer = end
                    continue
                }
                guard let name = record["table"]?.stringValue, let table = catalog[name] else {
                    throw TransferRefusal("line \(lineNumber): unknown table \(record["table"]?.stringValue ?? "(none)")")
                }
                guard case .object(let fields)? = record["row"] else {
                    throw TransferRefusal("line \(lineNumber): \"row\" must be an object")
                }
                if let current = pendingTable, current.name != name {
                    guard let next = order[name], let previous = order[current.name], next > previous else {
                        throw TransferRefusal("line \(lineNumber): table \(name) out of order (tables come in dependency order)")
                    }
                }
                let columns = fields.keys.sorted()
                let types = columnsByTable[name] ?? [:]
                for column in columns where types[column] == nil {
                    throw TransferRefusal("line \(lineNumber): table \(name) has no column \(column) in this schema")
                }
                for (column, type) in types where !type.isNullable && fields[column] == nil && !type.hasDefault {
                    throw TransferRefusal("line \(lineNumber): table \(name) needs a value for column \(column)")
                }
                var values: [SQLValue] = []
                for column in columns {
                    let type = types[column]!
                    switch fields[column]! {
                    case .null where type.isNullable: values.append(.null)
                    case .int(let integer) where type.isInteger: values.append(.integer(integer))
                    case .string(let text) where !type.isInteger: values.append(.text(text))
                    default:
                        throw TransferRefusal("line \(lineNumber): column \(name).\(column) must be "
                            + (type.isInteger ? "an integer" : "a string") + (type.isNullable ? " or null" : ""))
                    }
                }
                // The file's own copy of the secret's check value must agree with the header's (and this secret).
                if name == "installation", fields["key"] == .string(SQLStore.secretCheckKey),
                   !SecretDigest.constantTimeEquals(fields["value"]?.stringValue ?? "", secretCheck)
                {
                    throw TransferRefusal("line \(lineNumber): the data was sealed with a different SESAME_SECRET")
                }
                if pendingTable?.name != name || pendingColumns != columns || pending.count >= DatabaseTransfer.pageSize {
                    try await flush()
                }
                pendingTable = table
                pendingColumns = columns
                pending.append(values)
                digests[name, default: TableDigest()].add(columns: columns, values: values)
            }
            try await flush()
            guard let trailer else { throw TransferRefusal("\(file) is truncated: it ends without its trailer line") }
            let summaries = TableCatalog.tables.map {
                TableSummary(table: $0.name, rows: digests[$0.name]?.count ?? 0,
                             digest: (digests[$0.name] ?? TableDigest()).finalize())
            }
            try verify(summaries, against: trailer)
            if conflict == .refuse, !older {
                // Same schema, empty target: the database now holds exactly the file.
                for (read, written) in zip(summaries, try await DatabaseTransfer.summarize(database)) where read != written {
                    throw TransferRefusal("verification failed for table \(read.table); nothing was imported")
                }
            }
            return summaries
        }
        if older { try await Migrator(database: database).migrate() }
        return summaries
    }

    /// Opens an export and checks its header: the format, a schema this build can read, and the secret's check value.
    /// Returns the reader positioned after the header. Throws `TransferRefusal`.
    static func open(_ file: String, secret: String) throws -> (LineReader, FileHandle, Int64) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw TransferRefusal("there is no file \(file)")
        }
        guard !isDirectory.boolValue, let handle = FileHandle(forReadingAtPath: file) else {
            throw TransferRefusal("cannot read \(file)")
        }
        do {
            let reader = LineReader(handle: handle)
            guard let first = try reader.next() else { throw TransferRefusal("\(file) is empty") }
            let header = try parse(first, line: 1)
            guard header["format"]?.stringValue == format else {
                throw TransferRefusal("\(file) is not a Sesame export (line 1 has no \"format\":\"\(format)\")")
            }
            guard header["formatVersion"]?.intValue == Int64(formatVersion) else {
                throw TransferRefusal("\(file) has export format version "
                    + "\(header["formatVersion"]?.intValue.map(String.init) ?? "?"); this sesame reads version \(formatVersion)")
            }
            guard let schemaVersion = header["schemaVersion"]?.intValue, schemaVersion >= 1 else {
                throw TransferRefusal("line 1: schemaVersion must be a migration number")
            }
            guard schemaVersion <= Int64(DatabaseTransfer.knownVersions.last ?? 0) else {
                throw TransferRefusal("\(file) comes from a newer sesame (migration \(schemaVersion)): import it with that version")
            }
            if let check = header["secretCheck"]?.stringValue,
               !SecretDigest.constantTimeEquals(check, SQLStore.checkValue(for: secret))
            {
                throw TransferRefusal("\(file) was sealed with a different SESAME_SECRET: import it with the secret of the "
                    + "installation it came from (sealed keys and connector settings open only with it)")
            }
            return (reader, handle, schemaVersion)
        } catch {
            try? handle.close()
            throw error
        }
    }

    /// Checks an export's header without touching any database (`sesame import` before it opens one).
    /// Throws `TransferRefusal`.
    public static func checkHeader(of file: String, secret: String) throws {
        let (_, handle, _) = try open(file, secret: secret)
        try? handle.close()
    }

    /// Compares what was read with the trailer's counts and digests.
    static func verify(_ summaries: [TableSummary], against trailer: JSONValue) throws {
        guard case .array(let tables)? = trailer["tables"] else { throw TransferRefusal("the trailer has no tables") }
        var expected: [String: (Int64, String)] = [:]
        for table in tables {
            guard let name = table["table"]?.stringValue, let rows = table["rows"]?.intValue,
                  let digest = table["digest"]?.stringValue
            else { throw TransferRefusal("the trailer is malformed") }
            expected[name] = (rows, digest)
        }
        for summary in summaries {
            let (rows, digest) = expected[summary.table] ?? (0, TableDigest().finalize())
            guard rows == Int64(summary.rows) else {
                throw TransferRefusal("table \(summary.table) has \(summary.rows) rows in the file, its trailer says \(rows): "
                    + "the file is truncated or altered; nothing was imported")
            }
            guard digest == summary.digest else {
                throw TransferRefusal("table \(summary.table) does not match its digest: the file was altered; nothing was imported")
            }
        }
    }

    static func trailer(_ summaries: [TableSummary]) -> JSONValue {
        .object(["end": .object([
            "rows": .int(Int64(summaries.reduce(0) { $0 + $1.rows })),
            "tables": .array(summaries.map {
                .object(["table": .string($0.table), "rows": .int(Int64($0.rows)), "digest": .string($0.digest)])
            }),
        ])])
    }

    static func json(_ value: SQLValue) -> JSONValue {
        switch value {
        case .null: .null
        case .integer(let integer): .int(integer)
        case .text(let text): .string(text)
        }
    }

    static func parse(_ line: Data, line number: Int) throws -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONValue.decode(line, maximumDepth: 8)
        } catch {
            throw TransferRefusal("line \(number) is not valid JSON: \(error)")
        }
        guard case .object = value else { throw TransferRefusal("line \(number) must be a JSON object") }
        return value
    }

    /// Buffered line output, used by one task at a time.
    final class LineWriter: @unchecked Sendable {
        private let handle: FileHandle
        private var buffer: [UInt8] = []

        init(handle: FileHandle) {
            self.handle = handle
        }

        func write(_ value: JSONValue) throws {
            buffer.append(contentsOf: value.encoded())
            buffer.append(0x0A)
            if buffer.count >= 1 << 20 { try flush() }
        }

        func flush() throws {
            try handle.write(contentsOf: buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Lines of a file read in chunks, by one task at a time; refuses a line longer than `maximumLineBytes`.
    final class LineReader: @unchecked Sendable {
        private let handle: FileHandle
        private var buffer: [UInt8] = []
        private var start = 0
        private var finished = false
        private(set) var bytesRead = 0

        init(handle: FileHandle) {
            self.handle = handle
        }

        /// The next line without its `\n` (an empty last line is none), or nil at the end.
        func next() throws -> Data? {
            while true {
                if let newline = buffer[start...].firstIndex(of: 0x0A) {
                    let line = Data(buffer[start..<newline])
                    start = newline + 1
                    return line
                }
                if finished {
                    guard start < buffer.count else { return nil }
                    let line = Data(buffer[start...])
                    start = buffer.count
                    return line
                }
                guard buffer.count - start <= LogicalExport.maximumLineBytes else {
                    throw TransferRefusal("a line is longer than \(LogicalExport.maximumLineBytes) bytes")
                }
                buffer.removeFirst(start)
                start = 0
                let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
                if chunk.isEmpty { finished = true } else {
                    bytesRead += chunk.count
                    buffer.append(contentsOf: chunk)
                }
            }
        }
    }
}
