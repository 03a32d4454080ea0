import ArgumentParser
import Foundation
import Logging
import SesameOIDC
import SesameServer
import SesameStorage
import Synchronization

/// `sesame backup`, `restore`, `export`, `import` and `db copy`: taking an installation elsewhere. None of them opens
/// the runtime (which would write its own rows into a target that must stay empty).

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent copy of the SQLite database to FILE while it serves.",
        discussion: """
            Uses SQLite's VACUUM INTO: the copy holds exactly what was committed when it began, servers keep running, \
            and FILE appears only once it is complete and passes integrity_check. It restores only under the same \
            SESAME_SECRET. For PostgreSQL use pg_dump.
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The backup file to create (must not exist).") var file: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let configuration = try loadConfiguration(options)
        guard let path = sqlitePath(configuration.databaseURL) else {
            throw fail("sesame backup is for the embedded SQLite database; back up PostgreSQL with pg_dump "
                + "(e.g. pg_dump -Fc -f sesame.dump \"$SESAME_DB\") or move it with `sesame db copy`")
        }
        let summary = try await refusingInOneLine {
            try await SQLiteBackup.backup(databasePath: path, to: file, secret: configuration.secret,
                                          logger: Logger(label: "sesame"))
        }
        report(json, summaryJSON(summary), "Backed up \(path) to \(summary.path) (\(summary.bytes) bytes, migration "
            + "\(summary.schemaVersion), \(rowCount(summary.tables)) rows); it restores only with this SESAME_SECRET")
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a `sesame backup` FILE back as the SQLite database.",
        discussion: """
            The backup is checked (integrity, Sesame's tables, the same SESAME_SECRET) and migrated in a temporary \
            copy; then it replaces the database file. A database a server has open is refused unless --force, which \
            replaces its contents in one transaction while the servers keep running.
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The backup file.") var file: String
    @Flag(help: "Replace the contents of a database in use, in one transaction.") var force = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let configuration = try loadConfiguration(options)
        guard let path = sqlitePath(configuration.databaseURL) else {
            throw fail("sesame restore is for the embedded SQLite database; restore PostgreSQL with pg_restore, "
                + "or move a backup into it with `sesame db copy --from sqlite://BACKUP --to postgres://...`")
        }
        let progress = ProgressBar(enabled: !json)
        defer { progress.finish() }
        let summary = try await refusingInOneLine {
            try await SQLiteBackup.restore(from: file, to: path, secret: configuration.secret, force: force,
                                           logger: Logger(label: "sesame"), progress: progress.update)
        }
        report(json, summaryJSON(summary), "Restored \(file) to \(path) (\(rowCount(summary.tables)) rows, migration "
            + "\(summary.schemaVersion)\(summary.method == "transaction" ? ", in one transaction while in use" : ""))")
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every table to FILE as JSON Lines (versioned; secrets stay sealed).",
        discussion: """
            Read from one snapshot, so servers keep running. Line 1 is a header (format, schema version, the \
            secret's check value), then one {"table","row"} line per row in dependency order, then a trailer with \
            each table's row count and digest. `sesame import` reads it back.
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The .jsonl file to create (must not exist).") var file: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let configuration = try loadConfiguration(options)
        let progress = ProgressBar(enabled: !json)
        defer { progress.finish() }
        let tables = try await withDatabase(configuration.databaseURL, role: "", mustExist: true) { database in
            try await LogicalExport.export(from: database, to: file, secret: configuration.secret,
                                           progress: progress.update)
        }
        report(json, tablesJSON(tables), "Exported \(rowCount(tables)) rows of \(tables.filter { $0.rows > 0 }.count) "
            + "tables to \(file)")
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read a `sesame export` FILE into the database, in one transaction.",
        discussion: """
            The database is migrated first; the file's trailer must match what was read, or nothing is imported. \
            A database that holds data is refused unless --merge says how: skip keeps rows already there, replace \
            overwrites them (by primary key).
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The .jsonl file.") var file: String
    @Option(help: "skip or replace: how to merge into a database that holds data.") var merge: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let conflict: DatabaseTransfer.Conflict
        switch merge {
        case nil: conflict = .refuse
        case "skip": conflict = .skip
        case "replace": conflict = .replace
        case let other?: throw fail("--merge must be skip or replace, not '\(other)'")
        }
        let configuration = try loadConfiguration(options)
        // The file's header first: a file that cannot be imported leaves no database behind.
        _ = try await refusingInOneLine { try LogicalExport.checkHeader(of: file, secret: configuration.secret) }
        let newFile = sqlitePath(configuration.databaseURL).flatMap { FileManager.default.fileExists(atPath: $0) ? nil : $0 }
        let progress = ProgressBar(enabled: !json, unit: "bytes")
        defer { progress.finish() }
        let tables: [TableSummary]
        do {
            tables = try await withDatabase(configuration.databaseURL, role: "") { database in
                try await LogicalExport.import(from: file, into: database, secret: configuration.secret,
                                               conflict: conflict, progress: progress.update)
            }
        } catch {
            if let newFile { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: newFile + suffix) } }
            throw error
        }
        let outcome = switch conflict {
        case .refuse: "Imported"
        case .skip: "Read (rows already there were kept)"
        case .replace: "Read (rows already there were overwritten)"
        }
        report(json, tablesJSON(tables), "\(outcome) \(rowCount(tables)) rows of \(tables.filter { $0.rows > 0 }.count) "
            + "tables from \(file)")
    }
}

struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Move an installation between databases.", subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every table from one database to another (SQLite or PostgreSQL, either way).",
            discussion: """
                The source is read in one snapshot while it serves; the target must be empty and migrated \
                (`sesame migrate --db TARGET`), and is written in one transaction that commits only after every \
                table's row count and digest read back match. Run it with the source's SESAME_SECRET; start the \
                servers on the target with the same secret.
                """)
        @OptionGroup var options: GlobalOptions
        @Option(help: "The database to copy from (default: SESAME_DB).") var from: String?
        @Option(help: "The empty, migrated database to copy into.") var to: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let configuration = try loadConfiguration(options)
            let source = from ?? configuration.databaseURL
            for url in [source, to] {
                if let problem = DatabaseURL.validate(url) { throw fail("\(redacted(url)): \(problem)") }
            }
            guard source != to else { throw fail("--from and --to name the same database") }
            let progress = ProgressBar(enabled: !json)
            defer { progress.finish() }
            let hint = "run `sesame migrate --db URL` on it first"
            let tables = try await withDatabase(source, role: "source", mustExist: true) { sourceDatabase in
                try await withDatabase(to, role: "target", mustExist: true) { targetDatabase in
                    try await DatabaseTransfer.copy(from: sourceDatabase, to: targetDatabase, secret: configuration.secret,
                                                    migrateHint: hint, progress: progress.update)
                }
            }
            if json {
                Console.json(tablesJSON(tables))
                return
            }
            print("Copied \(rowCount(tables)) rows from \(redacted(source)) to \(redacted(to)); every table's row "
                + "count and digest match:")
            for table in tables where table.rows > 0 {
                print("  " + table.table.padding(toLength: 40, withPad: " ", startingAt: 0)
                    + String(table.rows).leftPadded(to: 9) + "  " + table.digest.prefix(16))
            }
        }
    }
}

// MARK: - Shared

/// The configuration, or one line on stderr and exit 1; logging set up at warning and above.
func loadConfiguration(_ options: GlobalOptions) throws -> ServerConfiguration {
    let configuration: ServerConfiguration
    do {
        configuration = try options.load()
    } catch {
        throw fail("\(error)")
    }
    LoggingSystem.bootstrap { label in
        var handler = SesameLogHandler(label: label, format: configuration.logFormat)
        handler.logLevel = max(configuration.logLevel, .warning)
        return handler
    }
    return configuration
}

/// The file path of a `sqlite://` URL, or nil for another database.
func sqlitePath(_ url: String) -> String? {
    url.hasPrefix("sqlite://") ? String(url.dropFirst("sqlite://".count)) : nil
}

/// Opens a database for a portability verb, runs `body`, closes it; every failure becomes one line.
func withDatabase<T>(_ url: String, role: String, mustExist: Bool = false,
                     _ body: (any SQLDatabase) async throws -> T) async throws -> T
{
    let subject = role.isEmpty ? "the database" : "the \(role) database"
    if mustExist, let path = sqlitePath(url), !FileManager.default.fileExists(atPath: path) {
        throw fail("\(subject) \(path) does not exist"
            + (role == "target" ? ": create it with `sesame migrate --db \(redacted(url))`" : ""))
    }
    let database: any SQLDatabase
    do {
        database = try await DatabaseURL.open(url, logger: Logger(label: "sesame"), forLongTransactions: true)
    } catch {
        var reason = String(describing: error)
        if reason.hasPrefix("SESAME_DB: ") { reason.removeFirst("SESAME_DB: ".count) }
        throw fail("cannot open \(subject) \(redacted(url)): \(reason)")
    }
    do {
        let result = try await refusingInOneLine { try await body(database) }
        try? await database.close()
        return result
    } catch {
        try? await database.close()
        throw error
    }
}

/// Runs `body`, turning any error into one line on stderr and exit 1.
func refusingInOneLine<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as DatabaseUnavailable {
        throw fail(error.description)
    } catch let error as TransferRefusal {
        throw fail(error.description)
    } catch let error as CocoaError {
        throw fail(error.localizedDescription)
    } catch {
        if String(reflecting: type(of: error)).contains("PSQLError") { throw fail(PostgresDatabase.describe(error)) }
        throw fail(String(describing: error).split(separator: "\n").first.map(String.init) ?? "failed")
    }
}

/// A database URL with its password hidden, also in a URL that does not parse (`user:password@` before the host).
func redacted(_ url: String) -> String {
    guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else { return url }
    let credentials = url[scheme.upperBound..<at]
    guard let colon = credentials.firstIndex(of: ":") else { return url }
    return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
}

func rowCount(_ tables: [TableSummary]) -> Int {
    tables.reduce(0) { $0 + $1.rows }
}

func tablesJSON(_ tables: [TableSummary]) -> JSONValue {
    ["rows": .int(Int64(rowCount(tables))),
     "tables": .array(tables.map {
         ["table": .string($0.table), "rows": .int(Int64($0.rows)), "digest": .string($0.digest)]
     })]
}

func summaryJSON(_ summary: SQLiteBackup.Summary) -> JSONValue {
    var value = tablesJSON(summary.tables)
    if case .object(var members) = value {
        members["path"] = .string(summary.path)
        members["bytes"] = .int(summary.bytes)
        members["schemaVersion"] = .int(Int64(summary.schemaVersion))
        members["method"] = .string(summary.method)
        value = .object(members)
    }
    return value
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// A one-line progress bar on standard error, drawn only on a terminal and only for tables of 1,000 rows or more
/// (for an import: a file of 1 MB or more), at most ten times a second.
final class ProgressBar: Sendable {
    private struct State {
        var table = ""
        var drawn = ContinuousClock.now - .seconds(1)
        var visible = false
    }
    private let state = Mutex(State())
    private let enabled: Bool
    private let unit: String

    init(enabled: Bool, unit: String = "rows") {
        self.enabled = enabled && isatty(STDERR_FILENO) == 1
        self.unit = unit
    }

    var update: @Sendable (TransferProgress) -> Void {
        { [self] progress in draw(progress) }
    }

    private func draw(_ progress: TransferProgress) {
        let threshold = unit == "rows" ? 1_000 : 1_000_000
        guard enabled, progress.total >= threshold else { return }
        state.withLock { state in
            let now = ContinuousClock.now
            let complete = progress.done >= progress.total
            guard complete || progress.table != state.table || now - state.drawn >= .milliseconds(100) else { return }
            if progress.table != state.table, state.visible { FileHandle.standardError.write(Data("\n".utf8)) }
            state.table = progress.table
            state.drawn = now
            state.visible = true
            let fraction = min(1, Double(progress.done) / Double(max(1, progress.total)))
            let filled = Int(fraction * 30)
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled)
            let label = unit == "rows" ? progress.table : "import"
            FileHandle.standardError.write(Data(
                "\r\(label.padding(toLength: 32, withPad: " ", startingAt: 0)) [\(bar)] \(Int(fraction * 100))% (\(progress.done)/\(progress.total) \(unit))"
                    .utf8))
        }
    }

    func finish() {
        state.withLock { state in
            if state.visible { FileHandle.standardError.write(Data("\n".utf8)) }
            state.visible = false
        }
    }
}
