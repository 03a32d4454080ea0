import Foundation

/// The current signing key and the keys still published, read from the store and cached briefly,
/// so a rotation made by any instance is used by every instance within `keyCacheTTL`.
public actor KeyRing {
    public struct Snapshot: Sendable {
        public let current: SigningKey
        public let published: [VerificationKey]
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

    private var lastLoaded: Snapshot?

    private func load(now: Date) async throws -> Snapshot {
        var keys = try await store.signingKeys()
        if keys.isEmpty {
            try await store.insertInitialSigningKey(SigningKey.generate(configuration.initialKeyAlgorithm, now: now))
            keys = try await store.signingKeys()
        }
        let retention = configuration.retiredKeyRetention
        let live = keys.filter { key in key.retiredAt.map { now.timeIntervalSince($0) < retention } ?? true }
        // A rotated-in key is published at once but signs only after `keyActivationDelay`; until then the
        // key it replaced goes on signing. The very first key signs at once.
        let delay = configuration.keyActivationDelay
        let first = keys.min { $0.createdAt < $1.createdAt }
        // A key signs once published for the delay; the very first key signs from the start.
        func wasActive(_ key: SigningKey, at moment: Date) -> Bool {
            key.kid == first?.kid || moment.timeIntervalSince(key.createdAt) >= delay
        }
        let newest = live.first { $0.retiredAt == nil }
        // While the newest waits, the key retired last among those that had been signing goes on signing
        // (not one rotated in and out within the delay, which clients may not know yet).
        let previous = live.filter { key in key.retiredAt.map { wasActive(key, at: $0) } ?? false }
            .max { ($0.retiredAt ?? .distantPast) < ($1.retiredAt ?? .distantPast) }
        let isActive = newest.map { wasActive($0, at: now) } ?? false
        guard let current = (isActive ? newest : previous ?? newest) ?? live.first ?? keys.first else {
            throw OAuthError.serverError("no signing key")
        }
        let snapshot = Snapshot(current: current, published: live.map(\.publicKey))
        cached = (snapshot, now)
        lastLoaded = snapshot
        return snapshot
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
