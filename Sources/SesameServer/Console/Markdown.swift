import Foundation
import SesameOIDC

/// Renders the small Markdown subset connector READMEs use (headings, paragraphs, ordered and unordered
/// lists with continuation lines, fenced code, `code`, **bold** and [links](https://...)) to HTML. All text
/// is escaped first, so a README can never inject markup.
enum Markdown {
    static func html(_ source: String) -> String {
        var output: [String] = []
        var paragraph: [String] = []
        var list: (tag: String, items: [String])?
        var code: [String]?

        func flushParagraph() {
            if !paragraph.isEmpty { output.append("<p>" + inline(paragraph.joined(separator: " ")) + "</p>") }
            paragraph = []
        }
        func flushList() {
            if let current = list {
                output.append("<\(current.tag)>" + current.items.map { "<li>" + inline($0) + "</li>" }.joined()
                    + "</\(current.tag)>")
            }
            list = nil
        }

        for rawLine in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if var lines = code {
                if trimmed.hasPrefix("```") {
                    output.append("<pre tabindex=\"0\"><code>" + escape(lines.joined(separator: "\n")) + "</code></pre>")
                    code = nil
                } else {
                    lines.append(line)
                    code = lines
                }
                continue
            }
            if trimmed.hasPrefix("```") {
                flushParagraph()
                flushList()
                code = []
            } else if trimmed.isEmpty {
                flushParagraph()
                flushList()
            } else if let level = headingLevel(trimmed) {
                flushParagraph()
                flushList()
                let text = trimmed.dropFirst(level).trimmingCharacters(in: .whitespaces)
                // The page has its own h1 and h2: README headings start at h3.
                let tag = "h\(min(level + 2, 6))"
                output.append("<\(tag)>" + inline(text) + "</\(tag)>")
            } else if let (tag, item) = listItem(trimmed) {
                flushParagraph()
                if list?.tag != tag { flushList() }
                list = (tag, (list?.items ?? []) + [item])
            } else if var current = list, line.hasPrefix(" ") {
                current.items[current.items.count - 1] += " " + trimmed
                list = current
            } else {
                flushList()
                paragraph.append(trimmed)
            }
        }
        if let lines = code { output.append("<pre tabindex=\"0\"><code>" + escape(lines.joined(separator: "\n")) + "</code></pre>") }
        flushParagraph()
        flushList()
        return output.joined(separator: "\n")
    }

    private static func headingLevel(_ line: String) -> Int? {
        let hashes = line.prefix(while: { $0 == "#" }).count
        guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return hashes
    }

    private static func listItem(_ line: String) -> (String, String)? {
        if line.hasPrefix("- ") || line.hasPrefix("* ") { return ("ul", String(line.dropFirst(2))) }
        let digits = line.prefix(while: \.isNumber)
        if !digits.isEmpty, line.dropFirst(digits.count).hasPrefix(". ") {
            return ("ol", String(line.dropFirst(digits.count + 2)))
        }
        return nil
    }

    /// Inline code, bold and links, on escaped text.
    static func inline(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let index = rest.firstIndex(where: { $0 == "`" || $0 == "*" || $0 == "[" }) {
            result += escape(String(rest[..<index]))
            let tail = rest[index...]
            if tail.hasPrefix("`"), let end = tail.dropFirst().firstIndex(of: "`") {
                result += "<code>" + escape(String(tail[tail.index(after: index)..<end])) + "</code>"
                rest = tail[tail.index(after: end)...]
            } else if tail.hasPrefix("**"), let end = tail.dropFirst(2).range(of: "**") {
                result += "<strong>" + escape(String(tail[tail.index(index, offsetBy: 2)..<end.lowerBound])) + "</strong>"
                rest = tail[end.upperBound...]
            } else if tail.hasPrefix("["), let close = tail.range(of: "]("), let end = tail[close.upperBound...].firstIndex(of: ")"),
                      case let url = String(tail[close.upperBound..<end]), url.hasPrefix("https://") || url.hasPrefix("http://")
            {
                let label = String(tail[tail.index(after: index)..<close.lowerBound])
                result += "<a href=\"" + escape(url) + "\" rel=\"noopener noreferrer\">" + escape(label) + "</a>"
                rest = tail[tail.index(after: end)...]
            } else {
                result += escape(String(tail.prefix(1)))
                rest = tail.dropFirst()
            }
        }
        return result + escape(String(rest))
    }

    static func escape(_ text: String) -> String { text.htmlEscaped }
}
