extension Migration {
    /// Images uploaded in the Console for the hosted pages (the logo), base64 in a text column so both
    /// dialects store them the same way; at most 512 KiB each.
    static let m0010BrandingAssets = Migration(version: 10, name: "branding_assets",
                                               sqlite: schema(bigint: "INTEGER"), postgres: schema(bigint: "BIGINT"))

    private static func schema(bigint: String) -> String {
        """
        CREATE TABLE branding_assets (
            id TEXT PRIMARY KEY,
            content_type TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at \(bigint) NOT NULL
        )
        """
    }
}
