extension Migration {
    /// Organizations (Logto's `organizations` and its relation tables): the tenant-wide organization template
    /// (organization roles holding organization scopes and API resource scopes), members and their roles per
    /// organization, member machine-to-machine apps and their roles, and just-in-time provisioning.
    ///
    /// As for global roles, relation tables carry the role's type (and the app's) pinned by a CHECK and reference
    /// `(id, type)`, so the database refuses a `MachineToMachine` role on a member user, a `User` role on an app,
    /// and an app that is not machine-to-machine; a member's roles reference the membership, so removing a member
    /// removes their roles there. Everything cascades.
    static let m0012Organizations = Migration(version: 12, name: "organizations", sqlite: schema(bigint: "INTEGER"),
                                              postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        CREATE TABLE organizations (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT,
            custom_data TEXT NOT NULL,
            is_mfa_required \(bigint) NOT NULL DEFAULT 0,
            branding TEXT NOT NULL,
            created_at \(bigint) NOT NULL
        );
        CREATE INDEX organizations_created_at ON organizations (created_at);
        CREATE TABLE organization_roles (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT,
            type TEXT NOT NULL CHECK (type IN ('User', 'MachineToMachine')),
            created_at \(bigint) NOT NULL,
            UNIQUE (id, type)
        );
        CREATE UNIQUE INDEX organization_roles_name_lower ON organization_roles (LOWER(name));
        CREATE TABLE organization_scopes (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT,
            created_at \(bigint) NOT NULL
        );
        CREATE TABLE organization_role_scopes (
            role_id TEXT NOT NULL REFERENCES organization_roles (id) ON DELETE CASCADE,
            scope_id TEXT NOT NULL REFERENCES organization_scopes (id) ON DELETE CASCADE,
            PRIMARY KEY (role_id, scope_id)
        );
        CREATE INDEX organization_role_scopes_scope_id ON organization_role_scopes (scope_id);
        CREATE TABLE organization_role_resource_scopes (
            role_id TEXT NOT NULL REFERENCES organization_roles (id) ON DELETE CASCADE,
            scope_id TEXT NOT NULL REFERENCES resource_scopes (id) ON DELETE CASCADE,
            PRIMARY KEY (role_id, scope_id)
        );
        CREATE INDEX organization_role_resource_scopes_scope_id ON organization_role_resource_scopes (scope_id);
        CREATE TABLE organization_users (
            organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            PRIMARY KEY (organization_id, user_id)
        );
        CREATE INDEX organization_users_user_id ON organization_users (user_id);
        CREATE TABLE organization_user_roles (
            organization_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            role_id TEXT NOT NULL,
            role_type TEXT NOT NULL DEFAULT 'User' CHECK (role_type = 'User'),
            PRIMARY KEY (organization_id, user_id, role_id),
            FOREIGN KEY (organization_id, user_id) REFERENCES organization_users (organization_id, user_id)
                ON DELETE CASCADE,
            FOREIGN KEY (role_id, role_type) REFERENCES organization_roles (id, type) ON DELETE CASCADE
        );
        CREATE INDEX organization_user_roles_role_id ON organization_user_roles (role_id);
        CREATE UNIQUE INDEX applications_id_type ON applications (id, type);
        CREATE TABLE organization_applications (
            organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            application_id TEXT NOT NULL,
            application_type TEXT NOT NULL DEFAULT 'MachineToMachine' CHECK (application_type = 'MachineToMachine'),
            PRIMARY KEY (organization_id, application_id),
            FOREIGN KEY (application_id, application_type) REFERENCES applications (id, type) ON DELETE CASCADE
        );
        CREATE INDEX organization_applications_application_id ON organization_applications (application_id);
        CREATE TABLE organization_application_roles (
            organization_id TEXT NOT NULL,
            application_id TEXT NOT NULL,
            role_id TEXT NOT NULL,
            role_type TEXT NOT NULL DEFAULT 'MachineToMachine' CHECK (role_type = 'MachineToMachine'),
            PRIMARY KEY (organization_id, application_id, role_id),
            FOREIGN KEY (organization_id, application_id)
                REFERENCES organization_applications (organization_id, application_id) ON DELETE CASCADE,
            FOREIGN KEY (role_id, role_type) REFERENCES organization_roles (id, type) ON DELETE CASCADE
        );
        CREATE INDEX organization_application_roles_role_id ON organization_application_roles (role_id);
        CREATE TABLE organization_jit_email_domains (
            organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            email_domain TEXT NOT NULL,
            PRIMARY KEY (organization_id, email_domain)
        );
        CREATE INDEX organization_jit_email_domains_domain ON organization_jit_email_domains (email_domain);
        CREATE TABLE organization_jit_roles (
            organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            role_id TEXT NOT NULL,
            role_type TEXT NOT NULL DEFAULT 'User' CHECK (role_type = 'User'),
            PRIMARY KEY (organization_id, role_id),
            FOREIGN KEY (role_id, role_type) REFERENCES organization_roles (id, type) ON DELETE CASCADE
        )
        """
    }
}
