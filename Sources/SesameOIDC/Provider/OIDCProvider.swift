import Foundation

/// The protocol engine. It takes plain values (parameters, header values, cookie values) and returns
/// plain values (JSON bodies, redirect URLs, interaction tickets); the host adapts it to HTTP.
public struct OIDCProvider: Sendable {
    public let configuration: ProviderConfiguration
    public let storage: any ProviderStorage
    public let accounts: any AccountProvider
    public let keys: KeyRing
    public let now: @Sendable () -> Date
    /// The public keys of `private_key_jwt` clients that publish them at a `jwks_uri`.
    public let clientKeySets: ClientKeySets

    /// `keySetFetcher`: fetches clients' `jwks_uri`s (nil: only inline JWK Sets work).
    public init(configuration: ProviderConfiguration, storage: any ProviderStorage, accounts: any AccountProvider,
                keySetFetcher: (any KeySetFetcher)? = nil, now: @escaping @Sendable () -> Date = { Date() })
    {
        clientKeySets = ClientKeySets(fetcher: keySetFetcher)
        self.configuration = configuration
        self.storage = storage
        self.accounts = accounts
        self.now = now
        self.keys = KeyRing(store: storage, configuration: configuration, now: now)
    }

    var issuer: String { configuration.issuer }

    /// A valid (unexpired) session named by the cookie value, if any.
    public func session(token: String?) async throws -> Session? {
        guard let token, !token.isEmpty else { return nil }
        guard let session = try await storage.session(id: SecretDigest.sha256Hex(token)) else { return nil }
        return session.expiresAt > now() ? session : nil
    }
}

/// A JSON answer from a back-channel endpoint.
public struct OAuthResponse: Sendable {
    public var status: Int
    public var body: JSONValue?
    public var headers: [(String, String)]

    public init(status: Int = 200, body: JSONValue?, headers: [(String, String)] = []) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// Token responses must not be cached (RFC 6749 §5.1).
    static func noStore(_ body: JSONValue) -> OAuthResponse {
        OAuthResponse(body: body, headers: [("Cache-Control", "no-store"), ("Pragma", "no-cache")])
    }
}

extension Date {
    var epochSeconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
}
