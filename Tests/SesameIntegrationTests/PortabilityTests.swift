import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Synchronization
import Testing

/// Outgrowing one machine with a live installation: `db copy` while serving, a second server on the copy that the
/// same browser and refresh token carry on with, backups under load, and restores into a database in use.
@Suite("Outgrowing one machine")
struct PortabilityIntegrationTests {
    static var logger: Logger {
        var logger = Logger(label: "sesame.portability")
        logger.logLevel = .warning
        return logger
    }

    /// Runs `body` with a migrated, empty database (as `sesame migrate` leaves one) at `url`.
    static func migrated(_ url: String) async throws {
        let database = try await DatabaseURL.open(url, logger: logger)
        do {
            try await Migrator(database: database).migrate()
        } catch {
            try? await database.close()
            throw error
        }
        try await database.close()
    }

    static func copy(from source: any SQLDatabase, to url: String, secret: String) async throws -> [TableSummary] {
        let target = try await DatabaseURL.open(url, logger: logger)
        do {
            let tables = try await DatabaseTransfer.copy(from: source, to: target, secret: secret)
            try await target.close()
            return tables
        } catch {
            try? await target.close()
            throw error
        }
    }

    /// SQLite → PostgreSQL (another SQLite file without one) → SQLite with equal digests; then a server on the copy
    /// that the browser's session cookie, the refresh token and the ID token from before the move all work with.
    @Test func aLiveInstallationMovesAndItsUsersCarryOn() async throws {
        try await Fixture.withServer(database: .sqlite) { fixture, browser in
            let authorization = try await CodeFlowTests.signIn(fixture, browser)
            let tokens = try await CodeFlowTests.exchange(fixture, browser, authorization).json
            let refreshToken = try #require(tokens["refresh_token"]?.stringValue)
            let idToken = try #require(tokens["id_token"]?.stringValue)
            let secret = fixture.runtime.configuration.secret
            let targetKind = TestDatabase.available.last ?? .sqlite
            try await targetKind.withURL { targetURL in
                try await Self.migrated(targetURL)
                // The source keeps serving: the copy reads one snapshot of it.
                async let traffic = browser.onOwnConnection { other in
                    for _ in 0..<20 { _ = try await other.get("/oidc/.well-known/openid-configuration") }
                }
                let copied = try await Self.copy(from: fixture.runtime.database, to: targetURL, secret: secret)
                try await traffic
                for table in ["users", "applications", "signing_keys", "sessions", "grants", "refresh_tokens", "roles"] {
                    #expect((copied.first { $0.table == table }?.rows ?? 0) > 0, "\(table) copied")
                }
                // And back, into a new SQLite file: the same digests.
                try await TestDatabase.sqlite.withURL { backURL in
                    try await Self.migrated(backURL)
                    let target = try await DatabaseURL.open(targetURL, logger: Self.logger)
                    let back: [TableSummary]
                    do {
                        back = try await Self.copy(from: target, to: backURL, secret: secret)
                        try await target.close()
                    } catch {
                        try? await target.close()
                        throw error
                    }
                    #expect(back == copied)
                }
                var configuration = fixture.runtime.configuration
                configuration.databaseURL = targetURL
                let moved = try await SesameRuntime.open(configuration, logger: Self.logger)
                do {
                    try await Self.carryOn(on: moved, from: browser, fixture: fixture, refreshToken: refreshToken,
                                           idToken: idToken)
                } catch {
                    try? await moved.close()
                    throw error
                }
                try await moved.close()
            }
        }
    }

    private static func carryOn(on runtime: SesameRuntime, from browser: Browser, fixture: Fixture, refreshToken: String,
                                idToken: String) async throws
    {
        try await SesameApplication.build(runtime: runtime).test(.live) { client in
            try await Browser.connect(port: try #require(client.port)) { moved in
                for (name, value) in browser.cookies { moved.set(name, value) }
                // The IdP session cookie skips the sign-in form.
                let verifier = SecureRandom.token(bytes: 48)
                let authorize = try await moved.get("/oidc/auth?" + RequestParameters.encode([
                    ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
                    ("scope", "openid profile email offline_access"), ("state", "moved"),
                    ("code_challenge", PKCE.challenge(for: verifier)), ("code_challenge_method", "S256"),
                ]))
                #expect(authorize.status == .seeOther)
                #expect(authorize.location?.hasPrefix(Fixture.callback + "?") == true, "no sign-in form after the move")
                let code = try #require(authorize.redirectQuery["code"])
                let exchanged = try await CodeFlowTests.exchange(
                    fixture, moved, CodeFlowTests.Authorization(code: code, verifier: verifier))
                #expect(exchanged.status == .ok)
                // The refresh token from before the move refreshes.
                let refreshed = try await moved.post("/oidc/token", form: [
                    ("grant_type", "refresh_token"), ("refresh_token", refreshToken),
                ], headers: [.authorization: basicAuthorization(fixture.webApp.client.id, fixture.webSecret)])
                #expect(refreshed.status == .ok)
                #expect(refreshed.json["refresh_token"]?.stringValue != nil)
                // The ID token signed before the move verifies against the JWKS after it.
                let verified = try await CodeFlowTests.verify(idToken, moved)
                #expect(verified.claims["sub"]?.stringValue == fixture.user.id)
            }
        }
    }

    /// A backup taken while refresh tokens rotate and users are created holds every one committed before it began,
    /// and restores to a database that passes `integrity_check`.
    @Test func aBackupUnderLoadHoldsEveryCommittedToken() async throws {
        try await Fixture.withServer(database: .sqlite) { fixture, browser in
            let path = String(fixture.runtime.configuration.databaseURL.dropFirst("sqlite://".count))
            let folder = (path as NSString).deletingLastPathComponent
            let backupFile = folder + "/backup.db"
            let authorization = try await CodeFlowTests.signIn(fixture, browser)
            let first = try #require(try await CodeFlowTests.exchange(fixture, browser, authorization)
                .json["refresh_token"]?.stringValue)
            let record = LoadRecord(first: first)
            let client = basicAuthorization(fixture.webApp.client.id, fixture.webSecret)
            let (tokensBefore, usersBefore) = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await browser.onOwnConnection { load in
                        while !record.stop.load(ordering: .relaxed) {
                            let current = record.tokens.withLock { $0.last! }
                            let answer = try await load.post("/oidc/token", form: [
                                ("grant_type", "refresh_token"), ("refresh_token", current),
                            ], headers: [.authorization: client])
                            let next = try #require(answer.json["refresh_token"]?.stringValue, "refresh under load")
                            record.tokens.withLock { $0.append(next) }
                        }
                    }
                }
                group.addTask {
                    var index = 0
                    while !record.stop.load(ordering: .relaxed) {
                        let user = try await fixture.runtime.users.create(.init(username: "load\(index)"))
                        record.users.withLock { $0.append(user.id) }
                        index += 1
                    }
                }
                while record.tokens.withLock({ $0.count }) < 5 || record.users.withLock({ $0.count }) < 5 {
                    try await Task.sleep(for: .milliseconds(20))
                }
                // What was committed before the backup began.
                let before = (record.tokens.withLock { $0 }, record.users.withLock { $0 })
                let summary = try await SQLiteBackup.backup(databasePath: path, to: backupFile,
                                                            secret: fixture.runtime.configuration.secret, logger: Self.logger)
                #expect(summary.schemaVersion == Migration.all.last?.version)
                let countAtEnd = record.users.withLock { $0.count }
                while record.users.withLock({ $0.count }) < countAtEnd + 3 { try await Task.sleep(for: .milliseconds(20)) }
                record.stop.store(true, ordering: .relaxed)
                try await group.waitForAll()
                return before
            }
            // Restored to a new file: integrity_check clean, every token and user from before the backup there.
            let restoredPath = folder + "/restored.db"
            let restored = try await SQLiteBackup.restore(from: backupFile, to: restoredPath,
                                                          secret: fixture.runtime.configuration.secret, force: false,
                                                          logger: Self.logger)
            #expect(restored.method == "file")
            let database = try await SQLiteDatabase.open(path: restoredPath, connections: 1, logger: Self.logger)
            do {
                #expect(try await database.query("PRAGMA integrity_check").first?.optionalString("integrity_check") == "ok")
                for token in tokensBefore {
                    let rows = try await database.query("SELECT id FROM refresh_tokens WHERE id = ?",
                                                        .text(SecretDigest.sha256Hex(token)))
                    #expect(rows.count == 1, "a refresh token committed before the backup")
                }
                for id in usersBefore {
                    #expect(try await database.query("SELECT id FROM users WHERE id = ?", .text(id)).count == 1)
                }
                // Users created after the backup began and finished are not all in it: it is a point in time.
                let total = try await database.query("SELECT COUNT(*) AS n FROM users WHERE username LIKE 'load%'")
                #expect(try total.first?.int("n") ?? 0 < Int64(record.users.withLock { $0.count }))
            } catch {
                try? await database.close()
                throw error
            }
            try await database.close()
        }
    }

    /// PostgreSQL terminating the target's connection in the middle of a copy: the copy fails within seconds (it was
    /// seen to wait forever) and the target holds nothing.
    @Test func aCopyWhoseTargetConnectionDiesFailsAndWritesNothing() async throws {
        guard TestDatabase.postgresURL != nil else { return }
        try await TestDatabase.sqlite.withURL { sourceURL in
            try await Self.migrated(sourceURL)
            let source = try await DatabaseURL.open(sourceURL, logger: Self.logger)
            var statements: [(String, [SQLValue])] = []
            for index in 0..<40_000 {
                statements.append(("INSERT INTO rate_limits (key, window_start, hits, expires_at) VALUES (?, ?, 1, 1)",
                                   [.text("key-\(index)-" + String(repeating: "x", count: 120)), .integer(Int64(index))]))
            }
            try await source.transaction(statements)
            try await TestDatabase.postgres.withURL { targetURL in
                try await Self.migrated(targetURL)
                let name = String(try #require(URLComponents(string: targetURL)?.path.dropFirst()))
                let target = try await DatabaseURL.open(targetURL, logger: Self.logger, forLongTransactions: true)
                let admin = try await PostgresDatabase.open(url: try #require(TestDatabase.postgresURL), logger: Self.logger,
                                                            maximumConnections: 1)
                let started = ContinuousClock.now
                let outcome = try await withThrowingTaskGroup(of: String.self) { group in
                    group.addTask {
                        do {
                            _ = try await DatabaseTransfer.copy(from: source, to: target,
                                                                secret: String(repeating: "s", count: 40))
                            return "copied"
                        } catch {
                            return "failed"
                        }
                    }
                    group.addTask {
                        // Terminate the target's backends until the copy gives up.
                        for _ in 0..<300 {
                            try await Task.sleep(for: .milliseconds(300))
                            try await admin.query("""
                                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                WHERE datname = ? AND pid <> pg_backend_pid()
                                """, .text(name))
                        }
                        return "hung"
                    }
                    let first = try await group.next() ?? "none"
                    group.cancelAll()
                    return first
                }
                #expect(outcome == "failed")
                #expect(ContinuousClock.now - started < .seconds(60))
                try? await target.close()
                try? await admin.close()
                let check = try await DatabaseURL.open(targetURL, logger: Self.logger)
                #expect(try await DatabaseTransfer.occupiedTables(in: check).isEmpty)
                try await check.close()
            }
            try await source.close()
        }
    }

    /// What the load in `aBackupUnderLoadHoldsEveryCommittedToken` committed, shared by its tasks.
    final class LoadRecord: Sendable {
        let tokens: Mutex<[String]>
        let users = Mutex<[String]>([])
        let stop = Atomic<Bool>(false)

        init(first: String) {
            tokens = Mutex([first])
        }
    }

    /// A restore into a database a server has open is refused without --force; with it, the contents are replaced in
    /// one transaction while the server keeps answering. Backups sealed with another secret, or from a newer
    /// schema, are refused with nothing changed.
    @Test func aRestoreIntoADatabaseInUse() async throws {
        try await Fixture.withServer(database: .sqlite) { fixture, browser in
            let path = String(fixture.runtime.configuration.databaseURL.dropFirst("sqlite://".count))
            let folder = (path as NSString).deletingLastPathComponent
            let backupFile = folder + "/before.db"
            let secret = fixture.runtime.configuration.secret
            _ = try await SQLiteBackup.backup(databasePath: path, to: backupFile,
                                                            secret: fixture.runtime.configuration.secret, logger: Self.logger)
            let later = try await fixture.runtime.users.create(.init(username: "after_backup"))
            let inUse = await #expect(throws: TransferRefusal.self) {
                _ = try await SQLiteBackup.restore(from: backupFile, to: path, secret: secret, force: false,
                                                   logger: Self.logger)
            }
            #expect(inUse?.description.contains("in use") == true)
            #expect(try await fixture.runtime.users.user(id: later.id).id == later.id)

            let otherSecret = await #expect(throws: TransferRefusal.self) {
                _ = try await SQLiteBackup.restore(from: backupFile, to: path, secret: String(repeating: "o", count: 40),
                                                   force: true, logger: Self.logger)
            }
            #expect(otherSecret?.description.contains("different SESAME_SECRET") == true)
            // A backup from a newer sesame.
            let newer = folder + "/newer.db"
            try FileManager.default.copyItem(atPath: backupFile, toPath: newer)
            let newerDatabase = try await SQLiteDatabase.open(path: newer, connections: 1, logger: Self.logger)
            try await newerDatabase.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
            try await newerDatabase.close()
            let future = await #expect(throws: TransferRefusal.self) {
                _ = try await SQLiteBackup.restore(from: newer, to: path, secret: secret, force: true, logger: Self.logger)
            }
            #expect(future?.description.contains("newer than this sesame") == true)
            // A backup sealed with another secret, restored under that secret into a database in use that servers
            // hold with theirs: refused (they could not open it, nor would they start on it).
            let foreign = folder + "/foreign.db"
            try FileManager.default.copyItem(atPath: backupFile, toPath: foreign)
            let foreignDatabase = try await SQLiteDatabase.open(path: foreign, connections: 1, logger: Self.logger)
            let otherKey = String(repeating: "f", count: 40)
            try await foreignDatabase.query("UPDATE installation SET value = ? WHERE key = 'secret_check'",
                                            .text(SQLStore.checkValue(for: otherKey)))
            try await foreignDatabase.close()
            let mixed = await #expect(throws: TransferRefusal.self) {
                _ = try await SQLiteBackup.restore(from: foreign, to: path, secret: otherKey, force: true, logger: Self.logger)
            }
            #expect(mixed?.description.contains("database in use was sealed with a different SESAME_SECRET") == true)
            // The live database itself, or any file with a write-ahead log beside it, is no backup.
            let itself = await #expect(throws: TransferRefusal.self) {
                _ = try await SQLiteBackup.restore(from: path, to: folder + "/elsewhere.db", secret: secret, force: false,
                                                   logger: Self.logger)
            }
            #expect(itself?.description.contains("write-ahead log") == true)
            let same = await #expect(throws: TransferRefusal.self) {
                _ = try await SQLiteBackup.restore(from: backupFile, to: backupFile, secret: secret, force: true,
                                                   logger: Self.logger)
            }
            #expect(same?.description.contains("is the database itself") == true)
            #expect(try await fixture.runtime.users.user(id: later.id).id == later.id)

            let forced = try await SQLiteBackup.restore(from: backupFile, to: path, secret: secret, force: true,
                                                        logger: Self.logger)
            #expect(forced.method == "transaction")
            await #expect(throws: IdentityError.self) { _ = try await fixture.runtime.users.user(id: later.id) }
            #expect(try await fixture.runtime.users.user(id: fixture.user.id).id == fixture.user.id)
            // The server kept running, on the restored data.
            let authorization = try await CodeFlowTests.signIn(fixture, browser)
            #expect(try await CodeFlowTests.exchange(fixture, browser, authorization).status == .ok)
        }
    }
}
