import Foundation
import HTTPTypes
import HummingbirdTesting
import SesameIdentity
import SesameOIDC
import SesameServer
import Testing

/// `SESAME_TRUSTED_PROXIES`: behind a trusted proxy the client address comes from `Forwarded` or
/// `X-Forwarded-For` (the right-most address that is not a trusted proxy); from anyone else those headers are
/// ignored.
@Suite("Trusted proxies")
struct TrustedProxiesTests {
    static let proxies = try! TrustedProxies(parsing: "10.0.0.0/8, 192.168.1.7 2001:db8::/32")
    static let forwardedProxies = try! TrustedProxies(parsing: "10.0.0.0/8", header: "forwarded")

    /// Only the header the proxies write is read: the other one is the client's own, and may lie.
    @Test func onlyTheConfiguredHeaderIsRead() {
        #expect(Self.proxies.clientAddress(peer: "10.1.2.3", forwarded: ["for=6.6.6.6"], xForwardedFor: ["198.51.100.1"])
            == "198.51.100.1")
        #expect(Self.proxies.clientAddress(peer: "10.1.2.3", forwarded: ["for=6.6.6.6"], xForwardedFor: []) == "10.1.2.3")
        #expect(Self.forwardedProxies.clientAddress(peer: "10.1.2.3", forwarded: [#"for=192.0.2.60;proto=http"#],
                                                    xForwardedFor: ["6.6.6.6"]) == "192.0.2.60")
        #expect(Self.forwardedProxies.clientAddress(peer: "10.1.2.3", forwarded: [#"for="[2001:db8:cafe::17]:4711", for=10.2.2.2"#],
                                                    xForwardedFor: []) == "2001:db8:cafe:0:0:0:0:17")
        #expect(Self.forwardedProxies.clientAddress(peer: "10.1.2.3", forwarded: ["for=unknown"], xForwardedFor: [])
            == "10.1.2.3")
        #expect(Self.forwardedProxies.clientAddress(peer: "10.1.2.3", forwarded: [], xForwardedFor: ["6.6.6.6"])
            == "10.1.2.3")
        #expect(throws: ConfigurationError.self) { try TrustedProxies(parsing: "10.0.0.0/8", header: "X-Real-IP") }
    }

    @Test(arguments: [
        // peer, Forwarded, X-Forwarded-For, client
        ("203.0.113.9", [], ["198.51.100.1"], "203.0.113.9"),                       // untrusted peer: headers ignored
        ("10.1.2.3", [], [], "10.1.2.3"),                                          // trusted, no header
        ("10.1.2.3", [], ["198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", [], ["6.6.6.6, 198.51.100.1, 10.9.9.9"], "198.51.100.1"),   // forged left part skipped
        ("10.1.2.3", [], ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),            // repeated header lines
        ("10.1.2.3", [], ["10.0.0.5, 192.168.1.7"], "10.0.0.5"),                  // all hops trusted: left-most
        ("10.1.2.3", [], ["198.51.100.1:4711"], "198.51.100.1"),
        ("10.1.2.3", [], ["garbage, 198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", [], ["198.51.100.1, garbage"], "10.1.2.3"),                  // an unreadable hop: stop at the peer
        ("::ffff:10.1.2.3", [], ["198.51.100.1"], "198.51.100.1"),                // IPv4-mapped peer
        ("2001:db8::1", [], ["2001:db9::5"], "2001:db9:0:0:0:0:0:5"),
    ] as [(String, [String], [String], String)])
    func clientAddress(_ peer: String, _ forwarded: [String], _ xForwardedFor: [String], _ client: String) {
        #expect(Self.proxies.clientAddress(peer: peer, forwarded: forwarded, xForwardedFor: xForwardedFor) == client)
    }

    @Test(arguments: ["10.0.0.0/33", "10.0.0", "example.com", "2001:db8::/129", "10.0.0.0/-1", "10.0.0.0/ 8"])
    func badListsAreRefusedNamingTheSetting(_ list: String) {
        #expect(throws: ConfigurationError.self) { try TrustedProxies(parsing: list) }
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(environment: ["SESAME_TRUSTED_PROXIES": list, "SESAME_SECRET": String(repeating: "x", count: 32)]).load()
        }
    }

    /// The attack the setting exists for: behind one load balancer every client shares its address, and one
    /// attacker's failures lock everyone out. With the balancer trusted, the attacker locks only itself; and
    /// a client that sends the header itself, not through a trusted proxy, changes nothing.
    @Test func perIPLimitsSeeTheForwardedClient() async throws {
        let loopback = try TrustedProxies(parsing: "127.0.0.0/8, ::1")
        try await Fixture.withServer(now: Fixture.midWindow, trustedProxies: loopback) { fixture, browser in
            let wrong = basicAuthorization(fixture.machine.client.id, "guess")
            for _ in 0..<51 {
                _ = try await browser.post("/oidc/token", form: [("grant_type", "client_credentials")],
                                           headers: [.authorization: wrong, .xForwardedFor: "198.51.100.66"])
            }
            let right = basicAuthorization(fixture.machine.client.id, fixture.machine.secret ?? "")
            let attacker = try await browser.post("/oidc/token", form: [("grant_type", "client_credentials")],
                                                  headers: [.authorization: right, .xForwardedFor: "198.51.100.66"])
            #expect(attacker.status == .tooManyRequests)
            let someoneElse = try await browser.post("/oidc/token", form: [("grant_type", "client_credentials")],
                                                     headers: [.authorization: right, .xForwardedFor: "203.0.113.7"])
            #expect(someoneElse.status == .ok)
        }
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            let wrong = basicAuthorization(fixture.machine.client.id, "guess")
            for index in 0..<51 {
                _ = try await browser.post("/oidc/token", form: [("grant_type", "client_credentials")],
                                           headers: [.authorization: wrong, .xForwardedFor: "198.51.100.\(index)"])
            }
            let right = basicAuthorization(fixture.machine.client.id, fixture.machine.secret ?? "")
            let spoofed = try await browser.post("/oidc/token", form: [("grant_type", "client_credentials")],
                                                 headers: [.authorization: right, .xForwardedFor: "203.0.113.7"])
            #expect(spoofed.status == .tooManyRequests, "an untrusted peer cannot choose its address")
        }
    }

    @Test(arguments: [("192.0.2.7", "192.0.2.7"), ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
                      ("2001:db8:1:2::9", "2001:db8:1:2::/64"), ("::ffff:192.0.2.7", "192.0.2.7"),
                      ("::1", "0:0:0:0::/64"), ("unknown", "unknown")])
    func perIPLimitsCountIPv6ByItsSlash64(_ ip: String, _ key: String) {
        #expect(RateLimiter.addressKey(ip) == key)
    }

    /// Behind the proxy, two addresses of one IPv6 /64 share a limit; another /64 does not.
    @Test func ipv6ClientsAreLimitedByTheirNetwork() async throws {
        let loopback = try TrustedProxies(parsing: "127.0.0.0/8")
        try await Fixture.withServer(now: Fixture.midWindow, trustedProxies: loopback) { fixture, browser in
            let wrong = basicAuthorization(fixture.machine.client.id, "guess")
            for index in 0..<51 {
                _ = try await browser.post("/oidc/token", form: [("grant_type", "client_credentials")],
                                           headers: [.authorization: wrong, .xForwardedFor: "2001:db8:0:1::\(index + 1)"])
            }
            let right = basicAuthorization(fixture.machine.client.id, fixture.machine.secret ?? "")
            let sameNetwork = try await browser.post("/oidc/token", form: [("grant_type", "client_credentials")],
                                                     headers: [.authorization: right, .xForwardedFor: "2001:db8:0:1::ffff"])
            #expect(sameNetwork.status == .tooManyRequests)
            let otherNetwork = try await browser.post("/oidc/token", form: [("grant_type", "client_credentials")],
                                                      headers: [.authorization: right, .xForwardedFor: "2001:db8:0:2::1"])
            #expect(otherNetwork.status == .ok)
        }
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}
