import Foundation
import PackagePlugin

/// Compiles a target's `Resources/` folder (templates, styles, scripts, phrases) into the target as a
/// generated Swift file, so the `sesame` binary needs no files beside it. The folder is excluded from the
/// target in `Package.swift`; every file under it is an input of the build command, so editing, adding or
/// removing one regenerates the file on the next build.
@main
struct EmbedResources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = target.directoryURL.appending(path: "Resources")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedResources.swift")
        let files = Self.files(under: root)
        return [
            .buildCommand(
                displayName: "Embedding \(target.name)'s Resources",
                executable: try context.tool(named: "sesame-embed").url,
                arguments: [root.path, output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output]
            ),
        ]
    }

    /// Every regular, non-hidden file under `root`, recursively.
    static func files(under root: URL) -> [URL] {
        guard let walker = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else { return [] }
        var files: [URL] = []
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            files.append(url)
        }
        return files
    }
}
