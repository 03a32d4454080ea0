import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameStorage
import Testing
@testable import SesameServer

/// Metrics, readiness and request ids, over real HTTP.
@Suite("Operations")
struct OperationsTests {
    static func scrape(_ fixture: Fixture) async throws -> String {
        let keys = try await fixture.runtime.provider.keys.snapshot()
        let bytes = fixture.runtime.metrics.scrape(
            database: fixture.runtime.database.statistics,
            signingKeys: [(keys.current.algorithm.rawValue, keys.current.createdAt)], now: Date())
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The value of the sample `name{labels}` in the text format.
    static func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test(arguments: TestDatabase.available)
    func metricsCountRequestsGrantsSignInsCodesAndRefusals(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            for _ in 0..<3 { try await browser.get("/oidc/.well-known/openid-configuration") }
            try await browser.get("/console/users/u_secret_id_123")
            // A client_credentials grant, confidential.
            let token = try await browser.post("/oidc/token", form: [
                ("grant_type", "client_credentials"), ("resource", Fixture.resource),
            ], headers: [.authorization: basicAuthorization(fixture.machine.client.id, fixture.machine.secret ?? "")])
            #expect(token.status == .ok)
            // A password sign-in on the hosted page, and a wrong one.
            _ = try await CodeFlowTests.signIn(fixture, browser)
            let page = try await browser.get("/sign-in")
            try await browser.post("/sign-in", form: [
                ("csrf_token", try #require(page.csrfToken)), ("identifier", "alice"), ("password", "wrong-one"),
            ])
            // A code sent through the development console.
            let codePage = try await browser.get("/sign-in/code")
            try await browser.post("/sign-in/code/send", form: [
                ("csrf_token", try #require(codePage.csrfToken)), ("identifier", "someone@example.com"),
            ])
            let text = try await Self.scrape(fixture)
            #expect((Self.sample(text, #"sesame_http_requests_total{method="GET",route="/oidc/.well-known/openid-configuration",status="200"}"#) ?? 0) >= 3, "\(text)")
            #expect(text.contains(#"sesame_http_request_duration_seconds_bucket{method="GET",route="/oidc/.well-known/openid-configuration",le="#))
            #expect(Self.sample(text, #"sesame_token_grants_total{grant_type="client_credentials",client_kind="confidential"}"#) == 1)
            #expect(Self.sample(text, #"sesame_sign_ins_total{method="password",result="success"}"#) == 1)
            #expect(Self.sample(text, #"sesame_sign_ins_total{method="password",result="failure"}"#) == 1)
            #expect(Self.sample(text, #"sesame_codes_sent_total{connector="dev-console",result="success"}"#) == 1)
            #expect(text.contains("sesame_database_connections_in_use "))
            #expect((Self.sample(text, "sesame_database_connection_leases_total") ?? 0) > 0)
            #expect(text.contains(#"sesame_signing_key_age_seconds{alg="ES384"}"#))
            // Route patterns, never raw paths: an id in a URL never becomes a label value.
            #expect(!text.contains("u_secret_id_123"))
            // A second scrape adds only what happened since the first.
            let leases = Self.sample(text, "sesame_database_connection_leases_total") ?? 0
            let again = try await Self.scrape(fixture)
            #expect((Self.sample(again, "sesame_database_connection_leases_total") ?? 0) >= leases)
        }
    }

    @Test func rateLimitRefusalsAreCounted() async throws {
        try await Fixture.withServer { fixture, browser in
            let page = try await browser.get("/sign-in/code")
            let token = try #require(page.csrfToken)
            for _ in 0..<2 {
                try await browser.post("/sign-in/code/send", form: [("csrf_token", token), ("identifier", "x@example.com")])
            }
            let text = try await Self.scrape(fixture)
            #expect((Self.sample(text, #"sesame_rate_limit_refusals_total{route="/sign-in/code/send"}"#) ?? 0) >= 1, "\(text)")
        }
    }

    @Test(arguments: TestDatabase.available)
    func readinessWaitsForMigrations(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let ready = try await browser.get("/api/status/ready")
            #expect(ready.status == .noContent)
            // A migration this binary knows but the database lacks: not ready, and it says why.
            try await fixture.runtime.database.query("DELETE FROM schema_migrations WHERE version = ?",
                                                     .integer(Int64(Migration.all.last!.version)))
            let pending = try await browser.get("/api/status/ready")
            #expect(pending.status == .serviceUnavailable)
            #expect(pending.headers[.retryAfter] == "5")
            #expect(pending.json["code"] == "migrations_pending")
            #expect(try await browser.get("/api/status").status == .noContent)  // liveness is unaffected
            let head = try await browser.send("/api/status/ready", method: .head, headers: [:], body: nil)
            #expect(head.status == .serviceUnavailable)
        }
    }

    @Test func everyResponseCarriesARequestID() async throws {
        try await Fixture.withServer { _, browser in
            let fresh = try await browser.get("/api/status")
            let id = try #require(fresh.headers[ErrorMiddleware.requestIDHeader])
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
            let kept = try await browser.get("/oidc/jwks", headers: [ErrorMiddleware.requestIDHeader: "lb-7f3a.9_x"])
            #expect(kept.headers[ErrorMiddleware.requestIDHeader] == "lb-7f3a.9_x")
            for hostile in ["a b", "x\"}{", String(repeating: "a", count: 65), "é"] {
                let replaced = try await browser.get("/api/status", headers: [ErrorMiddleware.requestIDHeader: hostile])
                let answer = try #require(replaced.headers[ErrorMiddleware.requestIDHeader])
                #expect(answer != hostile && answer.count == 32)
            }
            let notFound = try await browser.get("/no-such-thing")
            #expect(notFound.headers[ErrorMiddleware.requestIDHeader] != nil)
        }
    }

    @Test func jsonLogLinesAreJSONWhateverTheyHold() throws {
        let line = SesameLogHandler.jsonLine(time: Date(timeIntervalSince1970: 1_800_000_000.25), level: .info,
                                       label: "sesame", message: "request \"quoted\"\n\u{1}",
                                       metadata: ["path": "/a\\b", "request_id": "abc", "level": "spoof"])
        #expect(line.hasSuffix("}\n") && line.split(separator: "\n").count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["message"] == "request \"quoted\"\n\u{1}")
        #expect(object["level"] == "info" && object["path"] == "/a\\b" && object["request_id"] == "abc")
        #expect(object["time"] == "2027-01-15T08:00:00.250Z")
    }

    @Test func logLinesAreBufferedInOrderAndUrgentOnesWrittenAtOnce() throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        defer { close(descriptors[0]); close(descriptors[1]) }
        let output = LogOutput(descriptor: descriptors[1])
        var logger = Logger(label: "sesame") { SesameLogHandler(label: $0, format: .text, output: output) }
        logger.logLevel = .info
        for index in 0..<100 { logger.info("request", metadata: ["path": "/p\(index)", "request_id": "r\(index)"]) }
        logger.error("failed")  // urgent: written with everything before it, in order
        var bytes = [UInt8](repeating: 0, count: 1 << 16)
        var text = ""
        while !text.contains("failed\n") {
            let count = read(descriptors[0], &bytes, bytes.count)
            #expect(count > 0)
            text += String(decoding: bytes[..<max(count, 0)], as: UTF8.self)
        }
        let lines = text.split(separator: "\n")
        #expect(lines.count == 101)
        #expect(lines[7].hasSuffix(" info sesame: path=/p7 request_id=r7 [SesameIntegrationTests] request"), "\(lines[7])")
        #expect(lines[7].firstMatch(of: #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} /#) != nil)
        #expect(lines.last?.hasSuffix("[SesameIntegrationTests] failed") == true)
    }

    @Test func metricsAddressesAreParsed() throws {
        let loader = { (value: String) in
            try ConfigurationLoader(environment: ["SESAME_SECRET": String(repeating: "s", count: 40),
                                                  "SESAME_METRICS_ADDRESS": value]).load().metricsAddress
        }
        #expect(try loader("127.0.0.1:9464")?.host == "127.0.0.1")
        #expect(try loader("[::1]:9464")?.port == 9464)
        for bad in ["9464", "host:", ":9464", "::1:9464", "127.0.0.1:99999", "[::1]9464"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try loader(bad) }
        }
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(environment: ["SESAME_SECRET": String(repeating: "s", count: 40),
                                                  "SESAME_LOG_FORMAT": "xml"]).load()
        }
    }
}
