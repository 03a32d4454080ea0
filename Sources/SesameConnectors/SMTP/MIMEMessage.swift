import Foundation

/// A UTF-8 HTML email in RFC 5322 / MIME form: encoded-word subject and sender name (RFC 2047), a
/// base64 body, `Date` and `Message-ID`.
public struct MIMEMessage: Sendable {
    public var fromAddress: String
    public var fromName: String?
    public var to: String
    public var subject: String
    public var html: String
    public var date: Date
    public var messageID: String

    public init(fromAddress: String, fromName: String?, to: String, subject: String, html: String, date: Date = Date(),
                messageID: String? = nil)
    {
        self.fromAddress = fromAddress
        self.fromName = fromName
        self.to = to
        self.subject = subject
        self.html = html
        self.date = date
        let domain = fromAddress.split(separator: "@").last.map(String.init) ?? "sesame.local"
        self.messageID = messageID ?? "<\(UUID().uuidString.lowercased())@\(domain)>"
    }

    /// The message as sent after DATA, CRLF line endings, without the terminating dot.
    public func rendered() -> String {
        var lines: [String] = []
        let from = fromName.map { Self.encodedWords($0) + " <\(fromAddress)>" } ?? "<\(fromAddress)>"
        lines.append("From: " + from)
        lines.append("To: <\(to)>")
        lines.append("Subject: " + Self.encodedWords(subject))
        lines.append("Date: " + Self.rfc5322Date(date))
        lines.append("Message-ID: " + messageID)
        lines.append("MIME-Version: 1.0")
        lines.append("Content-Type: text/html; charset=UTF-8")
        lines.append("Content-Transfer-Encoding: base64")
        lines.append("")
        let body = Data(html.utf8).base64EncodedString()
        var index = body.startIndex
        while index < body.endIndex {
            let end = body.index(index, offsetBy: 76, limitedBy: body.endIndex) ?? body.endIndex
            lines.append(String(body[index..<end]))
            index = end
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Plain ASCII stays as it is; anything else becomes `=?UTF-8?B?...?=` words (39 bytes, 64 characters,
    /// so a folded header line stays under 78),
    /// split on character boundaries.
    static func encodedWords(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) && !text.contains("=?") { return text }
        var words: [String] = []
        var chunk = ""
        for character in text {
            if (chunk + String(character)).utf8.count > 39 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
