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
    ]

    /// The scopes discovery advertises, in a stable order.
    public static let supported = ["openid", "offline_access", "profile", "email", "phone"]

    public static let supportedClaims = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "name",
                                         "username", "picture", "updated_at", "email", "email_verified",
                                         "phone_number", "phone_number_verified"]

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
