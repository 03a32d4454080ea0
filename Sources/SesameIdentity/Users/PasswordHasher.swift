import HummingbirdBcrypt
import NIOPosix

/// bcrypt, run on a thread pool so the event loops never wait on it (cost 10 is about 57 ms).
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    private let threadPool: NIOThreadPool

    /// A fixed hash to check against when the account does not exist, so both paths cost the same.
    private static let decoy = Bcrypt.hash("sesame-decoy-password", cost: 10)

    public init(cost: UInt8 = 10, threadPool: NIOThreadPool = .singleton) {
        self.cost = cost
        self.threadPool = threadPool
    }

    public func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await threadPool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let target = hash ?? Self.decoy
        let matches = try await threadPool.runIfActive { Bcrypt.verify(password, hash: target) }
        return matches && hash != nil
    }
}
