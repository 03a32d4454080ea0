import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Synchronization
import Testing

/// A server on a fresh SQLite file with the seed's applications and a user, driven over real HTTP.
struct Fixture: Sendable {
    static let password = "Correct-Horse-9"
    static let callback = "http://localhost:3000/api/auth/callback/logto"
    static let secondCallback = "http://localhost:4000/callback"
    static let spaCallback = "http://localhost:5173/callback"
    static let resource = "https://api.bookstore.test"

    let runtime: SesameRuntime
    let webApp: ApplicationService.Created
    let secondApp: ApplicationService.Created
    let spa: ApplicationService.Created
    let machine: ApplicationService.Created
    let user: User

    var issuer: String { runtime.configuration.issuer }

    /// The middle of a 15-minute (and so of a 5-minute) rate-limit window.
    static let midWindow: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_800_000_450) }
    var webSecret: String { webApp.secret ?? "" }

    /// Alice's password hashed once per test process at the default cost (10): every fixture stores the same
    /// hash instead of spending a bcrypt (about 60 ms of a core) on each of the suite's servers.
    static func passwordHash() async throws -> String {
        if let known = hashedPassword.withLock({ $0 }) { return known }
        let hash = try await PasswordHasher().hash(password)
        return hashedPassword.withLock { known in
            if known == nil { known = hash }
            return known!
        }
    }

    private static let hashedPassword = Mutex<String?>(nil)

    /// Runs `body` against a live server on loopback.
    /// `now`: a fixed clock for tests that count within rate-limit windows, so a window boundary
    /// cannot fall in the middle of them.
    /// `database`: SQLite in a temporary file, or a fresh PostgreSQL database when `scripts/test` provides one.
    static func withServer(mailbox: Bool = true, endpoint: String = "http://localhost:3001",
                           failureDelay: Duration = .milliseconds(5), now: (@Sendable () -> Date)? = nil,
                           database: TestDatabase = .sqlite, trustedProxies: TrustedProxies = TrustedProxies(),
                           _ body: @Sendable (Fixture, Browser) async throws -> Void) async throws
    {
        try await database.withURL { databaseURL in
            try await withServer(mailbox: mailbox, endpoint: endpoint, failureDelay: failureDelay, now: now,
                                 databaseURL: databaseURL, trustedProxies: trustedProxies, body)
        }
    }

    private static func withServer(mailbox: Bool, endpoint: String, failureDelay: Duration,
                                   now: (@Sendable () -> Date)?, databaseURL: String, trustedProxies: TrustedProxies,
                                   _ body: @Sendable (Fixture, Browser) async throws -> Void) async throws
    {
        var configuration = ServerConfiguration(
            endpoint: endpoint, host: "127.0.0.1", port: 0, databaseURL: databaseURL,
            secret: String(repeating: "s", count: 40), isDevMailboxEnabled: mailbox)
        configuration.trustedProxies = trustedProxies
        configuration.passwordFailureDelay = failureDelay
        configuration.keyActivationDelay = 0
        var logger = Logger(label: "sesame.integration")
        logger.logLevel = .warning
        let runtime = try await SesameRuntime.open(configuration, logger: logger, now: now ?? { Date() })
        let fixture = Fixture(
            runtime: runtime,
            webApp: try await runtime.applications.create(
                name: "Bookstore", type: .traditional, redirectURIs: [callback],
                postLogoutRedirectURIs: ["http://localhost:3000"]),
            secondApp: try await runtime.applications.create(
                name: "Reader", type: .traditional, redirectURIs: [secondCallback], postLogoutRedirectURIs: []),
            spa: try await runtime.applications.create(
                name: "Shelf", type: .spa, redirectURIs: [spaCallback], postLogoutRedirectURIs: []),
            machine: try await runtime.applications.create(
                name: "Indexer", type: .machineToMachine, redirectURIs: [], postLogoutRedirectURIs: []),
            user: try await runtime.users.create(.init(username: "alice", email: "Alice@Example.com",
                                                       name: "Alice Liddell",
                                                       passwordHash: try await passwordHash())))
        let books = try await runtime.resources.create(name: "Books", indicator: resource,
                                                       scopes: ["read:books", "write:books"])
        // Alice and the Indexer hold roles with both permissions of the Books API; RBACTests start from none.
        let bookworm = try await runtime.roles.create(name: "bookworm", description: "Reads and writes books",
                                                      scopeIDs: books.scopes.map(\.id))
        let indexer = try await runtime.roles.create(name: "indexer", description: "Indexes books",
                                                     type: .machineToMachine, scopeIDs: books.scopes.map(\.id))
        try await runtime.roles.assign(roleIDs: [bookworm.id], to: .account(fixture.user.id))
        try await runtime.roles.assign(roleIDs: [indexer.id], to: .client(fixture.machine.client.id))
        let app = SesameApplication.build(runtime: runtime)
        do {
            // The suite runs its tests side by side on two cores, with bcrypt queued behind every other test's:
            // the test client's default of 20 s per request is too tight for that, so each test gets 60 s.
            try await app.test(.live) { client in
                let port = try #require(client.port, "a live server")
                try await Browser.connect(port: port) { browser in try await body(fixture, browser) }
            }
        } catch {
            try? await runtime.close()
            throw error
        }
        try await runtime.close()
    }
}

/// The database a test server runs on.
enum TestDatabase: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["SESAME_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// SQLite always; PostgreSQL too when `scripts/test` started one.
    static var available: [TestDatabase] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// Runs `body` with the URL of a fresh database, removed afterwards.
    func withURL(_ body: (String) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("sesame-it-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try await body("sqlite://" + directory.appendingPathComponent("sesame.db").path)
        case .postgres:
            guard let url = Self.postgresURL else { return }
            let name = "sesame_it_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let admin = try await PostgresDatabase.open(url: url, logger: Logger(label: "sesame.tests"),
                                                        maximumConnections: 1)
            try await admin.query("CREATE DATABASE \(name)")
            var components = URLComponents(string: url)!
            components.path = "/" + name
            var failure: (any Error)?
            do { try await body(components.string!) } catch { failure = error }
            _ = try? await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            try? await admin.close()
            if let failure { throw failure }
        }
    }
}

/// A minimal browser: keeps cookies, does not follow redirects.
final class Browser: Sendable {
    let client: any Transport
    private let jar = Mutex<[String: String]>([:])

    init(client: any Transport) {
        self.client = client
    }

    var cookies: [String: String] { jar.withLock { $0 } }

    /// How long a test waits for one answer before failing it (the test client's own default is 20 s).
    static let requestTimeout: Duration = .seconds(60)

    /// Runs `body` with a copy of this browser (its cookies) on a connection of its own to the same server.
    /// One connection carries its requests one after the other (HTTP/1.1 pipelining), so requests meant to
    /// race each other must each go through this: only then do they reach the server at once.
    func onOwnConnection<T: Sendable>(_ body: @Sendable (Browser) async throws -> T) async throws -> T {
        let port = try #require(client.port, "a live server")
        let cookies = cookies
        return try await Self.connect(port: port) { own in
            own.jar.withLock { $0 = cookies }
            return try await body(own)
        }
    }

    /// A browser with a connection of its own to the server on `port`, waiting up to `requestTimeout` per answer.
    static func connect<T: Sendable>(port: Int, _ body: @Sendable (Browser) async throws -> T) async throws -> T {
        let connection = OwnConnection(port: port)
        let value: T
        do {
            value = try await body(Browser(client: connection))
        } catch {
            await connection.shutdown()
            throw error
        }
        await connection.shutdown()
        return value
    }

    /// Requests as HummingbirdTesting's live client sends them, on a `TestClient` this browser opened itself. As a
    /// browser does, it opens a new connection when the server has closed the idle one (after
    /// `ConnectionLimits.idleTimeout`, which a test busy elsewhere on a loaded machine can outlast): the request
    /// never reached the server, so sending it again is safe.
    private final class OwnConnection: Transport {
        let port: Int?
        private let client: Mutex<TestClient>

        init(port: Int) {
            self.port = port
            client = Mutex(Self.open(port))
        }

        private static func open(_ port: Int) -> TestClient {
            let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: requestTimeout))
            client.connect()
            return client
        }

        func shutdown() async {
            try? await client.withLock { $0 }.shutdown()
        }

        func send(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> Reply {
            var headers = headers
            headers[.connection] = "keep-alive"
            let request = TestClient.Request(uri, method: method, authority: "localhost", headers: headers, body: body)
            let current = client.withLock { $0 }
            do {
                let response = try await current.execute(request)
                return Reply(head: response.head, body: response.body ?? ByteBuffer())
            } catch ChannelError.ioOnClosedChannel {
                try? await current.shutdown()
                let fresh = Self.open(port ?? 0)
                client.withLock { $0 = fresh }
                let response = try await fresh.execute(request)
                return Reply(head: response.head, body: response.body ?? ByteBuffer())
            }
        }
    }

    func set(_ name: String, _ value: String) {
        jar.withLock { $0[name] = value }
    }

    func forget(_ name: String) {
        _ = jar.withLock { $0.removeValue(forKey: name) }
    }

    @discardableResult
    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> Reply {
        try await send(uri, method: .get, headers: headers, body: nil)
    }

    @discardableResult
    func post(_ uri: String, form: [(String, String)], headers: HTTPFields = [:]) async throws -> Reply {
        var fields = headers
        fields[.contentType] = "application/x-www-form-urlencoded"
        return try await send(uri, method: .post, headers: fields, body: ByteBuffer(string: RequestParameters.encode(form)))
    }

    func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws
        -> Reply
    {
        var fields = headers
        let cookieHeader = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        if !cookieHeader.isEmpty { fields[.cookie] = cookieHeader }
        let response = try await client.send(uri: uri, method: method, headers: fields, body: body)
        for header in response.headers[values: .setCookie] {
            let pair = header.split(separator: ";", maxSplits: 1)[0].split(separator: "=", maxSplits: 1)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            jar.withLock { cookies in
                if value.isEmpty || header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
            }
        }
        return response
    }
}

/// What a browser sends its requests through: a connection to a live server.
protocol Transport: Sendable {
    func send(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> Reply
    var port: Int? { get }
}

/// One answer: HummingbirdTesting's `TestResponse`, which only its own client can make.
struct Reply: Sendable {
    let head: HTTPResponse
    let body: ByteBuffer
    var status: HTTPResponse.Status { head.status }
    var headers: HTTPFields { head.headerFields }
}

extension Reply {
    var text: String { String(buffer: body) }

    var json: JSONValue {
        (try? JSONValue.decode(Data(body.readableBytesView))) ?? .null
    }

    var location: String? { headers[.location] }

    /// The query items of the Location header.
    var redirectQuery: [String: String] {
        guard let location, let items = URLComponents(string: location)?.queryItems else { return [:] }
        return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
    }

    /// The CSRF token of the page's form.
    var csrfToken: String? {
        guard let range = text.range(of: #"name="csrf_token" value="([^"]+)""#, options: .regularExpression) else {
            return nil
        }
        return String(text[range].dropFirst(#"name="csrf_token" value=""#.count).dropLast())
    }
}

func basicAuthorization(_ id: String, _ secret: String) -> String {
    "Basic " + Data((RequestParameters.encode(id) + ":" + RequestParameters.encode(secret)).utf8).base64EncodedString()
}
