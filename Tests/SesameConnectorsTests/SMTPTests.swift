import Foundation
import SesameConnectors
import SesameOIDC
import Testing

@Suite("SMTP")
struct SMTPTests {
    static let valid: JSONValue = [
        "host": "smtp.example.test", "username": "mailer", "password": "pw", "fromEmail": "noreply@example.test",
        "fromName": "Sesame 认证", "templates": [["subject": "Code", "content": "<p>{{code}}</p>", "usageType": "Generic"]],
    ]

    static func replacing(_ key: String, with value: JSONValue?) -> JSONValue {
        var object = valid.objectValue ?? [:]
        object[key] = value
        return .object(object)
    }

    @Test func defaultsFollowTheSecurityMode() throws {
        #expect(try SMTPConfig(Self.valid).port == 587)
        #expect(try SMTPConfig(Self.replacing("security", with: "tls")).port == 465)
        #expect(try SMTPConfig(Self.replacing("port", with: 2525)).port == 2525)
    }

    @Test(arguments: [
        (replacing("host", with: nil), "'host' is required"),
        (replacing("security", with: "ssl"), "'security'"),
        (replacing("port", with: 70000), "'port'"),
        (replacing("password", with: nil), "'password' is required with 'username'"),
        (replacing("fromEmail", with: "Sesame <noreply@example.test>"), "'fromEmail'"),
        (replacing("fromName", with: "a\r\nBcc: x@evil.test"), "'fromName' must be one line"),
        (replacing("templates", with: [["subject": "a\r\nBcc: x", "content": "{{code}}", "usageType": "Generic"]]),
         "one line"),
    ] as [(JSONValue, String)])
    func invalidConfigurationsNameTheField(_ config: JSONValue, _ message: String) {
        do {
            _ = try SMTPConfig(config)
            Issue.record("accepted \(config)")
        } catch let error as ConnectorError {
            #expect(error.message.contains(message), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func messagesAreMIMEWithEncodedWordsAndBase64() throws {
        let message = MIMEMessage(fromAddress: "noreply@example.test", fromName: "Sesame 认证", to: "alice@example.test",
                                  subject: "您的验证码是 123456，十分钟内有效。请勿告诉任何人。谢谢！",
                                  html: "<p>验证码 123456</p>", date: Date(timeIntervalSince1970: 1_735_787_045),
                                  messageID: "<m1@example.test>")
        let text = message.rendered()
        #expect(text.contains("From: =?UTF-8?B?"))
        #expect(text.contains("To: <alice@example.test>\r\n"))
        #expect(text.contains("Date: Thu, 02 Jan 2025 03:04:05 +0000\r\n"))
        #expect(text.contains("Message-ID: <m1@example.test>\r\n"))
        #expect(text.contains("Content-Transfer-Encoding: base64\r\n\r\n"))
        // Long subjects fold into several encoded words, each at most 75 characters.
        let subjectLines = text.components(separatedBy: "\r\n").drop { !$0.hasPrefix("Subject:") }.prefix { !$0.hasPrefix("Date:") }
        #expect(subjectLines.count > 1)
        for line in subjectLines {
            let word = line.hasPrefix("Subject: ") ? String(line.dropFirst(9)) : line.trimmingCharacters(in: .whitespaces)
            #expect(word.count <= 75)
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
        }
        let decoded = subjectLines.map { line -> String in
            let word = line.hasPrefix("Subject: ") ? String(line.dropFirst(9)) : line.trimmingCharacters(in: .whitespaces)
            return String(decoding: Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) ?? Data(), as: UTF8.self)
        }.joined()
        #expect(decoded == message.subject)
        let body = text.components(separatedBy: "\r\n\r\n")[1].replacingOccurrences(of: "\r\n", with: "")
        #expect(String(decoding: Data(base64Encoded: body) ?? Data(), as: UTF8.self) == "<p>验证码 123456</p>")
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.count <= 78 })
    }

    @Test func plainASCIISubjectsStayReadable() {
        let message = MIMEMessage(fromAddress: "a@b.test", fromName: nil, to: "c@d.test", subject: "Your code", html: "x")
        #expect(message.rendered().contains("Subject: Your code\r\n"))
        #expect(message.rendered().contains("From: <a@b.test>\r\n"))
    }
}
