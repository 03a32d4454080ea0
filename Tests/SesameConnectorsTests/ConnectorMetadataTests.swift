import SesameOIDC
import Testing
@testable import SesameConnectors

/// Every shipped connector's texts are files beside it, complete: a name and a description in English and
/// Simplified Chinese, a label for every field, and a README.
@Suite struct ConnectorMetadataTests {
    @Test(arguments: ConnectorRegistry.standard.emailFactories.map(\.metadata.id))
    func textsAreCompleteFiles(id: String) throws {
        let metadata = try #require(ConnectorRegistry.standard.emailFactory(id: id)?.metadata)
        let texts = try #require(ConnectorMetadata.texts(id: id), "connectors/\(id)/metadata.json")
        for language in ["en", "zh-CN"] {
            #expect(metadata.name[language]?.isEmpty == false, "\(id) name \(language)")
            #expect(metadata.description[language]?.isEmpty == false, "\(id) description \(language)")
        }
        let labels = texts["labels"]?.objectValue ?? [:]
        #expect(Set(labels.keys) == Set(metadata.fields.map(\.key)), "\(id) labels")
        for field in metadata.fields { #expect(field.label != field.key || labels[field.key] != nil) }
        #expect(metadata.readme.hasPrefix("# "), "\(id) README")
    }
}
