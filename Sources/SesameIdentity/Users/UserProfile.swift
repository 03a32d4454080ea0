import Foundation
import SesameOIDC

/// The standard profile a user may have beside their name and avatar (Logto's `users.profile`), released as the
/// OpenID Connect standard claims (Core §5.1): `given_name`, `family_name`, ... with the `profile` scope, `address`
/// (§5.1.1) with the `address` scope. Every field is optional text of at most 256 bytes.
public struct UserProfile: Sendable, Codable, Equatable {
    /// §5.1.1's address, in Logto's camelCase field names.
    public struct Address: Sendable, Codable, Equatable {
        public var formatted: String?
        public var streetAddress: String?
        public var locality: String?
        public var region: String?
        public var postalCode: String?
        public var country: String?

        public init(formatted: String? = nil, streetAddress: String? = nil, locality: String? = nil,
                    region: String? = nil, postalCode: String? = nil, country: String? = nil)
        {
            self.formatted = formatted
            self.streetAddress = streetAddress
            self.locality = locality
            self.region = region
            self.postalCode = postalCode
            self.country = country
        }

        /// Logto's field name and the claim's member name (OpenID Connect Core §5.1.1), in order.
        static let fields: [(logto: String, claim: String, path: any WritableKeyPath<Address, String?> & Sendable)] = [
            ("formatted", "formatted", \.formatted), ("streetAddress", "street_address", \.streetAddress),
            ("locality", "locality", \.locality), ("region", "region", \.region),
            ("postalCode", "postal_code", \.postalCode), ("country", "country", \.country),
        ]

        public var isEmpty: Bool { Self.fields.allSatisfy { self[keyPath: $0.path] == nil } }
    }

    public var familyName: String?
    public var givenName: String?
    public var middleName: String?
    public var nickname: String?
    public var preferredUsername: String?
    public var profile: String?
    public var website: String?
    public var gender: String?
    public var birthdate: String?
    public var zoneinfo: String?
    public var locale: String?
    public var address: Address?

    public init() {}

    /// Logto's field name and the standard claim, in order (the address aside).
    static let fields: [(logto: String, claim: String, path: any WritableKeyPath<UserProfile, String?> & Sendable)] = [
        ("familyName", "family_name", \.familyName), ("givenName", "given_name", \.givenName),
        ("middleName", "middle_name", \.middleName), ("nickname", "nickname", \.nickname),
        ("preferredUsername", "preferred_username", \.preferredUsername), ("profile", "profile", \.profile),
        ("website", "website", \.website), ("gender", "gender", \.gender), ("birthdate", "birthdate", \.birthdate),
        ("zoneinfo", "zoneinfo", \.zoneinfo), ("locale", "locale", \.locale),
    ]

    /// The longest value of one field, in bytes.
    public static let maximumFieldBytes = 256

    public var isEmpty: Bool { Self.fields.allSatisfy { self[keyPath: $0.path] == nil } && (address?.isEmpty ?? true) }

    /// The claims it releases, by standard claim name.
    public var claims: [String: JSONValue] {
        var claims: [String: JSONValue] = [:]
        for field in Self.fields { if let value = self[keyPath: field.path] { claims[field.claim] = .string(value) } }
        if let address, !address.isEmpty {
            var members: [String: JSONValue] = [:]
            for field in Address.fields { if let value = address[keyPath: field.path] { members[field.claim] = .string(value) } }
            claims["address"] = .object(members)
        }
        return claims
    }

    /// As the Management API shows it: Logto's field names, absent fields left out.
    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        for field in Self.fields { if let value = self[keyPath: field.path] { object[field.logto] = .string(value) } }
        if let address, !address.isEmpty {
            var members: [String: JSONValue] = [:]
            for field in Address.fields { if let value = address[keyPath: field.path] { members[field.logto] = .string(value) } }
            object["address"] = .object(members)
        }
        return .object(object)
    }

    /// This profile with the fields `value` (a Management API `profile` object) names set: a string sets a field,
    /// null or "" clears it, `address` merges the same way one level down. Throws `IdentityError.invalidInput` for
    /// anything else (an unknown field, a value that is not text, text over `maximumFieldBytes`).
    public func merging(_ value: JSONValue) throws -> UserProfile {
        guard case .object(let members) = value else {
            throw IdentityError.invalidInput(phrase: "input.must_be_object", ["field": "profile"])
        }
        var profile = self
        for (key, member) in members {
            if key == "address" {
                var address = profile.address ?? Address()
                if member != .null {
                    guard case .object(let parts) = member else {
                        throw IdentityError.invalidInput(phrase: "input.must_be_object", ["field": "profile.address"])
                    }
                    for (part, text) in parts {
                        guard let field = Address.fields.first(where: { $0.logto == part }) else {
                            throw IdentityError.invalidInput(phrase: "input.cannot_change", ["field": "profile.address." + part])
                        }
                        address[keyPath: field.path] = try Self.text(text, "profile.address." + part)
                    }
                } else {
                    address = Address()
                }
                profile.address = address.isEmpty ? nil : address
                continue
            }
            guard let field = Self.fields.first(where: { $0.logto == key }) else {
                throw IdentityError.invalidInput(phrase: "input.cannot_change", ["field": "profile." + key])
            }
            profile[keyPath: field.path] = try Self.text(member, "profile." + key)
        }
        return profile
    }

    private static func text(_ value: JSONValue, _ field: String) throws -> String? {
        switch value {
        case .null: return nil
        case .string(let text):
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.utf8.count <= maximumFieldBytes else {
                throw IdentityError.invalidInput(phrase: "input.too_long", ["field": field, "max": "\(maximumFieldBytes)"])
            }
            return trimmed.isEmpty ? nil : trimmed
        default:
            throw IdentityError.invalidInput(phrase: "input.must_be_string", ["field": field])
        }
    }
}
