import Foundation
import SesameIdentity
import SesameOIDC
import SesameStorage
import Testing

/// Administrators, Console sessions, setup links and the editing of API resources, on both databases.
@Suite("Store conformance: Console")
struct ConsoleStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: Backend.available)
    func administratorsAndTheirSessions(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            #expect(try await store.administratorCount() == 0)
            let admin = Administrator(id: "a1", username: "Root", passwordHash: "$2b$12$x", createdAt: now)
            try await store.insertAdministrator(admin)
            #expect(try await store.administrator(id: "a1") == admin)
            #expect(try await store.administrator(username: "root") == admin)  // case-insensitive
            #expect(try await store.administrator(username: "nobody") == nil)
            await #expect(throws: IdentityError.self) {
                try await store.insertAdministrator(Administrator(id: "a2", username: "ROOT", passwordHash: "x",
                                                                  createdAt: now))
            }
            #expect(try await store.administratorCount() == 1)
            try await store.recordAdministratorSignIn(id: "a1", at: now.addingTimeInterval(60))
            #expect(try await store.administrator(id: "a1")?.lastSignInAt == now.addingTimeInterval(60))

            let session = ConsoleSession(id: "digest", administratorID: "a1", createdAt: now,
                                         expiresAt: now.addingTimeInterval(3600))
            try await store.insertConsoleSession(session)
            #expect(try await store.consoleSession(id: "digest") == session)
            try await store.deleteExpired(before: now.addingTimeInterval(7200))
            #expect(try await store.consoleSession(id: "digest") == nil)
            try await store.insertConsoleSession(session)
            try await store.deleteConsoleSession(id: "digest")
            #expect(try await store.consoleSession(id: "digest") == nil)
        }
    }

    @Test(arguments: Backend.available)
    func setupTokensAreSpentOnce(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertSetupToken(digest: "t1", expiresAt: now.addingTimeInterval(60))
            try await store.insertSetupToken(digest: "old", expiresAt: now.addingTimeInterval(-1))
            #expect(try await store.isSetupTokenValid(digest: "t1", now: now))
            #expect(!(try await store.isSetupTokenValid(digest: "old", now: now)))
            #expect(!(try await store.consumeSetupToken(digest: "old", now: now)))
            #expect(try await store.consumeSetupToken(digest: "t1", now: now))
            #expect(!(try await store.consumeSetupToken(digest: "t1", now: now)))
            try await store.insertSetupToken(digest: "t2", expiresAt: now.addingTimeInterval(60))
            try await store.deleteSetupTokens()
            #expect(!(try await store.isSetupTokenValid(digest: "t2", now: now)))
            // Spending one link spends them all: a second link printed by another instance no longer works.
            try await store.insertSetupToken(digest: "t3", expiresAt: now.addingTimeInterval(60))
            try await store.insertSetupToken(digest: "t4", expiresAt: now.addingTimeInterval(60))
            #expect(try await store.consumeSetupToken(digest: "t3", now: now))
            #expect(!(try await store.consumeSetupToken(digest: "t4", now: now)))
            // Eight spends racing, of one link or of several: one winner.
            let now = now
            for trial in 0..<5 {
                for index in 0..<4 {
                    try await store.insertSetupToken(digest: "r\(trial)-\(index)", expiresAt: now.addingTimeInterval(60))
                }
                let spent = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for attempt in 0..<8 {
                        group.addTask { try await store.consumeSetupToken(digest: "r\(trial)-\(attempt % 4)", now: now) }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(spent.filter { $0 }.count == 1, "trial \(trial)")
            }
        }
    }

    @Test(arguments: Backend.available)
    func resourcesAreEditedScopeByScope(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let resource = APIResource(id: "r1", name: "Books", indicator: "https://api.books.test", scopes: [
                ResourceScope(id: "s1", name: "read:books"),
            ], createdAt: now)
            try await store.insertResource(resource)
            #expect(try await store.resource(id: "r1") == resource)
            #expect(try await store.resource(id: "nope") == nil)
            var renamed = resource
            renamed.name = "Library"
            renamed.accessTokenTTL = 600
            try await store.updateResource(renamed)
            #expect(try await store.resource(indicator: "https://api.books.test")?.name == "Library")
            #expect(try await store.resource(id: "r1")?.accessTokenTTL == 600)
            try await store.insertScope(ResourceScope(id: "s2", name: "write:books", description: "Write"),
                                        resourceID: "r1")
            await #expect(throws: IdentityError.self) {
                try await store.insertScope(ResourceScope(id: "s3", name: "write:books"), resourceID: "r1")
            }
            #expect(try await store.resource(id: "r1")?.scopes.map(\.name) == ["read:books", "write:books"])
            try await store.deleteScope(id: "s1", resourceID: "other")  // another resource's scope: untouched
            #expect(try await store.resource(id: "r1")?.scopes.count == 2)
            try await store.deleteScope(id: "s1", resourceID: "r1")
            #expect(try await store.resource(indicator: "https://api.books.test")?.scopes.map(\.name) == ["write:books"])
            try await store.deleteResource(id: "r1")
            #expect(try await store.resource(id: "r1") == nil)
            #expect(try await store.resource(indicator: "https://api.books.test") == nil)
            // The indicator is free again, and no orphan scope blocks the new resource.
            try await store.insertResource(APIResource(id: "r2", name: "Books", indicator: "https://api.books.test",
                                                       scopes: [ResourceScope(id: "s4", name: "write:books")],
                                                       createdAt: now))
        }
    }
}
