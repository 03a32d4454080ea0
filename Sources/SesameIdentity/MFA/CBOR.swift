import Foundation

/// The part of CBOR (RFC 8949) that WebAuthn uses: attestation objects and COSE keys are definite-length maps of
/// integers, text and byte strings (CTAP2's canonical form). Indefinite lengths, floats and tags are refused, and so
/// is anything nested deeper than `maximumDepth` or longer than the input, so hostile input cannot make the decoder
/// allocate or recurse without bound.
public indirect enum CBOR: Sendable, Hashable {
    case unsigned(UInt64)
    /// A negative integer: the value is `-1 - n` (RFC 8949 §3.1, major type 1), kept as `n`.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    /// Entries in the order they came; keys are compared as decoded values.
    case map([(key: CBOR, value: CBOR)])
    case bool(Bool)
    case null

    public struct DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    public static let maximumDepth = 16
    /// Items per array or map, and items in all: WebAuthn's structures hold a handful.
    public static let maximumLength = 64
    public static let maximumItems = 512

    /// Decodes one item that fills `bytes` exactly. Throws `DecodingError`.
    public static func decode(_ bytes: [UInt8]) throws -> CBOR {
        var reader = Reader(bytes: bytes)
        let item = try reader.item(depth: 0)
        guard reader.offset == bytes.count else { throw DecodingError(description: "bytes after the CBOR item") }
        return item
    }

    /// Decodes one item at the start of `bytes`; returns it and how many bytes it took (authenticator data carries
    /// the credential key followed by extensions).
    public static func decodePrefix(_ bytes: [UInt8]) throws -> (CBOR, Int) {
        var reader = Reader(bytes: bytes)
        let item = try reader.item(depth: 0)
        return (item, reader.offset)
    }

    /// The value of a map entry whose key is `key`.
    public subscript(key: CBOR) -> CBOR? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The value under a text key (attestation objects: `fmt`, `attStmt`, `authData`).
    public subscript(key: String) -> CBOR? { self[.text(key)] }

    /// The value under an integer key (COSE keys: 1 `kty`, 3 `alg`, -1 `crv` or `n`, -2 `x` or `e`, -3 `y`).
    public subscript(key: Int) -> CBOR? {
        self[key >= 0 ? .unsigned(UInt64(key)) : .negative(UInt64(-1 - key))]
    }

    /// The bytes of a byte string, else nil.
    public var bytesValue: [UInt8]? {
        if case .bytes(let value) = self { return value }
        return nil
    }

    /// The text of a text string, else nil.
    public var textValue: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The integer value, when it fits in `Int`.
    public var intValue: Int? {
        switch self {
        case .unsigned(let value): return value <= UInt64(Int.max) ? Int(value) : nil
        case .negative(let value): return value < UInt64(Int.max) ? -1 - Int(value) : nil
        default: return nil
        }
    }

    public static func == (lhs: CBOR, rhs: CBOR) -> Bool {
        switch (lhs, rhs) {
        case (.unsigned(let a), .unsigned(let b)), (.negative(let a), .negative(let b)): return a == b
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.text(let a), .text(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.map(let a), .map(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .unsigned(let value): hasher.combine(0); hasher.combine(value)
        case .negative(let value): hasher.combine(1); hasher.combine(value)
        case .bytes(let value): hasher.combine(2); hasher.combine(value)
        case .text(let value): hasher.combine(3); hasher.combine(value)
        case .array(let value): hasher.combine(4); hasher.combine(value)
        case .map(let entries): hasher.combine(5); hasher.combine(entries.count)
        case .bool(let value): hasher.combine(6); hasher.combine(value)
        case .null: hasher.combine(7)
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0
        var items = 0

        mutating func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw DecodingError(description: "CBOR ends early") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func take(_ count: UInt64) throws -> [UInt8] {
            guard count <= UInt64(bytes.count - offset) else { throw DecodingError(description: "CBOR ends early") }
            let end = offset + Int(count)
            defer { offset = end }
            return Array(bytes[offset..<end])
        }

        /// The argument of a head (RFC 8949 §3): the value itself, or 1, 2, 4 or 8 bytes after it.
        mutating func argument(_ info: UInt8) throws -> UInt64 {
            switch info {
            case 0..<24: return UInt64(info)
            case 24, 25, 26, 27:
                var value: UInt64 = 0
                for _ in 0..<(1 << (info - 24)) { value = value << 8 | UInt64(try byte()) }
                return value
            default: throw DecodingError(description: "indefinite or reserved CBOR length")
            }
        }

        mutating func item(depth: Int) throws -> CBOR {
            guard depth <= CBOR.maximumDepth else { throw DecodingError(description: "CBOR nested too deeply") }
            items += 1
            guard items <= CBOR.maximumItems else { throw DecodingError(description: "too many CBOR items") }
            let head = try byte()
            let major = head >> 5
            let info = head & 0x1F
            switch major {
            case 0: return .unsigned(try argument(info))
            case 1: return .negative(try argument(info))
            case 2: return .bytes(try take(try argument(info)))
            case 3:
                guard let text = String(validating: try take(try argument(info)), as: UTF8.self) else {
                    throw DecodingError(description: "CBOR text is not UTF-8")
                }
                return .text(text)
            case 4:
                let count = try argument(info)
                guard count <= UInt64(CBOR.maximumLength) else { throw DecodingError(description: "CBOR array too long") }
                var items: [CBOR] = []
                for _ in 0..<count { items.append(try item(depth: depth + 1)) }
                return .array(items)
            case 5:
                let count = try argument(info)
                guard count <= UInt64(CBOR.maximumLength) else { throw DecodingError(description: "CBOR map too long") }
                var entries: [(key: CBOR, value: CBOR)] = []
                for _ in 0..<count {
                    let key = try item(depth: depth + 1)
                    guard !entries.contains(where: { $0.key == key }) else {
                        throw DecodingError(description: "a CBOR map repeats a key")
                    }
                    entries.append((key, try item(depth: depth + 1)))
                }
                return .map(entries)
            case 7:
                switch info {
                case 20: return .bool(false)
                case 21: return .bool(true)
                case 22: return .null
                default: throw DecodingError(description: "unsupported CBOR simple value or float")
                }
            default:
                throw DecodingError(description: "CBOR tags are not supported")
            }
        }
    }
}
