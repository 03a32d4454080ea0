import Foundation

/// Request parameters from a query string or an `application/x-www-form-urlencoded` body.
/// Every OAuth parameter may appear once (RFC 6749 §3.1); `single` enforces it.
public struct RequestParameters: Sendable, Equatable {
    public private(set) var values: [String: [String]]

    public init(_ values: [String: [String]] = [:]) {
        self.values = values
    }

    /// Parses `a=1&b=two+words&c=%C3%A9`. Returns nil when a percent escape or the UTF-8 is malformed, or a
    /// name or value holds a control character (see `decode`).
    public init?(urlEncoded text: some StringProtocol) {
        var values: [String: [String]] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { return nil }
            guard let value = parts.count > 1 ? Self.decode(parts[1]) : "" else { return nil }
            values[name, default: []].append(value)
        }
        self.values = values
    }

    public init(merging queries: [RequestParameters]) {
        var values: [String: [String]] = [:]
        for query in queries {
            for (name, list) in query.values { values[name, default: []].append(contentsOf: list) }
        }
        self.values = values
    }

    /// The single value of `name`; an empty value counts as absent (RFC 6749 §3.1).
    public func single(_ name: String) throws(OAuthError) -> String? {
        guard let list = values[name] else { return nil }
        guard list.count == 1 else { throw OAuthError.invalidRequest("'\(name)' parameter must only be provided once") }
        return list[0].isEmpty ? nil : list[0]
    }

    public func required(_ name: String) throws(OAuthError) -> String {
        guard let value = try single(name) else { throw OAuthError.invalidRequest("missing required parameter '\(name)'") }
        return value
    }

    /// All values of a parameter that may repeat (`resource`).
    public func all(_ name: String) -> [String] {
        values[name, default: []].filter { !$0.isEmpty }
    }

    public subscript(name: String) -> String? {
        values[name]?.first
    }

    public mutating func set(_ name: String, _ value: String?) {
        values[name] = value.map { [$0] }
    }

    /// Percent-decodes one name or value (`+` is a space). Returns nil for a malformed escape, malformed UTF-8,
    /// or a C0 control character or DEL other than tab, line feed and carriage return: NUL and its kin have no
    /// use in any parameter and break databases, logs and terminals downstream.
    public static func decode(_ component: some StringProtocol) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(component.utf8.count)
        var iterator = component.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        guard !bytes.contains(where: Self.isRefusedControl) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The bytes no parameter or JSON string may hold: C0 controls and DEL, but for tab, line feed and carriage
    /// return. The one rule for forms, query strings and JSON bodies.
    public static func isRefusedControl(_ byte: UInt8) -> Bool {
        byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D || byte == 0x7F
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters, for form bodies and query strings.
    public static func encode(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(digits[Int(byte >> 4)])
                out.unicodeScalars.append(digits[Int(byte & 0x0f)])
            }
        }
        return out
    }

    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
