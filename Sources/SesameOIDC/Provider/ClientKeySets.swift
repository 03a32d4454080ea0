import Foundation
import Synchronization

/// Fetches a client's published JWK Set (`jwks_uri`, OpenID Connect Registration §2). The host implements it over
/// HTTP with a timeout and a size limit; the engine only caches what it returns.
public protocol KeySetFetcher: Sendable {
    /// GETs `uri` and returns the body. Throws when the fetch fails, times out, answers other than 200 or is larger
    /// than the implementation allows.
    func fetchKeySet(from uri: String) async throws -> Data
}

/// Why a registered or fetched JWK Set cannot be used.
public struct KeySetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A phrase key for the Management API (`application.jwks_*`).
    public let phrase: String
    public let description: String

    init(_ phrase: String, _ description: String) {
        self.phrase = phrase
        self.description = description
    }
}

/// The public keys of `private_key_jwt` clients: an inline `jwks` is parsed as it is; a `jwks_uri` is fetched through
/// the `KeySetFetcher`, kept `freshFor` seconds, fetched again at most every `refetchInterval` seconds when an assertion
/// names a `kid` it lacks (a client rotating its key), and, when a fetch fails, the last good set is used for up to
/// `staleFor` seconds so a provider hiccup does not lock the client out.
public final class ClientKeySets: Sendable {
    /// Largest JWK Set accepted, in keys.
    public static let maximumKeys = 100

    private struct Entry {
        var keys: [VerificationKey]
        var fetchedAt: Date
        var lastAttempt: Date
    }

    let fetcher: (any KeySetFetcher)?
    let freshFor: TimeInterval
    let refetchInterval: TimeInterval
    let staleFor: TimeInterval
    private let entries = Mutex<[String: Entry]>([:])

    public init(fetcher: (any KeySetFetcher)?, freshFor: TimeInterval = 300, refetchInterval: TimeInterval = 30,
                staleFor: TimeInterval = 3600)
    {
        self.fetcher = fetcher
        self.freshFor = freshFor
        self.refetchInterval = refetchInterval
        self.staleFor = staleFor
    }

    /// The keys published at `uri`; `missingKid` asks for a fresh copy (within `refetchInterval`) when the cached one
    /// lacks it. Throws `KeySetError` when nothing usable can be had.
    public func keys(at uri: String, missingKid: String?, now: Date) async throws -> [VerificationKey] {
        let cached = entries.withLock { $0[uri] }
        if let cached {
            let isFresh = now.timeIntervalSince(cached.fetchedAt) < freshFor
            let lacksKid = missingKid.map { kid in !cached.keys.contains { $0.kid == kid } } ?? false
            let mayRefetch = now.timeIntervalSince(cached.lastAttempt) >= refetchInterval
            if isFresh, !(lacksKid && mayRefetch) { return cached.keys }
            if !mayRefetch {
                // Tried a moment ago: no new fetch (an unknown kid must not make Sesame hammer the publisher).
                guard now.timeIntervalSince(cached.fetchedAt) < staleFor else {
                    throw KeySetError("application.jwks_uri_unreachable",
                                      "the application's jwks_uri could not be fetched")
                }
                return cached.keys
            }
        }
        guard let fetcher else {
            throw KeySetError("application.jwks_uri_unreachable", "this server cannot fetch JWK Sets")
        }
        entries.withLock { $0[uri, default: Entry(keys: [], fetchedAt: .distantPast, lastAttempt: now)].lastAttempt = now }
        do {
            let body = try await fetcher.fetchKeySet(from: uri)
            guard let document = try? JSONValue.decode(body) else {
                throw KeySetError("application.jwks_invalid", "the JWK Set at the application's jwks_uri is not JSON")
            }
            let keys = try Self.publicKeys(in: document)
            entries.withLock { $0[uri] = Entry(keys: keys, fetchedAt: now, lastAttempt: now) }
            return keys
        } catch {
            if let cached, now.timeIntervalSince(cached.fetchedAt) < staleFor { return cached.keys }
            if let error = error as? KeySetError { throw error }
            throw KeySetError("application.jwks_uri_unreachable",
                              "the application's jwks_uri could not be fetched")
        }
    }

    /// The signature keys of a JWK Set (RFC 7517 §5): EC P-256 and P-384, OKP Ed25519 and RSA of 2048 bits or more.
    /// Keys for encryption (`use` other than `sig`) or for an algorithm Sesame does not verify are skipped. Throws
    /// `KeySetError` for a document that is not a JWK Set, holds private key members (`d`, `p`, `q`...), has more
    /// than `maximumKeys` keys or none Sesame can use.
    public static func publicKeys(in document: JSONValue) throws(KeySetError) -> [VerificationKey] {
        guard let members = document["keys"]?.arrayValue else {
            throw KeySetError("application.jwks_invalid", "a JWK Set is an object with a \"keys\" array")
        }
        guard members.count <= maximumKeys else {
            throw KeySetError("application.jwks_too_many", "a JWK Set may hold at most \(maximumKeys) keys")
        }
        var keys: [VerificationKey] = []
        for member in members {
            guard member.objectValue != nil else {
                throw KeySetError("application.jwks_invalid", "every member of \"keys\" must be a JWK object")
            }
            for privateMember in ["d", "p", "q", "dp", "dq", "qi", "k"] where member[privateMember] != nil {
                throw KeySetError("application.jwks_private", "the JWK Set holds private key material ('\(privateMember)'); register only public keys")
            }
            if let use = member["use"], use.stringValue != "sig" { continue }
            guard let key = try? VerificationKey(jwk: member) else {
                if member["kty"]?.stringValue == "RSA" {
                    throw KeySetError("application.jwks_weak_rsa", "RSA keys must be well-formed and have at least 2048 bits")
                }
                continue
            }
            if let alg = member["alg"], alg.stringValue != key.algorithm.rawValue { continue }
            keys.append(key)
        }
        guard !keys.isEmpty else {
            throw KeySetError("application.jwks_no_usable_key",
                              "the JWK Set has no signature key Sesame verifies (EC P-256 or P-384, Ed25519, RSA)")
        }
        return keys
    }
}
