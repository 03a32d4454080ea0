import Foundation
import SesameIdentity
import SesameOIDC
import SesameStorage
import Testing

/// Device authorizations (RFC 8628) on SQLite and PostgreSQL: user codes are unique, polls are ordered so a burst gets
/// `slow_down`, the person's decision is taken once, the device code is spent once, and rows go an hour after expiry.
@Suite("Device authorization storage")
struct DeviceAuthorizationStoreTests {
    static func authorization(client: String, userCode: String = "BCDFGHJK", now: Date = Date()) -> DeviceAuthorization {
        var request = AuthorizationRequest(clientID: client, redirectURI: "", scopes: ["openid", "offline_access"])
        let id = SecretDigest.sha256Hex(SecureRandom.token())
        request.deviceAuthorizationID = id
        return DeviceAuthorization(id: id, userCodeDigest: UserCode.digest(userCode), clientID: client,
                                   request: request, createdAt: now, expiresAt: now.addingTimeInterval(600),
                                   interval: 5)
    }

    static func context(grant: String, client: String) -> IssuanceContext {
        IssuanceContext(grantID: grant, clientID: client, accountID: "user-1", scopes: ["openid", "offline_access"],
                        resources: [], authTime: Date(), nonce: nil, sessionID: nil, amr: ["pwd"])
    }

    func nativeDeviceApp(_ store: SQLStore) async throws -> Client {
        try await ApplicationService(store: store).create(name: "TV", type: .native, redirectURIs: [],
                                                          postLogoutRedirectURIs: [], isDeviceFlow: true).client
    }

    @Test(arguments: Backend.available)
    func theFlagRoundTripsAndOnlyNativeAppsMayHaveIt(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let service = ApplicationService(store: store)
            let tv = try await nativeDeviceApp(store)
            #expect(try await store.client(id: tv.id)?.isDeviceFlow == true)
            #expect(try await store.client(id: tv.id)?.allows(.deviceCode) == true)
            _ = try await service.update(id: tv.id, .init(isDeviceFlow: false))
            #expect(try await store.client(id: tv.id)?.isDeviceFlow == false)
            await #expect(throws: IdentityError.self) {
                _ = try await service.create(name: "Web", type: .traditional, redirectURIs: ["https://a.test/cb"],
                                             postLogoutRedirectURIs: [], isDeviceFlow: true)
            }
            let spa = try await service.create(name: "SPA", type: .spa, redirectURIs: ["https://a.test/cb"],
                                               postLogoutRedirectURIs: [])
            await #expect(throws: IdentityError.self) {
                _ = try await service.update(id: spa.client.id, .init(isDeviceFlow: true))
            }
            #expect(try await store.client(id: spa.client.id)?.isDeviceFlow == false)
        }
    }

    @Test(arguments: Backend.available)
    func userCodesAreUniqueAndPollsAreOrdered(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tv = try await nativeDeviceApp(store)
            let first = Self.authorization(client: tv.id)
            #expect(try await store.insertDeviceAuthorization(first))
            #expect(try await store.insertDeviceAuthorization(Self.authorization(client: tv.id)) == false)
            #expect(try await store.deviceAuthorization(userCodeDigest: UserCode.digest("BCDFGHJK"))?.id == first.id)
            #expect(try await store.deviceAuthorization(userCodeDigest: UserCode.digest("CDFGHJKL")) == nil)
            #expect(try await store.pollDeviceAuthorization(id: "unknown", now: Date(), tolerance: 1) == nil)
            // Eight polls at once: the first finds no earlier poll; every other one comes too soon after it.
            let now = Date()
            let slowDowns = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await store.pollDeviceAuthorization(id: first.id, now: now, tolerance: 1)?.slowDown ?? false }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(slowDowns == 7)
            let after = try #require(try await store.pollDeviceAuthorization(id: first.id, now: now.addingTimeInterval(60),
                                                                             tolerance: 1))
            #expect(after.slowDown == false && after.authorization.interval == 5 + 7 * 5)
        }
    }

    @Test(arguments: Backend.available)
    func oneDecisionWinsAndTheDeviceCodeIsSpentOnce(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tv = try await nativeDeviceApp(store)
            let device = Self.authorization(client: tv.id)
            #expect(try await store.insertDeviceAuthorization(device))
            // Four approvals racing (four people, or one double click): one grant.
            let approvals = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let grant = Grant(id: SecureRandom.identifier(), clientID: tv.id, accountID: "user-1",
                                          scopes: ["openid"], createdAt: Date())
                        return try await store.approveDeviceAuthorization(
                            id: device.id, grant: grant, context: Self.context(grant: grant.id, client: tv.id),
                            consumingInteraction: nil, now: Date())
                    }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(approvals == 1)
            let grants = try await store.database.query("SELECT id FROM grants WHERE client_id = ?", .text(tv.id))
            #expect(grants.count == 1)
            #expect(try await store.denyDeviceAuthorization(id: device.id, consumingInteraction: nil) == false)
            let approved = try #require(try await store.pollDeviceAuthorization(id: device.id, now: Date(), tolerance: 1))
            #expect(approved.authorization.status == .approved)
            let grantID = try #require(approved.authorization.context?.grantID)
            #expect(grantID == (try grants[0].string("id")))
            // Four exchanges racing for the device code: one is issued, the rest find it spent.
            let outcomes = try await withThrowingTaskGroup(of: TokenExchange.Outcome.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await store.exchange(TokenExchange(spent: .deviceCode(id: device.id), grantID: grantID,
                                                               accessToken: nil, refreshToken: nil), now: Date())
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .issued }.count == 1)
            #expect(outcomes.filter { $0 == .alreadySpent }.count == 3)
            #expect(try await store.pollDeviceAuthorization(id: device.id, now: Date(), tolerance: 1)?
                .authorization.consumedAt != nil)
        }
    }

    @Test(arguments: Backend.available)
    func anApprovalNeedsAPendingUnexpiredCodeAndItsInteraction(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tv = try await nativeDeviceApp(store)
            let now = Date()
            let grant = Grant(id: SecureRandom.identifier(), clientID: tv.id, accountID: "user-1", scopes: [],
                              createdAt: now)
            // Expired: nothing stored.
            let expired = Self.authorization(client: tv.id, userCode: "CDFGHJKL", now: now.addingTimeInterval(-700))
            #expect(try await store.insertDeviceAuthorization(expired))
            #expect(try await store.approveDeviceAuthorization(id: expired.id, grant: grant,
                                                               context: Self.context(grant: grant.id, client: tv.id),
                                                               consumingInteraction: nil, now: now) == false)
            // Its interaction already spent (a second resume): rolled back, the code stays pending.
            let pending = Self.authorization(client: tv.id, userCode: "DFGHJKLM", now: now)
            #expect(try await store.insertDeviceAuthorization(pending))
            #expect(try await store.approveDeviceAuthorization(id: pending.id, grant: grant,
                                                               context: Self.context(grant: grant.id, client: tv.id),
                                                               consumingInteraction: "gone", now: now) == false)
            #expect(try await store.deviceAuthorization(userCodeDigest: pending.userCodeDigest)?.status == .pending)
            #expect(try await store.database.query("SELECT id FROM grants").isEmpty)
            // Denied, then never approved.
            #expect(try await store.denyDeviceAuthorization(id: pending.id, consumingInteraction: nil))
            #expect(try await store.approveDeviceAuthorization(id: pending.id, grant: grant,
                                                               context: Self.context(grant: grant.id, client: tv.id),
                                                               consumingInteraction: nil, now: now) == false)
            // Swept an hour after expiry, not before; deleting the app takes its codes.
            try await store.deleteExpired(before: now)
            #expect(try await store.deviceAuthorization(userCodeDigest: expired.userCodeDigest) != nil)
            try await store.deleteExpired(before: now.addingTimeInterval(3600))
            #expect(try await store.deviceAuthorization(userCodeDigest: expired.userCodeDigest) == nil)
            try await ApplicationService(store: store).delete(id: tv.id)
            #expect(try await store.database.query("SELECT id FROM device_codes").isEmpty)
        }
    }
}
