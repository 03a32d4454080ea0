import Foundation
@testable import SesameIdentity
import SesameOIDC
import Testing

/// TOTP against RFC 6238's own vectors, Base32 against RFC 4648's, and the QR encoder against a real decoder.
@Suite("MFA building blocks")
struct MFATests {
    /// RFC 6238 Appendix B, SHA-1, 8 digits, the ASCII secret "12345678901234567890".
    @Test(arguments: [
        (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"), (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ] as [(Int64, String)])
    func totpMatchesRFC6238(_ seconds: Int64, _ expected: String) {
        let totp = TOTP(secret: Array("12345678901234567890".utf8), digits: 8)
        #expect(totp.code(at: Date(timeIntervalSince1970: TimeInterval(seconds))) == expected)
    }

    @Test func totpAcceptsOneStepEitherSideAndNeverTheSameStepTwice() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        let now = Date(timeIntervalSince1970: 1_111_111_111)
        let step = totp.step(at: now)
        #expect(totp.code(at: now) == "050471")  // RFC 4226 truncation, last 6 digits of 14050471
        #expect(totp.verify(totp.code(step: step - 1), at: now, lastUsedStep: nil) == step - 1)
        #expect(totp.verify(totp.code(step: step + 1), at: now, lastUsedStep: nil) == step + 1)
        #expect(totp.verify(totp.code(step: step - 2), at: now, lastUsedStep: nil) == nil)
        #expect(totp.verify(totp.code(step: step), at: now, lastUsedStep: step) == nil)
        #expect(totp.verify(totp.code(step: step + 1), at: now, lastUsedStep: step) == step + 1)
        #expect(totp.verify(" " + totp.code(step: step).prefix(3) + " " + totp.code(step: step).suffix(3), at: now,
                            lastUsedStep: nil) == step)
        for bad in ["", "12345", "1234567", "abcdef", "１２３４５６", "050471\u{0}"] {
            #expect(totp.verify(bad, at: now, lastUsedStep: nil) == nil, "\(bad)")
        }
    }

    /// RFC 4648 §10.
    @Test(arguments: [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"),
                      ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI")])
    func base32MatchesRFC4648(_ text: String, _ encoded: String) {
        #expect(Base32.encode(Array(text.utf8)) == encoded)
        #expect(Base32.decode(encoded.lowercased() + "===") == Array(text.utf8))
    }

    @Test func base32RefusesWhatIsNotBase32() {
        #expect(Base32.decode("MZXW1") == nil)
        #expect(Base32.decode("MZ!") == nil)
        #expect(Base32.decode("MY") == Array("f".utf8))
        #expect(Base32.decode("MZ") == nil)  // non-zero trailing bits: a mistyped last character
    }

    @Test func theOtpauthURIIsWhatAuthenticatorAppsRead() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        #expect(totp.uri(issuer: "Sesame & Co", account: "alice@example.com")
            == "otpauth://totp/Sesame%20%26%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            + "&issuer=Sesame%20%26%20Co&algorithm=SHA1&digits=6&period=30")
    }

    /// Reed-Solomon: the generator of degree 10 (version 1-M) has ISO/IEC 18004 Annex A's coefficients.
    @Test func reedSolomonGeneratorMatchesTheStandard() {
        // The generator's coefficients as powers of α: 251, 67, 46, 61, 118, 70, 64, 94, 32, 45 (the leading α⁰ left
        // out), each worked out here by doubling in GF(2⁸) independently of the encoder.
        func alpha(_ exponent: Int) -> UInt8 {
            var value = 1
            for _ in 0..<exponent {
                value <<= 1
                if value & 0x100 != 0 { value ^= 0x11D }
            }
            return UInt8(value)
        }
        #expect(ReedSolomon.divisor(degree: 10) == [251, 67, 46, 61, 118, 70, 64, 94, 32, 45].map(alpha))
    }

    /// Real decoders read what the encoder draws, at every size a TOTP URI and more can take (versions 1 to 40),
    /// at both correction levels.
    @Test func qrCodesDecodeWithZbar() throws {
        let zbarimg = try #require(["/usr/bin/zbarimg", "/usr/local/bin/zbarimg"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }, "zbarimg is needed (scripts/test installs Debian's zbar-tools)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let uri = TOTP(secret: Array(repeating: 0xA5, count: 20)).uri(issuer: "Sesame", account: "alice@example.com")
        let texts: [(String, QRCode.Correction)] = [
            ("hello", .medium), (uri, .medium), (uri, .low), ("Ünïcødé · 你好 · " + uri, .medium),
            (String(repeating: "0123456789abcdef", count: 40), .medium),
            (String(repeating: "x", count: 2300), .low),
        ]
        for (index, (text, correction)) in texts.enumerated() {
            let code = try QRCode(text, correction: correction)
            let file = directory.appendingPathComponent("\(index).pgm")
            try Self.pgm(code).write(to: file)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: zbarimg)
            process.arguments = ["--raw", "-q", "-Sdisable", "-Sqrcode.enable", file.path]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            process.waitUntilExit()
            let decoded = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 0, "version \(code.version)")
            #expect(decoded.trimmingCharacters(in: .newlines) == text, "version \(code.version) mask \(code.mask)")
        }
        #expect(try QRCode("hello").version == 1)
        #expect(try QRCode(uri).version <= 8)  // 129 bytes at level M
        #expect(throws: QRCode.EncodingError.self) { try QRCode(String(repeating: "x", count: 3000)) }
        let svg = try QRCode("hello").svg(title: "<scan me>")
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 29 29\""))
        #expect(svg.contains("<title>&lt;scan me&gt;</title>"))
    }

    /// A binary PGM, 4 pixels per module, with the 4-module quiet zone.
    static func pgm(_ code: QRCode) -> Data {
        let scale = 4
        let side = (code.size + 8) * scale
        var data = Data("P5\n\(side) \(side)\n255\n".utf8)
        for y in 0..<side {
            for x in 0..<side {
                let (mx, my) = (x / scale - 4, y / scale - 4)
                let dark = (0..<code.size).contains(mx) && (0..<code.size).contains(my) && code.modules[my][mx]
                data.append(dark ? 0 : 255)
            }
        }
        return data
    }
}

/// Who is asked for what after the first factor (Logto's policies, `../design/logto-reference.md` §3).
@Suite("MFA policy")
struct MfaPolicyTests {
    typealias Case = (policy: MfaPolicy, user: Set<MfaFactor>, registration: Bool, skipped: Bool, demanded: Bool,
                      expected: MfaRequirement)

    static let offered: [MfaFactor] = [.totp, .backupCode]

    static let table: [Case] = [
        // A user with a factor is always asked for it, whatever the policy.
        (.noPrompt, [.totp], false, false, false, .verify([.totp])),
        (.mandatory, [.totp, .backupCode], false, false, false, .verify([.totp, .backupCode])),
        (.promptOnlyAtSignIn, [.totp], true, true, false, .verify([.totp])),
        // Backup codes alone (the authenticator was removed) still get the user in.
        (.promptAtSignInAndSignUp, [.backupCode], false, false, false, .verify([.backupCode])),
        // A factor the settings no longer offer still proves its holder (nobody is locked out by a change).
        (.noPrompt, [.webAuthn], false, false, false, .verify([.webAuthn])),
        (.mandatory, [.webAuthn, .totp], false, false, false, .verify([.totp, .webAuthn])),
        // Users without a factor: the policy.
        (.noPrompt, [], false, false, false, .none),
        (.noPrompt, [], true, false, false, .none),
        (.mandatory, [], false, false, false, .enrol([.totp], skippable: false)),
        (.mandatory, [], true, true, false, .enrol([.totp], skippable: false)),
        (.promptAtSignInAndSignUp, [], false, false, false, .enrol([.totp], skippable: true)),
        (.promptAtSignInAndSignUp, [], true, false, false, .enrol([.totp], skippable: true)),
        (.promptAtSignInAndSignUp, [], false, true, false, .none),
        (.userControlled, [], false, false, false, .enrol([.totp], skippable: true)),
        (.promptOnlyAtSignIn, [], false, false, false, .enrol([.totp], skippable: true)),
        (.promptOnlyAtSignIn, [], true, false, false, .none),
        (.promptOnlyAtSignIn, [], false, true, false, .none),
        // A client's acr_values or an organization's isMfaRequired: set one up, no skipping.
        (.noPrompt, [], false, false, true, .enrol([.totp], skippable: false)),
        (.promptAtSignInAndSignUp, [], false, true, true, .enrol([.totp], skippable: false)),
    ]

    @Test(arguments: table.indices)
    func policyTable(_ index: Int) {
        let row = Self.table[index]
        #expect(MfaRequirement.decide(settings: MfaSettings(factors: Self.offered, policy: row.policy),
                                      userFactors: row.user, isRegistration: row.registration,
                                      hasSkipped: row.skipped, isDemanded: row.demanded) == row.expected)
    }

    @Test func nothingOfferedAsksNothing() {
        #expect(MfaRequirement.decide(settings: MfaSettings(factors: [], policy: .noPrompt), userFactors: [.totp],
                                      isRegistration: false, hasSkipped: false, isDemanded: true) == .none)
    }

    @Test func settingsAreValidatedAsLogtoDoes() throws {
        try MfaSettings(factors: [.totp, .backupCode], policy: .mandatory).validate()
        try MfaSettings().validate()
        for bad in [MfaSettings(factors: [.totp, .totp]), MfaSettings(factors: [.backupCode]),
                    MfaSettings(factors: [], policy: .mandatory)]
        {
            #expect(throws: IdentityError.self) { try bad.validate() }
        }
        #expect(throws: IdentityError(.backupCodeAlone, phrase: "mfa.backup_code_alone")) {
            try MfaSettings(factors: [.backupCode]).validate()
        }
    }

    @Test func settingsSavedBeforeMfaDecodeWithTheDefault() throws {
        var json = try JSONValue.decode(try JSONEncoder().encode(SignInExperience.default)).objectValue ?? [:]
        json["mfa"] = nil
        let decoded = try JSONDecoder().decode(SignInExperience.self, from: JSONValue.object(json).encoded())
        #expect(decoded.mfa == MfaSettings(factors: [], policy: .userControlled))
    }

    @Test func importedSecretsAndCodesFollowLogtosFormats() throws {
        #expect(try MfaService.validTotpSecret("jbsw y3dp ehpk 3pxp") == "JBSWY3DPEHPK3PXP")
        for bad in ["JBSWY3DP", "JBSWY3DPEHPK3PXP1", String(repeating: "A", count: 40), "JBSWY3DPEHPK3PX!"] {
            #expect(throws: IdentityError.self) { try MfaService.validTotpSecret(bad) }
        }
        let codes = MfaService.newBackupCodes()
        #expect(codes.count == 10 && codes.allSatisfy { $0.count == 10 && $0.allSatisfy(\.isHexDigit) })
        #expect(try MfaService.validBackupCodes(codes.map { $0.uppercased() }) == codes)
        #expect(throws: IdentityError.self) { try MfaService.validBackupCodes(Array(codes.prefix(9))) }
        #expect(throws: IdentityError.self) { try MfaService.validBackupCodes(Array(codes.prefix(9)) + [codes[0]]) }
        #expect(throws: IdentityError.self) { try MfaService.validBackupCodes(Array(codes.prefix(9)) + ["0123456789g"]) }
    }

    @Test func authenticationMethodsSayHowTheUserSignedIn() throws {
        var experience = Experience(event: .signIn)
        experience.addVerification(.init(id: "p", kind: .password, identifier: .init(type: .username, value: "a"),
                                         isVerified: true, userID: "u", verifiedAt: Date()))
        experience.identifiedBy = "p"
        experience.identifiedUserID = "u"
        #expect(experience.authenticationMethods == ["pwd"])
        // A factor proved for another account does not count for this one.
        experience.updateMfa(for: "someone-else") { $0.verifiedFactor = .totp }
        #expect(experience.authenticationMethods == ["pwd"])
        experience.updateMfa(for: "u") { $0.verifiedFactor = .totp }
        #expect(experience.authenticationMethods == ["pwd", "otp", "mfa"])
        // Switching between sign-in and registration forgets the second factor.
        try experience.switchEvent(to: .register)
        #expect(experience.mfa == nil)
        var byCode = Experience(event: .signIn)
        byCode.addVerification(.init(id: "c", kind: .verificationCode, identifier: .init(type: .email, value: "a@b.c"),
                                     isVerified: true, verifiedAt: Date()))
        byCode.identifiedBy = "c"
        byCode.identifiedUserID = "v"
        byCode.updateMfa(for: "v") { $0.boundFactors = [.backupCode] }
        // Backup codes set up alone prove nothing new.
        #expect(byCode.authenticationMethods == ["otp"])
        #expect(AuthenticationContext.achieved(amr: ["pwd", "otp", "mfa"]) == "urn:sesame:acr:mfa")
        #expect(AuthenticationContext.achieved(amr: ["pwd"]) == "urn:sesame:acr:sfa")
    }
}
