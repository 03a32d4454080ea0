import Foundation
import Logging
import SesameIdentity
import SesameOIDC
import SesameStorage
import Testing

/// The catalog of tables, snapshots, `db copy`, and export/import at the storage level (the live paths are in
/// SesameIntegrationTests' PortabilityTests).
@Suite("Portability")
struct PortabilityTests {
    static let secret = String(repeating: "p", count: 40)

    /// Rows that are hard to carry: quotes, newlines, control characters, non-BMP text, integer extremes, nulls,
    /// and more rows than a page.
    static func seed(_ database: any SQLDatabase, rows: Int = 1_203) async throws {
        try await database.query("INSERT INTO installation (key, value) VALUES (?, ?)",
                                 .text("secret_check"), .text(SQLStore.checkValue(for: Self.secret)))
        try await database.query("INSERT INTO installation (key, value) VALUES (?, ?)",
                                 .text("odd 'text' \"quoted\""), .text("line\nbreak\ttab \u{1}\u{1F} 🦀 書 é"))
        try await database.query("INSERT INTO installation (key, value) VALUES (?, ?)", .text("empty"), .text(""))
        var statements: [(String, [SQLValue])] = []
        for index in 0..<rows {
            let key = "key-\(index % 7)-" + String(repeating: "z", count: index % 5)
            let hits: Int64 = index == 0 ? .max : index == 1 ? .min : Int64(index)
            let binds: [SQLValue] = [.text(key), .integer(Int64(index) * 1_000), .integer(hits), .integer(-Int64(index))]
            statements.append(("INSERT INTO rate_limits (key, window_start, hits, expires_at) VALUES (?, ?, ?, ?)", binds))
        }
        try await database.transaction(statements)
    }

    static func migrated(_ backend: Backend, _ body: @escaping (any SQLDatabase) async throws -> Void) async throws {
        try await withDatabase(backend) { database in
            try await Migrator(database: database).migrate()
            try await body(database)
        }
    }

    @Test(arguments: Backend.available)
    func theCatalogKnowsEveryTableInDependencyOrder(_ backend: Backend) async throws {
        try await Self.migrated(backend) { database in
            // A migration that adds a table fails here until TableCatalog lists it.
            #expect(try await TableCatalog.unknownTables(in: database) == [])
            let existing = Set(try await TableCatalog.tableNames(in: database))
            for table in TableCatalog.tables {
                #expect(existing.contains(table.name), "\(table.name) is in the catalog but not in the schema")
            }
            #expect(Set(TableCatalog.tables.map(\.name)).count == TableCatalog.tables.count)
            guard database.dialect == .sqlite else { return }
            let position = Dictionary(uniqueKeysWithValues: TableCatalog.tables.enumerated().map { ($1.name, $0) })
            for table in TableCatalog.tables {
                // The catalog's primary key is the schema's, in order.
                let key = try await database.query("SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk",
                                                   .text(table.name)).map { try $0.string("name") }
                #expect(key == table.primaryKey, "primary key of \(table.name)")
                // Every table a foreign key references comes earlier (or is the table itself).
                for reference in try await database.query("SELECT \"table\" AS parent FROM pragma_foreign_key_list(?)",
                                                          .text(table.name)) {
                    let parent = try reference.string("parent")
                    #expect((position[parent] ?? .max) <= position[table.name]!, "\(table.name) references \(parent)")
                }
            }
        }
    }

    @Test func digestsIgnoreRowOrderButNotTypesOrValues() {
        var first = TableDigest()
        first.add([(column: "a", value: .integer(1)), (column: "b", value: .text("x"))])
        first.add([(column: "a", value: .integer(2)), (column: "b", value: .null)])
        var second = TableDigest()
        second.add([(column: "b", value: .null), (column: "a", value: .integer(2))])
        second.add([(column: "b", value: .text("x")), (column: "a", value: .integer(1))])
        #expect(first.finalize() == second.finalize())
        var typed = TableDigest()
        typed.add([(column: "a", value: .text("1")), (column: "b", value: .text("x"))])
        typed.add([(column: "a", value: .integer(2)), (column: "b", value: .null)])
        #expect(typed.finalize() != first.finalize())
        var empty = TableDigest()
        empty.add([(column: "a", value: .integer(2)), (column: "b", value: .text(""))])
        empty.add([(column: "a", value: .integer(1)), (column: "b", value: .text("x"))])
        #expect(empty.finalize() != first.finalize())
        // Column boundaries are part of the hash: "ab"+"c" differs from "a"+"bc".
        var left = TableDigest()
        left.add([(column: "a", value: .text("ab")), (column: "b", value: .text("c"))])
        var right = TableDigest()
        right.add([(column: "a", value: .text("a")), (column: "b", value: .text("bc"))])
        #expect(left.finalize() != right.finalize())
    }

    /// A snapshot sees the data as of its first read while another connection writes, and does not hold it up.
    @Test(arguments: Backend.available)
    func aSnapshotIsStableAndDoesNotBlockWriters(_ backend: Backend) async throws {
        try await Self.migrated(backend) { database in
            try await database.query("INSERT INTO configs (key, value) VALUES ('a', '1')")
            let counts = try await database.withSnapshot { snapshot in
                let before = try await snapshot.query("SELECT COUNT(*) AS n FROM configs").first?.int("n")
                // Another connection of the pool commits meanwhile, without waiting for the snapshot to end.
                try await database.query("INSERT INTO configs (key, value) VALUES ('b', '2')")
                let after = try await snapshot.query("SELECT COUNT(*) AS n FROM configs").first?.int("n")
                return [before, after]
            }
            #expect(counts == [1, 1])
            #expect(try await database.query("SELECT COUNT(*) AS n FROM configs").first?.int("n") == 2)
            // A snapshot is read-only.
            await #expect(throws: (any Error).self) {
                try await database.withSnapshot { try await $0.query("INSERT INTO configs (key, value) VALUES ('c', '3')") }
            }
            #expect(try await database.query("SELECT COUNT(*) AS n FROM configs").first?.int("n") == 2)
            // The connection it used writes again afterwards.
            for index in 0..<8 { try await database.query("INSERT INTO configs (key, value) VALUES (?, 'x')", .text("k\(index)")) }
        }
    }

    @Test(arguments: Backend.available, Backend.available)
    func copiesEveryRowBetweenDatabases(_ from: Backend, _ to: Backend) async throws {
        try await Self.migrated(from) { source in
            try await Self.seed(source)
            try await Self.migrated(to) { target in
                let copied = try await DatabaseTransfer.copy(from: source, to: target, secret: Self.secret)
                #expect(copied.first { $0.table == "rate_limits" }?.rows == 1_203)
                #expect(copied.first { $0.table == "installation" }?.rows == 3)
                let sourceTables = try await source.withSnapshot { try await DatabaseTransfer.summarize($0) }
                let targetTables = try await target.withSnapshot { try await DatabaseTransfer.summarize($0) }
                #expect(sourceTables == copied)
                #expect(targetTables == copied)
                let odd = try await target.query("SELECT value FROM installation WHERE key = ?", .text("odd 'text' \"quoted\""))
                #expect(try odd.first?.string("value") == "line\nbreak\ttab \u{1}\u{1F} 🦀 書 é")
                let extremes = try await target.query("SELECT hits FROM rate_limits WHERE window_start IN (0, 1000) ORDER BY window_start")
                #expect(try extremes.map { try $0.int("hits") } == [Int64.max, Int64.min])

                // The same target again: not empty, refused, and nothing more written.
                await #expect(throws: TransferRefusal.self) {
                    _ = try await DatabaseTransfer.copy(from: source, to: target, secret: Self.secret)
                }
                #expect(try await target.withSnapshot { try await DatabaseTransfer.summarize($0) } == copied)
            }
        }
    }

    @Test(arguments: Backend.available)
    func refusesWhatWouldNotWork(_ backend: Backend) async throws {
        try await Self.migrated(backend) { source in
            try await Self.seed(source, rows: 10)
            // A target never migrated.
            try await withDatabase(backend) { (bare: any SQLDatabase) async throws in
                let refusal = await #expect(throws: TransferRefusal.self) {
                    _ = try await DatabaseTransfer.copy(from: source, to: bare, secret: Self.secret)
                }
                #expect(refusal?.description.contains("not migrated") == true)
                #expect(try await TableCatalog.tableNames(in: bare) == [])
            }
            try await Self.migrated(backend) { target in
                // Another secret than the source's.
                let refusal = await #expect(throws: TransferRefusal.self) {
                    _ = try await DatabaseTransfer.copy(from: source, to: target, secret: String(repeating: "q", count: 40))
                }
                #expect(refusal?.description.contains("different SESAME_SECRET") == true)
                // A target one migration behind.
                try await target.query("DELETE FROM schema_migrations WHERE version = ?",
                                       .integer(Int64(Migration.all.last!.version)))
                let behind = await #expect(throws: TransferRefusal.self) {
                    _ = try await DatabaseTransfer.copy(from: source, to: target, secret: Self.secret)
                }
                #expect(behind?.description.contains("run `sesame migrate`") == true)
                try await target.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'x', 0)",
                                       .integer(Int64(Migration.all.last!.version)))
                // A table the catalog does not know.
                try await target.query("CREATE TABLE later_feature (id TEXT PRIMARY KEY)")
                let unknown = await #expect(throws: TransferRefusal.self) {
                    _ = try await DatabaseTransfer.copy(from: source, to: target, secret: Self.secret)
                }
                #expect(unknown?.description.contains("later_feature") == true)
                #expect(try await DatabaseTransfer.occupiedTables(in: target).isEmpty)
            }
        }
    }

    // MARK: - Export and import

    static func withFolder(_ body: (URL) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(folder)
    }

    @Test(arguments: Backend.available)
    func exportsAndImportsEveryRow(_ backend: Backend) async throws {
        try await Self.withFolder { folder in
            let file = folder.appendingPathComponent("sesame.jsonl").path
            try await Self.migrated(.sqlite) { source in
                try await Self.seed(source)
                let exported = try await LogicalExport.export(from: source, to: file, secret: Self.secret)
                await #expect(throws: TransferRefusal.self) { _ = try await LogicalExport.export(from: source, to: file, secret: Self.secret) }
                let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
                #expect(lines.count == 1 + 1_207 + 1)  // header, 3 + 1,203 seeded rows and the seeded role, trailer
                #expect(lines.first?.contains(#""format":"sesame-export""#) == true)
                #expect(lines.last?.hasPrefix(#"{"end":"#) == true)
                try await withDatabase(backend) { target in
                    let imported = try await LogicalExport.import(from: file, into: target, secret: Self.secret,
                                                                  conflict: .refuse)
                    #expect(imported == exported)
                    #expect(try await target.withSnapshot { try await DatabaseTransfer.summarize($0) } == exported)
                    // Again: the database holds data now.
                    let again = await #expect(throws: TransferRefusal.self) {
                        _ = try await LogicalExport.import(from: file, into: target, secret: Self.secret, conflict: .refuse)
                    }
                    #expect(again?.description.contains("--merge") == true)
                    // Merging: skip keeps a changed row, replace overwrites it.
                    try await target.query("UPDATE installation SET value = 'changed' WHERE key = 'empty'")
                    _ = try await LogicalExport.import(from: file, into: target, secret: Self.secret, conflict: .skip)
                    #expect(try await target.query("SELECT value FROM installation WHERE key = 'empty'").first?.string("value") == "changed")
                    _ = try await LogicalExport.import(from: file, into: target, secret: Self.secret, conflict: .replace)
                    #expect(try await target.query("SELECT value FROM installation WHERE key = 'empty'").first?.string("value") == "")
                    #expect(try await target.withSnapshot { try await DatabaseTransfer.summarize($0) } == exported)
                }
            }
        }
    }

    /// An export from migration 10 (applications still had `can_manage`) goes into a new database at version 10,
    /// and migration 11 then turns the flag into the Management API role, as it did on installations that upgraded.
    @Test(arguments: Backend.available)
    func anExportFromAnOlderVersionImportsAndIsMigrated(_ backend: Backend) async throws {
        try await Self.withFolder { folder in
            let file = folder.appendingPathComponent("v10.jsonl").path
            let rows: [(String, [String: SQLValue])] = [
                ("installation", ["key": .text("secret_check"), "value": .text(SQLStore.checkValue(for: Self.secret))]),
                ("applications", ["id": .text("m2m1"), "name": .text("Indexer"), "description": .null,
                                  "type": .text("MachineToMachine"), "secret_hash": .text("h"), "redirect_uris": .text("[]"),
                                  "post_logout_redirect_uris": .text("[]"), "is_third_party": .integer(0),
                                  "created_at": .integer(1), "can_manage": .integer(1)]),
                ("resources", ["id": .text("r1"), "name": .text("Logto Management API"),
                               "indicator": .text("https://default.logto.app/api"), "access_token_ttl": .integer(3600),
                               "created_at": .integer(1)]),
                ("resource_scopes", ["id": .text("s1"), "resource_id": .text("r1"), "name": .text("all"), "description": .null]),
            ]
            func json(_ value: SQLValue) -> JSONValue {
                switch value {
                case .null: .null
                case .integer(let integer): .int(integer)
                case .text(let text): .string(text)
                }
            }
            var lines = [JSONValue.object(["format": .string("sesame-export"), "formatVersion": .int(1), "schemaVersion": .int(10),
                                           "exportedAt": .int(1), "secretCheck": .string(SQLStore.checkValue(for: Self.secret))])]
            var tables: [JSONValue] = []
            for (table, row) in rows {
                lines.append(.object(["table": .string(table), "row": .object(row.mapValues(json))]))
                var digest = TableDigest()
                digest.add(row.map { (column: $0.key, value: $0.value) })
                tables.append(.object(["table": .string(table), "rows": .int(1), "digest": .string(digest.finalize())]))
            }
            lines.append(.object(["end": .object(["rows": .int(4), "tables": .array(tables)])]))
            try Data(lines.map { $0.encodedString() + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: file))
            try await withDatabase(backend) { (target: any SQLDatabase) async throws in
                let imported = try await LogicalExport.import(from: file, into: target, secret: Self.secret, conflict: .refuse)
                #expect(imported.reduce(0) { $0 + $1.rows } == 4)
                #expect(try await Migrator(database: target).appliedVersions() == Migration.all.map(\.version))
                let roles = try await target.query("SELECT role_id FROM applications_roles WHERE application_id = 'm2m1'")
                #expect(try roles.map { try $0.string("role_id") } == [RoleService.managementRoleID])
                let scopes = try await target.query("SELECT scope_id FROM roles_scopes WHERE role_id = ?",
                                                    .text(RoleService.managementRoleID))
                #expect(try scopes.map { try $0.string("scope_id") } == ["s1"])
                // Only into a new database, and never merged.
                for conflict in DatabaseTransfer.Conflict.allCases {
                    let refusal = await #expect(throws: TransferRefusal.self) {
                        _ = try await LogicalExport.import(from: file, into: target, secret: Self.secret, conflict: conflict)
                    }
                    #expect(refusal?.description.contains("older sesame") == true)
                }
            }
        }
    }

    @Test func importRefusesDamagedFilesAndWritesNothing() async throws {
        try await Self.withFolder { folder in
            let file = folder.appendingPathComponent("good.jsonl").path
            try await Self.migrated(.sqlite) { source in
                try await Self.seed(source, rows: 20)
                _ = try await LogicalExport.export(from: source, to: file, secret: Self.secret)
            }
            let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                .map(String.init).filter { !$0.isEmpty }
            let cases: [(String, [String], String)] = [
                ("truncated", Array(lines.dropLast()), "trailer"),
                ("a row removed", Array(lines.prefix(5) + lines.dropFirst(6)), "truncated or altered"),
                ("a value altered", lines.map { $0.replacingOccurrences(of: "\"hits\":5,", with: "\"hits\":6,") }, "digest"),
                ("not JSON", [lines[0], "{not json", lines.last!], "line 2 is not valid JSON"),
                ("an unknown table", [lines[0], #"{"table":"nope","row":{}}"#, lines.last!], "unknown table nope"),
                ("an unknown column", [lines[0], #"{"table":"configs","row":{"key":"a","evil":"x"}}"#, lines.last!],
                 "no column evil"),
                ("a nested value", [lines[0], #"{"table":"configs","row":{"key":{"a":1},"value":"x"}}"#, lines.last!],
                 "configs.key must be a string"),
                ("NUL in text", [lines[0], #"{"table":"configs","row":{"key":"a\u0000b","value":"x"}}"#, lines.last!], "NUL"),
                ("deep JSON", [lines[0], String(repeating: "[", count: 5_000), lines.last!], "line 2"),
                ("another format", [#"{"format":"logto"}"#], "not a Sesame export"),
                ("a newer schema", [lines[0].replacingOccurrences(of: "\"schemaVersion\":", with: "\"schemaVersion\":9") ],
                 "newer sesame"),
                ("another secret", [lines[0].replacingOccurrences(of: "\"secretCheck\":\"", with: "\"secretCheck\":\"x")],
                 "different SESAME_SECRET"),
                ("empty", [], "empty"),
                ("a null key", [lines[0], #"{"table":"configs","row":{"key":null,"value":"x"}}"#, lines.last!],
                 "configs.key must be a string"),
                ("text for an integer", [lines[0],
                                         #"{"table":"rate_limits","row":{"key":"k","window_start":"yesterday","hits":1,"expires_at":1}}"#,
                                         lines.last!], "rate_limits.window_start must be an integer"),
                ("a missing required column", [lines[0], #"{"table":"configs","row":{"key":"a"}}"#, lines.last!],
                 "needs a value for column value"),
                ("another secret in the rows",
                 [lines[0].replacingOccurrences(of: "\"secretCheck\":\"", with: "\"ignored\":\""),
                  #"{"table":"installation","row":{"key":"secret_check","value":"forged"}}"#, lines.last!],
                 "different SESAME_SECRET"),
                ("a negative schema", [lines[0].replacingOccurrences(of: "\"schemaVersion\":", with: "\"schemaVersion\":-")],
                 "schemaVersion must be a migration number"),
            ]
            for (name, content, expected) in cases {
                let damaged = folder.appendingPathComponent("damaged-\(UUID().uuidString).jsonl").path
                try Data((content.joined(separator: "\n") + (content.isEmpty ? "" : "\n")).utf8)
                    .write(to: URL(fileURLWithPath: damaged))
                try await Self.migrated(.sqlite) { (target: any SQLDatabase) async throws in
                    do {
                        _ = try await LogicalExport.import(from: damaged, into: target, secret: Self.secret, conflict: .refuse)
                        Issue.record("\(name): imported")
                    } catch {
                        let message = String(describing: error)
                        #expect(message.contains(expected), "\(name): \(message)")
                        #expect(!message.contains("\n"), "\(name): one line")
                    }
                    #expect(try await DatabaseTransfer.occupiedTables(in: target).isEmpty, "\(name): nothing written")
                }
            }
        }
    }
}
