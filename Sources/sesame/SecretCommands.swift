import ArgumentParser
import Foundation
import SesameOIDC
import SesameServer
import SesameStorage

struct Secret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret", abstract: "Change SESAME_SECRET, the key that seals secrets at rest.",
        subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every sealed value (signing keys, connector configurations) under a new secret, "
                + "in one transaction.",
            discussion: """
                Run it with the current secret in SESAME_SECRET and the new one (32+ characters) in \
                SESAME_NEW_SECRET, with every server stopped: a server still holding the old secret refuses \
                to start against the rotated database, and cannot open what was re-sealed. Then start every \
                instance with SESAME_SECRET set to the new value. Pending verification codes and open forms \
                (signed with the old secret) stop working; sessions and tokens do not.
                """)
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let newSecret = ProcessInfo.processInfo.environment["SESAME_NEW_SECRET"]?
                .trimmingCharacters(in: .whitespacesAndNewlines), !newSecret.isEmpty
            else { throw fail("set SESAME_NEW_SECRET to the new secret (32+ characters; try: openssl rand -hex 32)") }
            guard newSecret.utf8.count >= 32 else { throw fail("SESAME_NEW_SECRET must be at least 32 characters") }
            try await withRuntime(options) { runtime in
                guard newSecret != runtime.configuration.secret else {
                    throw fail("SESAME_NEW_SECRET is the current secret")
                }
                let rotation = try await runtime.store.rotateSecret(from: runtime.configuration.secret, to: newSecret)
                var note = "set SESAME_SECRET to the new value on every instance before starting them"
                if let file = runtime.configuration.secretFile {
                    // The development secret lives in a file: keep it in step with the database.
                    do {
                        try SecretFile.write(newSecret + "\n", to: file)
                    } catch {
                        throw fail("the database is rotated, but \(file) cannot be written: put the new secret in it")
                    }
                    note = "the new secret is in \(file)"
                }
                report(json, ["signingKeys": .int(Int64(rotation.signingKeys)),
                              "connectors": .int(Int64(rotation.connectors)),
                              "mfaSecrets": .int(Int64(rotation.mfaSecrets)),
                              "applicationSecrets": .int(Int64(rotation.applicationSecrets))],
                       "Re-sealed \(rotation.signingKeys) signing key(s), \(rotation.connectors) connector "
                           + "configuration(s), \(rotation.mfaSecrets) MFA secret(s) and \(rotation.applicationSecrets) "
                           + "client_secret_jwt application secret(s); \(note)")
            }
        }
    }
}
