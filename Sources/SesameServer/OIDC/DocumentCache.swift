import NIOCore
import SesameOIDC
import Synchronization

/// Discovery and JWKS change only when the keys do: their encoded bodies are kept per key set, so the
/// hottest public endpoints skip JSON encoding.
final class DocumentCache: Sendable {
    private let entries = Mutex<[String: (version: String, body: ByteBuffer)]>([:])

    /// The cached body of `name` for this key set, or the freshly built one.
    func body(_ name: String, keys: KeyRing.Snapshot, build: () async throws -> JSONValue) async throws -> ByteBuffer {
        let version = keys.current.kid + "|" + keys.published.map(\.kid).joined(separator: ",")
        if let entry = entries.withLock({ $0[name] }), entry.version == version { return entry.body }
        let body = ByteBuffer(bytes: try await build().encoded())
        entries.withLock { $0[name] = (version, body) }
        return body
    }
}
