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
                                                       name: "Alice Liddell", password: password)))
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
            try await app.test(.live) { client in
                try await body(fixture, Browser(client: client))
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
    let client: any TestClientProtocol
    private let jar = Mutex<[String: String]>([:])

    init(client: any TestClientProtocol) {
        self.client = client
    }

    var cookies: [String: String] { jar.withLock { $0 } }

    func set(_ name: String, _ value: String) {
        jar.withLock { $0[name] = value }
    }

    func forget(_ name: String) {
        _ = jar.withLock { $0.removeValue(forKey: name) }
    }

    @discardableResult
    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await send(uri, method: .get, headers: headers, body: nil)
    }

    @discardableResult
    func post(_ uri: String, form: [(String, String)], headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/x-www-form-urlencoded"
        return try await send(uri, method: .post, headers: fields, body: ByteBuffer(string: RequestParameters.encode(form)))
    }

    func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws
        -> TestResponse
    {
        var fields = headers
        let cookieHeader = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        if !cookieHeader.isEmpty { fields[.cookie] = cookieHeader }
        let response = try await client.executeRequest(uri: uri, method: method, headers: fields, body: body)
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

extension TestResponse {
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
