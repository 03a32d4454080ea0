import Logging

/// Opens the database `SESAME_DB` names: `sqlite://PATH` (relative or absolute) or `postgres://...`.
public enum DatabaseURL {
    /// `forLongTransactions`: PostgreSQL statements watch their connection (see `PostgresDatabase.open`), for the
    /// portability verbs.
    public static func open(_ url: String, logger: Logger, forLongTransactions: Bool = false) async throws
        -> any SQLDatabase
    {
        if url.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw StorageError.invalidURL("sqlite:// needs a file path") }
            return try await SQLiteDatabase.open(path: path, logger: logger)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            return try await PostgresDatabase.open(url: url, logger: logger, watchingConnections: forLongTransactions)
        }
        throw StorageError.invalidURL("use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE")
    }

    /// Whether the URL is well formed, without connecting.
    public static func validate(_ url: String) -> String? {
        if url.hasPrefix("sqlite://") { return url.count > "sqlite://".count ? nil : "sqlite:// needs a file path" }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return nil }
        return "use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
    }
}
