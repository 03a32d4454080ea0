extension Migration {
    /// The standard profile of a user beyond name and avatar (Logto's `users.profile`: given and family names, address,
    /// ...), JSON in Logto's field names; null when empty.
    static let m0018UserProfiles = Migration(version: 18, name: "user_profiles", sqlite: schema, postgres: schema)

    private static let schema = "ALTER TABLE users ADD COLUMN profile TEXT"
}
