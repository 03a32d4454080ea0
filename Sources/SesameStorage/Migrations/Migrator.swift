import Foundation

/// Applies pending migrations in order, each in its own transaction, recording them in
/// `schema_migrations`. Safe to run on every start and from several instances.
public struct Migrator: Sendable {
    public let database: any SQLDatabase
    public let migrations: [Migration]

    public init(database: any SQLDatabase, migrations: [Migration] = Migration.all) {
        self.database = database
        self.migrations = migrations
    }

    /// Returns the versions it applied.
    @discardableResult
    public func migrate(now: Date = Date()) async throws -> [Int] {
        try await database.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
            """)
        var applied: [Int] = []
        for migration in migrations where try await !isApplied(migration.version) {
            let statements = Self.split(migration.sql(for: database.dialect)).map { ($0, [SQLValue]()) }
            do {
                try await database.transaction(statements + [(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [.integer(Int64(migration.version)), .text(migration.name), .date(now)]
                )])
            } catch {
                if try await isApplied(migration.version) { continue }  // another instance applied it first
                throw error
            }
            applied.append(migration.version)
        }
        return applied
    }

    public func appliedVersions() async throws -> [Int] {
        try await database.query("SELECT version FROM schema_migrations ORDER BY version").map {
            Int(try $0.int("version"))
        }
    }

    private func isApplied(_ version: Int) async throws -> Bool {
        try await !database.query("SELECT version FROM schema_migrations WHERE version = ?", .integer(Int64(version)))
            .isEmpty
    }

    /// Splits a script on the semicolons that end statements (the schema has no semicolons in literals).
    static func split(_ script: String) -> [String] {
        script.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}
