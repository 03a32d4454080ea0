import Foundation
import HTTPTypes
import HummingbirdTesting
import SesameConnectors
import SesameIdentity
import SesameOIDC
import Testing
@testable import SesameServer

/// Templates, styles and phrases as files: every template parses and renders, every phrase a template or
/// the code asks for exists, and every page reads wholly in each language it ships in.
@Suite("Pages as files")
struct PresentationTests {
    static let english = PhraseCatalog.embedded.locales["en"] ?? [:]

    @Test(arguments: ["pages", "console"])
    func everyTemplateParsesAndRendersWithASampleModel(folder: String) throws {
        let library = TemplateLibrary(folder: folder)
        #expect(library.problems.isEmpty, "\(library.problems)")
        #expect(library.names.count >= (folder == "pages" ? 12 : 20))
        let group = folder == "pages" ? "pages" : "console"
        let table = PhraseBook(locale: "en").table(group)
        for name in library.names {
            let source = try #require(ServerResources.text("\(folder)/\(name).mustache"))
            let rendered = try #require(library.render(Self.sampleModel(for: source, table: table), template: name))
            #expect(!rendered.isEmpty, "\(name) renders nothing")
            #expect(!rendered.contains("does not parse"), "\(name)")
            for tag in ["{{#", "{{/", "{{>", "{{^"] {
                #expect(!rendered.contains(tag), "\(name) leaves a tag: \(rendered.prefix(200))")
            }
        }
    }

    /// A model that fills every tag a template names: `t` is the phrase table, names used as sections are
    /// true, and every other name is a sample string.
    static func sampleModel(for source: String, table: [String: String]) -> [String: Any] {
        var model: [String: Any] = ["t": table]
        for match in source.matches(of: /\{\{\{?\s*([#^\/]?)\s*([\w.-]+)\s*\}?\}\}/) {
            let name = String(match.output.2)
            guard !name.hasPrefix("t."), name.first != "_" else { continue }
            let root = String(name.split(separator: ".").first ?? "")
            if name.contains(".") {
                var object = model[root] as? [String: Any] ?? [:]
                object[String(name.split(separator: ".").dropFirst().joined(separator: "."))] = "sample"
                model[root] = object
            } else if match.output.1 == "#" || match.output.1 == "^" {
                if model[root] == nil { model[root] = true }
            } else {
                model[root] = "sample"
            }
        }
        return model
    }

    /// Every `{{t.key}}` in a surface's templates is a phrase of that surface's group.
    @Test(arguments: [("pages", "pages"), ("console", "console")])
    func everyTemplatePhraseExists(folder: String, group: String) throws {
        let phrases = try #require(Self.english[group])
        var missing: [String] = []
        for (path, source) in ServerResources.files(under: folder) where path.hasSuffix(".mustache") {
            for match in source.matches(of: /\{\{\s*t\.([\w.-]+)\s*\}\}/) where phrases[String(match.output.1)] == nil {
                missing.append("\(path): \(match.output.1)")
            }
        }
        #expect(missing.isEmpty, "\(missing)")
    }

    /// Every phrase the Swift code asks for by a literal key exists: `t("key")`, `text("key")`,
    /// `localizer("key")` and counted phrases, per surface; keys built from a value are listed from the values.
    @Test func everyCodePhraseExists() throws {
        let pages = try #require(Self.english["pages"])
        let console = try #require(Self.english["console"])
        let emails = try #require(Self.english["emails"])
        // `visit.t("key")`, `visit.text("key")`, `t("key")`, `text("key")`, `localizer("key")`, `counted("key")`;
        // not `form.text("field")`, and not keys completed at run time (`"scope." + name`).
        let literal = /(?:visit\.t|visit\.text|localizer|[\s(\[]t|[\s(\[]text|text\.counted)\("([\w.]*\w)"/
        var missing: [String] = []
        for folder in ["SignInPages", "Pages", "OIDC", "Middleware"] {
            for key in try PresentationSourceScan.matches(of: literal, in: "Sources/SesameServer/" + folder)
            where pages[key] == nil { missing.append("pages.\(key)") }
        }
        for key in try PresentationSourceScan.matches(of: /book\.counted\("pages", "([\w.]+)"/, in: "Sources/SesameServer")
        where pages[key] == nil { missing.append("pages.\(key)") }
        for key in try PresentationSourceScan.matches(of: literal, in: "Sources/SesameServer/Console")
        where console[key] == nil { missing.append("console.\(key)") }
        for key in try PresentationSourceScan.matches(of: /notice: "(\w+)"/, in: "Sources/SesameServer/Console")
        where console["notice." + key] == nil { missing.append("console.notice.\(key)") }
        // Keys built from a value.
        var built: [(String, [String: PhraseCatalog.Phrase])] = []
        for type in ["Traditional", "SPA", "Native", "MachineToMachine"] {
            built += [("type." + type, console), ("typeHint." + type, console)]
        }
        built += Framework.all.map { ("framework." + $0.id, console) }
        built += ["enabled", "disabled"].map { ("notice." + $0, console) }
        built += ConsoleSections.previewPages.map { ("previewPage." + $0, console) }
        built += ["email", "username", "phone"].map { ("identifier." + $0, console) }
        built += ["email", "username", "phone", "emailOrPhone", "none"].map { ("signUp." + $0, console) }
        built += ConsoleSection.allCases.map { ($0.textKey, console) }
        built += UsageType.allCases.flatMap { [("subject." + $0.rawValue, emails), ("body." + $0.rawValue, emails)] }
        built += [("footer", emails)]
        for (key, group) in built where group[key] == nil { missing.append(key) }
        #expect(missing.isEmpty, "\(missing.sorted())")
    }

    /// Every `errors` phrase is one the sources name, and every one they name exists: a key is named by a
    /// string literal (`phrase: "code.expired"`), or, for a phrase per kind of identifier, by its family
    /// (`phrase: "experience.no_account", per: type` names `experience.no_account.email` and its siblings).
    @Test func everyErrorPhraseExistsAndIsUsed() throws {
        let errors = try #require(Self.english["errors"])
        let literals = try PresentationSourceScan.matches(of: /"([a-z_]+(?:\.[a-z_]+)+)"/, in: "Sources")
        let direct = try PresentationSourceScan.matches(of: /phrase: "([\w.]+)"/, in: "Sources")
        let families = try PresentationSourceScan.matches(of: /phrase: "([\w.]+)",\s*per:/, in: "Sources")
        let kinds = SignInExperience.Identifier.allCases.map(\.rawValue)
        let missing = direct.subtracting(families).filter { errors[$0] == nil }
            .union(families.filter { family in !kinds.contains { errors[family + "." + $0] != nil } })
        #expect(missing.isEmpty, "missing errors phrases: \(missing.sorted())")
        let unused = errors.keys.filter { key in
            guard !literals.contains(key) else { return false }
            let family = key.split(separator: ".").dropLast().joined(separator: ".")
            return !(kinds.contains(String(key.split(separator: ".").last ?? "")) && literals.contains(family))
        }
        #expect(unused.isEmpty, "errors phrases no code uses: \(unused.sorted())")
    }

    /// The hosted pages in every shipped language: the `lang` attribute, the language's own text, and no
    /// phrase key or placeholder left showing.
    @Test(arguments: PhraseBook.pageLocales)
    func hostedPagesReadInEachLanguage(locale: String) async throws {
        try await Fixture.withServer { fixture, browser in
            var settings = try await fixture.runtime.signInExperience()
            settings.languages = PhraseBook.pageLocales
            try await fixture.runtime.saveSignInExperience(settings)
            let book = PhraseBook(locale: locale)
            for path in ["/sign-in", "/register", "/forgot-password", "/sign-in/code", "/oidc/session/end"] {
                let page = try await browser.get(path, headers: [.acceptLanguage: locale + ", en;q=0.5"])
                #expect(page.status == .ok, "\(path)")
                #expect(page.text.contains(#"<html lang="\#(locale)">"#), "\(path) in \(locale)")
                #expect(!page.text.contains("%{"), "\(path) in \(locale) shows a placeholder")
                #expect(!page.text.contains("does not parse"))
            }
            let signIn = try await browser.get("/sign-in", headers: [.acceptLanguage: locale])
            #expect(signIn.text.contains(Self.escaped(book("pages", "signIn"))))
            // An error from the domain reads wholly in the page's language.
            let wrong = try await browser.post("/sign-in", form: [
                ("csrf_token", try #require(signIn.csrfToken)), ("identifier", "alice"), ("password", "wrong-password"),
            ], headers: [.acceptLanguage: locale])
            #expect(wrong.text.contains(Self.escaped(book("pages", "wrongCredentials"))), "\(locale)")
        }
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }
}

enum PresentationSourceScan {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func matches(of pattern: Regex<(Substring, Substring)>, in folder: String) throws -> Set<String> {
        var found = Set<String>()
        let walker = FileManager.default.enumerator(at: root.appending(path: folder), includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: url, encoding: .utf8)
            for match in text.matches(of: pattern) { found.insert(String(match.output.1)) }
        }
        return found
    }
}
