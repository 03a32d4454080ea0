extension Migration {
    /// The audit log.
    static let m0006AuditLog = Migration(version: 6, name: "audit_log", sqlite: schema(bigint: "INTEGER"),
                                         postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        CREATE TABLE audit_log (
            id TEXT PRIMARY KEY,
            key TEXT NOT NULL,
            user_id TEXT,
            application_id TEXT,
            ip TEXT,
            payload TEXT NOT NULL,
            created_at \(bigint) NOT NULL
        );
        CREATE INDEX audit_log_created_at ON audit_log (created_at);
        CREATE INDEX audit_log_user_id ON audit_log (user_id, created_at);
        CREATE INDEX audit_log_application_id ON audit_log (application_id, created_at)
        """
    }
}
