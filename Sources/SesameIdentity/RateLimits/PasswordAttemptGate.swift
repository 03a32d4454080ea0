import Foundation

/// Bounds password guessing per account and per IP, without ever counting a success as a failure.
///
/// Failures are counted per account (`accountRule`) and per IP (`ipRule`) in the store, so every instance sees
/// them; at the limit the answer is `tooManyAttempts` for the rest of the window. Checks in flight are counted
/// too, atomically, so parallel guesses cannot slip past the limit: a check starts only while
/// `failures + checks in flight <= accountRule.limit`. A check that finds no room waits (in `wait` steps) for the
/// others to finish instead of being refused, so sixteen parallel sign-ins with the right password all succeed
/// however slowly the hashes run: it gives up only after `patience` in which the count in flight did not move (a
/// place left by a crashed process). A success clears the account's failures and gives its place back.
public struct PasswordAttemptGate: Sendable {
    public let limiter: RateLimiter
    /// The key prefix, one per surface (`sign-in`, `console`).
    public let scope: String
    public let accountRule: RateLimiter.Rule
    public let ipRule: RateLimiter.Rule
    public var wait: Duration = .milliseconds(50)
    public var patience: Duration = .seconds(5)

    /// Places in flight are counted in short windows, so one left behind by a crashed process is gone within
    /// a minute.
    static let inFlightWindow: TimeInterval = 60

    public init(limiter: RateLimiter, scope: String, accountRule: RateLimiter.Rule, ipRule: RateLimiter.Rule) {
        self.limiter = limiter
        self.scope = scope
        self.accountRule = accountRule
        self.ipRule = ipRule
    }

    /// Runs `check` (which hashes and compares) for `account` (a stable key: the account id, or a digest of an
    /// unknown identifier) from `ip`. An `IdentityError.invalidCredentials` from `check` is counted as a failure,
    /// then `onFailure` is told the account's failures so far (to slow answers down), then the error is
    /// rethrown. Throws `IdentityError.tooManyAttempts` when the account or the IP is locked, or no place came
    /// free in time.
    public func attempt<T>(account: String, ip: String, onFailure: (Int) async throws -> Void = { _ in },
                           _ check: () async throws -> T) async throws -> T
    {
        let failureKey = scope + ":account:" + account
        let ipKey = scope + ":ip:" + RateLimiter.addressKey(ip)
        let inFlightKey = scope + ":in-flight:" + account
        let inFlightRule = RateLimiter.Rule(limit: accountRule.limit, window: Self.inFlightWindow)
        var deadline = ContinuousClock.now + patience
        var lastSeen: Int?
        while true {
            // The place first, then the failures: a check that fails counts its failure before it gives its place
            // back, so a count read after taking a place never misses a failure whose place is already free
            // (read the other way round, a failure landing between the two reads let one guess too many through).
            let inFlight = try await limiter.hit(inFlightKey, rule: inFlightRule)
            let failures = try await limiter.count(failureKey, rule: accountRule)
            guard failures < accountRule.limit, try await limiter.count(ipKey, rule: ipRule) < ipRule.limit else {
                try await limiter.release(inFlightKey, rule: inFlightRule)
                throw Self.locked
            }
            if failures + inFlight <= accountRule.limit { break }
            try await limiter.release(inFlightKey, rule: inFlightRule)
            // Checks ahead finishing (or others arriving) is progress: the patience counts from the last change.
            if lastSeen != inFlight {
                lastSeen = inFlight
                deadline = ContinuousClock.now + patience
            }
            guard ContinuousClock.now < deadline else { throw Self.locked }
            try await Task.sleep(for: wait)
        }
        let result: T
        do {
            result = try await check()
        } catch let error as IdentityError where error.code == .invalidCredentials {
            // The failure is counted before the place is given back, so the sum never dips below the truth.
            let failures = try await limiter.hit(failureKey, rule: accountRule)
            _ = try await limiter.hit(ipKey, rule: ipRule)
            try await limiter.release(inFlightKey, rule: inFlightRule)
            try await onFailure(failures)
            throw error
        } catch {
            try? await limiter.release(inFlightKey, rule: inFlightRule)
            throw error
        }
        try await limiter.reset(failureKey)
        try await limiter.release(inFlightKey, rule: inFlightRule)
        return result
    }

    public static let locked = IdentityError(.tooManyAttempts, phrase: "sign_in.too_many_failed_attempts")
}
