import Foundation
import SesameOIDC
import Synchronization
import Testing

/// A provider with the usual cast: a web app, an SPA, an M2M client, a third-party app, one user and
/// an API resource.
struct EngineFixture {
    static let issuer = "https://id.example.test/oidc"
    static let webCallback = "https://app.example.test/api/auth/callback/logto"
    static let spaCallback = "https://spa.example.test/callback"
    static let resource = "https://api.example.test"
    static let webSecret = "web secret: a+b/c%d"
    static let machineSecret = "machine-secret"

    let storage = InMemoryStorage()
    let clock = ManualClock()
    let provider: OIDCProvider

    static let user = Account(id: "user-1", claims: [
        "name": "Alice Liddell", "username": "alice", "email": "alice@example.com", "email_verified": true,
        "picture": "https://example.test/alice.png", "phone_number": "8613800000000",
    ])

    /// `permitted`: the scopes of the Books API the user's and the M2M app's roles hold.
    init(permitted: Set<String> = ["read:books", "write:books"], roles: [String] = [],
         idTokenClaims: Set<String> = ["roles"], keySetFetcher: (any KeySetFetcher)? = nil)
    {
        let clock = clock
        provider = OIDCProvider(configuration: ProviderConfiguration(issuer: Self.issuer), storage: storage,
                                accounts: InMemoryAccounts(accounts: [Self.user.id: Self.user],
                                                           roles: [Self.user.id: roles], idTokenClaims: idTokenClaims),
                                keySetFetcher: keySetFetcher, now: { clock.now })
        storage.permit(.account(Self.user.id), permitted)
        storage.permit(.client("m2m"), permitted)
        let created = clock.now
        storage.state.withLock { state in
            for client in [
                Client(id: "web", name: "Bookstore", type: .traditional, secretHash: SecretDigest.sha256Hex(Self.webSecret),
                       redirectURIs: [Self.webCallback], postLogoutRedirectURIs: ["https://app.example.test/"],
                       createdAt: created),
                Client(id: "spa", name: "Shelf", type: .spa, secretHash: nil, redirectURIs: [Self.spaCallback],
                       postLogoutRedirectURIs: [], createdAt: created),
                Client(id: "m2m", name: "Indexer", type: .machineToMachine,
                       secretHash: SecretDigest.sha256Hex(Self.machineSecret), redirectURIs: [],
                       postLogoutRedirectURIs: [], createdAt: created),
                Client(id: "third", name: "Partner", type: .traditional, secretHash: SecretDigest.sha256Hex("third"),
                       redirectURIs: ["https://partner.test/cb"], postLogoutRedirectURIs: [], isThirdParty: true,
                       createdAt: created),
            ] {
                state.clients[client.id] = client
            }
            state.resources[Self.resource] = APIResource(
                id: "api", name: "Books", indicator: Self.resource, accessTokenTTL: 600,
                scopes: [ResourceScope(id: "s1", name: "read:books"), ResourceScope(id: "s2", name: "write:books")],
                createdAt: created)
        }
    }

    /// A valid authorization request for the web app, with overrides.
    func authorizationParameters(_ overrides: [String: String?] = [:], verifier: String = Self.verifier)
        -> RequestParameters
    {
        var values: [String: [String]] = [
            "client_id": ["web"], "redirect_uri": [Self.webCallback], "response_type": ["code"],
            "scope": ["openid profile email offline_access"], "state": ["xyz"],
            "code_challenge": [PKCE.challenge(for: verifier)], "code_challenge_method": ["S256"],
        ]
        for (name, value) in overrides { values[name] = value.map { [$0] } }
        return RequestParameters(values)
    }

    static let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

    /// Authorizes, signs the user in, resumes: returns the code and the session cookie value.
    func signIn(_ overrides: [String: String?] = [:], session: String? = nil) async throws
        -> (code: String, session: String)
    {
        let outcome = try await provider.authorize(authorizationParameters(overrides), sessionToken: session)
        if case .redirect(let location) = outcome, let session {
            return (try #require(Self.query(location)["code"]), session)
        }
        guard case .interaction(let ticket) = outcome else {
            Issue.record("expected an interaction, got \(outcome)")
            throw OAuthError.serverError()
        }
        let newSession = try await provider.completeLogin(interactionToken: ticket.token, accountID: Self.user.id,
                                                          previousSessionToken: session)
        var resumed = try await provider.resume(interactionToken: ticket.token, sessionToken: newSession)
        if case .interaction(let consent) = resumed, consent.step == .consent {
            _ = try await provider.prepareConsent(interactionToken: ticket.token)
            try await provider.completeConsent(interactionToken: ticket.token)
            resumed = try await provider.resume(interactionToken: ticket.token, sessionToken: newSession)
        }
        guard case .redirect(let location) = resumed else {
            Issue.record("expected a redirect, got \(resumed)")
            throw OAuthError.serverError()
        }
        return (try #require(Self.query(location)["code"]), newSession)
    }

    func exchange(_ code: String, verifier: String = Self.verifier, extra: [String: String] = [:]) async throws
        -> JSONValue
    {
        var values: [String: [String]] = [
            "grant_type": ["authorization_code"], "code": [code], "redirect_uri": [Self.webCallback],
            "code_verifier": [verifier],
        ]
        for (name, value) in extra { values[name] = [value] }
        return try await provider.token(RequestParameters(values), authorization: Self.basic("web", Self.webSecret))
            .body ?? .null
    }

    func refresh(_ token: String, extra: [String: String] = [:]) async throws -> JSONValue {
        var values: [String: [String]] = ["grant_type": ["refresh_token"], "refresh_token": [token]]
        for (name, value) in extra { values[name] = [value] }
        return try await provider.token(RequestParameters(values), authorization: Self.basic("web", Self.webSecret))
            .body ?? .null
    }

    func verify(_ token: String) async throws -> JWT.Verified {
        try JWT.verify(token, keys: try await provider.keys.snapshot().published)
    }

    static func basic(_ id: String, _ secret: String) -> String {
        "Basic " + Data((RequestParameters.encode(id) + ":" + RequestParameters.encode(secret)).utf8).base64EncodedString()
    }

    static func query(_ url: String) -> [String: String] {
        let items = URLComponents(string: url)?.queryItems ?? []
        return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
    }
}

/// Runs `body` and returns the OAuth error it threw, or records an issue.
func oauthError(_ body: () async throws -> Void) async -> OAuthError? {
    do {
        try await body()
        Issue.record("expected an OAuth error")
        return nil
    } catch let error as OAuthError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}
