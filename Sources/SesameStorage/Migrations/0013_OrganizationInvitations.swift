extension Migration {
    /// Invitations to organizations (Logto's `organization_invitations` and its role relation): the invited address,
    /// the inviter and the accepting user (both kept as history: deleting the user clears the reference), a status
    /// pinned by a CHECK, and at most one `Pending` invitation per organization and address (a partial unique index,
    /// which both databases enforce). The roles given on acceptance are `User` organization roles (pinned as in
    /// migration 12); deleting the organization, the invitation or a role cascades.
    static let m0013OrganizationInvitations = Migration(version: 13, name: "organization_invitations",
                                                        sqlite: schema(bigint: "INTEGER"),
                                                        postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        CREATE TABLE organization_invitations (
            id TEXT PRIMARY KEY,
            inviter_id TEXT REFERENCES users (id) ON DELETE SET NULL,
            invitee TEXT NOT NULL,
            accepted_user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
            organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            status TEXT NOT NULL CHECK (status IN ('Pending', 'Accepted', 'Expired', 'Revoked')),
            created_at \(bigint) NOT NULL,
            updated_at \(bigint) NOT NULL,
            expires_at \(bigint) NOT NULL
        );
        CREATE UNIQUE INDEX organization_invitations_one_pending ON organization_invitations (organization_id, invitee)
            WHERE status = 'Pending';
        CREATE INDEX organization_invitations_invitee ON organization_invitations (invitee);
        CREATE INDEX organization_invitations_inviter_id ON organization_invitations (inviter_id);
        CREATE INDEX organization_invitations_accepted_user_id ON organization_invitations (accepted_user_id);
        CREATE TABLE organization_invitation_roles (
            invitation_id TEXT NOT NULL REFERENCES organization_invitations (id) ON DELETE CASCADE,
            role_id TEXT NOT NULL,
            role_type TEXT NOT NULL DEFAULT 'User' CHECK (role_type = 'User'),
            PRIMARY KEY (invitation_id, role_id),
            FOREIGN KEY (role_id, role_type) REFERENCES organization_roles (id, type) ON DELETE CASCADE
        );
        CREATE INDEX organization_invitation_roles_role_id ON organization_invitation_roles (role_id)
        """
    }
}
