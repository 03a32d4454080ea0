import Foundation

/// Bounds password guessing per account and per IP, without ever counting a success as a failure.
///
/// Failures are counted per account (`accountRule`) and per IP (`ipRule`) in the store, so every instance sees
/// them; at the limit the answer is `tooManyAttempts` for the rest of the window. Checks in flight hold places,
/// per account and per IP, taken atomically before the failures are read, so parallel guesses cannot slip past
/// either limit: a check starts only while `failures + checks in flight <= limit` for both. Places are given back
/// to the window they were taken in and the previous window's still count, so a burst across a window's end
/// gets no second allowance. A check that finds no room waits (in `wait` steps) for the others to finish
/// instead of being refused, so sixteen parallel sign-ins with the right password all succeed however slowly the
/// hashes run; it looks again after `wait`, doubling up to half a second, and gives up after `patience` in all. A
/// success clears the account's failures and gives its places back.
public struct PasswordAttemptGate: Sendable {
    public let limiter: RateLimiter
    /// The key prefix, one per surface (`sign-in`, `console`).
    public let scope: String
    public let accountRule: RateLimiter.Rule
    public let ipRule: RateLimiter.Rule
    /// The first pause before looking for a place again; it doubles up to 500 ms.
    public var wait: Duration = .milliseconds(25)
    /// How long a check waits for a place in all before the answer is `tooManyAttempts`.
    public var patience: Duration = .seconds(30)

    /// Places in flight are counted in short windows, so one left behind by a crashed process is gone within
    /// two minutes.
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
        let inFlightRule = RateLimiter.Rule(limit: accountRule.limit, window: Self.inFlightWindow)
        let deadline = ContinuousClock.now + patience
        var pause = wait
        var places: [RateLimiter.Place] = []
        func giveBack() async {
            for place in places { try? await limiter.release(place) }
            places = []
        }
        while true {
            // Places first, then the failures: a check that fails counts its failure before it gives its place
            // back, so counts read after taking places never miss a failure whose place is already free (read the
            // other way round, a failure landing between the two reads let one guess too many through).
            let held: (account: Int, ip: Int)
            let failures: (account: Int, ip: Int)
            do {
                let accountPlace = try await limiter.take(scope + ":in-flight:" + account, rule: inFlightRule)
                places.append(accountPlace.place)
                let ipPlace = try await limiter.take(scope + ":in-flight-ip:" + RateLimiter.addressKey(ip),
                                                     rule: inFlightRule)
                places.append(ipPlace.place)
                held = (accountPlace.held, ipPlace.held)
                failures = (try await limiter.count(failureKey, rule: accountRule),
                            try await limiter.count(ipKey, rule: ipRule))
            } catch {
                await giveBack()
                throw error
            }
            guard failures.account < accountRule.limit, failures.ip < ipRule.limit else {
                await giveBack()
                throw Self.locked
            }
            if failures.account + held.account <= accountRule.limit, failures.ip + held.ip <= ipRule.limit { break }
            await giveBack()
            guard ContinuousClock.now < deadline else { throw Self.locked }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(500))
        }
        let result: T
        do {
            result = try await check()
        } catch let error as IdentityError where error.code == .invalidCredentials {
            // The failure is counted before the places are given back, so the sums never dip below the truth.
            let failures: Int
            do {
                failures = try await limiter.hit(failureKey, rule: accountRule)
                _ = try await limiter.hit(ipKey, rule: ipRule)
            } catch {
                await giveBack()
                throw error
            }
            await giveBack()
            try await onFailure(failures)
            throw error
        } catch {
            await giveBack()
            throw error
        }
        await giveBack()
        try await limiter.reset(failureKey)
        return result
    }

    public static let locked = IdentityError(.tooManyAttempts, phrase: "sign_in.too_many_failed_attempts")
}
