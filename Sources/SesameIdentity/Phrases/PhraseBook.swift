import Foundation

/// One locale's phrases, with English behind it only for a key that a live edit has not translated yet
/// (a test holds every locale to every key, so the shipped binary never falls back).
///
/// Placeholders are `%{name}`; a counted phrase picks its form by the CLDR cardinal plural rule of its
/// locale (Unicode CLDR, "Language Plural Rules", integers only).
public struct PhraseBook: Sendable {
    /// The locales of the hosted pages, emails and error messages (BCP 47 tags, as in `ui_locales`).
    public static let pageLocales = ["en", "zh-CN", "zh-TW", "ja", "ko", "de", "fr", "es", "pt-BR"]
    /// The locales of the Console.
    public static let consoleLocales = ["en", "zh-CN"]
    /// English, the language of the Management API's error messages.
    public static var english: PhraseBook { PhraseBook(locale: "en") }

    public let locale: String
    private let catalog: PhraseCatalog

    /// A locale's name in itself (`meta.name`: "Deutsch", "简体中文"), as language pickers show it.
    public static func displayName(of locale: String) -> String {
        PhraseBook(locale: locale)("meta", "name")
    }

    public init(locale: String, catalog: PhraseCatalog = .current) {
        self.locale = locale
        self.catalog = catalog
    }

    /// The locale to use for a person: the first of `uiLocales` (space-separated, OIDC Core §3.1.2.1), then
    /// of `Accept-Language` by descending `q` (RFC 9110 §12.5.4), that matches one of `offered`, else the
    /// first of `offered` (`en` when empty). A tag matches an offered locale exactly (case-insensitive), by
    /// script or region for Chinese (`zh-Hant`, `zh-TW`, `zh-HK`, `zh-MO` to `zh-TW`; other `zh` to `zh-CN`),
    /// any `pt` to `pt-BR`, and otherwise by its language subtag (`de-AT` to `de`).
    public static func negotiate(uiLocales: String?, acceptLanguage: String?, offered: [String]) -> String {
        let offered = offered.isEmpty ? ["en"] : offered
        var candidates = (uiLocales ?? "").split(separator: " ").map(String.init)
        let weighted = (acceptLanguage ?? "").split(separator: ",").enumerated().compactMap {
            index, item -> (tag: String, q: Double, index: Int)? in
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first, !tag.isEmpty, tag != "*" else { return nil }
            var q = 1.0
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            return q > 0 ? (tag, q, index) : nil
        }
        candidates += weighted.sorted { $0.q != $1.q ? $0.q > $1.q : $0.index < $1.index }.map(\.tag)
        return candidates.lazy.compactMap { match($0, offered: offered) }.first ?? offered[0]
    }

    private static func match(_ tag: String, offered: [String]) -> String? {
        let lower = tag.lowercased()
        if let exact = offered.first(where: { $0.lowercased() == lower }) { return exact }
        let subtags = lower.split(separator: "-").map(String.init)
        guard let language = subtags.first else { return nil }
        let wanted: String
        switch language {
        case "zh":
            let traditional = subtags.contains { ["hant", "tw", "hk", "mo"].contains($0) }
            wanted = traditional ? "zh-tw" : "zh-cn"
        case "pt": wanted = "pt-br"
        default: wanted = language
        }
        return offered.first { $0.lowercased() == wanted }
            ?? offered.first { $0.lowercased().split(separator: "-").first.map(String.init) == language && language != "zh" }
    }

    /// Whether this locale's files have `key` in `group`.
    public func has(_ group: String, _ key: String) -> Bool {
        catalog.locales[locale]?[group]?[key] != nil
    }

    /// A group as a key-to-text table for templates (`{{t.key}}`); plural phrases give their `other` form.
    public func table(_ group: String) -> [String: String] {
        catalog.tables[locale]?[group] ?? catalog.tables["en"]?[group] ?? [:]
    }

    /// The phrase `group.key` with `%{name}` replaced by `parameters[name]`; the key itself when no locale has it.
    public func callAsFunction(_ group: String, _ key: String, _ parameters: [String: String] = [:]) -> String {
        guard let phrase = lookup(group, key) else { return key }
        return Self.fill(phrase.plainText, parameters)
    }

    /// The counted phrase `group.key` in the form for `count` (placeholder `%{count}`), plus `parameters`.
    public func counted(_ group: String, _ key: String, count: Int, _ parameters: [String: String] = [:]) -> String {
        guard let phrase = lookup(group, key) else { return key }
        var parameters = parameters
        parameters["count"] = String(count)
        switch phrase {
        case .text(let text): return Self.fill(text, parameters)
        case .plural(let forms):
            return Self.fill(forms[Self.pluralCategory(count, locale: locale)] ?? forms["other"] ?? "", parameters)
        }
    }

    /// A domain error for a person, wholly in this locale: the phrase `errors.<phrase>` with its parameters.
    public func message(_ error: IdentityError) -> String {
        self("errors", error.phrase, error.parameters)
    }

    private func lookup(_ group: String, _ key: String) -> PhraseCatalog.Phrase? {
        catalog.locales[locale]?[group]?[key] ?? catalog.locales["en"]?[group]?[key]
    }

    static func fill(_ text: String, _ parameters: [String: String]) -> String {
        guard text.contains("%{") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "%{") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                rest = rest[start.lowerBound...]
                break
            }
            let name = String(rest[start.upperBound..<end])
            result += parameters[name] ?? "%{\(name)}"
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    /// The CLDR cardinal plural category of a whole number in `locale` (the locales Sesame ships).
    public static func pluralCategory(_ count: Int, locale: String) -> String {
        let language = locale.split(separator: "-").first.map { $0.lowercased() } ?? locale
        switch language {
        case "zh", "ja", "ko": return "other"
        case "fr", "pt": return count == 0 || count == 1 ? "one" : (count != 0 && count % 1_000_000 == 0 ? "many" : "other")
        case "es": return count == 1 ? "one" : (count != 0 && count % 1_000_000 == 0 ? "many" : "other")
        default: return count == 1 ? "one" : "other"
        }
    }
}
