import Foundation
import SesameIdentity
import SesameOIDC
import Synchronization

/// Slows guessing at the endpoints that check client secrets (token, introspection, revocation).
/// Failures are counted per IP in the store, so every instance sees the same count; once an address
/// is over the limit, this instance refuses it from memory until the window ends, so a successful
/// request costs no extra query.
final class ClientAuthenticationGuard: Sendable {
    static let rule = RateLimiter.Rule(limit: 50, window: 5 * 60)

    private let limiter: RateLimiter
    private let blocked = Mutex<[String: Date]>([:])

    init(limiter: RateLimiter) {
        self.limiter = limiter
    }

    /// Runs `body`; an `invalid_client` failure is counted, and a blocked address gets 429.
    func run<T>(ip: String, _ body: () async throws -> T) async throws -> T {
        let now = limiter.now()
        let blockedUntil = blocked.withLock { entries -> Date? in
            if let until = entries[ip], until <= now { entries[ip] = nil }
            return entries[ip]
        }
        if blockedUntil != nil { throw Self.tooMany }
        do {
            return try await body()
        } catch let error as OAuthError where error.code == .invalidClient {
            let key = "client-auth:ip:" + ip
            try await limiter.record(key, rule: Self.rule)
            if try await limiter.isLimited(key, rule: Self.rule) {
                blocked.withLock { entries in
                    if entries.count > 10_000 { entries.removeAll() }
                    entries[ip] = now.addingTimeInterval(Self.rule.window)
                }
            }
            throw error
        }
    }

    static let tooMany = OAuthError(.invalidRequest, "too many failed client authentications; try again later",
                                    status: 429)
}
