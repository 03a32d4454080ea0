import Logging
import Mustache
import SesameIdentity

/// The files under `Sources/SesameServer/Resources/` (templates, styles, scripts), compiled into the binary
/// by the EmbedResources plugin, or read from a checkout on every use when `SESAME_LIVE_RESOURCES` is set.
enum ServerResources {
    /// Every file under `folder` (`pages`, `console`, `emails`): path relative to `Resources/` to text.
    static func files(under folder: String) -> [String: String] {
        if LiveResources.root != nil { return LiveResources.files(module: "SesameServer", under: folder) }
        return EmbeddedResources.files.filter { $0.key.hasPrefix(folder + "/") }
    }

    /// One file's text (`console/console.css`), or nil when there is none: a dictionary lookup for the
    /// embedded files (pages read their stylesheet on every render).
    static func text(_ path: String) -> String? {
        guard LiveResources.root != nil else { return EmbeddedResources.files[path] }
        let folder = String(path.split(separator: "/").first ?? "")
        return LiveResources.files(module: "SesameServer", under: folder)[path]
    }
}

/// A surface's Mustache templates: every `<folder>/*.mustache`, named by its file name without the extension
/// (`pages/sign-in.mustache` is `sign-in`); partials are templates whose names start with `_`
/// (`{{> _field}}`). A template that does not parse renders as a line naming it and the reason, and is
/// listed in `problems` (a test holds the shipped templates to none), so a broken live edit never stops
/// the server.
struct TemplateLibrary: Sendable {
    let library: MustacheLibrary
    let names: [String]
    let problems: [String]

    init(folder: String) {
        var templates: [String: MustacheTemplate] = [:]
        var problems: [String] = []
        for (path, source) in ServerResources.files(under: folder) where path.hasSuffix(".mustache") {
            let name = String(path.split(separator: "/").last!.dropLast(".mustache".count))
            do {
                templates[name] = try MustacheTemplate(string: source)
            } catch {
                problems.append("\(path): \(error)")
                templates[name] = try? MustacheTemplate(string: "template \(name) does not parse")
            }
        }
        library = MustacheLibrary(templates: templates)
        names = templates.keys.sorted()
        self.problems = problems.sorted()
    }

    func render(_ model: Any, template: String) -> String? {
        library.render(model, withTemplate: template)
    }
}

/// A surface's templates, compiled once from the embedded files, or again on every use in live-editing mode.
struct TemplateSource: Sendable {
    let folder: String
    private let compiled: TemplateLibrary

    init(folder: String) {
        self.folder = folder
        compiled = TemplateLibrary(folder: folder)
        for problem in compiled.problems {
            Logger(label: "sesame.templates").error("a template does not parse", metadata: ["problem": "\(problem)"])
        }
    }

    var current: TemplateLibrary { LiveResources.root == nil ? compiled : TemplateLibrary(folder: folder) }
}
