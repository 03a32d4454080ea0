import Foundation
import SesameOIDC

/// A one-time code sent to an email address or a phone, stored as a keyed digest.
public struct VerificationCode: Sendable, Equatable {
    public var id: String
    /// The normalized address the code was sent to.
    public var identifier: String
    /// `Register`, `SignIn`, `ForgotPassword` or `Generic`: a code only works for what it was sent for.
    public var usage: String
    public var codeDigest: String
    public var failedAttempts: Int
    public var createdAt: Date
    public var expiresAt: Date
    public var consumedAt: Date?

    public init(id: String, identifier: String, usage: String, codeDigest: String, failedAttempts: Int = 0,
                createdAt: Date, expiresAt: Date, consumedAt: Date? = nil)
    {
        self.id = id
        self.identifier = identifier
        self.usage = usage
        self.codeDigest = codeDigest
        self.failedAttempts = failedAttempts
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.consumedAt = consumedAt
    }
}

public protocol VerificationCodeStore: Sendable {
    /// Stores a new code and retires the earlier unused ones for the same address and usage.
    func insertVerificationCode(_ code: VerificationCode) async throws
    /// The newest code for the address and usage (any usage when nil), used or not.
    func latestVerificationCode(identifier: String, usage: String?) async throws -> VerificationCode?
    /// Counts one attempt at the code, atomically, and returns the new count (`failedAttempts`).
    func recordFailedAttempt(codeID: String) async throws -> Int
    /// Marks the code used; false when it already was (a replayed form).
    func consumeVerificationCode(id: String, now: Date) async throws -> Bool
}

/// Issuing and checking one-time codes: six digits from a CSPRNG, kept as an HMAC, valid 10 minutes,
/// single use, 10 wrong tries at most, 60 seconds between sends, and per-address and per-IP send limits
/// counted in the store.
public struct VerificationCodeService: Sendable {
    public static let lifetime: TimeInterval = 600
    public static let resendInterval: TimeInterval = 60
    public static let maximumAttempts = 10
    public static let perAddressRule = RateLimiter.Rule(limit: 10, window: 3600)
    public static let perIPRule = RateLimiter.Rule(limit: 30, window: 3600)
    static let resendRule = RateLimiter.Rule(limit: 1, window: resendInterval)

    let store: any VerificationCodeStore
    let limiter: RateLimiter
    let digestKey: SecretBox
    let now: @Sendable () -> Date

    public init(store: any VerificationCodeStore, limiter: RateLimiter, digestKey: SecretBox,
                now: @escaping @Sendable () -> Date = { Date() })
    {
        self.store = store
        self.limiter = limiter
        self.digestKey = digestKey
        self.now = now
    }

    /// Makes a code for `identifier` and returns it, in clear, for the connector to deliver. Throws
    /// `tooManyAttempts` inside the resend interval or over a send limit.
    public func issue(to identifier: String, usage: String, ip: String) async throws -> String {
        let now = now()
        // The wait is between resends of one flow's code (a person may well switch from sign-in to recovery);
        // the hourly limit per address, across flows, is what stops mail bombing.
        let resendKey = "code:resend:" + usage + ":" + SecretDigest.sha256Hex(identifier)
        if let latest = try await store.latestVerificationCode(identifier: identifier, usage: usage),
           now.timeIntervalSince(latest.createdAt) < Self.resendInterval
        {
            let wait = Int((Self.resendInterval - now.timeIntervalSince(latest.createdAt)).rounded(.up))
            throw IdentityError(.tooManyAttempts, phrase: "code.resend_too_soon", ["seconds": String(wait)])
        }
        // Concurrent requests: one send per address and flow in a minute's window, counted atomically.
        guard try await limiter.hit(resendKey, rule: Self.resendRule) <= Self.resendRule.limit else {
            throw IdentityError(.tooManyAttempts, phrase: "code.resend_too_soon",
                                ["seconds": String(Int(Self.resendInterval))])
        }
        // Counted before sending, atomically, so parallel requests cannot go past the limits.
        let addressHits = try await limiter.hit("code:address:" + SecretDigest.sha256Hex(identifier),
                                                rule: Self.perAddressRule)
        let ipHits = try await limiter.hit("code:ip:" + RateLimiter.addressKey(ip), rule: Self.perIPRule)
        guard addressHits <= Self.perAddressRule.limit, ipHits <= Self.perIPRule.limit else {
            throw IdentityError(.tooManyAttempts, phrase: "code.too_many_sent")
        }
        let code = Self.randomCode()
        let id = SecureRandom.identifier()
        try await store.insertVerificationCode(VerificationCode(
            id: id, identifier: identifier, usage: usage, codeDigest: digest(id: id, code: code), createdAt: now,
            expiresAt: now.addingTimeInterval(Self.lifetime)))
        return code
    }

    /// Checks and consumes the code for `identifier` and `usage`.
    public func verify(identifier: String, usage: String, code: String) async throws {
        let now = now()
        let entered = code.filter { !$0.isWhitespace }
        guard let latest = try await store.latestVerificationCode(identifier: identifier, usage: usage),
              latest.consumedAt == nil
        else { throw IdentityError(.invalidCode, phrase: "code.invalid") }
        guard latest.expiresAt > now else {
            throw IdentityError(.codeExpired, phrase: "code.expired")
        }
        guard latest.failedAttempts < Self.maximumAttempts else {
            throw IdentityError(.tooManyAttempts, phrase: "code.too_many_wrong")
        }
        // Every attempt is counted before the comparison, atomically: parallel guesses get at most
        // `maximumAttempts` comparisons in all, the right one included.
        let attempts = try await store.recordFailedAttempt(codeID: latest.id)
        guard attempts <= Self.maximumAttempts else {
            throw IdentityError(.tooManyAttempts, phrase: "code.too_many_wrong")
        }
        guard SecretDigest.constantTimeEquals(digest(id: latest.id, code: entered), latest.codeDigest) else {
            if attempts >= Self.maximumAttempts {
                throw IdentityError(.tooManyAttempts, phrase: "code.too_many_wrong")
            }
            throw IdentityError(.invalidCode, phrase: "code.incorrect")
        }
        guard try await store.consumeVerificationCode(id: latest.id, now: now) else {
            throw IdentityError(.invalidCode, phrase: "code.already_used")
        }
    }

    private func digest(id: String, code: String) -> String {
        digestKey.mac("verification-code:" + id + ":" + code)
    }

    /// Six digits, uniformly distributed.
    static func randomCode() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(format: "%06d", Int.random(in: 0..<1_000_000, using: &generator))
    }
}
