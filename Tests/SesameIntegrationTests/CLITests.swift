import Foundation
import SesameStorage
import Testing

/// The `sesame` executable as scripts use it: JSON output, exit codes and one-line errors.
@Suite("CLI")
struct CLITests {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
    }

    static let binary: URL = {
        var directory = URL(fileURLWithPath: #filePath)
        while directory.path != "/", !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent(".build/debug/sesame")
    }()

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sesame-cli-\(UUID().uuidString)")

    func sesame(_ arguments: String..., environment extra: [String: String] = [:]) throws -> Run {
        try run(arguments, environment: extra)
    }

    func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Run {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ["SESAME_DB": "sqlite://\(directory.path)/cli.db",
                           "SESAME_SECRET": String(repeating: "c", count: 32), "PATH": "/usr/bin:/bin"]
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func createsApplicationsUsersResourcesAndKeys() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let app = try sesame("app", "create", "--name", "Bookstore", "--type", "traditional",
                             "--redirect-uri", "http://localhost:3000/api/auth/callback/logto", "--json")
        #expect(app.status == 0)
        let created = try #require(app.json as? [String: Any])
        #expect((created["id"] as? String)?.count == 21)
        #expect((created["secret"] as? String)?.count == 43)
        let spa = try #require(try sesame("app", "create", "--name", "Shelf", "--type", "spa",
                                          "--redirect-uri", "http://localhost:5173/cb", "--json").json as? [String: Any])
        #expect(spa["secret"] is NSNull)
        let list = try #require(try sesame("app", "list", "--json").json as? [[String: Any]])
        #expect(list.count == 2)
        let human = try sesame("app", "list")
        #expect(human.stdout.contains("Bookstore"))
        #expect(!human.stdout.contains(created["secret"] as? String ?? "-"))

        let user = try sesame("user", "create", "--email", "alice@example.com", "--password", "Correct-Horse-9", "--json")
        #expect(user.status == 0)
        #expect((user.json as? [String: Any])?["id"] is String)
        let resource = try sesame("resource", "create", "--indicator", "https://api.test", "--scope", "read", "--json")
        #expect((resource.json as? [String: Any])?["scopes"] as? [String] == ["read"])

        // One key per algorithm, made at first start: ES384 (the default), RS256 (every OP offers it), ES256, EdDSA.
        let keys = try #require(try sesame("keys", "list", "--json").json as? [[String: Any]])
        #expect(Set(keys.compactMap { $0["alg"] as? String }) == ["ES384", "ES256", "RS256", "EdDSA"])
        #expect(keys.allSatisfy { $0["current"] as? Bool == true })
        #expect(keys.first { $0["default"] as? Bool == true }?["alg"] as? String == "ES384")
        let rotated = try sesame("keys", "rotate", "--alg", "ES384", "--json")
        #expect((rotated.json as? [String: Any])?["alg"] as? String == "ES384")
        #expect((rotated.json as? [String: Any])?["signsFrom"] is String)
        // The new key is published first and signs after the activation delay: the old one is still current, and
        // the RS256 key is left alone.
        let after = try #require(try sesame("keys", "list", "--json").json as? [[String: Any]])
        let es384 = after.filter { $0["alg"] as? String == "ES384" }
        #expect(es384.map { $0["current"] as? Bool } == [false, true])
        #expect(after.first { $0["alg"] as? String == "RS256" }?["current"] as? Bool == true)
        #expect(try sesame("keys", "list").stdout.contains("next"))
        // At setup, a key can take over at once.
        let immediate = try #require(try sesame("keys", "rotate", "--alg", "ES384", "--immediately", "--json").json
            as? [String: Any])
        let now = try #require(try sesame("keys", "list", "--json").json as? [[String: Any]])
        #expect(now.first { $0["default"] as? Bool == true }?["kid"] as? String == immediate["kid"] as? String)
        #expect(now.first { $0["alg"] as? String == "EdDSA" }?["current"] as? Bool == true)

        // An application's ID token algorithm: set at creation, changed, back to the default; bad values refused.
        let rsApp = try #require(try sesame("app", "create", "--name", "Legacy", "--type", "traditional",
                                            "--redirect-uri", "https://legacy.test/cb", "--id-token-alg", "RS256",
                                            "--json").json as? [String: Any])
        let rsID = try #require(rsApp["id"] as? String)
        let listed = try #require(try sesame("app", "list", "--json").json as? [[String: Any]])
        #expect(listed.first { $0["id"] as? String == rsID }?["idTokenSignedResponseAlg"] as? String == "RS256")
        let updated = try sesame("app", "update", rsID, "--id-token-alg", "EdDSA", "--json")
        #expect((updated.json as? [String: Any])?["idTokenSignedResponseAlg"] as? String == "EdDSA", "\(updated.stderr)")
        #expect(try sesame("app", "update", rsID, "--id-token-alg", "default").stdout.contains("ES384"))
        for bad in [["app", "update", rsID, "--id-token-alg", "HS256"], ["app", "update", rsID],
                    ["app", "update", "nope", "--name", "X"],
                    ["app", "create", "--name", "X", "--type", "spa", "--id-token-alg", "none"]] {
            let refused = try run(bad)
            #expect(refused.status == 1, "\(bad)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(bad): \(refused.stderr)")
        }
        #expect(try sesame("migrate").stdout.contains("migration \(Migration.all.count) (\(Migration.all.count) applied)"))
    }

    @Test(arguments: [
        (["app", "create", "--name", "X", "--type", "desktop"], "desktop"),
        (["app", "create", "--type", "spa"], "--name"),
        (["app", "create", "--name", "X", "--type", "spa", "--redirect-uri", "not a uri"], "redirect URI"),
        (["app", "create", "--name", "X", "--type", "m2m", "--redirect-uri", "https://a.test/cb"], "Machine-to-machine"),
        (["app", "create", "--name", "X", "--type", "traditional", "--redirect-uri", "myapp://cb"], "custom schemes"),
        (["user", "create", "--password", "Correct-Horse-9"], "--email"),
        (["user", "create", "--email", "not-an-email"], "not a valid email"),
        (["user", "create", "--username", "bob", "--password", "short"], "at least 8"),
        (["resource", "create", "--indicator", "api"], "absolute"),
        (["keys", "rotate", "--alg", "HS256"], "ES384"),
    ])
    func badInputExitsNonZeroWithAReason(_ arguments: [String], _ reason: String) throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let process = try run(arguments)
        #expect(process.status != 0)
        #expect(process.stderr.contains(reason))
        #expect(process.stdout.isEmpty)
    }

    /// backup, restore, export, import and db copy as an operator runs them: a summary on success, one line and exit 1
    /// for each refusal, and nothing half-written.
    @Test func backupRestoreExportImportAndCopyFromTheCommandLine() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        func refused(_ run: Run, _ reason: String) {
            #expect(run.status == 1, "\(reason): \(run.stdout)")
            #expect(run.stderr.hasPrefix("error: ") && run.stderr.contains(reason), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "one line: \(run.stderr)")
            #expect(!run.stderr.contains("secret-password"), "no password in the message")
        }
        let source = "sqlite://\(directory.path)/cli.db"
        #expect(try sesame("app", "create", "--name", "Web", "--type", "traditional",
                           "--redirect-uri", "http://localhost:3000/cb").status == 0)
        let backup = try sesame("backup", "cli-backup.db", "--json")
        #expect(backup.status == 0, "\(backup.stderr)")
        let summary = try #require(backup.json as? [String: Any])
        #expect(summary["schemaVersion"] as? Int == Migration.all.last?.version)
        #expect((summary["bytes"] as? Int ?? 0) > 0)
        refused(try sesame("backup", "cli-backup.db"), "exists")
        refused(try sesame("backup", "missing-folder/b.db"), "does not exist")
        refused(try sesame("backup", "b.db", "--db", "postgres://u:secret-password@127.0.0.1:1/x"), "pg_dump")
        refused(try sesame("backup", "b.db", "--db", "sqlite://\(directory.path)/none.db"), "no database")
        refused(try sesame("backup", "other.db", environment: ["SESAME_SECRET": String(repeating: "d", count: 32)]),
                "different SESAME_SECRET")
        // One-character names, relative to the working folder.
        #expect(try sesame("backup", "x").status == 0)
        refused(try sesame("backup", "x"), "exists")

        // Restore: into a new file, over an unused one, and the refusals.
        #expect(try sesame("restore", "cli-backup.db", "--db", "sqlite://\(directory.path)/restored.db").status == 0)
        #expect(try sesame("restore", "cli-backup.db", "--db", "sqlite://\(directory.path)/restored.db").stdout
            .contains("Restored"))
        try Data("not a database".utf8).write(to: directory.appendingPathComponent("junk.db"))
        refused(try sesame("restore", "junk.db"), "not a SQLite database")
        refused(try sesame("restore", "absent.db"), "no file")
        refused(try sesame("restore", "cli-backup.db", environment: ["SESAME_SECRET": String(repeating: "d", count: 32)]),
                "different SESAME_SECRET")

        // Export and import.
        let exported = try sesame("export", "cli.jsonl", "--json")
        #expect(exported.status == 0, "\(exported.stderr)")
        let rows = try #require((exported.json as? [String: Any])?["rows"] as? Int)
        refused(try sesame("export", "cli.jsonl"), "exists")
        let imported = try sesame("import", "cli.jsonl", "--db", "sqlite://\(directory.path)/imported.db", "--json")
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect((imported.json as? [String: Any])?["rows"] as? Int == rows)
        refused(try sesame("import", "cli.jsonl", "--db", "sqlite://\(directory.path)/imported.db"), "--merge")
        refused(try sesame("import", "cli.jsonl", "--merge", "sideways"), "skip or replace")
        #expect(try sesame("import", "cli.jsonl", "--db", "sqlite://\(directory.path)/imported.db", "--merge", "replace")
            .status == 0)
        refused(try sesame("import", "cli-backup.db", "--db", "sqlite://\(directory.path)/other.db"), "not valid JSON")
        // A file that cannot be imported leaves no database behind; nor does an export of a database that is not there.
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("other.db").path))
        refused(try sesame("export", "y", "--db", "sqlite://\(directory.path)/typo.db"), "does not exist")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("typo.db").path))
        #expect(try sesame("export", "y").status == 0)

        // db copy between two SQLite files (the PostgreSQL direction is in the integration suite).
        let target = "sqlite://\(directory.path)/copy.db"
        refused(try sesame("db", "copy", "--to", target), "does not exist")
        #expect(try sesame("migrate", "--db", target).status == 0)
        refused(try sesame("db", "copy", "--to", target, environment: ["SESAME_SECRET": String(repeating: "d", count: 32)]),
                "different SESAME_SECRET")
        refused(try sesame("db", "copy", "--to", source), "same database")
        refused(try sesame("db", "copy", "--to", "mysql://x"), "use sqlite://")
        refused(try sesame("db", "copy", "--to", "postgres://u:secret-password@127.0.0.1:1/x"), "cannot open the target")
        refused(try sesame("db", "copy", "--to", "postgres://u:secret-password@127.0.0.1:54x/x"), "cannot open the target")
        let copied = try sesame("db", "copy", "--to", target)
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(copied.stdout.contains("every table's row count and digest match"))
        refused(try sesame("db", "copy", "--to", target), "not empty")
        // The copy serves: a verb on it sees the application.
        #expect(try sesame("app", "list", "--db", target).stdout.contains("Web"))
    }

    @Test func rolesFromTheCommandLine() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try sesame("resource", "create", "--indicator", "https://api.books.test", "--name", "Books",
                           "--scope", "read:books", "--scope", "write:books").status == 0)
        let created = try sesame("role", "create", "--name", "reader", "--description", "Reads books", "--default",
                                 "--permission", "https://api.books.test:read:books", "--json")
        #expect(created.status == 0, "\(created.stderr)")
        let role = try #require(created.json as? [String: Any])
        #expect(role["isDefault"] as? Bool == true)
        // By resource name too; an m2m role; a default m2m role is refused in one line.
        #expect(try sesame("role", "create", "--name", "bot", "--type", "m2m", "--permission", "Books:write:books")
            .status == 0)
        let refused = try sesame("role", "create", "--name", "x", "--type", "m2m", "--default")
        #expect(refused.status == 1)
        #expect(refused.stderr.split(separator: "\n").count == 1)
        let unknown = try sesame("role", "create", "--name", "y", "--permission", "https://api.books.test:delete:books")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("delete:books"))
        // A new user gets the default role; assigning by email, unassigning, and the type rule.
        #expect(try sesame("user", "create", "--email", "ann@example.com", "--password", "Correct-Horse-9").status == 0)
        var list = try #require(try sesame("role", "list", "--json").json as? [[String: Any]])
        #expect(list.first { $0["name"] as? String == "reader" }?["usersCount"] as? Int == 1)
        #expect(try sesame("role", "unassign", "reader", "--user", "ann@example.com").status == 0)
        #expect(try sesame("role", "assign", "reader", "--user", "ann@example.com").status == 0)
        let wrongType = try sesame("role", "assign", "bot", "--user", "ann@example.com")
        #expect(wrongType.status == 1)
        #expect(wrongType.stderr.contains("machine-to-machine"))
        let app = try #require(try sesame("app", "create", "--name", "Indexer", "--type", "m2m", "--json").json
            as? [String: Any])
        let appID = try #require(app["id"] as? String)
        #expect(try sesame("role", "assign", "bot", "--app", appID).status == 0)
        list = try #require(try sesame("role", "list", "--json").json as? [[String: Any]])
        let bot = try #require(list.first { $0["name"] as? String == "bot" })
        #expect(bot["applicationsCount"] as? Int == 1)
        #expect(bot["permissions"] as? [String] == ["https://api.books.test:write:books"])
        // --management gives the built-in role.
        #expect(try sesame("app", "create", "--name", "Scripts", "--type", "m2m", "--management").status == 0)
        list = try #require(try sesame("role", "list", "--json").json as? [[String: Any]])
        #expect(list.first { $0["id"] as? String == "management-api-access" }?["applicationsCount"] as? Int == 1)
        #expect(try sesame("role", "assign", "nope", "--user", "ann@example.com").status == 1)
        #expect(try sesame("role", "assign", "reader").status != 0)
    }

    @Test func organizationsFromTheCommandLine() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let created = try sesame("org", "create", "--name", "Acme", "--jit-domain", "acme.test", "--json")
        #expect(created.status == 0, "\(created.stderr)")
        let organization = try #require((created.json as? [String: Any])?["id"] as? String)
        #expect(try sesame("user", "create", "--email", "bo@example.com").status == 0)
        // An unknown role name is refused in one line before anything is written.
        let unknown = try sesame("org", "add-member", organization, "--user", "bo@example.com", "--role", "ghost")
        #expect(unknown.status == 1 && unknown.stderr.contains("ghost"))
        let before = try #require(try sesame("org", "list", "--json").json as? [[String: Any]])
        #expect(before.first?["usersCount"] as? Int == 0)
        #expect(try sesame("org", "add-member", organization, "--user", "bo@example.com").status == 0)
        let list = try #require(try sesame("org", "list", "--json").json as? [[String: Any]])
        #expect(list.first?["usersCount"] as? Int == 1 && list.first?["name"] as? String == "Acme")
        #expect(try sesame("org", "add-member", "nope", "--user", "bo@example.com").status == 1)
        #expect(try sesame("org", "create", "--name", "").status == 1)

        // Invitations: sent through the email connector (the development console here) with Sesame's own link.
        let invited = try sesame("org", "invite", organization, "Cy@Example.com", "--json")
        #expect(invited.status == 0, "\(invited.stderr)")
        let invitation = try #require(invited.json as? [String: Any])
        let id = try #require(invitation["id"] as? String)
        #expect(invitation["link"] as? String == "http://localhost:3001/invitation/\(id)")
        #expect(invitation["invitee"] as? String == "cy@example.com" && invitation["sent"] as? Bool == true)
        let twice = try sesame("org", "invite", organization, "cy@example.com")
        #expect(twice.status == 1 && twice.stderr.contains("pending invitation"))
        let quiet = try sesame("org", "invite", organization, "di@example.com", "--no-email", "--days", "30")
        #expect(quiet.status == 0 && quiet.stdout.hasPrefix("Created invitation "))
        for arguments in [["--days", "0"], ["--days", "91"], ["--role", "ghost"], ["--link", "javascript:alert(1)"]] {
            let refused = try run(["org", "invite", organization, "ed@example.com"] + arguments, environment: [:])
            #expect(refused.status != 0 && refused.stderr.split(separator: "\n").count == 1, "\(arguments)")
        }
        #expect(try sesame("org", "invite", "nope", "ed@example.com").status == 1)
        #expect(try sesame("org", "invite", organization, "not-an-address").status == 1)
    }

    @Test func administratorsFromTheCommandLine() throws {
        let link = try sesame("admin", "setup-link", "--json")
        #expect(link.status == 0)
        let url = try #require((link.json as? [String: String])?["url"])
        #expect(url.hasPrefix("http://localhost:3001/console/setup?token="))
        let weak = try sesame("admin", "create", "--username", "root", "--password", "short")
        #expect(weak.status != 0 && weak.stderr.hasPrefix("error: ") && weak.stderr.split(separator: "\n").count == 1)
        let missing = try sesame("admin", "create", "--username", "root")
        #expect(missing.status != 0 && missing.stderr.contains("SESAME_ADMIN_PASSWORD"))
        let created = try sesame("admin", "create", "--username", "root", "--json",
                                 environment: ["SESAME_ADMIN_PASSWORD": "Open-Sesame-2026"])
        #expect(created.status == 0)
        #expect((created.json as? [String: String])?["username"] == "root")
        let duplicate = try sesame("admin", "create", "--username", "ROOT", "--password", "Another-Long-One-7")
        #expect(duplicate.status != 0 && duplicate.stderr.contains("exists"))
        // Once an administrator exists, no setup link is made.
        let refused = try sesame("admin", "setup-link")
        #expect(refused.status != 0 && refused.stderr.contains("an administrator exists already"))
    }

    @Test func duplicatesAndBadConfigurationAreOneLine() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try sesame("user", "create", "--username", "bob").status == 0)
        let duplicate = try sesame("user", "create", "--username", "BOB")
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr == "error: This username is already in use.\n")
        let badPort = try sesame("app", "list", environment: ["SESAME_PORT": "99999"])
        #expect(badPort.status == 1)
        #expect(badPort.stderr.hasPrefix("error: SESAME_PORT:"))
        #expect(badPort.stderr.split(separator: "\n").count == 1)
        let badDatabase = try sesame("app", "list", environment: ["SESAME_DB": "postgres://nobody@127.0.0.1:1/none"])
        #expect(badDatabase.status == 1)
        #expect(badDatabase.stderr.hasPrefix("error: cannot open the database"))
        #expect(try sesame("keys", "list").status == 0)
        let wrongSecret = try sesame("keys", "list", environment: ["SESAME_SECRET": String(repeating: "d", count: 32)])
        #expect(wrongSecret.status == 1)
        #expect(wrongSecret.stderr.contains("SESAME_SECRET differs"))
    }

    /// A partial document merges into the current settings, as PATCH /api/sign-in-exp does; every refusal is
    /// one line on stderr (no usage text after it).
    @Test func signInExperienceSetMergesAPartialDocument() throws {
        let partial = directory.appendingPathComponent("branding.json")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(#"{"branding": {"appName": "Bookstore"}}"#.utf8).write(to: partial)
        let saved = try sesame("sign-in-exp", "set", "--file", partial.path)
        #expect(saved.status == 0, "\(saved.stderr)")
        let current = try sesame("sign-in-exp", "get", "--json")
        let settings = try #require(current.json as? [String: Any])
        #expect((settings["branding"] as? [String: Any])?["appName"] as? String == "Bookstore")
        #expect((settings["passwordPolicy"] as? [String: Any])?["minLength"] as? Int == 8)
        let refusals: [(String, String)] = [
            (#"{"nonsense": 1}"#, "Unknown setting 'nonsense'."),
            (#"{"passwordPolicy": {"minLength": "eight"}}"#, "passwordPolicy.minLength"),
            (#"{"branding": "#, "not valid JSON"),
            (#"["branding"]"#, "must hold a JSON object"),
            (#"{"signUp": {"identifiers": []}, "signIn": {"methods": []}}"#, "error: "),
        ]
        for (document, reason) in refusals {
            try Data(document.utf8).write(to: partial)
            let refused = try sesame("sign-in-exp", "set", "--file", partial.path)
            #expect(refused.status != 0, "\(document)")
            #expect(refused.stderr.hasPrefix("error: "), "\(document): \(refused.stderr)")
            #expect(refused.stderr.contains(reason), "\(document): \(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(document): \(refused.stderr)")
            #expect(!refused.stderr.contains("USAGE"), "\(document)")
        }
        let unreadable = try sesame("sign-in-exp", "set", "--file", "/nonexistent.json")
        #expect(unreadable.stderr == "error: cannot read '/nonexistent.json'\n")
        let badAlgorithm = try sesame("keys", "rotate", "--alg", "HS256")
        #expect(badAlgorithm.stderr.split(separator: "\n").count == 1)
        #expect(!badAlgorithm.stderr.contains("USAGE"))
    }

    /// Every process that opens a database uses the secret it was sealed with: a CLI verb with another one
    /// refuses at once, in one line naming SESAME_SECRET, and writes nothing; `secret rotate` moves everything to
    /// a new secret.
    @Test func aWrongSecretIsRefusedAndRotationMovesEverything() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("smtp.json")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(#"{"host": "smtp.example.com", "port": 587, "fromEmail": "a@example.com", "templates": [{"usageType": "Generic", "subject": "Code", "content": "{{code}}"}]}"#.utf8).write(to: config)
        #expect(try sesame("connector", "set", "smtp", "--file", config.path).status == 0)
        #expect(try sesame("keys", "list").status == 0)
        let other = ["SESAME_SECRET": String(repeating: "w", count: 32)]
        for verb in [["connector", "set", "smtp", "--file", config.path], ["connector", "list"], ["keys", "list"],
                     ["app", "create", "--name", "X", "--type", "spa", "--redirect-uri", "http://127.0.0.1/cb"]]
        {
            let refused = try run(verb, environment: other)
            #expect(refused.status == 1, "\(verb)")
            #expect(refused.stderr.hasPrefix("error: SESAME_SECRET differs"), "\(verb): \(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(verb)")
        }
        #expect(try sesame("app", "list", "--json").stdout.contains("\"X\"") == false)
        let missing = try sesame("secret", "rotate")
        #expect(missing.status == 1 && missing.stderr.contains("SESAME_NEW_SECRET"))
        let new = String(repeating: "z", count: 40)
        let rotated = try sesame("secret", "rotate", "--json", environment: ["SESAME_NEW_SECRET": new])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect((rotated.json as? [String: Any])?["connectors"] as? Int == 1)
        #expect((rotated.json as? [String: Any])?["signingKeys"] as? Int == 4)  // one per algorithm
        #expect(try sesame("keys", "list").status == 1)
        let after = try sesame("connector", "list", "--json", environment: ["SESAME_SECRET": new])
        #expect(after.status == 0, "\(after.stderr)")
        #expect(after.stdout.contains(#""id":"smtp","isConfigured":true"#))
    }
}
