import Foundation
@testable import SesameConnectors
import SesameOIDC
import Testing

/// Template filling (Logto's `{{ name }}` placeholders with dotted paths) and the template list's rules.
@Suite("Message templates")
struct MessageTemplateTests {
    static let invitation = MessagePayload(link: "https://id.example.com/invitation/abc?x=1&y=2",
                                           variables: ["organization.name": "Acme <Rockets> & \"Co\"",
                                                       "inviter.name": "Ann\r\nBcc: evil@example.com"])

    @Test(arguments: [
        // Placeholders with and without inner spaces; values escaped in HTML content.
        ("<a href=\"{{link}}\">Join {{ organization.name }}</a>", true,
         "<a href=\"https://id.example.com/invitation/abc?x=1&amp;y=2\">Join Acme &lt;Rockets&gt; &amp; &quot;Co&quot;</a>"),
        // An unknown placeholder stays as it is; a malformed one is not a placeholder.
        ("{{organization.id}} {{ organization. name }} {{}}", true, "{{organization.id}} {{ organization. name }} {{}}"),
        // A subject is one line: control characters in values become spaces, nothing is escaped.
        ("{{inviter.name}} invited you to {{organization.name}}", false,
         "Ann Bcc: evil@example.com invited you to Acme <Rockets> & \"Co\""),
        // A Generic template standing in for an invitation gets the link for its code.
        ("Your code: {{code}}", true, "Your code: https://id.example.com/invitation/abc?x=1&amp;y=2"),
    ])
    func invitationPayloadsFillTemplates(_ template: String, _ html: Bool, _ expected: String) {
        #expect(MessageTemplate.render(template, payload: Self.invitation, html: html) == expected)
    }

    @Test func codesFillTheirPlaceholderAndNothingElse() {
        let payload = MessagePayload(code: "123456")
        #expect(MessageTemplate.render("{{code}} / {{ code }} / {{link}}", payload: payload, html: true)
            == "123456 / 123456 / {{link}}")
    }

    @Test func invitationTemplatesNeedTheLinkOthersTheCode() throws {
        let invitation: JSONValue = ["subject": "Join", "content": "Open {{link}}", "usageType": "OrganizationInvitation"]
        let generic: JSONValue = ["subject": "Code", "content": "Code {{code}}", "usageType": "Generic"]
        let templates = try MessageTemplate.parseList([invitation, generic])
        #expect(try MessageTemplate.select(templates, for: .organizationInvitation).content == "Open {{link}}")
        #expect(try MessageTemplate.select(Array(templates.dropFirst()), for: .organizationInvitation).content
            == "Code {{code}}")
        for (content, usage) in [("Code {{code}}", "OrganizationInvitation"), ("Open {{link}}", "SignIn")] {
            #expect(throws: ConnectorError.self) {
                try MessageTemplate.parseList([["subject": "s", "content": .string(content), "usageType": .string(usage)]])
            }
        }
        do {
            _ = try MessageTemplate.parseList([["subject": "s", "content": "{{code}}", "usageType": "Invite"]])
            Issue.record("an unknown usage type was accepted")
        } catch let error as ConnectorError {
            #expect(error.message.contains("OrganizationInvitation"))
        }
    }
}
