@testable import SesameServer
import Testing

/// The connector READMEs' Markdown subset, escaped before anything else.
@Suite("Markdown")
struct MarkdownTests {
    @Test func headingsListsCodeAndLinks() {
        let html = Markdown.html("""
            # Aliyun Direct Mail

            1. Add a **sender** address (发信地址).
            2. Fill in `accessKeyId`, and
               `accessKeySecret`.

            - See [the docs](https://help.aliyun.com/dm)
            ```
            {"a": "<b>"}
            ```
            """)
        #expect(html.contains("<h3>Aliyun Direct Mail</h3>"))
        #expect(html.contains("<ol><li>Add a <strong>sender</strong> address (发信地址).</li>"
            + "<li>Fill in <code>accessKeyId</code>, and <code>accessKeySecret</code>.</li></ol>"))
        #expect(html.contains(#"<ul><li>See <a href="https://help.aliyun.com/dm" rel="noopener noreferrer">the docs</a></li></ul>"#))
        #expect(html.contains("<pre tabindex=\"0\"><code>{&quot;a&quot;: &quot;&lt;b&gt;&quot;}</code></pre>"))
    }

    @Test(arguments: [
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        ("[x](https://a.test/\"onmouseover=\")", #"<p><a href="https://a.test/&quot;onmouseover=&quot;" rel="noopener noreferrer">x</a></p>"#),
        ("**unclosed and `open", "<p>**unclosed and `open</p>"),
    ])
    func nothingBecomesMarkup(_ source: String, _ expected: String) {
        #expect(Markdown.html(source) == expected)
    }
}
