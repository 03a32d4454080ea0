import Foundation
import SesameIdentity

/// Which peers are reverse proxies (`SESAME_TRUSTED_PROXIES`), and the client address a request came from.
///
/// From a trusted peer, the client is the right-most address that is not itself a trusted proxy in the one
/// header the proxies write (`X-Forwarded-For` by default, or RFC 7239's `Forwarded` with its `for=`): each
/// proxy appends the address it received the request from, so everything left of the first untrusted hop may
/// be forged by the client. Only that header is read: a proxy that appends to one passes the other through
/// as the client sent it (nginx passes `Forwarded` on unchanged), so reading both would let clients choose.
/// From any other peer, forwarding headers are ignored and the peer is the client. Per-IP limits, the audit log
/// and webhooks use this address.
public struct TrustedProxies: Sendable, Equatable {
    /// The header the trusted proxies write (`SESAME_TRUSTED_PROXY_HEADER`).
    public enum Header: String, Sendable, CaseIterable {
        case xForwardedFor = "X-Forwarded-For"
        case forwarded = "Forwarded"
    }

    public let networks: [IPNetwork]
    public var header: Header = .xForwardedFor

    public init(_ networks: [IPNetwork] = [], header: Header = .xForwardedFor) {
        self.networks = networks
        self.header = header
    }

    /// Parses a comma- or space-separated CIDR list and the header name (case-insensitive); throws
    /// `ConfigurationError` naming the bad entry.
    public init(parsing text: String, header headerName: String?) throws {
        try self.init(parsing: text)
        if let headerName {
            guard let header = Header.allCases.first(where: { $0.rawValue.lowercased() == headerName.lowercased() })
            else {
                throw ConfigurationError("SESAME_TRUSTED_PROXY_HEADER: '\(headerName)' must be X-Forwarded-For or Forwarded")
            }
            self.header = header
        }
    }

    /// Parses a comma- or space-separated CIDR list; throws `ConfigurationError` naming the bad entry.
    public init(parsing text: String) throws {
        var networks: [IPNetwork] = []
        for entry in text.split(whereSeparator: { $0 == "," || $0 == " " }) where !entry.isEmpty {
            guard let network = IPNetwork(entry) else {
                throw ConfigurationError("SESAME_TRUSTED_PROXIES: '\(entry)' is not an IP address or CIDR block "
                    + "(like 10.0.0.0/8 or 2001:db8::/32)")
            }
            networks.append(network)
        }
        self.networks = networks
    }

    public func isTrusted(_ address: IPAddress) -> Bool {
        networks.contains { $0.contains(address) }
    }

    /// The client's address for a request from `peer` (the socket's remote address, as text) with the given
    /// `Forwarded` and `X-Forwarded-For` header values (each possibly repeated).
    public func clientAddress(peer: String?, forwarded: [String], xForwardedFor: [String]) -> String {
        guard let peer, let peerAddress = IPAddress(peer), !networks.isEmpty, isTrusted(peerAddress) else {
            return peer ?? "unknown"
        }
        let hops = header == .forwarded ? Self.forwardedFor(forwarded) : Self.list(xForwardedFor)
        guard let hops else { return peerAddress.description }
        // Right to left: the first hop that is not a trusted proxy is the client.
        for hop in hops.reversed() {
            guard let address = hop else { return peerAddress.description }  // unknown or obfuscated: stop
            if !isTrusted(address) { return address.description }
        }
        // Every hop is a proxy of ours: the left-most is as close to the client as we know.
        return hops.first.flatMap { $0?.description } ?? peerAddress.description
    }

    /// `X-Forwarded-For: client, proxy1, proxy2`; nil when absent. An entry that is no address becomes nil.
    static func list(_ values: [String]) -> [IPAddress?]? {
        let entries = values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        guard !entries.isEmpty else { return nil }
        return entries.map { IPAddress(Self.stripPort($0)) }
    }

    /// The `for=` values of `Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"` in order.
    static func forwardedFor(_ values: [String]) -> [IPAddress?]? {
        var hops: [IPAddress?] = []
        for element in values.flatMap({ $0.split(separator: ",") }) {
            for pair in element.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else {
                    continue
                }
                var value = parts[1].trimmingCharacters(in: .whitespaces)
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                hops.append(IPAddress(Self.stripPort(value)))
            }
        }
        return hops.isEmpty ? nil : hops
    }

    /// `192.0.2.1:8080` → `192.0.2.1`; `[2001:db8::1]:443` → `2001:db8::1`; a bare IPv6 address is kept.
    static func stripPort(_ value: String) -> String {
        if value.hasPrefix("["), let end = value.firstIndex(of: "]") {
            return String(value[value.index(after: value.startIndex)..<end])
        }
        if value.filter({ $0 == ":" }).count == 1, let colon = value.firstIndex(of: ":") {
            return String(value[..<colon])
        }
        return value
    }
}
