import Foundation
import SesameIdentity
import SesameOIDC
import Synchronization
import Testing

/// The code rules, on an in-memory store and a hand-moved clock.
@Suite("Verification codes")
struct VerificationCodeServiceTests {
    final class Memory: VerificationCodeStore, RateLimitStore, Sendable {
        let codes = Mutex<[VerificationCode]>([])
        let hits = Mutex<[String: Int]>([:])

        func insertVerificationCode(_ code: VerificationCode) async throws {
            codes.withLock { list in
                list.removeAll { $0.identifier == code.identifier && $0.usage == code.usage && $0.consumedAt == nil }
                list.append(code)
            }
        }

        func latestVerificationCode(identifier: String, usage: String?) async throws -> VerificationCode? {
            codes.withLock { $0.last { $0.identifier == identifier && (usage == nil || $0.usage == usage) } }
        }

        func recordFailedAttempt(codeID: String) async throws -> Int {
            codes.withLock { list in
                guard let index = list.firstIndex(where: { $0.id == codeID }) else { return 0 }
                list[index].failedAttempts += 1
                return list[index].failedAttempts
            }
        }

        func consumeVerificationCode(id: String, now: Date) async throws -> Bool {
            codes.withLock { list in
                guard let index = list.firstIndex(where: { $0.id == id }), list[index].consumedAt == nil else { return false }
                list[index].consumedAt = now
                return true
            }
        }

        func hit(key: String, windowStart: Date, expiresAt: Date) async throws -> Int {
            hits.withLock { $0["\(key)|\(windowStart.timeIntervalSince1970)", default: 0] += 1
                return $0["\(key)|\(windowStart.timeIntervalSince1970)"]! }
        }

        func count(key: String, windowStart: Date) async throws -> Int {
            hits.withLock { $0["\(key)|\(windowStart.timeIntervalSince1970)"] ?? 0 }
        }

        func release(key: String, windowStart: Date) async throws {
            hits.withLock { $0["\(key)|\(windowStart.timeIntervalSince1970)", default: 0] -= 1 }
        }

        func reset(key: String) async throws {
            hits.withLock { $0 = $0.filter { !$0.key.hasPrefix(key + "|") } }
        }
    }

    final class Clock: Sendable {
        let value = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var now: Date { value.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    let memory = Memory()
    let clock = Clock()
    var service: VerificationCodeService {
        let clock = clock
        return VerificationCodeService(store: memory, limiter: RateLimiter(store: memory, now: { clock.now }),
                                       digestKey: SecretBox(secret: String(repeating: "k", count: 32)),
                                       now: { clock.now })
    }

    @Test func codesAreSixDigitsStoredAsDigestsAndSingleUse() async throws {
        let code = try await service.issue(to: "a@b.test", usage: "SignIn", ip: "1.2.3.4")
        #expect(code.count == 6 && code.allSatisfy(\.isNumber))
        let stored = try #require(memory.codes.withLock { $0.first })
        #expect(stored.codeDigest != code && !stored.codeDigest.contains(code))
        try await service.verify(identifier: "a@b.test", usage: "SignIn", code: code)
        await #expect(throws: IdentityError.self) {
            try await service.verify(identifier: "a@b.test", usage: "SignIn", code: code)
        }
    }

    @Test func codesExpireAfterTenMinutes() async throws {
        let code = try await service.issue(to: "a@b.test", usage: "SignIn", ip: "ip")
        clock.advance(601)
        do {
            try await service.verify(identifier: "a@b.test", usage: "SignIn", code: code)
            Issue.record("an expired code was accepted")
        } catch let error as IdentityError {
            #expect(error.code == .codeExpired)
        }
    }

    @Test func tenWrongTriesEndTheCode() async throws {
        let code = try await service.issue(to: "a@b.test", usage: "Register", ip: "ip")
        let wrong = code == "000000" ? "000001" : "000000"
        for _ in 0..<10 {
            await #expect(throws: IdentityError.self) {
                try await service.verify(identifier: "a@b.test", usage: "Register", code: wrong)
            }
        }
        do {
            try await service.verify(identifier: "a@b.test", usage: "Register", code: code)
            Issue.record("the right code worked after ten wrong ones")
        } catch let error as IdentityError {
            #expect(error.code == .tooManyAttempts)
        }
    }

    @Test func resendsWaitAMinuteAndAreLimitedPerAddressAndIP() async throws {
        _ = try await service.issue(to: "a@b.test", usage: "SignIn", ip: "ip")
        await #expect(throws: IdentityError.self) { _ = try await service.issue(to: "a@b.test", usage: "SignIn", ip: "ip") }
        clock.advance(61)
        let second = try await service.issue(to: "a@b.test", usage: "SignIn", ip: "ip")
        // Only the newest code works.
        try await service.verify(identifier: "a@b.test", usage: "SignIn", code: second)
        for _ in 0..<8 {
            clock.advance(61)
            _ = try await service.issue(to: "a@b.test", usage: "SignIn", ip: "ip")
        }
        clock.advance(61)
        do {
            _ = try await service.issue(to: "a@b.test", usage: "SignIn", ip: "ip")
            Issue.record("the 11th send within the hour went out")
        } catch let error as IdentityError {
            #expect(error.code == .tooManyAttempts)
        }
    }

    @Test func codesOnlyWorkForTheirUsageAndAddress() async throws {
        let code = try await service.issue(to: "a@b.test", usage: "SignIn", ip: "ip")
        await #expect(throws: IdentityError.self) {
            try await service.verify(identifier: "a@b.test", usage: "ForgotPassword", code: code)
        }
        await #expect(throws: IdentityError.self) {
            try await service.verify(identifier: "c@d.test", usage: "SignIn", code: code)
        }
        try await service.verify(identifier: "a@b.test", usage: "SignIn", code: " \(code) ")
    }
}
