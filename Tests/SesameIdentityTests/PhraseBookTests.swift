import Foundation
import Testing
@testable import SesameIdentity

@Suite struct PhraseBookTests {
    @Test(arguments: [
        // ui_locales first, then Accept-Language by q, then the first offered.
        ("fr de", "ja", PhraseBook.pageLocales, "fr"),
        (nil, "ja;q=0.4, ko;q=0.9", PhraseBook.pageLocales, "ko"),
        (nil, "ko;q=0, de", PhraseBook.pageLocales, "de"),
        (nil, "xx, *", ["es", "en"], "es"),
        (nil, nil, [], "en"),
        // Chinese by script or region, Portuguese to Brazil, other languages by their language subtag.
        (nil, "zh-Hant-HK", PhraseBook.pageLocales, "zh-TW"),
        (nil, "zh-HK", PhraseBook.pageLocales, "zh-TW"),
        (nil, "zh-TW", PhraseBook.pageLocales, "zh-TW"),
        (nil, "zh", PhraseBook.pageLocales, "zh-CN"),
        (nil, "zh-Hans-SG", PhraseBook.pageLocales, "zh-CN"),
        (nil, "pt-PT", PhraseBook.pageLocales, "pt-BR"),
        (nil, "de-AT", PhraseBook.pageLocales, "de"),
        (nil, "EN-gb", PhraseBook.pageLocales, "en"),
        // Only what the settings offer.
        ("ja", "zh-TW", ["en", "zh-CN"], "en"),
        (nil, "zh-TW", ["en", "zh-CN"], "en"),
    ] as [(String?, String?, [String], String)])
    func negotiatesTheLocale(uiLocales: String?, acceptLanguage: String?, offered: [String], expected: String) {
        #expect(PhraseBook.negotiate(uiLocales: uiLocales, acceptLanguage: acceptLanguage, offered: offered) == expected)
    }

    @Test(arguments: [
        ("en", 0, "other"), ("en", 1, "one"), ("en", 2, "other"),
        ("de", 1, "one"), ("de", 0, "other"),
        ("fr", 0, "one"), ("fr", 1, "one"), ("fr", 2, "other"), ("fr", 1_000_000, "many"),
        ("pt-BR", 0, "one"), ("pt-BR", 1, "one"), ("pt-BR", 2, "other"),
        ("es", 1, "one"), ("es", 0, "other"), ("es", 2_000_000, "many"),
        ("ja", 1, "other"), ("ko", 1, "other"), ("zh-CN", 1, "other"), ("zh-TW", 1, "other"),
    ] as [(String, Int, String)])
    func pluralCategoriesFollowCLDR(locale: String, count: Int, category: String) {
        #expect(PhraseBook.pluralCategory(count, locale: locale) == category)
    }

    @Test func fillsPlaceholdersAndPicksPluralForms() {
        let catalog = PhraseCatalog(files: [
            "phrases/en.json": #"{"g": {"n": {"one": "%{count} user", "other": "%{count} users"}, "p": "Hi %{name}, %{missing} {literal} %{"}}"#,
            "phrases/zh-CN.json": #"{"g": {"n": {"other": "%{count} 位用户"}}}"#,
        ])
        #expect(catalog.problems.isEmpty)
        let english = PhraseBook(locale: "en", catalog: catalog)
        #expect(english.counted("g", "n", count: 1) == "1 user")
        #expect(english.counted("g", "n", count: 0) == "0 users")
        #expect(english("g", "p", ["name": "Ada"]) == "Hi Ada, %{missing} {literal} %{")
        #expect(english("g", "absent") == "absent")
        let chinese = PhraseBook(locale: "zh-CN", catalog: catalog)
        #expect(chinese.counted("g", "n", count: 1) == "1 位用户")
        // A key a live edit has not translated yet reads in English rather than as a key.
        #expect(chinese("g", "p", ["name": "Ada"]).hasPrefix("Hi Ada"))
    }

    @Test func refusesMalformedFilesWithoutStopping() {
        let catalog = PhraseCatalog(files: [
            "phrases/en.json": #"{"g": {"a": "x", "a": "y"}}"#,
            "phrases/de.json": #"{"g": {"n": {"one": "x"}}}"#,
            "phrases/fr.json": #"{"g": "flat"}"#,
            "phrases/ja.json": #"{"g": {"a": "ok"}}"#,
        ])
        #expect(catalog.problems.count == 3)
        #expect(catalog.locales.keys.sorted() == ["ja"])
    }

    @Test func errorsReadInTheLanguageAsked() {
        let error = PasswordAttemptGate.locked
        #expect(!error.message.isEmpty && error.message.first?.isUppercase == true)
        #expect(PhraseBook(locale: "zh-CN").message(error) != error.message)
    }
}

/// The shipped phrase files: one per locale, every key in every locale, the same placeholders as English,
/// and no phrase that a template or the code asks for missing.
@Suite struct ShippedPhrasesTests {
    static let catalog = PhraseCatalog.embedded
    static let pageGroups = ["meta", "pages", "errors", "emails"]

    @Test func everyFileParses() {
        #expect(Self.catalog.problems.isEmpty, "\(Self.catalog.problems)")
        #expect(Set(Self.catalog.locales.keys) == Set(PhraseBook.pageLocales))
    }

    @Test(arguments: PhraseBook.pageLocales)
    func everyLocaleHasEveryKey(locale: String) throws {
        let english = try #require(Self.catalog.locales["en"])
        let phrases = try #require(Self.catalog.locales[locale])
        var groups = Self.pageGroups
        if PhraseBook.consoleLocales.contains(locale) { groups.append("console") }
        for group in groups {
            let expected = Set(english[group, default: [:]].keys)
            let actual = Set(phrases[group, default: [:]].keys)
            #expect(expected.subtracting(actual).isEmpty, "\(locale) lacks \(group): \(expected.subtracting(actual).sorted())")
            #expect(actual.subtracting(expected).isEmpty, "\(locale) has extra \(group): \(actual.subtracting(expected).sorted())")
            for (key, phrase) in phrases[group, default: [:]] {
                guard let source = english[group]?[key] else { continue }
                #expect(Self.placeholders(phrase) == Self.placeholders(source), "\(locale) \(group).\(key)")
                if case .plural(let forms) = phrase {
                    let allowed: Set<String> = ["zero", "one", "two", "few", "many", "other"]
                    #expect(Set(forms.keys).isSubset(of: allowed), "\(locale) \(group).\(key)")
                }
            }
        }
        #expect(Set(phrases.keys).isSubset(of: Set(groups)), "\(locale) has unexpected groups")
    }

    static func placeholders(_ phrase: PhraseCatalog.Phrase) -> Set<String> {
        let texts: [String]
        switch phrase {
        case .text(let text): texts = [text]
        case .plural(let forms): texts = Array(forms.values)
        }
        var names = Set<String>()
        for text in texts {
            for match in text.matches(of: /%\{(\w+)\}/) { names.insert(String(match.output.1)) }
            for match in text.matches(of: /\{\{(\w+)\}\}/) { names.insert("{{" + String(match.output.1) + "}}") }
        }
        return names
    }
}
