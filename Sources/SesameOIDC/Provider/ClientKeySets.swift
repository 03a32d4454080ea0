import Foundation
import Synchronization

/// Fetches a client's published JWK Set (`jwks_uri`, OpenID Connect Registration §2). The host implements it over
/// HTTP with a timeout, a size limit and no redirects; the engine only caches what it returns.
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

    static let unreachable = KeySetError("application.jwks_uri_unreachable",
                                         "the application's jwks_uri could not be fetched")
}

/// The public keys of `private_key_jwt` clients that publish them at a `jwks_uri`.
///
/// A set is kept `freshFor` seconds. An assertion naming a `kid` the cached set lacks (a client rotating its key) makes
/// a new fetch, at most every `refetchInterval` seconds per URI, so forged assertions cannot make Sesame hammer the
/// publisher. Requests arriving while a fetch is under way wait for that one fetch. When a fetch fails (no answer, a
/// timeout, a status other than 200), the last good set keeps serving until it is `staleFor` seconds old, so a
/// publisher's hiccup does not lock its client out; but an answer that arrives and holds no usable key replaces the
/// set: publishing an empty set revokes the keys.
public final class ClientKeySets: Sendable {
    /// Largest JWK Set accepted, in keys.
    public static let maximumKeys = 100

    private struct Entry {
        /// nil until a fetch brought an answer.
        var keys: [VerificationKey]?
        var fetchedAt: Date
        var lastAttempt: Date
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var inFlight: [String: Task<[VerificationKey], any Error>] = [:]
    }

    private enum Step {
        case use([VerificationKey])
        case fail(KeySetError)
        case wait(Task<[VerificationKey], any Error>)
    }

    let fetcher: (any KeySetFetcher)?
    let freshFor: TimeInterval
    let refetchInterval: TimeInterval
    let staleFor: TimeInterval
    private let state = Mutex(State())

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
        guard let fetcher else { throw KeySetError.unreachable }
        let step: Step = state.withLock { state in
            let cached = state.entries[uri]
            // A fetch under way (the first one, or one for a new kid) is the freshest answer there will be: wait for it.
            if let task = state.inFlight[uri] { return .wait(task) }
            if let cached {
                let mayRefetch = now.timeIntervalSince(cached.lastAttempt) >= refetchInterval
                if let keys = cached.keys {
                    let isFresh = now.timeIntervalSince(cached.fetchedAt) < freshFor
                    let lacksKid = missingKid.map { kid in !keys.contains { $0.kid == kid } } ?? false
                    if isFresh, !(lacksKid && mayRefetch) { return .use(keys) }
                    if !mayRefetch {
                        return now.timeIntervalSince(cached.fetchedAt) < staleFor ? .use(keys) : .fail(.unreachable)
                    }
                } else if !mayRefetch {
                    // The last fetch failed a moment ago: no new one yet.
                    return .fail(.unreachable)
                }
            }
            state.entries[uri, default: Entry(keys: nil, fetchedAt: .distantPast, lastAttempt: now)].lastAttempt = now
            let task = Task { try await self.fetch(uri, with: fetcher, now: now) }
            state.inFlight[uri] = task
            return .wait(task)
        }
        switch step {
        case .use(let keys): return keys
        case .fail(let error): throw error
        case .wait(let task): return try await task.value
        }
    }

    /// One fetch of `uri`, whose outcome replaces the cached set (a usable answer, or an answer without a usable key)
    /// or leaves it (no answer).
    private func fetch(_ uri: String, with fetcher: any KeySetFetcher, now: Date) async throws -> [VerificationKey] {
        let body: Data
        do {
            body = try await fetcher.fetchKeySet(from: uri)
        } catch {
            return try state.withLock { state in
                state.inFlight[uri] = nil
                guard let cached = state.entries[uri], let keys = cached.keys,
                      now.timeIntervalSince(cached.fetchedAt) < staleFor
                else { throw KeySetError.unreachable }
                return keys
            }
        }
        let keys: [VerificationKey]
        let failure: KeySetError?
        if let document = try? JSONValue.decode(body) {
            do {
                keys = try Self.publicKeys(in: document)
                failure = nil
            } catch {
                keys = []
                failure = error
            }
        } else {
            keys = []
            failure = KeySetError("application.jwks_invalid", "the JWK Set at the application's jwks_uri is not JSON")
        }
        state.withLock { state in
            state.inFlight[uri] = nil
            state.entries[uri] = Entry(keys: keys, fetchedAt: now, lastAttempt: now)
        }
        if let failure { throw failure }
        return keys
    }

    /// The signature keys of a JWK Set (RFC 7517 §5): EC P-256 and P-384, OKP Ed25519 and RSA of 2048 bits or more.
    /// Keys for encryption (`use` other than `sig`) or for an algorithm Sesame does not verify are skipped. Throws
    /// `KeySetError` for a document that is not a JWK Set, holds private key members (`d`, `p`, `q`, `oth`...), has
    /// more than `maximumKeys` keys or none Sesame can use.
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
            for privateMember in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] where member[privateMember] != nil {
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
