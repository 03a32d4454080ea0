import Foundation
import SesameOIDC

/// Which extended claims the ID token carries (Logto's `idToken` config, `GET/PUT /api/configs/id-token`).
/// Userinfo always returns every claim of a granted scope; the ID token only these. Default: `roles`.
public struct IDTokenConfig: Sendable, Equatable, Codable {
    public var enabledExtendedClaims: [String]

    public init(enabledExtendedClaims: [String] = ["roles"]) {
        self.enabledExtendedClaims = enabledExtendedClaims
    }

    /// Checks every name against `StandardScope.extendedClaims` (Logto's list) and drops repeats.
    /// Throws `IdentityError` `config.unknown_extended_claim`.
    public func validated() throws -> IDTokenConfig {
        var seen = Set<String>()
        for name in enabledExtendedClaims where !StandardScope.extendedClaims.contains(name) {
            throw IdentityError.invalidInput(phrase: "config.unknown_extended_claim", [
                "claim": name, "known": StandardScope.extendedClaims.sorted().joined(separator: ", "),
            ])
        }
        return IDTokenConfig(enabledExtendedClaims: enabledExtendedClaims.filter { seen.insert($0).inserted })
    }
}

/// Tenant-wide settings stored as JSON by key (Logto's `logto_configs`).
public protocol ConfigStore: Sendable {
    /// The stored JSON text of `key`, or nil.
    func config(key: String) async throws -> String?
    func saveConfig(key: String, json: String) async throws
}

/// What answering the engine's account questions needs beyond the user row.
public protocol AccountClaimsStore: ConfigStore {
    /// The names of the `User` roles the user holds, sorted.
    func roleNames(ofUser userID: String) async throws -> [String]
    /// The organizations a user or an app belongs to, with its roles in each.
    func organizations(of member: PermissionSubject) async throws
        -> [(organization: Organization, roles: [OrganizationRole])]
}

extension ConfigStore {
    /// The ID token config, or the default when none was saved.
    public func idTokenConfig() async throws -> IDTokenConfig {
        guard let text = try await config(key: "id-token") else { return IDTokenConfig() }
        return try JSONDecoder().decode(IDTokenConfig.self, from: Data(text.utf8))
    }

    /// Validates and saves; returns what was saved.
    public func saveIDTokenConfig(_ config: IDTokenConfig) async throws -> IDTokenConfig {
        let config = try config.validated()
        let data = try JSONEncoder().encode(config)
        try await saveConfig(key: "id-token", json: String(decoding: data, as: UTF8.self))
        return config
    }
}
