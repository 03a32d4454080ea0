import Foundation

/// The `claims` authorization request parameter (OpenID Connect Core §5.5): individual claims asked for the ID token
/// and for userinfo, beside what the scopes release.
///
/// Shape: `{"id_token": {"email": {"essential": true}, "acr": {"values": ["urn:sesame:acr:mfa"]}},
/// "userinfo": {"name": null}}`. A member's value is `null` (asked for, voluntary) or an object with `essential`
/// (bool), `value` or `values` (the claim asked for with particular values, §5.5.1). Sesame applies `value`/`values`
/// where they can be met: `acr` (they join `acr_values`; an essential `acr` no offered class meets fails the request,
/// §5.5.1.1). For other claims the user's actual value is returned, as the specification allows.
public struct ClaimsRequest: Sendable, Codable, Equatable {
    /// One requested claim.
    public struct Request: Sendable, Codable, Equatable {
        public var essential: Bool
        /// `value` and `values` together, as strings (the classes of `acr`); empty when neither was given.
        public var values: [String]

        public init(essential: Bool = false, values: [String] = []) {
            self.essential = essential
            self.values = values
        }
    }

    /// Claims asked for in the ID token, by name.
    public var idToken: [String: Request]
    /// Claims asked for from the userinfo endpoint, by name.
    public var userinfo: [String: Request]

    public init(idToken: [String: Request] = [:], userinfo: [String: Request] = [:]) {
        self.idToken = idToken
        self.userinfo = userinfo
    }

    /// The most claims one member may name: far more than the standard and Logto claims together.
    public static let maximumClaims = 64

    /// Parses the parameter's JSON text (at most 4,096 bytes, 8 levels deep). Members other than `id_token` and
    /// `userinfo` are ignored, as are claims Sesame does not know (§5.5: "not understood ... ignored"). Throws
    /// `OAuthError.invalidRequest` for text that is not a JSON object of that shape.
    public static func parse(_ text: String) throws -> ClaimsRequest {
        guard text.utf8.count <= 4_096 else { throw OAuthError.invalidRequest("the claims parameter is too long") }
        let document: JSONValue
        do {
            document = try JSONValue.decode(Data(text.utf8), maximumDepth: 8)
        } catch {
            throw OAuthError.invalidRequest("the claims parameter must be a JSON object")
        }
        guard case .object(let members) = document else {
            throw OAuthError.invalidRequest("the claims parameter must be a JSON object")
        }
        return ClaimsRequest(idToken: try member(members["id_token"], "id_token"),
                             userinfo: try member(members["userinfo"], "userinfo"))
    }

    private static func member(_ value: JSONValue?, _ name: String) throws -> [String: Request] {
        guard let value, value != .null else { return [:] }
        guard case .object(let claims) = value else {
            throw OAuthError.invalidRequest("claims.\(name) must be an object")
        }
        guard claims.count <= maximumClaims else {
            throw OAuthError.invalidRequest("claims.\(name) names more than \(maximumClaims) claims")
        }
        let known = Set(StandardScope.supportedClaims).union(StandardScope.claimsByScope.values.joined())
        var requests: [String: Request] = [:]
        for (claim, request) in claims where known.contains(claim) {
            switch request {
            case .null:
                requests[claim] = Request()
            case .object(let fields):
                var parsed = Request()
                if let essential = fields["essential"] {
                    guard case .bool(let flag) = essential else {
                        throw OAuthError.invalidRequest("claims.\(name).\(claim).essential must be true or false")
                    }
                    parsed.essential = flag
                }
                if let one = fields["value"] { parsed.values.append(try text(one, "\(name).\(claim).value")) }
                if let many = fields["values"] {
                    guard case .array(let list) = many, list.count <= 16 else {
                        throw OAuthError.invalidRequest("claims.\(name).\(claim).values must be an array of at most 16")
                    }
                    parsed.values += try list.map { try text($0, "\(name).\(claim).values") }
                }
                requests[claim] = parsed
            default:
                throw OAuthError.invalidRequest("claims.\(name).\(claim) must be null or an object")
            }
        }
        return requests
    }

    /// A requested value as text: strings as they are, numbers and booleans as JSON writes them.
    private static func text(_ value: JSONValue, _ path: String) throws -> String {
        switch value {
        case .string(let string): return string
        case .int, .double, .bool: return value.encodedString()
        default: throw OAuthError.invalidRequest("claims.\(path) must be a string, a number or a boolean")
        }
    }

    /// The classes an `acr` request names (`id_token` first, then `userinfo`), in order; empty when `acr` was not
    /// asked for with values.
    public var acrValues: [String] {
        (idToken["acr"]?.values ?? []) + (userinfo["acr"]?.values ?? [])
    }

    /// The subjects an ID token `sub` request names with `value` or `values` (OpenID Connect Core §5.5.1): only that
    /// user may get a positive answer. nil when `sub` was not asked for with a value.
    public var requiredSubjects: Set<String>? {
        guard let values = idToken["sub"]?.values, !values.isEmpty else { return nil }
        return Set(values)
    }

    /// Whether `acr` was asked for at all (then the ID token states the class achieved).
    public var asksForACR: Bool { idToken["acr"] != nil || userinfo["acr"] != nil }

    /// Whether `acr` was asked for as essential with values.
    public var acrIsEssential: Bool {
        (idToken["acr"].map { $0.essential && !$0.values.isEmpty } ?? false)
            || (userinfo["acr"].map { $0.essential && !$0.values.isEmpty } ?? false)
    }

    /// The scopes whose claims a member asks for (so the account is read with those claims).
    public static func scopes(releasing claims: some Sequence<String>) -> [String] {
        let names = Set(claims)
        return StandardScope.claimsByScope.filter { !names.isDisjoint(with: $0.value) }.map(\.key).sorted()
    }
}
