import Foundation

/// The signing keys: one current key per algorithm in use and the keys still published, read from the store and
/// cached briefly, so a rotation made by any instance is used by every instance within `keyCacheTTL`.
///
/// Each algorithm's keys rotate on their own with the same rule: a rotated-in key is published at once and signs
/// only after `keyActivationDelay` (until then the key it replaced goes on signing); the first key of an algorithm
/// signs at once. `ProviderConfiguration.requiredSigningAlgorithms` (all of them) always have a current key, made at
/// first start, and at the first start after an upgrade for an algorithm whose keys were all retired (before keys
/// were per algorithm, a rotation retired every key); `key(for:)` makes one should a key still be missing.
public actor KeyRing {
    public struct Snapshot: Sendable {
        /// The default algorithm's signing key (access tokens, applications without an algorithm of their own).
        public let current: SigningKey
        /// The key each algorithm signs with now.
        public let currentByAlgorithm: [SigningAlgorithm: SigningKey]
        /// Every key whose tokens may still be valid (the JWKS).
        public let published: [VerificationKey]

        /// The algorithms with a current key: the default first, then RS256 (the one every relying party may
        /// count on), then the others in `SigningAlgorithm.allCases` order (`id_token_signing_alg_values_supported`).
        public var algorithms: [SigningAlgorithm] {
            [current.algorithm] + ([.rs256] + SigningAlgorithm.allCases).filter {
                $0 != current.algorithm && currentByAlgorithm[$0] != nil
            }.reduce(into: [SigningAlgorithm]()) { if !$0.contains($1) { $0.append($1) } }
        }
    }

    private let store: any SigningKeyStore
    private let configuration: ProviderConfiguration
    private let now: @Sendable () -> Date
    private var cached: (snapshot: Snapshot, loadedAt: Date)?

    public init(store: any SigningKeyStore, configuration: ProviderConfiguration, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.configuration = configuration
        self.now = now
    }

    /// The keys in force. When the store cannot be read (the database is down), the last keys loaded go on
    /// serving discovery, the JWKS and signing, and the store is asked again after `keyCacheTTL`; only a process
    /// that never loaded its keys throws.
    public func snapshot() async throws -> Snapshot {
        let now = now()
        if let cached, now.timeIntervalSince(cached.loadedAt) < configuration.keyCacheTTL {
            return cached.snapshot
        }
        do {
            return try await load(now: now)
        } catch {
            guard let lastLoaded else { throw error }
            cached = (lastLoaded, now)
            return lastLoaded
        }
    }

    /// The key `algorithm` signs with now (nil: the default algorithm's), making that algorithm's first key when it
    /// has none yet. Throws when the store cannot be written or read.
    public func key(for algorithm: SigningAlgorithm?) async throws -> SigningKey {
        let snapshot = try await snapshot()
        guard let algorithm, algorithm != snapshot.current.algorithm else { return snapshot.current }
        if let key = snapshot.currentByAlgorithm[algorithm] { return key }
        try await store.insertInitialSigningKey(SigningKey.generate(algorithm, now: now()))
        let reloaded = try await load(now: now())
        guard let key = reloaded.currentByAlgorithm[algorithm] else {
            throw OAuthError.serverError("no signing key for \(algorithm.rawValue)")
        }
        return key
    }

    private var lastLoaded: Snapshot?

    private func load(now: Date) async throws -> Snapshot {
        var keys = try await store.signingKeys()
        // An algorithm without a key in force (none, or only retired ones) gets a new first key.
        let missing = configuration.requiredSigningAlgorithms.filter { algorithm in
            !keys.contains { $0.algorithm == algorithm && $0.retiredAt == nil }
        }
        if !missing.isEmpty {
            for algorithm in missing { try await store.insertInitialSigningKey(SigningKey.generate(algorithm, now: now)) }
            keys = try await store.signingKeys()
        }
        let retention = configuration.retiredKeyRetention
        let live = keys.filter { key in key.retiredAt.map { now.timeIntervalSince($0) < retention } ?? true }
        var currentByAlgorithm: [SigningAlgorithm: SigningKey] = [:]
        for algorithm in SigningAlgorithm.allCases {
            let group = keys.filter { $0.algorithm == algorithm }
            if let key = Self.signingKey(of: group, live: live.filter { $0.algorithm == algorithm }, now: now,
                                         delay: configuration.keyActivationDelay)
            {
                currentByAlgorithm[algorithm] = key
            }
        }
        guard let current = currentByAlgorithm[configuration.defaultSigningAlgorithm] else {
            throw OAuthError.serverError("no signing key")
        }
        let snapshot = Snapshot(current: current, currentByAlgorithm: currentByAlgorithm, published: live.map(\.publicKey))
        cached = (snapshot, now)
        lastLoaded = snapshot
        return snapshot
    }

    /// The key that signs among one algorithm's keys (`keys`, and those of them still published, `live`): never a
    /// key that is no longer published, nor one whose algorithm has a newer key in force that replaced nothing.
    static func signingKey(of keys: [SigningKey], live: [SigningKey], now: Date, delay: TimeInterval) -> SigningKey? {
        guard let newest = live.first(where: { $0.retiredAt == nil }) else { return nil }
        // A rotation retires the key in force when it stores the new one (dated now, or back by the delay for
        // `--immediately`). A key that replaced nothing (the algorithm's first, or the first after an upgrade found
        // only retired keys) signs from the start; a replacing key once published for the delay.
        func replacedAnother(_ key: SigningKey) -> Bool {
            keys.contains { other in
                guard other.kid != key.kid, let retiredAt = other.retiredAt else { return false }
                // Retired when `key` came in (and not after `key` itself was retired).
                return retiredAt >= key.createdAt && retiredAt <= key.createdAt.addingTimeInterval(delay)
                    && retiredAt <= (key.retiredAt ?? .distantFuture)
            }
        }
        func wasActive(_ key: SigningKey, at moment: Date) -> Bool {
            !replacedAnother(key) || moment.timeIntervalSince(key.createdAt) >= delay
        }
        if wasActive(newest, at: now) { return newest }
        // While the newest waits, the key retired last among those that had been signing goes on signing (not one
        // rotated in and out within the delay, which clients may not know yet).
        let previous = live.filter { key in key.retiredAt.map { wasActive(key, at: $0) } ?? false }
            .max { ($0.retiredAt ?? .distantPast) < ($1.retiredAt ?? .distantPast) }
        return previous ?? newest
    }

    /// When a key starts signing.
    public func activation(of key: SigningKey) -> Date {
        key.createdAt.addingTimeInterval(configuration.keyActivationDelay)
    }

    /// Forgets the cache, after a rotation made by this process.
    public func invalidate() {
        cached = nil
    }
}
