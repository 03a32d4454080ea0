import Foundation
import SesameIdentity

/// The Console's phrases (group `console` of `Resources/phrases/<locale>.json` in SesameIdentity), in
/// English or Simplified Chinese: the language chosen in the Console (a cookie), then `Accept-Language`,
/// then English.
struct ConsoleText: Sendable {
    /// The Console's languages, each named in itself (`meta.name` of its phrase file).
    static var languages: [(code: String, label: String)] {
        PhraseBook.consoleLocales.map { ($0, PhraseBook.displayName(of: $0)) }
    }

    let book: PhraseBook
    var language: String { book.locale }

    init(cookie: String?, acceptLanguage: String?) {
        // The cookie is a choice made in the Console; it goes first, as `ui_locales` does on the hosted pages.
        let chosen = PhraseBook.consoleLocales.contains { $0 == cookie } ? cookie : nil
        book = PhraseBook(locale: PhraseBook.negotiate(uiLocales: chosen, acceptLanguage: acceptLanguage,
                                                       offered: PhraseBook.consoleLocales))
    }

    /// The table for templates (`{{t.key}}`).
    var table: [String: String] { book.table("console") }

    /// The phrase `console.key`, placeholders filled from `parameters`.
    func callAsFunction(_ key: String, _ parameters: [String: String] = [:]) -> String {
        book("console", key, parameters)
    }

    /// Whether the Console's phrases have `key` (for keys built from a value, with a fallback).
    func has(_ key: String) -> Bool { book.has("console", key) }

    /// The phrase `console.key` for `count` things, in the plural form the language needs.
    func counted(_ key: String, _ count: Int) -> String { book.counted("console", key, count: count) }

    /// A domain error for the administrator, wholly in the Console's language.
    func message(_ error: IdentityError) -> String { book.message(error) }
}
