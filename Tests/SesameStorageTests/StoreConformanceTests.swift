import Foundation
import SesameIdentity
import SesameOIDC
import SesameStorage
import Synchronization
import Testing

/// The contract between the engine, the domain and SQL: every test runs on SQLite and PostgreSQL.
@Suite("Store conformance")
struct StoreConformanceTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: Backend.available)
    func migrationsAreIdempotent(_ backend: Backend) async throws {
        try await withDatabase(backend) { (database: any SQLDatabase) async throws in
            let migrator = Migrator(database: database)
            #expect(try await migrator.migrate() == Migration.all.map(\.version))
            #expect(try await migrator.migrate() == [])
            #expect(try await migrator.appliedVersions() == Migration.all.map(\.version))
        }
    }

    @Test(arguments: Backend.available)
    func clientsRoundTrip(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let client = Client(id: "app1", name: "Bookstore", description: "büchér 书店", type: .traditional,
                                secretHash: SecretDigest.sha256Hex("s3cret"),
                                redirectURIs: ["http://localhost:3000/api/auth/callback/logto", "https://a.test/cb?x=1"],
                                postLogoutRedirectURIs: ["http://localhost:3000"], isThirdParty: true, createdAt: now)
            try await store.insertClient(client)
            #expect(try await store.client(id: "app1") == client)
            #expect(try await store.client(id: "missing") == nil)
            var changed = client
            changed.redirectURIs = ["https://b.test/cb"]
            changed.name = "Renamed"
            try await store.updateClient(changed)
            #expect(try await store.client(id: "app1") == changed)
            #expect(try await store.clients().map(\.id) == ["app1"])
            await #expect(throws: IdentityError.self) { try await store.insertClient(client) }
            // Named secrets come back with the client, oldest first; names are unique per client.
            let later = ClientSecret(name: "b", hash: "h2", createdAt: now.addingTimeInterval(5),
                                     expiresAt: now.addingTimeInterval(3600))
            let first = ClientSecret(name: "a / b", hash: "h1", createdAt: now)
            try await store.insertClientSecret(later, applicationID: "app1")
            try await store.insertClientSecret(first, applicationID: "app1")
            await #expect(throws: IdentityError.self) { try await store.insertClientSecret(first, applicationID: "app1") }
            #expect(try await store.client(id: "app1")?.secrets == [first, later])
            #expect(try await store.clients().first?.secrets == [first, later])
            #expect(try await store.deleteClientSecret(name: "b", applicationID: "app1"))
            #expect(!(try await store.deleteClientSecret(name: "b", applicationID: "app1")))
            #expect(try await store.client(id: "app1")?.secrets == [first])
            try await store.deleteClient(id: "app1")
            #expect(try await store.client(id: "app1") == nil)
        }
    }

    /// A password change or a suspension ends every session, grant and token of the account in the same
    /// transaction as the update; an update that fails (a taken email) changes nothing and signs no one out.
    @Test(arguments: Backend.available)
    func signingOutIsAtomicWithTheUpdate(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            var alice = User(id: "u1", username: "alice", primaryEmail: "alice@example.com", passwordHash: "$2b$10$old",
                             createdAt: now, updatedAt: now)
            try await store.insertUser(alice)
            try await store.insertUser(User(id: "u2", primaryEmail: "bob@example.com", createdAt: now, updatedAt: now))
            let context = try await grantWithCode(store)
            try await store.insertRefreshToken(refresh("r1", context))
            try await store.insertAccessToken(access("a1"))
            try await store.insertSession(Session(id: "s1", accountID: "u1", authTime: now, createdAt: now,
                                                  expiresAt: now.addingTimeInterval(60)))
            var clash = alice
            clash.primaryEmail = "bob@example.com"
            clash.passwordHash = "$2b$10$new"
            await #expect(throws: IdentityError.self) { try await store.updateUserSigningOut(clash) }
            #expect(try await store.user(id: "u1")?.passwordHash == "$2b$10$old")
            #expect(try await store.session(id: "s1") != nil)
            #expect(try await store.refreshToken(id: "r1") != nil)
            alice.passwordHash = "$2b$10$new"
            try await store.updateUserSigningOut(alice)
            #expect(try await store.user(id: "u1")?.passwordHash == "$2b$10$new")
            #expect(try await store.session(id: "s1") == nil)
            #expect(try await store.grant(id: "g1") == nil)
            #expect(try await store.refreshToken(id: "r1") == nil)
            #expect(try await store.accessToken(id: "a1") == nil)
            #expect(try await store.authorizationCode(id: "c1") == nil)
        }
    }

    /// Migration 16: an installation that had switched its one signing key to RS256 (`keys rotate --alg RS256`, when
    /// keys were server-wide) keeps its applications' ID tokens on RS256; one that stayed on ES384 keeps the default.
    @Test(arguments: Backend.available, [SigningAlgorithm.rs256, .es384])
    func applicationsKeepTheAlgorithmTheirServerSwitchedTo(_ backend: Backend, _ algorithm: SigningAlgorithm) async throws {
        try await withDatabase(backend) { (database: any SQLDatabase) async throws in
            try await Migrator(database: database, migrations: Migration.all.filter { $0.version < 16 }).migrate()
            let store = SQLStore(database: database, secretBox: SecretBox(secret: String(repeating: "k", count: 32)))
            let first = try SigningKey.generate(.es384, now: now)
            try await store.insertInitialSigningKey(first)
            if algorithm != .es384 {
                try await store.insertInitialSigningKey(try SigningKey.generate(algorithm, now: now.addingTimeInterval(5)))
                try await database.query("UPDATE signing_keys SET retired_at = ? WHERE kid = ?",
                                         .date(now.addingTimeInterval(5)), .text(first.kid))
            }
            try await database.query("""
                INSERT INTO applications (id, name, type, redirect_uris, post_logout_redirect_uris, created_at)
                VALUES ('app1', 'Old', 'Traditional', '[]', '[]', 0)
                """)
            try await Migrator(database: database).migrate()
            let expected: SigningAlgorithm? = algorithm == .es384 ? nil : algorithm
            #expect(try await store.client(id: "app1")?.idTokenSignedResponseAlg == expected)
        }
    }

    /// Instances starting together on a fresh database make exactly one first signing key.
    @Test(arguments: Backend.available)
    func parallelFirstStartsMakeOneSigningKey(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let now = now
            for trial in 0..<10 {
                try await store.database.query("DELETE FROM signing_keys")
                try await store.database.query("DELETE FROM installation WHERE key LIKE 'first_signing_key%'")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 {
                        group.addTask { try await store.insertInitialSigningKey(try SigningKey.generate(.es256, now: now)) }
                    }
                    try await group.waitForAll()
                }
                #expect(try await store.signingKeys().count == 1, "trial \(trial)")
            }
        }
    }

    /// Two resumes of one sign-in racing: the interaction is spent with the code, so one of them gets a code.
    @Test(arguments: Backend.available)
    func anInteractionIsSpentOnceWithItsCode(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let now = now
            let request = AuthorizationRequest(clientID: "app1", redirectURI: "https://a.test/cb", scopes: ["openid"])
            try await store.insertInteraction(Interaction(id: "i1", request: request, createdAt: now,
                                                          expiresAt: now.addingTimeInterval(600), requiresLogin: false))
            let stored = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<8 {
                    let context = IssuanceContext(grantID: "g\(index)", clientID: "app1", accountID: "u1",
                                                  scopes: ["openid"], resources: [], authTime: now, nonce: nil,
                                                  sessionID: nil)
                    group.addTask {
                        try await store.insertGrant(
                            Grant(id: "g\(index)", clientID: "app1", accountID: "u1", scopes: ["openid"], createdAt: now),
                            code: AuthorizationCode(id: "c\(index)", context: context, redirectURI: "https://a.test/cb",
                                                    codeChallenge: nil, expiresAt: now.addingTimeInterval(60)),
                            consumingInteraction: "i1")
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(stored.filter { $0 }.count == 1)
            #expect(try await store.interaction(id: "i1") == nil)
            var codes = 0
            for index in 0..<8 where try await store.authorizationCode(id: "c\(index)") != nil { codes += 1 }
            #expect(codes == 1)
        }
    }

    /// A new session replaces the browser's previous one and records itself on the interaction, together.
    @Test(arguments: Backend.available)
    func aSessionStartsInOneStep(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let request = AuthorizationRequest(clientID: "app1", redirectURI: "https://a.test/cb", scopes: ["openid"])
            var interaction = Interaction(id: "i1", request: request, createdAt: now,
                                          expiresAt: now.addingTimeInterval(600), requiresLogin: true)
            try await store.insertInteraction(interaction)
            let old = Session(id: "s0", accountID: "u1", authTime: now, createdAt: now, expiresAt: now.addingTimeInterval(60))
            try await store.insertSession(old)
            let new = Session(id: "s1", accountID: "u1", authTime: now, createdAt: now, expiresAt: now.addingTimeInterval(60))
            interaction.sessionID = "s1"
            interaction.requiresLogin = false
            // A failure half-way (the new session's id is taken) changes nothing: the old session is not ended.
            let taken = Session(id: "s2", accountID: "u2", authTime: now, createdAt: now, expiresAt: now.addingTimeInterval(60))
            try await store.insertSession(taken)
            await #expect(throws: (any Error).self) {
                try await store.startSession(taken, replacing: "s0", interaction: interaction)
            }
            #expect(try await store.session(id: "s0") == old)
            #expect(try await store.interaction(id: "i1")?.requiresLogin == true)
            try await store.startSession(new, replacing: "s0", interaction: interaction)
            #expect(try await store.session(id: "s0") == nil)
            #expect(try await store.session(id: "s1") == new)
            #expect(try await store.interaction(id: "i1")?.sessionID == "s1")
        }
    }

    @Test(arguments: Backend.available)
    func usersAreUniqueByUsernameEmailAndPhone(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let alice = User(id: "u1", username: "Alice", primaryEmail: "alice@example.com", primaryPhone: "8613800000000",
                             name: "Alice Liddell", passwordHash: "$2b$10$x", createdAt: now, updatedAt: now)
            try await store.insertUser(alice)
            #expect(try await store.user(id: "u1") == alice)
            #expect(try await store.user(identifier: "alice")?.id == "u1")
            #expect(try await store.user(identifier: "ALICE@example.com")?.id == "u1")
            #expect(try await store.user(identifier: "+8613800000000")?.id == "u1")
            #expect(try await store.user(identifier: "bob") == nil)
            for duplicate in [
                User(id: "u2", username: "ALICE", createdAt: now, updatedAt: now),
                User(id: "u3", primaryEmail: "alice@example.com", createdAt: now, updatedAt: now),
                User(id: "u4", primaryPhone: "8613800000000", createdAt: now, updatedAt: now),
            ] {
                do {
                    try await store.insertUser(duplicate)
                    Issue.record("duplicate \(duplicate.id) was accepted")
                } catch let error as IdentityError {
                    #expect(error.code == .conflict)
                    #expect(error.message.contains("already in use"))
                }
            }
            try await store.insertUser(User(id: "u5", username: "bob", createdAt: now, updatedAt: now))
            let page = try await store.users(offset: 0, limit: 1)
            #expect(page.total == 2)
            #expect(page.users.count == 1)
            try await store.recordSignIn(userID: "u1", at: now.addingTimeInterval(5))
            #expect(try await store.user(id: "u1")?.lastSignInAt == now.addingTimeInterval(5))
        }
    }

    @Test(arguments: Backend.available)
    func signingKeysAreSealedAndRotated(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let first = try SigningKey.generate(.es384, now: now)
            let racer = try SigningKey.generate(.es384, now: now)
            try await store.insertInitialSigningKey(first)
            try await store.insertInitialSigningKey(racer)  // a second instance starting at the same time
            var keys = try await store.signingKeys()
            #expect(keys.map(\.kid) == [first.kid])
            #expect(keys.first?.privateKeyBytes == first.privateKeyBytes)
            // Private keys are encrypted at rest.
            let sealed = try await store.database.query("SELECT sealed_private_key FROM signing_keys")
            #expect(try sealed.first?.string("sealed_private_key").hasPrefix("v1.") == true)
            // Another algorithm's first key stands beside it.
            let rsa = try SigningKey.generate(.rs256, now: now.addingTimeInterval(5))
            try await store.insertInitialSigningKey(rsa)
            let second = try SigningKey.generate(.es384, now: now.addingTimeInterval(10))
            try await store.rotate(to: second, now: now.addingTimeInterval(10))
            keys = try await store.signingKeys()
            #expect(keys.map(\.kid) == [second.kid, rsa.kid, first.kid])
            #expect(keys[0].retiredAt == nil)
            #expect(keys[1].retiredAt == nil)  // rotating ES384 leaves RS256 alone
            #expect(keys[2].retiredAt == now.addingTimeInterval(10))
            try await store.deleteSigningKeys(retiredBefore: now.addingTimeInterval(11))
            #expect(try await store.signingKeys().map(\.kid) == [second.kid, rsa.kid])
            // A different SESAME_SECRET cannot open them.
            let stranger = SQLStore(database: store.database, secretBox: SecretBox(secret: String(repeating: "x", count: 32)))
            await #expect(throws: SecretBox.DecryptionError.self) { try await stranger.signingKeys() }
        }
    }

    /// A grant with one code, as the authorization endpoint stores them.
    private func grantWithCode(_ store: SQLStore, grantID: String = "g1", codeID: String = "c1") async throws
        -> IssuanceContext
    {
        let context = IssuanceContext(grantID: grantID, clientID: "app1", accountID: "u1",
                                      scopes: ["openid", "offline_access"], resources: [], authTime: now, nonce: "n",
                                      sessionID: "s")
        try await store.insertGrant(Grant(id: grantID, clientID: "app1", accountID: "u1", scopes: context.scopes,
                                          createdAt: now),
                                    code: AuthorizationCode(id: codeID, context: context,
                                                            redirectURI: "https://a.test/cb", codeChallenge: nil,
                                                            expiresAt: now.addingTimeInterval(60)),
                                    consumingInteraction: nil)
        return context
    }

    private func access(_ id: String, grantID: String = "g1") -> AccessTokenRecord {
        AccessTokenRecord(id: id, grantID: grantID, clientID: "app1", accountID: "u1", scopes: ["openid"],
                          createdAt: now, expiresAt: now.addingTimeInterval(3600))
    }

    private func refresh(_ id: String, _ context: IssuanceContext) -> RefreshTokenRecord {
        RefreshTokenRecord(id: id, context: context, createdAt: now, expiresAt: now.addingTimeInterval(86_400))
    }

    @Test(arguments: Backend.available)
    func authorizationCodesAreSingleUse(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let context = try await grantWithCode(store)
            let found = try await store.authorizationCode(id: "c1")
            #expect(found?.code.context == context)
            #expect(found?.isConsumed == false)
            let exchange = TokenExchange(spent: .authorizationCode(id: "c1"), grantID: "g1",
                                         accessToken: access("a1"), refreshToken: refresh("r1", context))
            #expect(try await store.exchange(exchange, now: now) == .issued)
            #expect(try await store.accessToken(id: "a1") != nil)
            #expect(try await store.refreshToken(id: "r1") != nil)
            #expect(try await store.authorizationCode(id: "c1")?.isConsumed == true)
            let replay = TokenExchange(spent: .authorizationCode(id: "c1"), grantID: "g1",
                                       accessToken: access("a2"), refreshToken: nil)
            #expect(try await store.exchange(replay, now: now) == .alreadySpent)
            #expect(try await store.accessToken(id: "a2") == nil)
            #expect(try await store.authorizationCode(id: "nope") == nil)
            // A code names its grant: spending it under another grant's id spends nothing.
            _ = try await grantWithCode(store, grantID: "g2", codeID: "c2")
            let crossed = TokenExchange(spent: .authorizationCode(id: "c2"), grantID: "g1", accessToken: nil,
                                        refreshToken: nil)
            #expect(try await store.exchange(crossed, now: now) == .alreadySpent)
            #expect(try await store.authorizationCode(id: "c2")?.isConsumed == false)
        }
    }

    @Test(arguments: Backend.available)
    func concurrentCodeExchangesSeeOneWinner(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            _ = try await grantWithCode(store, codeID: "race")
            let now = now
            let outcomes = try await withThrowingTaskGroup(of: TokenExchange.Outcome.self) { group in
                for index in 0..<8 {
                    let exchange = TokenExchange(spent: .authorizationCode(id: "race"), grantID: "g1",
                                                 accessToken: access("a\(index)"), refreshToken: nil)
                    group.addTask { try await store.exchange(exchange, now: now) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .issued }.count == 1)
            #expect(outcomes.filter { $0 == .alreadySpent }.count == 7)
            var stored = 0
            for index in 0..<8 where try await store.accessToken(id: "a\(index)") != nil { stored += 1 }
            #expect(stored == 1)
        }
    }

    /// A replay detected while another exchange of the same grant is under way: once the revocation returns,
    /// no token of the grant is left, whichever finished first.
    @Test(arguments: Backend.available)
    func revocationRacingAnExchangeLeavesNoToken(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let now = now
            for trial in 0..<40 {
                let grantID = "g\(trial)"
                let context = try await grantWithCode(store, grantID: grantID, codeID: "c\(trial)")
                let exchange = TokenExchange(spent: .authorizationCode(id: "c\(trial)"), grantID: grantID,
                                             accessToken: access("a\(trial)", grantID: grantID),
                                             refreshToken: refresh("r\(trial)", context))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { _ = try await store.exchange(exchange, now: now) }
                    group.addTask { try await store.revokeGrant(id: grantID) }
                    try await group.waitForAll()
                }
                #expect(try await store.grant(id: grantID) == nil)
                #expect(try await store.accessToken(id: "a\(trial)") == nil, "trial \(trial)")
                #expect(try await store.refreshToken(id: "r\(trial)") == nil, "trial \(trial)")
                // Nothing more can be issued under the revoked grant.
                let late = TokenExchange(spent: .refreshToken(id: "r\(trial)"), grantID: grantID,
                                         accessToken: access("late\(trial)", grantID: grantID), refreshToken: nil)
                #expect(try await store.exchange(late, now: now) == .grantRevoked)
                #expect(try await store.accessToken(id: "late\(trial)") == nil)
            }
        }
    }

    /// A write that fails half-way (here the new refresh token collides with a stored one) rolls the whole
    /// exchange back: the old token is not spent and still works.
    @Test(arguments: Backend.available)
    func aFailedExchangeLeavesTheOldTokenWorking(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let context = try await grantWithCode(store)
            try await store.insertRefreshToken(refresh("old", context))
            try await store.insertRefreshToken(refresh("taken", context))
            let failing = TokenExchange(spent: .refreshToken(id: "old"), grantID: "g1",
                                        accessToken: access("a1"), refreshToken: refresh("taken", context))
            await #expect(throws: (any Error).self) { try await store.exchange(failing, now: now) }
            #expect(try await store.refreshToken(id: "old")?.consumedAt == nil)
            #expect(try await store.accessToken(id: "a1") == nil)
            let retried = TokenExchange(spent: .refreshToken(id: "old"), grantID: "g1",
                                        accessToken: access("a1"), refreshToken: refresh("new", context))
            #expect(try await store.exchange(retried, now: now) == .issued)
            #expect(try await store.refreshToken(id: "old")?.consumedAt == now)
            #expect(try await store.refreshToken(id: "new") != nil)
        }
    }

    @Test(arguments: Backend.available)
    func revokingAGrantRemovesItsTokens(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertGrant(Grant(id: "g1", clientID: "app1", accountID: "u1", scopes: ["openid"],
                                              createdAt: now))
            try await store.insertGrant(Grant(id: "g2", clientID: "app1", accountID: "u1", scopes: ["openid"],
                                              createdAt: now))
            let context = IssuanceContext(grantID: "g1", clientID: "app1", accountID: "u1",
                                          scopes: ["openid", "offline_access"], resources: [], authTime: now,
                                          nonce: nil, sessionID: nil)
            var other = context
            other.grantID = "g2"
            try await store.insertAccessToken(AccessTokenRecord(id: "a1", grantID: "g1", clientID: "app1",
                                                                accountID: "u1", scopes: ["openid"], createdAt: now,
                                                                expiresAt: now.addingTimeInterval(3600)))
            try await store.insertAccessToken(AccessTokenRecord(id: "a2", grantID: "g2", clientID: "app1",
                                                                accountID: "u1", scopes: ["openid"], createdAt: now,
                                                                expiresAt: now.addingTimeInterval(3600)))
            let refresh = RefreshTokenRecord(id: "r1", context: context, createdAt: now,
                                             expiresAt: now.addingTimeInterval(86_400))
            try await store.insertRefreshToken(refresh)
            try await store.insertRefreshToken(RefreshTokenRecord(id: "r2", context: other, createdAt: now,
                                                                  expiresAt: now.addingTimeInterval(86_400)))
            #expect(try await store.refreshToken(id: "r1") == refresh)
            #expect(try await store.grant(id: "g1")?.scopes == ["openid"])
            try await store.revokeGrant(id: "g1")
            #expect(try await store.grant(id: "g1") == nil)
            #expect(try await store.accessToken(id: "a1") == nil)
            #expect(try await store.refreshToken(id: "r1") == nil)
            #expect(try await store.accessToken(id: "a2") != nil)
            #expect(try await store.refreshToken(id: "r2") != nil)
        }
    }

    @Test(arguments: Backend.available)
    func refreshTokensAreConsumedOnce(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            var context = try await grantWithCode(store)
            context.resources = ["https://api.test"]
            try await store.insertRefreshToken(refresh("r1", context))
            let rotate = TokenExchange(spent: .refreshToken(id: "r1"), grantID: "g1", accessToken: nil,
                                       refreshToken: refresh("r2", context))
            #expect(try await store.exchange(rotate, now: now) == .issued)
            #expect(try await store.exchange(rotate, now: now) == .alreadySpent)
            #expect(try await store.refreshToken(id: "r1")?.consumedAt == now)
            #expect(try await store.refreshToken(id: "r2")?.context == context)
            try await store.deleteRefreshTokens(accountID: "u1")
            #expect(try await store.refreshToken(id: "r1") == nil)
        }
    }

    @Test(arguments: Backend.available)
    func sessionsInteractionsAndConsents(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let session = Session(id: "s1", accountID: "u1", authTime: now, createdAt: now,
                                  expiresAt: now.addingTimeInterval(100))
            try await store.insertSession(session)
            try await store.insertSession(Session(id: "s2", accountID: "u1", authTime: now, createdAt: now,
                                                  expiresAt: now.addingTimeInterval(100)))
            #expect(try await store.session(id: "s1") == session)
            try await store.deleteSession(id: "s1")
            #expect(try await store.session(id: "s1") == nil)
            try await store.deleteSessions(accountID: "u1")
            #expect(try await store.session(id: "s2") == nil)

            let request = AuthorizationRequest(clientID: "app1", redirectURI: "https://a.test/cb",
                                               scopes: ["openid", "email"], state: "st", nonce: "n",
                                               codeChallenge: "c", prompts: [.login, .consent], maxAge: 30,
                                               loginHint: "alice", uiLocales: "zh-CN", resources: ["https://api.test"])
            var interaction = Interaction(id: "i1", request: request, createdAt: now,
                                          expiresAt: now.addingTimeInterval(3600), requiresLogin: true)
            try await store.insertInteraction(interaction)
            #expect(try await store.interaction(id: "i1") == interaction)
            interaction.accountID = "u1"
            interaction.authTime = now
            interaction.isConsentGiven = true
            try await store.updateInteraction(interaction)
            #expect(try await store.interaction(id: "i1") == interaction)
            try await store.deleteInteraction(id: "i1")
            #expect(try await store.interaction(id: "i1") == nil)

            #expect(try await store.consentedScopes(accountID: "u1", clientID: "app1") == [])
            try await store.saveConsent(accountID: "u1", clientID: "app1", scopes: ["openid"], organizationIDs: [], now: now)
            try await store.saveConsent(accountID: "u1", clientID: "app1", scopes: ["email"], organizationIDs: [], now: now)
            #expect(try await store.consentedScopes(accountID: "u1", clientID: "app1") == ["openid", "email"])
        }
    }

    @Test(arguments: Backend.available)
    func resourcesWithScopes(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let resource = APIResource(id: "r1", name: "Books", indicator: "https://api.example.test",
                                       accessTokenTTL: 600,
                                       scopes: [ResourceScope(id: "s1", name: "read:books", description: "Read"),
                                                ResourceScope(id: "s2", name: "write:books")],
                                       createdAt: now)
            try await store.insertResource(resource)
            #expect(try await store.resource(indicator: "https://api.example.test") == resource)
            #expect(try await store.resource(indicator: "https://other.test") == nil)
            #expect(try await store.resources() == [resource])
            var duplicate = resource
            duplicate.id = "r2"
            duplicate.scopes = []
            await #expect(throws: IdentityError.self) { try await store.insertResource(duplicate) }
        }
    }

    @Test(arguments: Backend.available)
    func rateLimitCountersAreShared(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let clock = TestClock(now)
            let limiter = RateLimiter(store: store, now: { clock.now })
            let rule = RateLimiter.Rule(limit: 3, window: 60)
            for _ in 0..<3 {
                #expect(try await limiter.isLimited("ip:1", rule: rule) == false)
                try await limiter.record("ip:1", rule: rule)
            }
            #expect(try await limiter.isLimited("ip:1", rule: rule) == true)
            #expect(try await limiter.isLimited("ip:2", rule: rule) == false)
            clock.now = now.addingTimeInterval(61)
            #expect(try await limiter.isLimited("ip:1", rule: rule) == false)
            try await limiter.record("ip:1", rule: rule)
            try await limiter.reset("ip:1")
            #expect(try await store.count(key: "ip:1", windowStart: Date(timeIntervalSince1970: 1_800_000_040)) == 0)
        }
    }

    @Test(arguments: Backend.available)
    func connectorConfigurationsAreSealedAndOneOfAKindIsEnabled(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let aliyun: JSONValue = ["accessKeyId": "id", "accessKeySecret": "top-secret", "templates": []]
            try await store.saveConnector(id: "aliyun-direct-mail", kind: "Email", config: aliyun, now: now)
            try await store.saveConnector(id: "smtp", kind: "Email", config: ["host": "h"], now: now)
            let raw = try await store.database.query("SELECT sealed_config FROM connectors")
            #expect(raw.allSatisfy { !(($0.optionalString("sealed_config") ?? "").contains("top-secret")) })
            #expect(try await store.connector(id: "aliyun-direct-mail")?.config == aliyun)
            try await store.setConnectorEnabled(id: "smtp", kind: "Email", isEnabled: true, now: now)
            try await store.setConnectorEnabled(id: "aliyun-direct-mail", kind: "Email", isEnabled: true, now: now)
            let states = try await store.connectors().map { ($0.id, $0.isEnabled) }
            #expect(states.map(\.0) == ["aliyun-direct-mail", "smtp"])
            #expect(states.map(\.1) == [true, false])
            // Saving a new configuration keeps the connector enabled.
            try await store.saveConnector(id: "aliyun-direct-mail", kind: "Email", config: ["x": 1], now: now)
            #expect(try await store.connector(id: "aliyun-direct-mail")?.isEnabled == true)
            try await store.deleteConnector(id: "smtp")
            #expect(try await store.connector(id: "smtp") == nil)
        }
    }

    /// The secret's check value: stored at first use, compared by every later process; a rotation re-seals
    /// everything in one transaction, and a value that does not open is named.
    @Test(arguments: Backend.available)
    func secretsAreCheckedAndRotatedTogether(_ backend: Backend) async throws {
        let old = String(repeating: "k", count: 32)
        let new = String(repeating: "n", count: 32)
        try await withStore(backend) { store in
            try await store.insertInitialSigningKey(try SigningKey.generate(.es256, now: now))
            try await store.saveConnector(id: "smtp", kind: "Email", config: ["password": "p"], now: now)
            // An older database without a check value: the right secret becomes the reference...
            try await store.verifySecret(old)
            try await store.verifySecret(old)
            // ...and any other is refused, wherever it comes from.
            await #expect(throws: SQLStore.SecretMismatch.self) { try await store.verifySecret(new) }
            let stranger = SQLStore(database: store.database, secretBox: SecretBox(secret: new))
            do {
                _ = try await stranger.connectors()
                Issue.record("a connector opened under another secret")
            } catch let error as SecretBox.DecryptionError {
                #expect(error.description.contains("the configuration of connector 'smtp'"))
                #expect(error.description.contains("SESAME_SECRET"))
            }
            await #expect(throws: SQLStore.SecretMismatch.self) {
                _ = try await store.rotateSecret(from: new, to: old)
            }
            let rotation = try await store.rotateSecret(from: old, to: new)
            #expect(rotation == SQLStore.SecretRotation(signingKeys: 1, connectors: 1))
            try await stranger.verifySecret(new)
            await #expect(throws: SQLStore.SecretMismatch.self) { try await store.verifySecret(old) }
            #expect(try await stranger.connector(id: "smtp")?.config == ["password": "p"])
            #expect(try await stranger.signingKeys().count == 1)
            await #expect(throws: SecretBox.DecryptionError.self) { _ = try await store.signingKeys() }
        }
        // A database whose sealed values do not open with the first secret offered never takes it as the
        // reference.
        try await withStore(backend) { store in
            try await store.saveConnector(id: "smtp", kind: "Email", config: ["password": "p"], now: now)
            await #expect(throws: SQLStore.SecretMismatch.self) { try await store.verifySecret(new) }
        }
    }

    /// A process still holding the old secret after a rotation writes nothing sealed with it.
    @Test(arguments: Backend.available)
    func aProcessWithTheOldSecretSealsNothingAfterARotation(_ backend: Backend) async throws {
        let old = String(repeating: "k", count: 32)
        let new = String(repeating: "n", count: 32)
        try await withStore(backend) { store in
            let running = SQLStore(database: store.database, secretBox: SecretBox(secret: old), secret: old)
            try await running.verifySecret(old)
            try await running.saveConnector(id: "smtp", kind: "Email", config: ["password": "p"], now: now)
            try await running.insertInitialSigningKey(try SigningKey.generate(.es256, now: now))
            _ = try await store.rotateSecret(from: old, to: new)
            await #expect(throws: SQLStore.SecretMismatch.self) {
                try await running.saveConnector(id: "smtp", kind: "Email", config: ["password": "q"], now: now)
            }
            await #expect(throws: SQLStore.SecretMismatch.self) {
                try await running.rotate(to: try SigningKey.generate(.es256, now: now), now: now)
            }
            let rotated = SQLStore(database: store.database, secretBox: SecretBox(secret: new), secret: new)
            #expect(try await rotated.connector(id: "smtp")?.config == ["password": "p"])
            #expect(try await rotated.signingKeys().count == 1)
        }
    }

    @Test(arguments: Backend.available)
    func signInExperienceAndVerificationCodes(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            #expect(try await store.signInExperience() == nil)
            var settings = SignInExperience.default
            settings.branding.primaryColor = "#112233"
            try await store.saveSignInExperience(settings, now: now)
            try await store.saveSignInExperience(settings, now: now)
            #expect(try await store.signInExperience() == settings)

            let first = VerificationCode(id: "c1", identifier: "a@b.test", usage: "SignIn", codeDigest: "d1",
                                         createdAt: now, expiresAt: now.addingTimeInterval(600))
            try await store.insertVerificationCode(first)
            #expect(try await store.latestVerificationCode(identifier: "a@b.test", usage: "SignIn") == first)
            #expect(try await store.latestVerificationCode(identifier: "a@b.test", usage: "Register") == nil)
            #expect(try await store.recordFailedAttempt(codeID: "c1") == 1)
            #expect(try await store.recordFailedAttempt(codeID: "c1") == 2)
            // A new code replaces the unused one.
            let second = VerificationCode(id: "c2", identifier: "a@b.test", usage: "SignIn", codeDigest: "d2",
                                          createdAt: now.addingTimeInterval(61), expiresAt: now.addingTimeInterval(661))
            try await store.insertVerificationCode(second)
            #expect(try await store.latestVerificationCode(identifier: "a@b.test", usage: "SignIn")?.id == "c2")
            #expect(try await store.consumeVerificationCode(id: "c2", now: now) == true)
            #expect(try await store.consumeVerificationCode(id: "c2", now: now) == false)
            #expect(try await store.consumeVerificationCode(id: "c1", now: now) == false)
        }
    }

    @Test(arguments: Backend.available)
    func auditEventsFilterAndPage(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertAuditEvents([
                AuditEvent(key: "SignIn.Success", userID: "u1", applicationID: "a1", ip: "1.1.1.1",
                           payload: ["method": "Password"], createdAt: now),
                AuditEvent(key: "SignIn.Failure", applicationID: "a1", createdAt: now.addingTimeInterval(1)),
                AuditEvent(key: "Token.refresh_token", applicationID: "a2", createdAt: now.addingTimeInterval(2)),
            ])
            #expect(try await store.auditEvents(AuditQuery()).total == 3)
            #expect(try await store.auditEvents(AuditQuery()).events.first?.key == "Token.refresh_token")
            #expect(try await store.auditEvents(AuditQuery(key: "SignIn.")).total == 2)
            #expect(try await store.auditEvents(AuditQuery(key: "SignIn")).total == 0)
            #expect(try await store.auditEvents(AuditQuery(userID: "u1")).events.first?.payload["method"] == "Password")
            #expect(try await store.auditEvents(AuditQuery(applicationID: "a1")).total == 2)
            #expect(try await store.auditEvents(AuditQuery(from: now.addingTimeInterval(1))).total == 2)
            #expect(try await store.auditEvents(AuditQuery(to: now)).total == 1)
            let page = try await store.auditEvents(AuditQuery(offset: 2, limit: 5))
            #expect(page.events.count == 1)
            #expect(page.total == 3)
        }
    }

    @Test(arguments: Backend.available)
    func expiredRecordsAreDeleted(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertSession(Session(id: "old", accountID: "u1", authTime: now, createdAt: now,
                                                  expiresAt: now.addingTimeInterval(10)))
            try await store.insertSession(Session(id: "new", accountID: "u1", authTime: now, createdAt: now,
                                                  expiresAt: now.addingTimeInterval(1000)))
            try await store.insertAccessToken(AccessTokenRecord(id: "a", grantID: nil, clientID: "c", accountID: nil,
                                                                scopes: [], createdAt: now,
                                                                expiresAt: now.addingTimeInterval(10)))
            try await store.deleteExpired(before: now.addingTimeInterval(100))
            #expect(try await store.session(id: "old") == nil)
            #expect(try await store.session(id: "new") != nil)
            #expect(try await store.accessToken(id: "a") == nil)
        }
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let value: Mutex<Date>

    init(_ value: Date) { self.value = Mutex(value) }

    var now: Date {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
