import Foundation

/// The OIDC scopes Sesame knows and the claims each one releases (OIDC Core §5.4).
public enum StandardScope {
    public static let openid = "openid"
    public static let offlineAccess = "offline_access"

    public static let claimsByScope: [String: [String]] = [
        "profile": ["name", "username", "picture", "given_name", "family_name", "middle_name", "nickname",
                    "preferred_username", "profile", "website", "gender", "birthdate", "zoneinfo", "locale",
                    "updated_at"],
        "email": ["email", "email_verified"],
        "phone": ["phone_number", "phone_number_verified"],
        "address": ["address"],
        "roles": ["roles"],
        OrganizationToken.organizationsScope: ["organizations", "organization_data"],
        OrganizationToken.organizationRolesScope: ["organization_roles"],
    ]

    /// The scopes discovery advertises, in a stable order. `roles` releases the user's role names (Logto's
    /// plain `roles` scope).
    public static let supported = ["openid", "offline_access", "profile", "email", "phone", "address", "roles",
                                   OrganizationToken.organizationsScope, OrganizationToken.organizationRolesScope]

    /// Claims that go in userinfo whenever their scope is granted, but in the ID token only when the
    /// administrator enables them (Logto's extended claims, `GET/PUT /api/configs/id-token`).
    public static let extendedClaims: Set<String> = ["custom_data", "identities", "sso_identities", "roles",
                                                     "organizations", "organization_data", "organization_roles"]

    public static let supportedClaims = ["sub", "iss", "aud", "exp", "iat", "auth_time", "amr", "acr", "nonce", "at_hash", "name",
                                         "username", "picture", "updated_at", "given_name", "family_name", "middle_name",
                                         "nickname", "preferred_username", "profile", "website", "gender", "birthdate",
                                         "zoneinfo", "locale", "address", "email", "email_verified",
                                         "phone_number", "phone_number_verified", "roles",
                                         "organizations", "organization_data", "organization_roles"]

    /// The claims of `account` released by `scopes`.
    public static func claims(of account: Account, scopes: some Sequence<String>) -> [String: JSONValue] {
        var released: [String: JSONValue] = [:]
        for scope in scopes {
            for name in claimsByScope[scope] ?? [] {
                if let value = account.claims[name], value != .null { released[name] = value }
            }
        }
        return released
    }
}

/// Scope strings: space-separated, order kept, duplicates dropped.
public enum ScopeList {
    public static func parse(_ value: String?) -> [String] {
        guard let value else { return [] }
        var seen = Set<String>()
        return value.split(separator: " ", omittingEmptySubsequences: true).map(String.init).filter {
            seen.insert($0).inserted
        }
    }

    public static func format(_ scopes: [String]) -> String {
        scopes.joined(separator: " ")
    }
}

/// What a user consented to, stored per user and application: OIDC scopes by name, API permissions as
/// `<resource indicator>#<scope>`, since two resources may define scopes of the same name (a resource
/// indicator has no fragment, RFC 8707 §2, so the first `#` always ends it).
public enum ConsentScope {
    public static func qualified(_ scope: String, of indicator: String) -> String { indicator + "#" + scope }
}

/// Logto's organization tokens: the scopes that release organization claims, the reserved resource the SDKs
/// send with them, and the audience of a token for one organization.
public enum OrganizationToken {
    public static let organizationsScope = "urn:logto:scope:organizations"
    public static let organizationRolesScope = "urn:logto:scope:organization_roles"
    /// Sent as `resource` by Logto's SDKs when they ask for organizations; not an API resource.
    public static let reservedResource = "urn:logto:resource:organizations"
    /// Organization tokens live an hour, as Logto's.
    public static let ttl = 3600

    public static func audience(_ organizationID: String) -> String { "urn:logto:organization:" + organizationID }
}
