extension Migration {
    /// Which machine-to-machine applications may use the Management API.
    static let m0005ManagementClients = Migration(
        version: 5, name: "management_clients",
        sqlite: "ALTER TABLE applications ADD COLUMN can_manage INTEGER NOT NULL DEFAULT 0",
        postgres: "ALTER TABLE applications ADD COLUMN can_manage BIGINT NOT NULL DEFAULT 0")
}
