import Foundation

/// Every table Sesame keeps, as backups, `db copy`, export and import know them: in dependency order (a table comes
/// after every table its foreign keys reference, so rows insert in this order and delete in the reverse), each with
/// its primary key, which orders the pages a copy reads (keyset pagination).
///
/// A migration that adds a table must add it here: `TableCatalog.unknownTables(in:)` names a table the catalog lacks,
/// every portability verb refuses a database that has one, and a test fails until it is listed.
public enum TableCatalog {
    public struct Table: Sendable, Equatable {
        /// The table's name, as in the migrations.
        public let name: String
        /// Its primary key columns, in the key's order.
        public let primaryKey: [String]

        init(_ name: String, _ primaryKey: String...) {
            self.name = name
            self.primaryKey = primaryKey
        }
    }

    /// The tables, parents before children.
    public static let tables: [Table] = [
        Table("installation", "key"),
        Table("configs", "key"),
        Table("signing_keys", "kid"),
        Table("applications", "id"),
        Table("application_secrets", "application_id", "name"),
        Table("application_sealed_secrets", "id"),
        Table("client_assertions", "client_id", "jti_digest"),
        Table("users", "id"),
        Table("user_mfa_verifications", "id"),
        Table("user_backup_codes", "verification_id", "digest"),
        Table("interactions", "id"),
        Table("experiences", "id"),
        Table("sessions", "id"),
        Table("grants", "id"),
        Table("consents", "account_id", "client_id"),
        Table("authorization_codes", "id"),
        Table("device_codes", "id"),
        Table("access_tokens", "id"),
        Table("refresh_tokens", "id"),
        Table("resources", "id"),
        Table("resource_scopes", "id"),
        Table("roles", "id"),
        Table("roles_scopes", "role_id", "scope_id"),
        Table("users_roles", "user_id", "role_id"),
        Table("applications_roles", "application_id", "role_id"),
        Table("organizations", "id"),
        Table("organization_roles", "id"),
        Table("organization_scopes", "id"),
        Table("organization_role_scopes", "role_id", "scope_id"),
        Table("organization_role_resource_scopes", "role_id", "scope_id"),
        Table("organization_users", "organization_id", "user_id"),
        Table("organization_user_roles", "organization_id", "user_id", "role_id"),
        Table("organization_applications", "organization_id", "application_id"),
        Table("organization_application_roles", "organization_id", "application_id", "role_id"),
        Table("organization_jit_email_domains", "organization_id", "email_domain"),
        Table("organization_jit_roles", "organization_id", "role_id"),
        Table("organization_invitations", "id"),
        Table("organization_invitation_roles", "invitation_id", "role_id"),
        Table("application_user_consent_organizations", "application_id", "user_id", "organization_id"),
        Table("connectors", "id"),
        Table("sign_in_experience", "id"),
        Table("branding_assets", "id"),
        Table("verification_codes", "id"),
        Table("rate_limits", "key", "window_start"),
        Table("administrators", "id"),
        Table("console_sessions", "id"),
        Table("console_setup_tokens", "digest"),
        Table("audit_log", "id"),
    ]

    /// Tables each database keeps for itself and a copy never carries: the record of applied migrations (the
    /// target has its own, and must be at the same version).
    public static let ownTables: Set<String> = ["schema_migrations"]

    /// The names of the tables in the database's current schema (SQLite's internal tables aside).
    /// Throws what the database throws.
    public static func tableNames(in database: any SQLDatabase) async throws -> [String] {
        let rows: [SQLRow]
        switch database.dialect {
        case .sqlite:
            rows = try await database.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        case .postgres:
            rows = try await database.query("""
                SELECT table_name::text AS name FROM information_schema.tables
                WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name
                """)
        }
        return try rows.map { try $0.string("name") }
    }

    /// Tables in the database that the catalog does not list (nor `ownTables`), sorted.
    public static func unknownTables(in database: any SQLDatabase) async throws -> [String] {
        let known = Set(tables.map(\.name)).union(ownTables)
        return try await tableNames(in: database).filter { !known.contains($0) }
    }

    /// What an import checks of a column: its kind of value, whether it takes null, and whether it has a default.
    public struct ColumnType: Sendable, Equatable {
        public let isInteger: Bool
        public let isNullable: Bool
        public let hasDefault: Bool
    }

    /// A table's columns and their types. Throws what the database throws.
    public static func columnTypes(of table: String, in database: any SQLDatabase) async throws -> [String: ColumnType] {
        var types: [String: ColumnType] = [:]
        switch database.dialect {
        case .sqlite:
            for row in try await database.query("SELECT name, type, \"notnull\" AS required, pk, dflt_value FROM pragma_table_info(?)",
                                                .text(table)) {
                let type = try row.string("type").uppercased()
                types[try row.string("name")] = ColumnType(
                    isInteger: type.contains("INT"), isNullable: try row.int("required") == 0 && row.int("pk") == 0,
                    hasDefault: row.optionalString("dflt_value") != nil)
            }
        case .postgres:
            for row in try await database.query("""
                SELECT column_name::text AS name, data_type::text AS type, is_nullable::text AS nullable,
                column_default::text AS dflt FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = ?
                """, .text(table)) {
                types[try row.string("name")] = ColumnType(
                    isInteger: ["bigint", "integer", "smallint"].contains(try row.string("type")),
                    isNullable: try row.string("nullable") == "YES", hasDefault: row.optionalString("dflt") != nil)
            }
        }
        return types
    }

    /// A table's column names, sorted. Throws what the database throws.
    public static func columns(of table: String, in database: any SQLDatabase) async throws -> [String] {
        let rows: [SQLRow]
        switch database.dialect {
        case .sqlite:
            rows = try await database.query("SELECT name FROM pragma_table_info(?)", .text(table))
        case .postgres:
            rows = try await database.query("""
                SELECT column_name::text AS name FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = ?
                """, .text(table))
        }
        return try rows.map { try $0.string("name") }.sorted()
    }
}
