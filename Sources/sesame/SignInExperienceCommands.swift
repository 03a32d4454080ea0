import ArgumentParser
import Foundation
import SesameIdentity
import SesameOIDC
import SesameServer

struct SignInExp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-in-exp", abstract: "Read or change the sign-in experience settings.",
        subcommands: [Get.self, Set.self])

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the current settings.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print JSON (the format `set` reads).") var json = false

        func run() async throws {
            try await withRuntime(options) { runtime in
                let settings = try await runtime.signInExperience()
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    print(String(decoding: try encoder.encode(settings), as: UTF8.self))
                } else {
                    let signUp = settings.signUp.identifiers.map(\.rawValue).joined(separator: " or ")
                    print("Sign-up:   " + (signUp.isEmpty ? "off" : "\(signUp)\(settings.signUp.password ? " + password" : "")"))
                    for method in settings.signIn.methods {
                        let factors = [method.password ? "password" : nil, method.verificationCode ? "verification code" : nil]
                            .compactMap { $0 }.joined(separator: ", ")
                        print("Sign-in:   \(method.identifier.rawValue) with \(factors)")
                    }
                    let policy = settings.passwordPolicy
                    print("Passwords: at least \(policy.minLength) characters, \(policy.characterTypes) character type(s)"
                        + (policy.rejectCommon ? ", common passwords refused" : ""))
                    print("Languages: \(settings.languages.joined(separator: ", "))")
                    let factors = settings.mfa.factors.map(\.rawValue).joined(separator: ", ")
                    print("MFA:       " + (factors.isEmpty ? "no factors offered" : "\(factors); policy \(settings.mfa.policy.rawValue)"))
                }
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the settings with a JSON file: the whole document `get --json` prints, or only the "
                + "parts to change (objects merge one level deep, as PATCH /api/sign-in-exp does).")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The settings, a JSON file.") var file: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let patch = try readJSONObject(file)
            try await withRuntime(options) { runtime in
                let settings = try SesameRuntime.merge(patch, into: try await runtime.signInExperience())
                try await runtime.saveSignInExperience(settings)
                report(json, ["saved": true], "Saved the sign-in experience")
            }
        }
    }
}
