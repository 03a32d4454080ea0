import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SesameIdentity
import SesameOIDC

/// The largest request body Sesame reads; larger ones get 413.
let maximumBodySize = 1 << 20

extension Request {
    /// The body, refusing anything over 1 MiB with 413.
    func bodyBytes() async throws -> ByteBuffer {
        if let length = headers[.contentLength].flatMap(Int.init), length > maximumBodySize {
            throw OAuthError.payloadTooLarge
        }
        // However slowly it trickles in, a request gets `ConnectionLimits.requestDeadline` to arrive whole
        // (`RequestDeadlineHandler` closes the connection then).
        do {
            return try await body.collect(upTo: maximumBodySize)
        } catch is NIOTooManyBytesError {
            // A body without a declared length (chunked) that grows past the limit.
            throw OAuthError.payloadTooLarge
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw OAuthError.payloadTooLarge
        }
    }

    /// A JSON object body (`Content-Type: application/json`), parsed in linear time with a depth cap
    /// (`JSONValue.maximumDepth`); strings and names may not hold control characters other than tab, line
    /// feed and carriage return. Throws `IdentityError.invalidInput` naming what is wrong, or 413.
    func jsonObject() async throws -> JSONValue {
        guard (headers[.contentType] ?? "").lowercased().hasPrefix("application/json") else {
            throw IdentityError.invalidInput(phrase: "input.json_content_type")
        }
        let bytes = try await bodyBytes()
        let body: JSONValue
        do {
            body = try JSONValue.decode(Data(bytes.readableBytesView))
        } catch {
            throw IdentityError.invalidInput(phrase: "input.body_not_json", ["detail": "\(error)"])
        }
        guard body.objectValue != nil else { throw IdentityError.invalidInput(phrase: "input.body_not_object") }
        guard !body.containsControlCharacters else {
            throw IdentityError.invalidInput(phrase: "input.body_control_characters")
        }
        return body
    }

    /// Query parameters, or `invalid_request` for malformed percent-encoding.
    func queryParameters() throws -> RequestParameters {
        guard let query = uri.query, !query.isEmpty else { return RequestParameters() }
        guard let parameters = RequestParameters(urlEncoded: query) else {
            throw OAuthError.invalidRequest("the query string is not valid percent-encoded text (control characters are refused)")
        }
        return parameters
    }

    /// An `application/x-www-form-urlencoded` body (RFC 6749 §3.2 requires it at the token endpoint).
    func formParameters() async throws -> RequestParameters {
        let contentType = headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw OAuthError.invalidRequest("the request body must be application/x-www-form-urlencoded")
        }
        let buffer = try await bodyBytes()
        guard let parameters = RequestParameters(urlEncoded: String(buffer: buffer)) else {
            throw OAuthError.invalidRequest("the request body is not valid form encoding (control characters are refused)")
        }
        return parameters
    }

    /// GET parameters from the query, POST parameters from the form body (authorization and logout).
    func requestParameters() async throws -> RequestParameters {
        method == .post ? try await formParameters() : try queryParameters()
    }

    func cookie(_ name: String) -> String? {
        cookies[name]?.value
    }
}

extension JSONValue {
    /// Whether a string or member name anywhere inside holds a C0 control character or DEL other than tab,
    /// line feed and carriage return (`RequestParameters.isRefusedControl`).
    var containsControlCharacters: Bool {
        func isControl(_ text: String) -> Bool { text.utf8.contains(where: RequestParameters.isRefusedControl) }
        switch self {
        case .string(let text): return isControl(text)
        case .array(let values): return values.contains(where: \.containsControlCharacters)
        case .object(let members):
            return members.contains { isControl($0.key) || $0.value.containsControlCharacters }
        default: return false
        }
    }
}

extension OAuthError {
    /// The database is unreachable for now (RFC 6749 §4.1.2.1's `temporarily_unavailable`), answered 503.
    static let temporarilyUnavailable = OAuthError(.temporarilyUnavailable,
                                                   "the service is temporarily unavailable; try again shortly",
                                                   status: 503)
    static let payloadTooLarge = OAuthError(.payloadTooLarge, "the request body is larger than 1 MiB", status: 413)
}

enum Responses {
    static func json(_ value: JSONValue?, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        guard let value else { return Response(status: status, headers: fields) }
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: value.encoded())))
    }

    static func oauth(_ response: OAuthResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        return json(response.body, status: HTTPResponse.Status(code: response.status), headers: fields)
    }

    static func html(_ body: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "text/html; charset=utf-8"
        fields[.cacheControl] = "no-store"
        fields[HTTPField.Name("X-Frame-Options")!] = "DENY"
        // Scripts only from this origin (the passkey script), talking only to it.
        fields[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; "
            + "script-src 'self'; connect-src 'self'; "
            + "form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'"
        fields[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// 303 See Other: the browser follows with GET, whatever the method was.
    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var fields = HTTPFields()
        fields[.location] = location
        fields[.cacheControl] = "no-store"
        for cookie in cookies { fields.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: fields)
    }
}

/// Cookie headers for the interaction and the IdP session: HttpOnly, SameSite=Lax, Secure on https.
struct CookieJar: Sendable {
    static let interaction = "_sesame_interaction"
    static let session = "_sesame_session"
    static let csrf = "_sesame_csrf"
    /// A local page to go back to once signed in, when no authorization request is pending (an invitation page).
    static let returnTo = "_sesame_return"

    let isSecure: Bool

    func set(_ name: String, _ value: String, maxAge: Int, path: String = "/", sameSite: String = "Lax") -> String {
        "\(name)=\(value); Path=\(path); Max-Age=\(maxAge); HttpOnly; SameSite=\(sameSite)" + (isSecure ? "; Secure" : "")
    }

    func clear(_ name: String, path: String = "/", sameSite: String = "Lax") -> String {
        set(name, "", maxAge: 0, path: path, sameSite: sameSite)
    }
}
