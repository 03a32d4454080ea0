import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameStorage
import Synchronization

/// An error that carries its own complete answer (a Management API body with more than code and message).
protocol RenderedError: Error, Sendable {
    var response: Response { get }
}

/// Turns every error into its answer in one place: OAuth JSON for clients, a page for people, and a
/// logged, generic 500 for anything unexpected. Also gives each request an id (`X-Request-Id`: the one a
/// client or proxy sent when it is 1 to 64 of `A-Z a-z 0-9 . _ -`, else a fresh one) that every log line
/// of the request carries and the response returns, writes one log line per request without the query
/// string (it carries codes and tokens), and records the request's metrics.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = SesameRequestContext
    static let requestIDHeader = HTTPField.Name("X-Request-Id")!
    let pages: PageRenderer
    let metrics: SesameMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let started = ContinuousClock.now
        var context = context
        let requestID = request.headers[Self.requestIDHeader].flatMap(Self.acceptedRequestID) ?? Self.newRequestID()
        context.logger[metadataKey: "request_id"] = "\(requestID)"
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any RenderedError {
            response = error.response
        } catch {
            response = render(error, request: request, context: context)
        }
        if response.status == .serviceUnavailable, response.headers[.retryAfter] == nil {
            response.headers[.retryAfter] = "5"
        }
        response.headers[Self.requestIDHeader] = requestID
        Self.record(method: request.method.rawValue, path: request.uri.path, route: context.endpointPath ?? "unmatched",
                    status: response.status.code, duration: ContinuousClock.now - started, logger: context.logger,
                    metrics: metrics)
        return response
    }

    /// One answered request's access-log line (without the query string: it carries codes and tokens) and metrics,
    /// for the router's answers and for those `PublishedDocumentHandler` gives in the channel pipeline. `route`: the
    /// matched route's pattern; `logger` carries the request id.
    static func record(method: String, path: String, route: String, status: Int, duration: Duration, logger: Logger,
                       metrics: SesameMetrics)
    {
        logger.info("request", metadata: ["method": "\(method)", "path": "\(path)", "status": "\(status)"])
        metrics.request(method: method, route: route, status: status, duration: duration)
    }

    /// An inbound request id kept as it is: 1 to 64 characters of a safe alphabet (never a log injection).
    static func acceptedRequestID(_ value: String) -> String? {
        guard (1...64).contains(value.utf8.count),
              value.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                  || $0 == "." || $0 == "_" || $0 == "-") })
        else { return nil }
        return value
    }

    /// 32 hex characters: a random prefix drawn once per process, then a counter, so ids are unique across
    /// instances and restarts without a system call per request.
    static func newRequestID() -> String {
        let number = requestCounter.add(1, ordering: .relaxed).newValue
        return requestIDPrefix + SecretDigest.hex(withUnsafeBytes(of: number.bigEndian) { Array($0) })
    }

    private static let requestCounter = Atomic<UInt64>(0)
    private static let requestIDPrefix = SecretDigest.hex(SecureRandom.bytes(8))

    private func render(_ error: any Error, request: Request, context: Context) -> Response {
        let oauthError: OAuthError
        switch error {
        case let error as OAuthError:
            oauthError = error
        case let error as IdentityError:
            oauthError = OAuthError(OAuthError.Code(rawValue: error.code.rawValue), error.message,
                                    status: Self.status(of: error.code))
        case let error as HTTPError where error.status == .contentTooLarge:
            oauthError = .payloadTooLarge
        case is NIOTooManyBytesError:
            oauthError = .payloadTooLarge
        case is DatabaseUnavailable:
            context.logger.warning("database unavailable", metadata: ["path": "\(request.uri.path)"])
            oauthError = .temporarilyUnavailable
        case let error as SQLStore.SecretMismatch:
            // `sesame secret rotate` ran while this process kept the old secret: nothing is written with it.
            context.logger.critical("SESAME_SECRET no longer matches the database", metadata: ["detail": "\(error)"])
            oauthError = OAuthError(.serverError, error.description, status: 500)
        case let error as SecretBox.DecryptionError:
            // Names what did not open and why; no secret is in it. An operator's mistake, not the caller's.
            context.logger.error("stored secret could not be decrypted", metadata: ["detail": "\(error)"])
            oauthError = OAuthError(.serverError, error.description, status: 500)
        case let error as HTTPError where error.status.code < 500:
            oauthError = OAuthError(error.status == .notFound ? .notFound : .invalidRequest,
                                    error.body ?? error.status.reasonPhrase, status: error.status.code)
        default:
            let type = String(reflecting: Swift.type(of: error))
            var metadata: Logger.Metadata = ["path": "\(request.uri.path)", "error": "\(type)"]
            // SQLite's and the storage layer's messages carry no data values (unlike, say, a decoding error).
            if type == "SQLiteNIO.SQLiteError" || error is StorageError { metadata["detail"] = "\(error)" }
            // PostgreSQL's state and constraint say what failed; its message and detail may quote row values.
            if let state = SQLStore.sqlState(error) { metadata["sqlstate"] = "\(state)" }
            if let constraint = SQLStore.constraintName(error) { metadata["constraint"] = "\(constraint)" }
            context.logger.error("unexpected error", metadata: metadata)
            oauthError = .serverError()
        }
        if wantsHTML(request) {
            let localizer = Localizer(uiLocales: nil, acceptLanguage: request.headers[.acceptLanguage],
                                      offered: Localizer.supported)
            return pages.error(oauthError, look: PageLook(localizer: localizer, branding: .init()))
        }
        // The JSON APIs under /api answer Logto-style: {"code": ..., "message": ...}.
        if request.uri.path.hasPrefix("/api/") || request.uri.path.hasPrefix("/account/passkeys") {
            var status = oauthError.status
            var body: [String: JSONValue] = ["code": .string(oauthError.code.rawValue),
                                             "message": .string(oauthError.description)]
            if let error = error as? IdentityError {
                status = Self.status(of: error.code)
                if let data = error.data { body["data"] = .object(data) }
            }
            return Responses.json(.object(body), status: HTTPResponse.Status(code: status),
                                  headers: [.cacheControl: "no-store"])
        }
        var headers = HTTPFields()
        if let challenge = oauthError.wwwAuthenticate { headers[.wwwAuthenticate] = challenge }
        headers[.cacheControl] = "no-store"
        return Responses.json(oauthError.body, status: HTTPResponse.Status(code: oauthError.status), headers: headers)
    }

    static func status(of code: IdentityError.Code) -> Int {
        switch code {
        case .conflict: 409
        case .notFound, .userNotExist: 404
        case .tooManyAttempts: 429
        case .invalidCredentials, .weakPassword, .suspended, .emailAlreadyInUse: 422
        case _ where IdentityError.Code.unprocessable.contains(code): 422
        case .mfaVerificationRequired: 403
        case _ where IdentityError.Code.mfaUnprocessable.contains(code): 422
        default: 400
        }
    }

    /// People reach the authorization, sign-in and logout routes with a browser; clients get JSON.
    private func wantsHTML(_ request: Request) -> Bool {
        let path = request.uri.path
        // The account page's passkey endpoints answer scripts, in JSON.
        if path.hasPrefix("/account/passkeys") { return false }
        let browserPaths = ["/oidc/auth", "/oidc/session/end", "/sign-in", "/consent", "/console", "/invitation",
                            "/account"]
        if browserPaths.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { return true }
        return path.hasPrefix("/oidc/") || path.hasPrefix("/api/") ? false
            : (request.headers[.accept] ?? "").contains("text/html")
    }
}

/// CORS for the endpoints browsers call from other origins (SPAs): discovery, JWKS, token, userinfo,
/// revocation. No credentials are allowed, so `*` exposes nothing a cookie would.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = SesameRequestContext
    static let paths: Set<String> = ["/oidc/.well-known/openid-configuration", "/oidc/jwks", "/oidc/token", "/oidc/me",
                                     "/oidc/token/revocation"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard Self.paths.contains(request.uri.path), request.headers[.origin] != nil else {
            return try await next(request, context)
        }
        if request.method == .options {
            var headers = HTTPFields()
            headers[.accessControlAllowOrigin] = "*"
            headers[.accessControlAllowMethods] = "GET, POST, OPTIONS"
            headers[.accessControlAllowHeaders] = "Authorization, Content-Type"
            headers[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = "*"
        return response
    }
}

/// Refuses a body declared larger than 1 MiB with 413 before any route runs, whatever the route reads;
/// bodies without a length are cut at 1 MiB where they are read (`Request.bodyBytes`).
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = SesameRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBodySize {
            throw OAuthError.payloadTooLarge
        }
        return try await next(request, context)
    }
}
