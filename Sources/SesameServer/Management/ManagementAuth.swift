import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// Guards the Management API: a bearer JWT from `client_credentials` of a machine-to-machine app
/// allowed to manage, with audience `https://default.logto.app/api` and scope `all`. End-user tokens,
/// other audiences, expired or foreign tokens are refused.
struct ManagementAuth: RouterMiddleware {
    typealias Context = SesameRequestContext
    let runtime: SesameRuntime

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"management\"" }
        return Responses.json(["code": .string(code), "message": .string(message)], status: status, headers: headers)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization] else {
            return Self.error(.unauthorized, "auth.authorization_header_missing", "send Authorization: Bearer <token>")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return Self.error(.unauthorized, "auth.authorization_type_not_supported", "use the Bearer scheme")
        }
        let provider = runtime.provider
        guard let verified = try? JWT.verify(String(parts[1]), keys: try await provider.keys.snapshot().published),
              verified.claims["iss"]?.stringValue == provider.configuration.issuer,
              let exp = verified.claims["exp"]?.intValue, exp > Int64(provider.now().timeIntervalSince1970)
        else { return Self.error(.unauthorized, "auth.unauthorized", "the access token is invalid or expired") }
        let claims = verified.claims
        let audience = claims["aud"]?.stringValue ?? ""
        let scopes = (claims["scope"]?.stringValue ?? "").split(separator: " ")
        guard audience == provider.configuration.managementResource, scopes.contains("all") else {
            return Self.error(.forbidden, "auth.forbidden", "the token is not for the Management API with scope all")
        }
        // Only machine-to-machine tokens: their subject is the client itself, and the client may manage.
        guard let clientID = claims["client_id"]?.stringValue, claims["sub"]?.stringValue == clientID,
              let client = try await provider.storage.client(id: clientID), client.canManage
        else { return Self.error(.forbidden, "auth.forbidden", "this token's application may not use the Management API") }
        var context = context
        context.managementClientID = clientID
        let response = try await next(request, context)
        // Every successful change is audited with who made it.
        if request.method != .get, response.status.code < 400 {
            runtime.audit.record(AuditEvent(
                key: "Admin.Change", applicationID: clientID, ip: context.clientIP,
                payload: ["method": .string(request.method.rawValue), "path": .string(request.uri.path)],
                createdAt: provider.now()))
        }
        return response
    }
}

/// Reading Management API request bodies and query parameters.
enum ManagementInput {
    static func body(_ request: Request) async throws -> JSONValue {
        try await request.jsonObject()
    }

    static func optionalString(_ body: JSONValue, _ key: String) throws -> String?? {
        switch body[key] {
        case nil: return .none
        case .null?: return .some(nil)
        case .string(let value)?: return .some(value)
        default: throw IdentityError.invalidInput(phrase: "input.must_be_string", ["field": key])
        }
    }

    /// A required non-null string.
    static func requiredString(_ body: JSONValue, _ key: String) throws -> String {
        guard let value = try optionalString(body, key), let value else {
            throw IdentityError.invalidInput(phrase: "input.required", ["field": key])
        }
        return value
    }

    static func optionalBool(_ body: JSONValue, _ key: String) throws -> Bool? {
        guard let value = body[key] else { return nil }
        guard let flag = value.boolValue else {
            throw IdentityError.invalidInput(phrase: "input.must_be_boolean", ["field": key])
        }
        return flag
    }

    /// The optional `type` of a role (`User`, the default, or `MachineToMachine`).
    static func roleType(_ body: JSONValue) throws -> RoleType {
        guard let raw = body["type"] else { return .user }
        guard let value = raw.stringValue.flatMap(RoleType.init(rawValue:)) else {
            throw IdentityError.invalidInput(phrase: "role.type_invalid", ["type": raw.stringValue ?? "\(raw)"])
        }
        return value
    }

    /// The id list `field` of a body that holds only it: strings, non-empty unless `allowEmpty`.
    static func ids(_ request: Request, _ field: String, allowEmpty: Bool = false) async throws -> [String] {
        let body = try await body(request)
        try allowOnly(body, [field])
        guard let ids = try stringList(body[field], field) else {
            throw IdentityError.invalidInput(phrase: "input.required", ["field": field])
        }
        guard allowEmpty || !ids.isEmpty else { throw IdentityError.invalidInput(phrase: "input.ids_empty", ["field": field]) }
        return ids
    }

    /// The `Total-Number` header of a list.
    static func total(_ count: Int) -> HTTPFields {
        [HTTPField.Name("Total-Number")!: "\(count)"]
    }

    /// Refuses a body with a member outside `keys` (a misspelt field is an error, not silently ignored).
    static func allowOnly(_ body: JSONValue, _ keys: Set<String>) throws {
        for key in body.objectValue?.keys.sorted() ?? [] where !keys.contains(key) {
            throw IdentityError.invalidInput(phrase: "input.unknown_field", ["field": key])
        }
    }

    static func stringList(_ value: JSONValue?, _ key: String) throws -> [String]? {
        guard let value else { return nil }
        guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
            throw IdentityError.invalidInput(phrase: "input.must_be_string_array", ["field": key])
        }
        return items.compactMap(\.stringValue)
    }

    /// `page` (from 1) and `page_size` (1 to 100, default 20).
    static func page(_ request: Request) throws -> (offset: Int, limit: Int) {
        let query = try request.queryParameters()
        let page = try query.single("page").map { Int($0) } ?? 1
        let size = try query.single("page_size").map { Int($0) } ?? 20
        guard let page, (1...1_000_000).contains(page), let size, (1...100).contains(size) else {
            throw IdentityError.invalidInput(phrase: "input.page_range")
        }
        return ((page - 1) * size, size)
    }

    static func epochMilliseconds(_ date: Date) -> JSONValue {
        .int(date.millisecondsSince1970)
    }
}
