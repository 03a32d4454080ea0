extension Migration {
    /// The organizations a user let a third-party application see (Logto's
    /// `application_user_consent_organizations`): only these give that app organization tokens and organization
    /// claims. Each row references the membership, so leaving an organization withdraws the consent to it;
    /// deleting the application cascades too.
    static let m0014OrganizationConsents = Migration(version: 14, name: "organization_consents",
                                                     sqlite: schema, postgres: schema)

    private static let schema = """
        CREATE TABLE application_user_consent_organizations (
            application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
            user_id TEXT NOT NULL,
            organization_id TEXT NOT NULL,
            PRIMARY KEY (application_id, user_id, organization_id),
            FOREIGN KEY (organization_id, user_id) REFERENCES organization_users (organization_id, user_id)
                ON DELETE CASCADE
        );
        CREATE INDEX application_user_consent_organizations_membership
            ON application_user_consent_organizations (organization_id, user_id)
        """
}
