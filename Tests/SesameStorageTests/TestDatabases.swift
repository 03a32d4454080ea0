import Foundation
import Logging
import SesameIdentity
import SesameStorage
import Testing

/// The databases the store suite runs on: SQLite always, PostgreSQL when `scripts/test` provides one.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["SESAME_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var available: [Backend] {
        postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }
}

/// A fresh, migrated database for one test, removed afterwards.
func withDatabase(_ backend: Backend, _ body: (any SQLDatabase) async throws -> Void) async throws {
    let logger = Logger(label: "sesame.tests")
    switch backend {
    case .sqlite:
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await SQLiteDatabase.open(path: directory.appendingPathComponent("test.db").path,
                                                     logger: logger)
        do {
            try await body(database)
        } catch {
            try? await database.close()
            throw error
        }
        try await database.close()
    case .postgres:
        guard let url = Backend.postgresURL else { return }
        let name = "sesame_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = try await PostgresDatabase.open(url: url, logger: logger, maximumConnections: 1)
        try await admin.query("CREATE DATABASE \(name)")
        var components = URLComponents(string: url)!
        components.path = "/" + name
        let database = try await PostgresDatabase.open(url: components.string!, logger: logger)
        var failure: (any Error)?
        do {
            try await body(database)
        } catch {
            failure = error
        }
        try? await database.close()
        _ = try? await admin.query("DROP DATABASE IF EXISTS \(name)")
        try? await admin.close()
        if let failure { throw failure }
    }
}

/// A migrated store on a fresh database.
func withStore(_ backend: Backend, _ body: (SQLStore) async throws -> Void) async throws {
    try await withDatabase(backend) { database in
        try await Migrator(database: database).migrate()
        try await body(SQLStore(database: database, secretBox: SecretBox(secret: String(repeating: "k", count: 32))))
    }
}

@Test("PostgreSQL is available when scripts/test requires it")
func postgresIsProvided() {
    if ProcessInfo.processInfo.environment["SESAME_REQUIRE_POSTGRES"] == "1" {
        #expect(Backend.postgresURL != nil, "SESAME_TEST_POSTGRES_URL must be set when SESAME_REQUIRE_POSTGRES=1")
    }
}

@Test("connect_timeout in a PostgreSQL URL is 1 to 60 seconds")
func connectTimeoutIsChecked() async throws {
    for value in ["0", "61", "abc", "-1"] {
        await #expect(throws: StorageError.self) {
            _ = try await PostgresDatabase.open(url: "postgres://u@127.0.0.1:1/db?connect_timeout=\(value)",
                                                logger: Logger(label: "test"))
        }
    }
}
