import SesameIdentity

extension Migration {
    /// Roles (Logto's `roles`, `roles_scopes`, `users_roles`, `applications_roles`), the built-in role that
    /// replaces the `can_manage` flag, and the `configs` key-value table (`id-token`).
    ///
    /// The relation tables carry the role's type in a column pinned by a CHECK and reference
    /// `roles (id, type)`, so the database itself refuses a `MachineToMachine` role on a user and a `User` role
    /// on an application, on both dialects. Every relation cascades from both sides.
    static let m0011Roles = Migration(version: 11, name: "roles", sqlite: schema(bigint: "INTEGER"),
                                      postgres: schema(bigint: "BIGINT"))

    /// The built-in role holding the Management API's `all` permission (`sesame app create --management`).
    private static let managementRoleID = RoleService.managementRoleID

    private static func schema(bigint: String) -> String {
        """
        CREATE TABLE roles (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('User', 'MachineToMachine')),
            is_default \(bigint) NOT NULL DEFAULT 0,
            created_at \(bigint) NOT NULL,
            UNIQUE (id, type)
        );
        CREATE UNIQUE INDEX roles_name_lower ON roles (LOWER(name));
        CREATE TABLE roles_scopes (
            role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
            scope_id TEXT NOT NULL REFERENCES resource_scopes (id) ON DELETE CASCADE,
            PRIMARY KEY (role_id, scope_id)
        );
        CREATE INDEX roles_scopes_scope_id ON roles_scopes (scope_id);
        CREATE TABLE users_roles (
            user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            role_id TEXT NOT NULL,
            role_type TEXT NOT NULL DEFAULT 'User' CHECK (role_type = 'User'),
            PRIMARY KEY (user_id, role_id),
            FOREIGN KEY (role_id, role_type) REFERENCES roles (id, type) ON DELETE CASCADE
        );
        CREATE INDEX users_roles_role_id ON users_roles (role_id);
        CREATE TABLE applications_roles (
            application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
            role_id TEXT NOT NULL,
            role_type TEXT NOT NULL DEFAULT 'MachineToMachine' CHECK (role_type = 'MachineToMachine'),
            PRIMARY KEY (application_id, role_id),
            FOREIGN KEY (role_id, role_type) REFERENCES roles (id, type) ON DELETE CASCADE
        );
        CREATE INDEX applications_roles_role_id ON applications_roles (role_id);
        CREATE TABLE configs (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        INSERT INTO roles (id, name, description, type, is_default, created_at)
            VALUES ('\(managementRoleID)', 'Management API access',
                    'Full access to the Management API (https://default.logto.app/api, scope all)',
                    'MachineToMachine', 0, 0);
        INSERT INTO applications_roles (application_id, role_id)
            SELECT id, '\(managementRoleID)' FROM applications WHERE can_manage = 1 AND type = 'MachineToMachine';
        INSERT INTO roles_scopes (role_id, scope_id)
            SELECT '\(managementRoleID)', s.id FROM resource_scopes s JOIN resources r ON r.id = s.resource_id
            WHERE r.indicator = 'https://default.logto.app/api' AND s.name = 'all';
        ALTER TABLE applications DROP COLUMN can_manage
        """
    }
}
