import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Testing

/// Second factors over real HTTP: the hosted pages and the Experience API set TOTP and backup codes up and ask
/// for them, the policy decides who is asked, ID tokens say how the user signed in, and the limits hold.
@Suite("MFA")
struct MfaTests {
    typealias API = ExperienceAPITests

    static func offer(_ fixture: Fixture, _ factors: [MfaFactor], policy: MfaPolicy) async throws {
        var settings = try await fixture.runtime.signInExperience()
        settings.mfa = MfaSettings(factors: factors, policy: policy)
        try await fixture.runtime.saveSignInExperience(settings)
    }

    /// The value of the first `name="field" value="..."` in the page.
    static func field(_ name: String, in page: Reply) throws -> String {
        let pattern = #"name="\#(name)" value="([^"]*)""#
        let range = try #require(page.text.range(of: pattern, options: .regularExpression), "no \(name) in the page")
        return String(page.text[range].dropFirst("name=\"\(name)\" value=\"".count).dropLast())
    }

    /// The secret the set-up page prints (in groups of four).
    static func secret(in page: Reply) throws -> String {
        let range = try #require(page.text.range(of: #"<code class="secret">[A-Z2-7 ]+</code>"#, options: .regularExpression))
        return page.text[range].dropFirst(#"<code class="secret">"#.count).dropLast("</code>".count)
            .filter { $0 != " " }
    }

    /// The backup codes the page shows.
    static func backupCodes(in page: Reply) -> [String] {
        page.text.matches(of: /<li><code>([0-9a-f]{10})<\/code><\/li>/).map { String($0.1) }
    }

    /// A code of `secret`, `steps` steps after now.
    static func code(_ secret: String, steps: Int64 = 0, at date: Date = Date()) -> String {
        let totp = TOTP(secret: Base32.decode(secret) ?? [])
        return totp.code(step: totp.step(at: date) + steps)
    }

    /// authorize (with `extra` parameters) → the password form → where it leads.
    static func passwordSignIn(_ fixture: Fixture, _ browser: Browser, verifier: String, scope: String = "openid profile",
                               extra: [(String, String)] = [("prompt", "login")]) async throws -> Reply
    {
        let query: [(String, String)] = [
            ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
            ("scope", scope), ("code_challenge", PKCE.challenge(for: verifier)),
            ("code_challenge_method", "S256"),
        ] + extra
        let authorize = try await browser.get("/oidc/auth?" + RequestParameters.encode(query))
        #expect(authorize.location == "/sign-in")
        let page = try await browser.get("/sign-in")
        return try await browser.post("/sign-in", form: [
            ("csrf_token", try #require(page.csrfToken)), ("identifier", "alice"), ("password", Fixture.password),
        ])
    }

    @Test func hostedPagesSetUpTotpAndBackupCodesThenAskForThem() async throws {
        // A fixed clock: which codes are accepted does not depend on how slowly the test runs.
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            let now = Fixture.midWindow()
            try await Self.offer(fixture, [.totp, .backupCode], policy: .promptAtSignInAndSignUp)
            var verifier = SecureRandom.token(bytes: 48)
            let signedIn = try await Self.passwordSignIn(fixture, browser, verifier: verifier, extra: [])
            #expect(signedIn.status == .seeOther && signedIn.location == "/sign-in/mfa")
            // No IdP session before the second step is done.
            #expect(browser.cookies["_sesame_session"] == nil)
            let setup = try await browser.get("/sign-in/mfa")
            #expect(setup.status == .ok)
            #expect(setup.text.contains("<svg") && setup.text.contains(#"action="/sign-in/mfa/skip""#))
            let secret = try Self.secret(in: setup)
            #expect(secret.count == 32)
            // A reload shows the same secret.
            #expect(try Self.secret(in: try await browser.get("/sign-in/mfa")) == secret)
            let csrf = try #require(setup.csrfToken)
            let id = try Self.field("verificationId", in: setup)
            let wrong = try await browser.post("/sign-in/mfa/setup", form: [
                ("csrf_token", csrf), ("verificationId", id), ("code", Self.code(secret, steps: 5, at: now)),
            ])
            #expect(wrong.status == .badRequest && wrong.text.contains("This code is not valid"))
            let noCSRF = try await browser.post("/sign-in/mfa/setup", form: [
                ("verificationId", id), ("code", Self.code(secret, at: now)),
            ])
            #expect(noCSRF.status.code >= 400 && noCSRF.status.code < 500)
            let enrolled = try await browser.post("/sign-in/mfa/setup", form: [
                ("csrf_token", csrf), ("verificationId", id), ("code", Self.code(secret, at: now)),
            ])
            // Backup codes are offered too: shown once, kept with one button.
            #expect(enrolled.status == .ok)
            let codes = Self.backupCodes(in: enrolled)
            #expect(codes.count == 10 && Set(codes).count == 10)
            #expect(enrolled.text.contains(#"download="backup-codes.txt""#))
            let kept = try await browser.post("/sign-in/mfa/backup-codes", form: [
                ("csrf_token", try #require(enrolled.csrfToken)), ("verificationId", try Self.field("verificationId", in: enrolled)),
            ])
            var claims = try await ExperienceFlowTests.finish(fixture, browser, kept, verifier: verifier)
            #expect(claims["amr"] == ["pwd", "otp", "mfa"])
            #expect(claims["acr"] == nil)
            let factors = try await fixture.runtime.mfa.store.mfaVerifications(userID: fixture.user.id)
            #expect(factors.map(\.factor) == [.totp, .backupCode])
            // The secret is sealed at rest.
            if case .totp(let sealed, let step) = factors[0].kind {
                #expect(!sealed.contains(secret) && step != nil)
            }

            // Next sign-in: the app's code; the one that proved the set-up is not accepted again.
            verifier = SecureRandom.token(bytes: 48)
            #expect(try await Self.passwordSignIn(fixture, browser, verifier: verifier).location == "/sign-in/mfa")
            let ask = try await browser.get("/sign-in/mfa")
            #expect(ask.text.contains(#"action="/sign-in/mfa/totp""#) && ask.text.contains(#"action="/sign-in/mfa/backup-code""#))
            #expect(!ask.text.contains("/sign-in/mfa/skip"))
            let replay = try await browser.post("/sign-in/mfa/totp", form: [
                ("csrf_token", try #require(ask.csrfToken)), ("code", Self.code(secret, at: now)),
            ])
            #expect(replay.status == .badRequest)
            let next = Self.code(secret, steps: 1, at: now)
            let verified = try await browser.post("/sign-in/mfa/totp", form: [
                ("csrf_token", try #require(ask.csrfToken)), ("code", next),
            ])
            claims = try await ExperienceFlowTests.finish(fixture, browser, verified, verifier: verifier)
            #expect(claims["amr"] == ["pwd", "otp", "mfa"])

            // A backup code once; the second time it is refused.
            for attempt in 0..<2 {
                verifier = SecureRandom.token(bytes: 48)
                _ = try await Self.passwordSignIn(fixture, browser, verifier: verifier)
                let page = try await browser.get("/sign-in/mfa")
                let answer = try await browser.post("/sign-in/mfa/backup-code", form: [
                    ("csrf_token", try #require(page.csrfToken)), ("code", codes[3].uppercased()),
                ])
                if attempt == 0 {
                    #expect(try await ExperienceFlowTests.finish(fixture, browser, answer, verifier: verifier)["amr"]
                        == ["pwd", "otp", "mfa"])
                } else {
                    #expect(answer.status == .badRequest && answer.text.contains("already used"))
                }
            }
            let listed = try await fixture.runtime.mfa.store.mfaVerifications(userID: fixture.user.id)
            if case .backupCode(let stored) = listed.last?.kind {
                #expect(stored.filter { $0.usedAt != nil }.count == 1)
                #expect(!stored.contains { $0.digest.contains(codes[3]) })
            }
            await fixture.runtime.audit.flush()
            let events = try await fixture.runtime.store.auditEvents(AuditQuery(limit: 100)).events.map(\.key)
            #expect(events.contains("Mfa.Bind") && events.contains("Mfa.Verify.Success")
                && events.contains("Mfa.Verify.Failure"))
        }
    }

    @Test func experienceAPIAnswersAsLogto() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.offer(fixture, [.totp, .backupCode], policy: .mandatory)
            func signInByPassword() async throws {
                #expect(try await API.call(browser, .put, "", ["interactionEvent": "SignIn"]).status == .noContent)
                let verified = try await API.call(browser, .post, "/verification/password", [
                    "identifier": ["type": "username", "value": "alice"], "password": .string(Fixture.password),
                ])
                let id = try #require(verified.json["verificationId"]?.stringValue)
                #expect(try await API.call(browser, .post, "/identification", ["verificationId": .string(id)])
                    .status == .noContent)
            }
            try await signInByPassword()
            var submit = try await API.call(browser, .post, "/submit", [:])
            #expect(submit.status == .unprocessableContent)
            #expect(submit.json["code"] == "user.missing_mfa")
            #expect(submit.json["data"]?["availableFactors"] == ["Totp"])
            #expect(submit.json["data"]?["skippable"] == false)
            // Mandatory: no skipping.
            let skip = try await browser.send("/api/experience/profile/mfa/mfa-skipped", method: .post, headers: [:],
                                              body: nil)
            #expect(skip.status == .unprocessableContent && skip.json["code"] == "session.mfa.mfa_policy_not_user_controlled")
            // Backup codes cannot come first.
            let early = try await API.call(browser, .post, "/verification/backup-code/generate", [:])
            #expect(early.status == .ok)
            let earlyBind = try await API.call(browser, .post, "/profile/mfa", [
                "type": "BackupCode", "verificationId": early.json["verificationId"] ?? .null,
            ])
            #expect(earlyBind.status == .unprocessableContent
                && earlyBind.json["code"] == "session.mfa.backup_code_can_not_be_alone")
            let created = try await API.call(browser, .post, "/verification/totp/secret", [:])
            #expect(created.status == .ok)
            let secret = try #require(created.json["secret"]?.stringValue)
            #expect(created.json["secretQrCode"]?.stringValue?.hasPrefix("data:image/svg+xml;base64,") == true)
            let id = try #require(created.json["verificationId"]?.stringValue)
            let unverified = try await API.call(browser, .post, "/profile/mfa", ["type": "Totp", "verificationId": .string(id)])
            #expect(unverified.status == .badRequest)
            let bad = try await API.call(browser, .post, "/verification/totp/verify", [
                "code": .string(Self.code(secret, steps: -7)), "verificationId": .string(id),
            ])
            #expect(bad.status == .badRequest && bad.json["code"] == "session.mfa.invalid_totp_code")
            #expect(try await API.call(browser, .post, "/verification/totp/verify", [
                "code": .string(Self.code(secret)), "verificationId": .string(id),
            ]).status == .ok)
            #expect(try await API.call(browser, .post, "/profile/mfa", ["type": "Totp", "verificationId": .string(id)])
                .status == .noContent)
            submit = try await API.call(browser, .post, "/submit", [:])
            #expect(submit.status == .unprocessableContent && submit.json["code"] == "session.mfa.backup_code_required")
            let generated = try await API.call(browser, .post, "/verification/backup-code/generate", [:])
            let codes = generated.json["codes"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(codes.count == 10 && codes.allSatisfy { $0.count == 10 && $0.allSatisfy(\.isHexDigit) })
            #expect(try await API.call(browser, .post, "/profile/mfa", [
                "type": "BackupCode", "verificationId": generated.json["verificationId"] ?? .null,
            ]).status == .noContent)
            submit = try await API.call(browser, .post, "/submit", [:])
            #expect(submit.status == .ok && submit.json["redirectTo"] != nil)

            // Next time: 403 with the factors to choose from; a thief with the password cannot add a factor.
            try await signInByPassword()
            submit = try await API.call(browser, .post, "/submit", [:])
            #expect(submit.status == .forbidden && submit.json["code"] == "session.mfa.require_mfa_verification")
            #expect(submit.json["data"]?["availableFactors"] == ["Totp", "BackupCode"])
            let steal = try await API.call(browser, .post, "/verification/totp/secret", [:])
            #expect(steal.status == .forbidden)
            let backup = try await API.call(browser, .post, "/verification/backup-code/verify", ["code": .string(codes[0])])
            #expect(backup.status == .ok && backup.json["verificationId"]?.stringValue != nil)
            #expect(try await API.call(browser, .post, "/submit", [:]).status == .ok)

            // Bad input: a missing code, a wrong type, junk JSON, an unknown verification.
            try await signInByPassword()
            #expect(try await API.call(browser, .post, "/verification/totp/verify", [:]).status == .badRequest)
            #expect(try await API.call(browser, .post, "/verification/totp/verify", ["code": 123_456]).status == .badRequest)
            #expect(try await API.call(browser, .post, "/profile/mfa", ["type": "Sms", "verificationId": "x"])
                .status == .badRequest)
            #expect(try await API.call(browser, .post, "/verification/totp/verify", [
                "code": "123456", "verificationId": "nope",
            ]).status == .notFound)
            let junk = try await browser.send("/api/experience/verification/backup-code/verify", method: .post,
                                              headers: [.contentType: "application/json"], body: ByteBuffer(string: "{\"code\":"))
            #expect(junk.status == .badRequest)
            let huge = try await API.call(browser, .post, "/verification/backup-code/verify",
                                          ["code": .string(String(repeating: "a", count: 5000))])
            #expect(huge.status == .badRequest && huge.json["code"] == "session.mfa.invalid_backup_code")
        }
    }

    @Test func skippingIsRememberedWhereThePolicyAllowsIt() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.offer(fixture, [.totp], policy: .promptAtSignInAndSignUp)
            var verifier = SecureRandom.token(bytes: 48)
            #expect(try await Self.passwordSignIn(fixture, browser, verifier: verifier, extra: []).location == "/sign-in/mfa")
            let page = try await browser.get("/sign-in/mfa")
            let skipped = try await browser.post("/sign-in/mfa/skip", form: [("csrf_token", try #require(page.csrfToken))])
            var claims = try await ExperienceFlowTests.finish(fixture, browser, skipped, verifier: verifier)
            #expect(claims["amr"] == ["pwd"])
            verifier = SecureRandom.token(bytes: 48)
            let again = try await Self.passwordSignIn(fixture, browser, verifier: verifier)
            claims = try await ExperienceFlowTests.finish(fixture, browser, again, verifier: verifier)
            #expect(claims["amr"] == ["pwd"])
            // A client that demands two factors gets them anyway: set up, not skippable, and `acr` says so.
            verifier = SecureRandom.token(bytes: 48)
            let demanded = try await Self.passwordSignIn(fixture, browser, verifier: verifier,
                                                         extra: [("acr_values", "urn:sesame:acr:mfa")])
            #expect(demanded.location == "/sign-in/mfa")
            let setup = try await browser.get("/sign-in/mfa")
            #expect(!setup.text.contains("/sign-in/mfa/skip"))
            let secret = try Self.secret(in: setup)
            let done = try await browser.post("/sign-in/mfa/setup", form: [
                ("csrf_token", try #require(setup.csrfToken)), ("verificationId", try Self.field("verificationId", in: setup)),
                ("code", Self.code(secret)),
            ])
            claims = try await ExperienceFlowTests.finish(fixture, browser, done, verifier: verifier)
            #expect(claims["acr"] == "urn:sesame:acr:mfa" && claims["amr"] == ["pwd", "otp", "mfa"])
            // The session had two factors: a second app asking for them signs in without a form.
            let query: [(String, String)] = [
                ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
                ("scope", "openid"), ("code_challenge", PKCE.challenge(for: verifier)), ("code_challenge_method", "S256"),
                ("acr_values", "urn:sesame:acr:mfa"),
            ]
            let silent = try await browser.get("/oidc/auth?" + RequestParameters.encode(query))
            #expect(silent.location?.hasPrefix(Fixture.callback) == true)
        }
    }

    @Test func aClientDemandingMfaFromASingleFactorSessionSignsInAgain() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.offer(fixture, [.totp], policy: .noPrompt)
            let verifier = SecureRandom.token(bytes: 48)
            let signedIn = try await Self.passwordSignIn(fixture, browser, verifier: verifier, extra: [])
            #expect(try await ExperienceFlowTests.finish(fixture, browser, signedIn, verifier: verifier)["amr"] == ["pwd"])
            let query: [(String, String)] = [
                ("client_id", fixture.webApp.client.id), ("redirect_uri", Fixture.callback), ("response_type", "code"),
                ("scope", "openid"), ("code_challenge", PKCE.challenge(for: verifier)), ("code_challenge_method", "S256"),
            ]
            // Without acr_values the session is enough; with it, the sign-in form again.
            #expect(try await browser.get("/oidc/auth?" + RequestParameters.encode(query)).location?
                .hasPrefix(Fixture.callback) == true)
            #expect(try await browser.get("/oidc/auth?" + RequestParameters.encode(query + [("acr_values", "urn:sesame:acr:mfa")]))
                .location == "/sign-in")
            let tooMany = (0..<11).map { "urn:x:\($0)" }.joined(separator: " ")
            let bad = try await browser.get("/oidc/auth?" + RequestParameters.encode(query + [("acr_values", tooMany)]))
            #expect(bad.location?.contains("error=invalid_request") == true)
            // Nothing offered and the client insists: a clear page, not a pretend second factor.
            try await Self.offer(fixture, [], policy: .noPrompt)
            #expect(try await browser.get("/oidc/auth?" + RequestParameters.encode(query + [("acr_values", "urn:sesame:acr:mfa")]))
                .location == "/sign-in")
            let page = try await browser.get("/sign-in")
            let refused = try await browser.post("/sign-in", form: [
                ("csrf_token", try #require(page.csrfToken)), ("identifier", "alice"), ("password", Fixture.password),
            ])
            #expect(refused.status.code >= 400 && refused.text.contains("no second factor is offered"))
        }
    }

    @Test func wrongCodesLockTheFactorForTheWindow() async throws {
        try await Fixture.withServer(now: Fixture.midWindow) { fixture, browser in
            try await Self.offer(fixture, [.totp, .backupCode], policy: .promptAtSignInAndSignUp)
            let secret = MfaService.newTotpSecret()
            try await fixture.runtime.mfa.addTotp(userID: fixture.user.id, secret: secret)
            let now = Fixture.midWindow()
            _ = try await Self.passwordSignIn(fixture, browser, verifier: SecureRandom.token(bytes: 48))
            let page = try await browser.get("/sign-in/mfa")
            let csrf = try #require(page.csrfToken)
            let right = Self.code(secret, at: now)
            let wrong = right == "000000" ? "111111" : "000000"
            for _ in 0..<MfaService.failureRule.limit {
                let answer = try await browser.post("/sign-in/mfa/totp", form: [("csrf_token", csrf), ("code", wrong)])
                #expect(answer.status == .badRequest)
            }
            let locked = try await browser.post("/sign-in/mfa/totp", form: [("csrf_token", csrf), ("code", right)])
            #expect(locked.status == .tooManyRequests)
            // Counted in the database, per user: the Experience API sees the same lock.
            let api = try await API.call(browser, .post, "/verification/totp/verify", ["code": .string(right)])
            #expect(api.status == .tooManyRequests)
        }
    }

    @Test func twoRequestsRacingForOneBackupCodeGetOneSignIn() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.offer(fixture, [.totp, .backupCode], policy: .noPrompt)
            try await fixture.runtime.mfa.addTotp(userID: fixture.user.id, secret: MfaService.newTotpSecret())
            let codes = MfaService.newBackupCodes()
            try await fixture.runtime.mfa.setBackupCodes(userID: fixture.user.id, codes: codes, replacing: false)
            // Two browsers, each at the second step of its own sign-in, send the same code at once. Each is prepared
            // first (a connection left idle while the other signs in would be closed), then races on its own.
            var prepared: [(cookies: [String: String], csrf: String)] = []
            for _ in 0..<2 {
                prepared.append(try await browser.onOwnConnection { own in
                    _ = try await Self.passwordSignIn(fixture, own, verifier: SecureRandom.token(bytes: 48))
                    return (own.cookies, try #require(try await own.get("/sign-in/mfa").csrfToken))
                })
            }
            let ready = prepared
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (cookies, csrf) in ready {
                    group.addTask {
                        try await browser.onOwnConnection { own in
                            for (name, value) in cookies { own.set(name, value) }
                            return try await own.post("/sign-in/mfa/backup-code", form: [
                                ("csrf_token", csrf), ("code", codes[0]),
                            ]).location == "/oidc/auth/resume"
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
        }
    }

    @Test(arguments: TestDatabase.available)
    func managementAPIListsAddsAndRemovesFactors(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            let token = try await ManagementAPITests.token(fixture, browser)
            let path = "/api/users/\(fixture.user.id)/mfa-verifications"
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: JSONValue? = nil) async throws -> Reply {
                try await ManagementAPITests.call(browser, method, path, token: token, body)
            }
            #expect(try await call(.get, path).json == [])
            let alone = try await call(.post, path, ["type": "BackupCode"])
            #expect(alone.status == .unprocessableContent && alone.json["code"] == "session.mfa.backup_code_can_not_be_alone")
            let badSecret = try await call(.post, path, ["type": "Totp", "secret": "not base32!"])
            #expect(badSecret.status == .unprocessableContent && badSecret.json["code"] == "user.totp_secret_invalid")
            let totp = try await call(.post, path, ["type": "Totp", "secret": "JBSWY3DPEHPK3PXPJBSWY3DP"])
            #expect(totp.status == .ok && totp.json["secret"] == "JBSWY3DPEHPK3PXPJBSWY3DP")
            #expect(totp.json["secretQrCode"]?.stringValue?.hasPrefix("data:image/svg+xml;base64,") == true)
            let twice = try await call(.post, path, ["type": "Totp"])
            #expect(twice.status == .unprocessableContent && twice.json["code"] == "user.totp_already_in_use")
            let wrongCodes = try await call(.post, path, ["type": "BackupCode", "codes": ["abc"]])
            #expect(wrongCodes.status == .unprocessableContent && wrongCodes.json["code"] == "user.wrong_backup_code_format")
            let given = (0..<10).map { String(format: "%010x", 0xABCDE0 + $0) }
            let backup = try await call(.post, path, ["type": "BackupCode", "codes": .array(given.map { .string($0) })])
            #expect(backup.status == .ok && backup.json["codes"]?.arrayValue?.count == 10)
            let inUse = try await call(.post, path, ["type": "BackupCode"])
            #expect(inUse.status == .unprocessableContent && inUse.json["code"] == "user.backup_code_already_in_use")
            let webAuthn = try await call(.post, path, ["type": "WebAuthn"])
            #expect(webAuthn.status == .badRequest)
            let listed = try await call(.get, path).json.arrayValue ?? []
            #expect(listed.map { $0["type"] } == ["Totp", "BackupCode"])
            #expect(listed.last?["remainCodes"] == 10)
            #expect(listed.allSatisfy { $0["secret"] == nil && $0["codes"] == nil && $0["key"] == nil })
            #expect(listed.first?["createdAt"]?.stringValue?.hasSuffix("Z") == true)
            let id = try #require(listed.first?["id"]?.stringValue)
            #expect(try await call(.delete, path + "/" + id).status == .noContent)
            #expect(try await call(.delete, path + "/" + id).status == .notFound)
            #expect(try await call(.get, "/api/users/nobody/mfa-verifications").status == .notFound)
            // The settings are validated as Logto does.
            for (mfa, code) in [(["factors": ["Totp", "Totp"], "policy": "NoPrompt"] as JSONValue, "guard.invalid_input"),
                                (["factors": ["BackupCode"], "policy": "NoPrompt"], "session.mfa.backup_code_can_not_be_alone"),
                                (["factors": [], "policy": "Mandatory"], "guard.invalid_input"),
                                (["factors": ["Totp"], "policy": "Sometimes"], "guard.invalid_input")]
            {
                let refused = try await call(.patch, "/api/sign-in-exp", ["mfa": mfa])
                #expect(refused.status.code == 400 || refused.status.code == 422, "\(mfa)")
                #expect(refused.json["code"]?.stringValue == code, "\(mfa): \(refused.json)")
            }
            let saved = try await call(.patch, "/api/sign-in-exp", ["mfa": ["factors": ["Totp", "BackupCode"],
                                                                            "policy": "PromptOnlyAtSignIn"]])
            #expect(saved.status == .ok && saved.json["mfa"]?["policy"] == "PromptOnlyAtSignIn")
        }
    }

    @Test func anOrganizationRequiringMfaGetsTokensOnlyAfterASecondFactor() async throws {
        try await Fixture.withServer { fixture, browser in
            try await Self.offer(fixture, [.totp], policy: .noPrompt)
            let organization = try await fixture.runtime.organizations.create(.init(name: "Acme", isMfaRequired: true))
            try await fixture.runtime.organizations.addMembers([.account(fixture.user.id)], to: organization.id, roleNames: [])
            // Its member is made to set a factor up (no skipping), and the organization token follows.
            let verifier = SecureRandom.token(bytes: 48)
            let signedIn = try await Self.passwordSignIn(
                fixture, browser, verifier: verifier, scope: "openid offline_access urn:logto:scope:organizations",
                extra: [("resource", OrganizationToken.reservedResource)])
            #expect(signedIn.location == "/sign-in/mfa")
            let setup = try await browser.get("/sign-in/mfa")
            #expect(!setup.text.contains("/sign-in/mfa/skip"))
            let done = try await browser.post("/sign-in/mfa/setup", form: [
                ("csrf_token", try #require(setup.csrfToken)), ("verificationId", try Self.field("verificationId", in: setup)),
                ("code", Self.code(try Self.secret(in: setup))),
            ])
            let resumed = try await browser.get(try #require(done.location))
            let code = try #require(resumed.redirectQuery["code"])
            let tokens = try await CodeFlowTests.exchange(fixture, browser, .init(code: code, verifier: verifier)).json
            let refreshed = try await browser.post("/oidc/token", form: [
                ("grant_type", "refresh_token"), ("refresh_token", try #require(tokens["refresh_token"]?.stringValue)),
                ("organization_id", organization.id),
            ], headers: [.authorization: basicAuthorization(fixture.webApp.client.id, fixture.webSecret)])
            #expect(refreshed.status == .ok, "\(refreshed.json)")
        }
    }
}

/// What a second factor must never allow: one account's proof finishing another's sign-in, a factor added without
/// proving the one the account has, a cross-site request skipping the prompt.
@Suite("MFA boundaries")
struct MfaBoundaryTests {
    typealias API = ExperienceAPITests

    static func password(_ browser: Browser, _ name: String, _ password: String) async throws {
        let verified = try await API.call(browser, .post, "/verification/password", [
            "identifier": ["type": "username", "value": .string(name)], "password": .string(password),
        ])
        let id = try #require(verified.json["verificationId"]?.stringValue)
        #expect(try await API.call(browser, .post, "/identification", ["verificationId": .string(id)]).status == .noContent)
    }

    @Test func aFactorProvedForOneAccountNeverFinishesAnothersSignIn() async throws {
        try await Fixture.withServer { fixture, browser in
            try await MfaTests.offer(fixture, [.totp], policy: .mandatory)
            // Mallory has her own account and authenticator, and Alice's password.
            let mallory = try await fixture.runtime.users.create(.init(username: "mallory",
                                                                      passwordHash: try await Fixture.passwordHash()))
            let malloryKey = MfaService.newTotpSecret()
            try await fixture.runtime.mfa.addTotp(userID: mallory.id, secret: malloryKey)
            try await fixture.runtime.mfa.addTotp(userID: fixture.user.id, secret: MfaService.newTotpSecret())
            _ = try await API.call(browser, .put, "", ["interactionEvent": "SignIn"])
            try await Self.password(browser, "mallory", Fixture.password)
            #expect(try await API.call(browser, .post, "/verification/totp/verify", [
                "code": .string(MfaTests.code(malloryKey)),
            ]).status == .ok)
            try await Self.password(browser, "alice", Fixture.password)
            let submit = try await API.call(browser, .post, "/submit", [:])
            #expect(submit.status == .forbidden && submit.json["code"] == "session.mfa.require_mfa_verification")
            // Nor can she add her authenticator to Alice's account.
            #expect(try await API.call(browser, .post, "/verification/totp/secret", [:]).status == .forbidden)
            // A registration after her proof does not inherit it either.
            #expect(try await API.call(browser, .put, "/interaction-event", ["interactionEvent": "Register"])
                .status.code < 500)
        }
    }

    @Test func backupCodesLeftAloneMustBeUsedBeforeANewFactor() async throws {
        try await Fixture.withServer { fixture, browser in
            try await MfaTests.offer(fixture, [.totp, .backupCode], policy: .promptAtSignInAndSignUp)
            try await fixture.runtime.mfa.store.insertMfaVerification(MfaVerification(
                id: "set", userID: fixture.user.id,
                kind: .backupCode([BackupCode(digest: try await fixture.runtime.mfa.digest(backupCode: "0123456789"))]),
                createdAt: Date()))
            _ = try await API.call(browser, .put, "", ["interactionEvent": "SignIn"])
            try await Self.password(browser, "alice", Fixture.password)
            let submit = try await API.call(browser, .post, "/submit", [:])
            #expect(submit.json["data"]?["availableFactors"] == ["BackupCode"])
            #expect(try await API.call(browser, .post, "/verification/totp/secret", [:]).status == .forbidden)
            #expect(try await API.call(browser, .post, "/verification/backup-code/verify", ["code": "0123456789"])
                .status == .ok)
            #expect(try await API.call(browser, .post, "/verification/totp/secret", [:]).status == .ok)
        }
    }

    @Test func aCrossSiteRequestWithoutABodyIsRefused() async throws {
        try await Fixture.withServer { fixture, browser in
            try await MfaTests.offer(fixture, [.totp], policy: .promptAtSignInAndSignUp)
            _ = try await API.call(browser, .put, "", ["interactionEvent": "SignIn"])
            try await Self.password(browser, "alice", Fixture.password)
            let crossSite = try await browser.send("/api/experience/profile/mfa/mfa-skipped", method: .post,
                                                   headers: [HTTPField.Name("Sec-Fetch-Site")!: "same-site"], body: nil)
            #expect(crossSite.status == .badRequest)
            #expect(try await fixture.runtime.store.isMfaSkipped(userID: fixture.user.id) == false)
            let own = try await browser.send("/api/experience/profile/mfa/mfa-skipped", method: .post,
                                             headers: [HTTPField.Name("Sec-Fetch-Site")!: "same-origin"], body: nil)
            #expect(own.status == .noContent)
            #expect(try await fixture.runtime.store.isMfaSkipped(userID: fixture.user.id))
        }
    }
}

/// The Console: MFA settings with the live preview, and a user's factors.
@Suite("MFA in the Console")
struct MfaConsoleTests {
    static let baseForm: [(String, String)] = [
        ("signUpIdentifier", "email"), ("signUpPassword", "1"), ("method.email", "1"), ("order.email", "1"),
        ("password.email", "1"), ("code.email", "1"), ("primary.email", "password"), ("method.username", "1"),
        ("order.username", "2"), ("password.username", "1"), ("primary.username", "password"), ("order.phone", "3"),
        ("minLength", "8"), ("characterTypes", "1"), ("rejectCommon", "1"), ("rejectUserInfo", "1"),
        ("bcryptCost", "10"), ("primaryColor", "#5D34F2"), ("darkMode", "1"), ("language", "en"),
        ("language", "zh-CN"), ("defaultLanguage", "en"),
    ]

    @Test func settingsArePickedPreviewedAndValidated() async throws {
        try await Fixture.withServer { fixture, browser in
            try await ConsoleTests.signIn(fixture, browser)
            let page = try await browser.get("/console/sign-in-experience")
            #expect(page.text.contains(#"name="mfaFactor" value="Totp""#) && page.text.contains(#"name="mfaPolicy""#))
            let csrf = try #require(page.csrfToken)
            let form = [("csrf_token", csrf)] + Self.baseForm + [
                ("mfaFactor", "Totp"), ("mfaFactor", "WebAuthn"), ("mfaFactor", "BackupCode"), ("mfaPolicy", "Mandatory"),
                ("passkeySignIn", "1"),
            ]
            let preview = try await browser.post("/console/sign-in-experience/preview", form: form + [("previewPage", "mfa-setup")])
            let framed = try await browser.get(try #require(preview.location))
            #expect(framed.text.contains("<svg") && framed.text.contains("data-passkey=\"register\""))
            #expect(!framed.text.contains("/sign-in/mfa/skip"))
            #expect(try await browser.post("/console/sign-in-experience", form: form).location
                == "/console/sign-in-experience?notice=saved")
            let settings = try await fixture.runtime.signInExperience()
            #expect(settings.mfa == MfaSettings(factors: [.totp, .webAuthn, .backupCode], policy: .mandatory))  // in the order posted
            #expect(settings.passkeySignIn.enabled)
            let alone = try await browser.post("/console/sign-in-experience", form: [("csrf_token", csrf)] + Self.baseForm
                + [("mfaFactor", "BackupCode"), ("mfaPolicy", "NoPrompt")])
            #expect(alone.status == .badRequest && alone.text.contains("Backup codes cannot be the only second factor"))
            let unknown = try await browser.post("/console/sign-in-experience", form: [("csrf_token", csrf)] + Self.baseForm
                + [("mfaFactor", "Sms"), ("mfaPolicy", "NoPrompt")])
            #expect(unknown.status == .badRequest)
            #expect(try await fixture.runtime.signInExperience().mfa.policy == .mandatory)
        }
    }

    @Test func anAdministratorRemovesOrResetsAUsersFactors() async throws {
        try await Fixture.withServer { fixture, browser in
            try await ConsoleTests.signIn(fixture, browser)
            let mfa = fixture.runtime.mfa
            let user = fixture.user.id
            try await mfa.addTotp(userID: user, secret: MfaService.newTotpSecret())
            try await mfa.setBackupCodes(userID: user, codes: MfaService.newBackupCodes(), replacing: false)
            var page = try await browser.get("/console/users/\(user)")
            #expect(page.text.contains("Authenticator app (TOTP)") && page.text.contains("10 codes left"))
            let totp = try #require(try await mfa.store.mfaVerifications(userID: user).first?.id)
            let removed = try await browser.post("/console/users/\(user)/mfa/\(totp)/delete",
                                                 form: [("csrf_token", try #require(page.csrfToken))])
            #expect(removed.location == "/console/users/\(user)?notice=mfaRemoved")
            // Backup codes never stay alone: they went with the last real factor.
            #expect(try await mfa.store.mfaVerifications(userID: user).isEmpty)
            try await mfa.addTotp(userID: user, secret: MfaService.newTotpSecret())
            page = try await browser.get("/console/users/\(user)")
            #expect(try await browser.post("/console/users/\(user)/mfa/reset", form: [("csrf_token", try #require(page.csrfToken))])
                .location == "/console/users/\(user)?notice=mfaReset")
            #expect(try await mfa.store.mfaVerifications(userID: user).isEmpty)
            #expect(try await browser.post("/console/users/\(user)/mfa/reset", form: []).status.code >= 400)
            await fixture.runtime.audit.flush()
            #expect(try await fixture.runtime.store.auditEvents(AuditQuery(key: "Admin.Change", limit: 100)).events
                .contains { $0.payload["path"]?.stringValue?.contains("/mfa/") == true })
        }
    }
}

/// A WebAuthn challenge answers once and not after five minutes; an unknown credential is refused.
@Suite("Passkey challenges")
struct PasskeyChallengeTests {
    @Test func anExpiredChallengeAndAnUnknownCredentialAreRefused() async throws {
        let clock = AccountPageTests.Clock()
        try await Fixture.withServer(now: { clock.now() }) { fixture, browser in
            try await MfaTests.offer(fixture, [.webAuthn], policy: .promptAtSignInAndSignUp)
            let credential = WebAuthnCredential(credentialID: "Y3JlZA", publicKey: [0xA0], counter: 0, transports: [],
                                                agent: nil, name: nil, rpID: "localhost")
            try await fixture.runtime.mfa.store.insertMfaVerification(MfaVerification(
                id: "passkey", userID: fixture.user.id, kind: .webAuthn(credential), createdAt: clock.now()))
            _ = try await ExperienceAPITests.call(browser, .put, "", ["interactionEvent": "SignIn"])
            try await MfaBoundaryTests.password(browser, "alice", Fixture.password)
            let payload: JSONValue = ["id": "Y3JlZA", "rawId": "Y3JlZA", "type": "public-key",
                                      "response": ["clientDataJSON": "e30", "authenticatorData": "AA", "signature": "AA"]]
            var started = try await ExperienceAPITests.call(browser, .post, "/verification/web-authn/authentication", [:])
            #expect(started.json["authenticationOptions"]?["rpId"] == "localhost")
            clock.advance(by: 301)
            let expired = try await ExperienceAPITests.call(browser, .post, "/verification/web-authn/authentication/verify", [
                "verificationId": started.json["verificationId"] ?? .null, "payload": payload,
            ])
            #expect(expired.status == .badRequest && expired.json["message"]?.stringValue?.contains("expired") == true)
            started = try await ExperienceAPITests.call(browser, .post, "/verification/web-authn/authentication", [:])
            var unknown = payload
            if case .object(var object) = unknown { object["id"] = "b3RoZXI"; object["rawId"] = "b3RoZXI"; unknown = .object(object) }
            let refused = try await ExperienceAPITests.call(browser, .post, "/verification/web-authn/authentication/verify", [
                "verificationId": started.json["verificationId"] ?? .null, "payload": unknown,
            ])
            #expect(refused.status == .badRequest && refused.json["code"] == "session.mfa.webauthn_verification_failed")
            // Each challenge answered once: the same id again is unknown.
            let again = try await ExperienceAPITests.call(browser, .post, "/verification/web-authn/authentication/verify", [
                "verificationId": started.json["verificationId"] ?? .null, "payload": payload,
            ])
            #expect(again.status == .notFound)
        }
    }
}
