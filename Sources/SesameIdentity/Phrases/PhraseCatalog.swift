import Foundation
import SesameOIDC

/// Every locale's phrases, read from the JSON files under `Sources/SesameIdentity/Resources/phrases/`
/// (one file per locale, `en.json`, `zh-CN.json`, ...), which the EmbedResources plugin compiles into the
/// binary. A file is an object of groups (`meta`, `pages`, `errors`, `emails`, and `console` for the Console's
/// languages), each an
/// object from a stable key to a phrase: a string, or for counted phrases an object of CLDR plural
/// categories (`one`, `other`, ...). Placeholders are `%{name}`.
///
/// With `SESAME_LIVE_RESOURCES` set to a checkout's root, the files are read from that checkout on every
/// use instead, so a translator sees an edit on the next page load (development only).
public struct PhraseCatalog: Sendable {
    /// A phrase as written in a locale file.
    public enum Phrase: Sendable, Equatable {
        case text(String)
        /// CLDR plural category (`zero`, `one`, `two`, `few`, `many`, `other`) to text.
        case plural([String: String])

        /// The text, or for plural forms the `other` form.
        public var plainText: String {
            switch self {
            case .text(let text): text
            case .plural(let forms): forms["other"] ?? ""
            }
        }
    }

    /// Locale tag to group to key to phrase.
    public let locales: [String: [String: [String: Phrase]]]
    /// Locale tag to group to key to text, for templates (`{{t.key}}`): plural phrases as their `other` form,
    /// English behind any key a locale lacks. Made once with the catalog, so a page render only looks it up.
    public let tables: [String: [String: [String: String]]]
    /// Files that did not parse, with the reason (empty for the embedded files: a test checks them).
    public let problems: [String]

    /// The catalog in use: the embedded files, or the live checkout's files when `SESAME_LIVE_RESOURCES` is set.
    public static var current: PhraseCatalog {
        guard LiveResources.root != nil else { return embedded }
        return PhraseCatalog(files: LiveResources.files(module: "SesameIdentity", under: "phrases"))
    }

    /// The catalog compiled into the binary, parsed once.
    public static let embedded = PhraseCatalog(files: EmbeddedResources.files.filter { $0.key.hasPrefix("phrases/") })

    /// Parses `files` (path `phrases/<locale>.json` to its text); a file that does not parse is left out and
    /// named in `problems`.
    public init(files: [String: String]) {
        var locales: [String: [String: [String: Phrase]]] = [:]
        var problems: [String] = []
        for (path, text) in files where path.hasSuffix(".json") {
            let locale = String(path.split(separator: "/").last!.dropLast(".json".count))
            do {
                locales[locale] = try Self.parse(JSONValue.decode(Data(text.utf8)))
            } catch {
                problems.append("\(path): \(error)")
            }
        }
        self.locales = locales
        self.problems = problems.sorted()
        let english = locales["en"] ?? [:]
        tables = locales.mapValues { groups in
            Dictionary(uniqueKeysWithValues: Set(groups.keys).union(english.keys).map { group in
                let merged = english[group, default: [:]].merging(groups[group, default: [:]]) { _, own in own }
                return (group, merged.mapValues(\.plainText))
            })
        }
    }

    private struct ShapeError: Error, CustomStringConvertible {
        let description: String
    }

    private static func parse(_ document: JSONValue) throws -> [String: [String: Phrase]] {
        guard let groups = document.objectValue else { throw ShapeError(description: "not an object of groups") }
        var result: [String: [String: Phrase]] = [:]
        for (group, value) in groups {
            guard let entries = value.objectValue else { throw ShapeError(description: "group '\(group)' is not an object") }
            var phrases: [String: Phrase] = [:]
            for (key, entry) in entries {
                if let text = entry.stringValue {
                    phrases[key] = .text(text)
                } else if let forms = entry.objectValue,
                          forms.values.allSatisfy({ $0.stringValue != nil }), forms["other"] != nil
                {
                    phrases[key] = .plural(forms.compactMapValues(\.stringValue))
                } else {
                    throw ShapeError(description: "'\(group).\(key)' is neither a string nor plural forms with 'other'")
                }
            }
            result[group] = phrases
        }
        return result
    }
}

/// The development switch that reads templates, styles and phrases from a checkout instead of the
/// binary: `SESAME_LIVE_RESOURCES=/path/to/checkout` (its `Sources/<Module>/Resources/`).
public enum LiveResources {
    /// The checkout's root, when live editing is on.
    public static let root: String? = {
        guard let value = ProcessInfo.processInfo.environment["SESAME_LIVE_RESOURCES"], !value.isEmpty else { return nil }
        return value
    }()

    /// Every file under `Sources/<module>/Resources/<folder>/` of the live checkout: path relative to
    /// `Resources/` to text. Empty when live editing is off or the folder cannot be read.
    public static func files(module: String, under folder: String) -> [String: String] {
        guard let root else { return [:] }
        let base = URL(fileURLWithPath: root).appending(path: "Sources/\(module)/Resources").standardizedFileURL
        let directory = base.appending(path: folder)
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil,
                                                          options: [.skipsHiddenFiles])
        else { return [:] }
        var files: [String: String] = [:]
        for case let url as URL in walker {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            files[String(url.standardizedFileURL.path.dropFirst(base.path.count + 1))] = text
        }
        return files
    }
}
