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
                }
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the settings with a JSON file (the format `get --json` prints).")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The settings, a JSON file.") var file: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read '\(file)'")
            }
            let settings: SignInExperience
            do {
                settings = try JSONDecoder().decode(SignInExperience.self, from: data)
            } catch {
                throw ValidationError("'\(file)' is not sign-in experience settings: \(Self.describe(error))")
            }
            try await withRuntime(options) { runtime in
                try await runtime.saveSignInExperience(settings)
                report(json, ["saved": true], "Saved the sign-in experience")
            }
        }

        static func describe(_ error: any Error) -> String {
            switch error {
            case DecodingError.keyNotFound(let key, let context):
                return "missing '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
            case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
                return "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
            case DecodingError.dataCorrupted(let context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                return path.isEmpty ? "not valid JSON" : "invalid value at '\(path)'"
            default:
                return "unreadable"
            }
        }
    }
}
