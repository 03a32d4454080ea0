import Foundation
import Logging
import SesameIdentity
import SesameOIDC
import Synchronization

/// Slows guessing at the endpoints that check client secrets (token, introspection, revocation).
/// Failures are counted per IP in the store, so every instance sees the same count. Before a request, an
/// instance asks the store whether the address is over the limit: every time for an address that has failed
/// here in the window, else at most once a `recheckInterval` (so a block made on another instance reaches this
/// one at once for a guessing address, and within that time for any other, at the cost of one indexed read).
/// Once an address is over the limit it is refused from memory until the window ends.
final class ClientAuthenticationGuard: Sendable {
    static let rule = RateLimiter.Rule(limit: 50, window: 5 * 60)
    static let recheckInterval: TimeInterval = 1
    static let capacity = 10_000

    private struct Entry {
        var checkedAt: Date
        var blockedUntil: Date?
        /// It failed here in the window: checked against the store before every request.
        var hasFailed = false
    }

    private let limiter: RateLimiter
    private let entries = Mutex<[String: Entry]>([:])

    init(limiter: RateLimiter) {
        self.limiter = limiter
    }

    /// Runs `body`; an `invalid_client` failure is counted, and an address over the limit gets 429.
    /// `logger`: where a failure's `reason` (why it failed, never told to the caller) is written, at `info`.
    func run<T>(ip address: String, logger: Logger? = nil, _ body: () async throws -> T) async throws -> T {
        let ip = RateLimiter.addressKey(address)
        let now = limiter.now()
        let key = "client-auth:ip:" + ip
        let entry = entries.withLock { entries -> Entry? in
            if let until = entries[ip]?.blockedUntil, until <= now { entries[ip] = nil }
            return entries[ip]
        }
        if entry?.blockedUntil != nil { throw Self.tooMany }
        let hasFailed = entry?.hasFailed ?? false
        if hasFailed || entry.map({ now.timeIntervalSince($0.checkedAt) >= Self.recheckInterval }) ?? true {
            let isLimited = try await limiter.isLimited(key, rule: Self.rule)
            remember(ip, checkedAt: now, blocked: isLimited, hasFailed: hasFailed)
            if isLimited { throw Self.tooMany }
        }
        do {
            return try await body()
        } catch let error as OAuthError where error.code == .invalidClient {
            if let reason = error.reason { logger?.info("client authentication failed", metadata: ["reason": "\(reason)"]) }
            try await limiter.record(key, rule: Self.rule)
            let isLimited = try await limiter.isLimited(key, rule: Self.rule)
            remember(ip, checkedAt: now, blocked: isLimited, hasFailed: true)
            throw error
        }
    }

    private func remember(_ ip: String, checkedAt: Date, blocked: Bool, hasFailed: Bool) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[ip] = Entry(checkedAt: checkedAt,
                                blockedUntil: blocked ? checkedAt.addingTimeInterval(Self.rule.window) : nil,
                                hasFailed: hasFailed)
        }
    }

    static let tooMany = OAuthError(.invalidRequest, "too many failed client authentications; try again later",
                                    status: 429)
}
