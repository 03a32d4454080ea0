extension Migration {
    /// The device authorization grant (RFC 8628): which native applications use it (`is_device_flow`, Logto's
    /// `customClientMetadata.isDeviceFlow`), and one row per device authorization, keyed by the SHA-256 hex of its
    /// device code and found by the SHA-256 hex of its user code (unique). `request` and `context` are JSON: the
    /// request it approves and, once approved, what its tokens carry. Rows are swept an hour after they expire, so a
    /// late poll still hears `expired_token`.
    static let m0020DeviceCodes = Migration(version: 20, name: "device_codes", sqlite: schema(bigint: "INTEGER"),
                                            postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        ALTER TABLE applications ADD COLUMN is_device_flow \(bigint) NOT NULL DEFAULT 0;
        CREATE TABLE device_codes (
            id TEXT PRIMARY KEY,
            user_code_digest TEXT NOT NULL,
            client_id TEXT NOT NULL,
            request TEXT NOT NULL,
            status TEXT NOT NULL,
            interval_seconds \(bigint) NOT NULL,
            last_polled_at \(bigint),
            grant_id TEXT,
            context TEXT,
            created_at \(bigint) NOT NULL,
            expires_at \(bigint) NOT NULL,
            consumed_at \(bigint)
        );
        CREATE UNIQUE INDEX device_codes_user_code ON device_codes (user_code_digest);
        CREATE INDEX device_codes_client ON device_codes (client_id);
        CREATE INDEX device_codes_expires_at ON device_codes (expires_at)
        """
    }
}
