import Foundation
import Logging

/// Online backups of the embedded database and their restore (`sesame backup`, `sesame restore`).
///
/// A backup is SQLite's `VACUUM INTO` (<https://sqlite.org/lang_vacuum.html#vacuuminto>): one read transaction, so
/// the installation keeps serving and writing while it runs (WAL mode), and the file holds exactly what was committed
/// when it began. It is written beside the destination under a temporary name, checked with `PRAGMA integrity_check`,
/// and only then renamed into place, so a crash never leaves a half-written backup under the chosen name. Sealed
/// values stay sealed: a backup restores only under the same `SESAME_SECRET`.
public enum SQLiteBackup {
    /// What a backup or restore produced.
    public struct Summary: Sendable {
        /// The file written or replaced.
        public let path: String
        /// Its size in bytes.
        public let bytes: Int64
        /// The migration version of the data.
        public let schemaVersion: Int
        /// How the restore was done: a file rename ("file") or one transaction in a database that stays open
        /// ("transaction"); "backup" for a backup.
        public let method: String
        /// Row counts and digests of every table.
        public let tables: [TableSummary]
    }

    /// Writes a consistent copy of the SQLite database at `databasePath` (which may be serving) to `file`, which
    /// must not exist. Throws `TransferRefusal` when there is no database, `file` exists or its folder is missing,
    /// or the copy fails its integrity check (then nothing is left behind).
    /// Throws `TransferRefusal` when the database was sealed with another secret than `secret` (the backup would be
    /// of no use under it).
    public static func backup(databasePath: String, to file: String, secret: String, logger: Logger) async throws
        -> Summary
    {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw TransferRefusal("there is no database at \(databasePath)")
        }
        guard !exists(file) else {
            throw TransferRefusal("\(file) exists: choose a new file name (a backup never overwrites one)")
        }
        try requireFolder(of: file)
        let partial = temporaryPath(beside: file, purpose: "backup")
        defer { removeDatabaseFiles(partial) }
        let source = try await SQLiteDatabase.open(path: databasePath, connections: 1, logger: logger)
        do {
            try await DatabaseTransfer.requireSecret(secret, in: source, role: "database")
            try await source.query("VACUUM INTO ?", .text(partial))
            try await source.close()
        } catch {
            try? await source.close()
            throw error
        }
        let (version, tables) = try await check(partial, logger: logger)
        // link(2) fails when `file` appeared meanwhile, where rename(2) would replace it; a file system without
        // hard links gets the rename, after one more look.
        if link(partial, file) != 0 {
            let reason = errno
            guard reason != EEXIST, !FileManager.default.fileExists(atPath: file), rename(partial, file) == 0 else {
                throw TransferRefusal("cannot write \(file): \(String(cString: strerror(reason)))")
            }
        }
        return Summary(path: file, bytes: size(of: file), schemaVersion: version, method: "backup", tables: tables)
    }

    /// Puts the backup `file` back as the SQLite database at `databasePath`. The backup is checked first (a SQLite
    /// database, `integrity_check` clean, Sesame's tables, sealed with `secret`) and migrated to this build's
    /// version in a temporary copy, so the backup itself is never changed. When no database is at `databasePath`, or
    /// one is there that no process has open, the checked copy is renamed into place (after the old database's WAL
    /// is folded in and removed). A database in use is refused unless `force`: then its contents are replaced in one
    /// transaction, verified before it commits, while its servers keep running.
    /// Throws `TransferRefusal` for each refusal, with nothing changed.
    public static func restore(from file: String, to databasePath: String, secret: String, force: Bool,
                               logger: Logger,
                               progress: @escaping @Sendable (TransferProgress) -> Void = { _ in }) async throws
        -> Summary
    {
        guard FileManager.default.fileExists(atPath: file) else { throw TransferRefusal("there is no file \(file)") }
        guard isSQLiteFile(file) else { throw TransferRefusal("\(file) is not a SQLite database (a `sesame backup` file)") }
        try requireFolder(of: databasePath)
        if let backupFile = try? FileManager.default.attributesOfItem(atPath: file),
           let target = try? FileManager.default.attributesOfItem(atPath: databasePath),
           backupFile[.systemFileNumber] as? NSNumber == target[.systemFileNumber] as? NSNumber,
           backupFile[.systemNumber] as? NSNumber == target[.systemNumber] as? NSNumber
        {
            throw TransferRefusal("\(file) is the database itself: restore a file `sesame backup` wrote")
        }
        // A database file with its write-ahead log beside it is a live (or crashed) database whose latest commits are
        // in the log, which a file copy would lose: it is no backup.
        if size(of: file + "-wal") > 0 {
            throw TransferRefusal("\(file) has a write-ahead log beside it (\(file)-wal), so it is a live database, not a "
                + "backup: make one with `sesame backup --db sqlite://\(file) NEW-FILE` and restore that")
        }
        let staged = temporaryPath(beside: databasePath, purpose: "restore")
        defer { removeDatabaseFiles(staged) }
        do {
            try FileManager.default.copyItem(atPath: file, toPath: staged)
        } catch {
            throw TransferRefusal("cannot copy \(file) beside \(databasePath): \(error.localizedDescription)")
        }
        // The backup, checked and brought to this build's schema in the staged copy.
        let backup = try await SQLiteDatabase.open(path: staged, connections: 1, logger: logger)
        do {
            guard try await integrityCheck(backup) else {
                throw TransferRefusal("\(file) is damaged (integrity_check failed)")
            }
            guard let versions = try await DatabaseTransfer.appliedVersions(in: backup), !versions.isEmpty else {
                throw TransferRefusal("\(file) is not a Sesame database")
            }
            if let newest = versions.last, newest > (DatabaseTransfer.knownVersions.last ?? 0) {
                throw TransferRefusal("\(file) is at migration \(newest), newer than this sesame: use the sesame that made it")
            }
            try await DatabaseTransfer.requireSecret(secret, in: backup, role: "backup")
            try await Migrator(database: backup).migrate()
        } catch {
            try? await backup.close()
            throw error
        }
        guard FileManager.default.fileExists(atPath: databasePath) else {
            try await backup.close()
            return try await moveIntoPlace(staged, databasePath, logger: logger)
        }
        if try await releaseIfUnused(databasePath, logger: logger) {
            try await backup.close()
            return try await moveIntoPlace(staged, databasePath, logger: logger)
        }
        guard force else {
            try? await backup.close()
            throw TransferRefusal("\(databasePath) is in use (is a server running on it?): stop it and run this again, "
                + "or pass --force to replace its contents in one transaction while it runs")
        }
        let target = try await SQLiteDatabase.open(path: databasePath, connections: 1, logger: logger)
        do {
            // The servers that have it open hold this secret: the restored data must open with it too.
            try await DatabaseTransfer.requireSecret(secret, in: target, role: "database in use")
            let tables = try await DatabaseTransfer.copy(from: backup, to: target, secret: secret, replacing: true,
                                                         progress: progress)
            try await target.close()
            try await backup.close()
            return Summary(path: databasePath, bytes: size(of: databasePath),
                           schemaVersion: DatabaseTransfer.knownVersions.last ?? 0, method: "transaction", tables: tables)
        } catch {
            try? await target.close()
            try? await backup.close()
            throw error
        }
    }

    /// Whether no other connection has the database open, learned by switching it out of WAL mode, which SQLite
    /// allows only to its sole user: on success its WAL is folded into the file and removed, so the file stands
    /// alone and may be replaced. Answers false at once (no busy wait) when another connection holds it.
    static func releaseIfUnused(_ path: String, logger: Logger) async throws -> Bool {
        let database = try await SQLiteDatabase.open(path: path, connections: 1, logger: logger)
        let mode: String?
        do {
            try await database.query("PRAGMA busy_timeout=0")
            mode = try await database.query("PRAGMA journal_mode=DELETE").first?.optionalString("journal_mode")
        } catch {
            try? await database.close()
            return false
        }
        try await database.close()
        return mode?.lowercased() == "delete"
    }

    /// Renames the checked, staged database onto `databasePath`, removing what is left of the old one's WAL first.
    private static func moveIntoPlace(_ staged: String, _ databasePath: String, logger: Logger) async throws -> Summary {
        // The staged copy was closed by its last connection, which folded its WAL into it.
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
        guard rename(staged, databasePath) == 0 else {
            throw TransferRefusal("cannot replace \(databasePath): \(String(cString: strerror(errno)))")
        }
        let (version, tables) = try await check(databasePath, logger: logger)
        return Summary(path: databasePath, bytes: size(of: databasePath), schemaVersion: version, method: "file",
                       tables: tables)
    }

    /// Opens a database file, checks its integrity and reads its schema version and table summaries.
    static func check(_ path: String, logger: Logger) async throws -> (Int, [TableSummary]) {
        let database = try await SQLiteDatabase.open(path: path, connections: 1, logger: logger)
        do {
            guard try await integrityCheck(database) else { throw TransferRefusal("the copy at \(path) is damaged") }
            let version = try await DatabaseTransfer.appliedVersions(in: database)?.last ?? 0
            let tables = try await database.withSnapshot { try await DatabaseTransfer.summarize($0) }
            try await database.close()
            return (version, tables)
        } catch {
            try? await database.close()
            throw error
        }
    }

    static func integrityCheck(_ database: any SQLDatabase) async throws -> Bool {
        let rows = try await database.query("PRAGMA integrity_check")
        return rows.count == 1 && rows.first?.optionalString("integrity_check") == "ok"
    }

    /// Whether the file starts with SQLite's header string.
    static func isSQLiteFile(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        return header == Data("SQLite format 3\0".utf8)
    }

    /// A hidden name in the same folder as `path` (so a rename is atomic), e.g. `.sesame.db.backup-1a2b3c4d`.
    static func temporaryPath(beside path: String, purpose: String) -> String {
        let (folder, name) = split(path)
        let hidden = ".\(name).\(purpose)-\(UUID().uuidString.prefix(8).lowercased())"
        return folder.map { $0 + "/" + hidden } ?? hidden
    }

    /// The folder part (nil for a bare name) and the last component of a path, split at its last `/`.
    static func split(_ path: String) -> (folder: String?, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (nil, path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    /// Refuses a path whose folder is missing or is not a folder.
    static func requireFolder(of path: String) throws {
        guard let folder = split(path).folder else { return }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TransferRefusal("the folder \(folder) does not exist")
        }
    }

    /// Whether anything is at `path`, a dangling symbolic link included.
    static func exists(_ path: String) -> Bool {
        (try? FileManager.default.attributesOfItem(atPath: path)) != nil
            || (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil
    }

    static func removeDatabaseFiles(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    static func size(of path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }
}
