import Foundation
import SesameIdentity
import Testing

/// Identifiers as people type them: normalised where that is harmless, refused where a character could make
/// one address look like another or break what stores and shows it.
@Suite("Identifiers")
struct IdentifierTests {
    @Test(arguments: [("Alice@Example.COM", "alice@example.com"), ("  bob@example.com ", "bob@example.com"),
                      ("名字@例子.测试", "名字@例子.测试")])
    func emailsAreNormalised(_ raw: String, _ normalised: String) throws {
        #expect(try UserService.normalizeEmail(raw) == normalised)
    }

    @Test(arguments: ["\u{202E}moc.elpmaxe@eve", "ev\u{200B}e@example.com", "eve@exam\u{0000}ple.com",
                      "eve\u{2028}@example.com", "eve@example.com\u{7F}", "eve\u{E000}@example.com", "eve",
                      "eve@", "@example.com", "eve@example", "e ve@example.com"])
    func controlAndInvisibleCharactersAreRefused(_ raw: String) {
        #expect(throws: IdentityError.self) { try UserService.normalizeEmail(raw) }
    }
}
