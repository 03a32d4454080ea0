import Foundation
@testable import SesameIdentity
import Synchronization
import Testing

/// The password gate's counting at a window's end, and its bounded wait.
@Suite("Password attempt gate")
struct PasswordAttemptGateTests {
    typealias Memory = VerificationCodeServiceTests.Memory
    typealias Clock = VerificationCodeServiceTests.Clock

    final class Count: Sendable {
        let value = Mutex(0)
    }

    /// A check that waits until `open` is called, then fails as a wrong password.
    final class Latch: Sendable {
        private let opened = Mutex(false)
        func open() { opened.withLock { $0 = true } }
        func wait() async throws {
            while !opened.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            throw IdentityError(.invalidCredentials, phrase: "sign_in.invalid_credentials")
        }
    }

    /// Two guesses still hashing when the in-flight window turns over keep their places: a third guess right
    /// after the turn finds no room (the limit is 2) and is refused, instead of getting a fresh allowance.
    @Test func placesTakenBeforeAWindowEndsStillCountAfterIt() async throws {
        let memory = Memory()
        let clock = Clock()
        // 59 s into a minute: the in-flight window ends in a second.
        clock.advance(59 - clock.now.timeIntervalSince1970.truncatingRemainder(dividingBy: 60))
        var gate = PasswordAttemptGate(limiter: RateLimiter(store: memory, now: { clock.now }), scope: "t",
                                       accountRule: .init(limit: 2, window: 900), ipRule: .init(limit: 50, window: 900))
        gate.wait = .milliseconds(5)
        gate.patience = .milliseconds(200)
        let latch = Latch()
        let fixedGate = gate
        let guesses = (0..<2).map { _ in
            Task { try await fixedGate.attempt(account: "alice", ip: "192.0.2.1") { try await latch.wait() } }
        }
        try await Task.sleep(for: .milliseconds(50))
        clock.advance(2)  // the next minute
        await #expect(throws: IdentityError.self) {
            try await fixedGate.attempt(account: "alice", ip: "192.0.2.1") { "should not run" }
        }
        latch.open()
        for guess in guesses { _ = try? await guess.value }
        // Two failures: the account is locked for the window; nothing was left held.
        await #expect(throws: IdentityError.self) {
            try await fixedGate.attempt(account: "alice", ip: "192.0.2.1") { "locked" }
        }
        let limiter = RateLimiter(store: memory, now: { clock.now })
        let rule = RateLimiter.Rule(limit: 2, window: PasswordAttemptGate.inFlightWindow)
        #expect(try await limiter.take("t:in-flight:alice", rule: rule).held == 1)
    }

    /// Guesses from one IP at many accounts hold IP places too: the IP's limit bounds the checks in flight.
    @Test func parallelGuessesAcrossAccountsStopAtTheIPLimit() async throws {
        let memory = Memory()
        let clock = Clock()
        var gate = PasswordAttemptGate(limiter: RateLimiter(store: memory, now: { clock.now }), scope: "t",
                                       accountRule: .init(limit: 10, window: 900), ipRule: .init(limit: 3, window: 900))
        gate.wait = .milliseconds(5)
        gate.patience = .milliseconds(200)
        let fixedGate = gate
        let checked = Count()
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask {
                    do {
                        try await fixedGate.attempt(account: "user\(index)", ip: "192.0.2.9") {
                            checked.value.withLock { $0 += 1 }
                            try await Task.sleep(for: .milliseconds(20))
                            throw IdentityError(.invalidCredentials, phrase: "sign_in.invalid_credentials")
                        }
                    } catch let error as IdentityError {
                        return error.code == .tooManyAttempts
                    } catch {}
                    return false
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(checked.value.withLock { $0 } == 3)
        #expect(outcomes.filter { $0 }.count == 5)
    }
}
