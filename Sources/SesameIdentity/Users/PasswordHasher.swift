import HummingbirdBcrypt
import Synchronization
import NIOCore
import NIOPosix

/// bcrypt, run on a thread pool so the event loops never wait on it (cost 10 is about 57 ms).
///
/// The pool is bcrypt's own (one thread per core), not `NIOThreadPool.singleton`: a burst of sign-ins queues
/// only behind other hashes, never in front of the file reads and other blocking work that share the singleton.
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    private let threadPool: NIOThreadPool

    /// A fixed hash per cost to check against when the account does not exist, so both paths cost the same.
    private static let decoys = Mutex<[UInt8: String]>([:])

    private var decoy: String {
        let cost = cost
        if let known = Self.decoys.withLock({ $0[cost] }) { return known }
        let made = Bcrypt.hash("sesame-decoy-password", cost: cost)
        Self.decoys.withLock { $0[cost] = made }
        return made
    }

    /// The process-wide pool for hashing, started on first use and kept for the life of the process.
    public static let hashingPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: System.coreCount)
        pool.start()
        return pool
    }()

    public init(cost: UInt8 = 10, threadPool: NIOThreadPool = PasswordHasher.hashingPool) {
        self.cost = cost
        self.threadPool = threadPool
    }

    /// The cost of a bcrypt hash (`$2b$10$...` → 10), nil when it is not one.
    public static func cost(of hash: String) -> UInt8? {
        let parts = hash.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].isEmpty, parts[1].hasPrefix("2") else { return nil }
        return UInt8(parts[2])
    }

    public func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await threadPool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let decoy = hash == nil ? try await threadPool.runIfActive { self.decoy } : ""
        let target = hash ?? decoy
        let matches = try await threadPool.runIfActive { Bcrypt.verify(password, hash: target) }
        return matches && hash != nil
    }
}
