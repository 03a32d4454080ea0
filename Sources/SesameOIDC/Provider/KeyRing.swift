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

    public func snapshot() async throws -> Snapshot {
        let now = now()
        if let cached, now.timeIntervalSince(cached.loadedAt) < configuration.keyCacheTTL {
            return cached.snapshot
        }
        var keys = try await store.signingKeys()
        if keys.isEmpty {
            try await store.insertInitialSigningKey(SigningKey.generate(configuration.initialKeyAlgorithm, now: now))
            keys = try await store.signingKeys()
        }
        let retention = configuration.retiredKeyRetention
        let live = keys.filter { key in key.retiredAt.map { now.timeIntervalSince($0) < retention } ?? true }
        // A rotated-in key is published at once but signs only after `keyActivationDelay`; until then the
        // key it replaced goes on signing. The very first key signs at once.
        let newest = live.first { $0.retiredAt == nil }
        let isActive = newest.map { now.timeIntervalSince($0.createdAt) >= configuration.keyActivationDelay } ?? false
        let previous = live.first { $0.retiredAt != nil }
        guard let current = (isActive ? newest : previous ?? newest) ?? live.first ?? keys.first else {
            throw OAuthError.serverError("no signing key")
        }
        let snapshot = Snapshot(current: current, published: live.map(\.publicKey))
        cached = (snapshot, now)
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
