import SesameIdentity

/// The hosted pages' phrases (group `pages` of `Resources/phrases/<locale>.json` in SesameIdentity) in
/// the locale negotiated from the authorization request's `ui_locales`, then `Accept-Language`, then the
/// first language the sign-in experience offers.
struct Localizer: Sendable {
    let book: PhraseBook

    /// The locales the hosted pages, emails and error messages ship in.
    static var supported: [String] { PhraseBook.pageLocales }

    init(uiLocales: String?, acceptLanguage: String?, offered: [String]) {
        let offered = offered.filter { PhraseBook.pageLocales.contains($0) }
        book = PhraseBook(locale: PhraseBook.negotiate(uiLocales: uiLocales, acceptLanguage: acceptLanguage,
                                                       offered: offered))
    }

    /// The BCP 47 tag of the page's language (`lang` attribute).
    var language: String { book.locale }

    /// The table for templates (`{{t.key}}`).
    var table: [String: String] { book.table("pages") }

    /// The phrase `pages.key`, placeholders filled from `parameters`.
    func callAsFunction(_ key: String, _ parameters: [String: String] = [:]) -> String {
        book("pages", key, parameters)
    }

    /// A domain error for the person on the page, wholly in the page's language.
    func message(_ error: IdentityError) -> String { book.message(error) }
}
