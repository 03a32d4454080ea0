import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameServer
import SesameStorage
import Testing

/// The logo: the pages' policy allows what the settings accept, and a logo uploaded in the Console is stored
/// by Sesame and served from its own origin, typed by its bytes.
@Suite("Branding")
struct BrandingTests {
    /// A 1×1 PNG (signature, IHDR, IDAT, IEND).
    static let png = Data(base64Encoded:
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")!

    static func multipart(_ parts: [(name: String, filename: String?, data: Data)], boundary: String = "sesame-b0undary")
        -> (ByteBuffer, HTTPFields)
    {
        var body = Data()
        for part in parts {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\"".utf8)
            if let filename = part.filename {
                body += Data("; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream".utf8)
            }
            body += Data("\r\n\r\n".utf8) + part.data + Data("\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        return (ByteBuffer(bytes: body), [.contentType: "multipart/form-data; boundary=\(boundary)"])
    }

    static func upload(_ browser: Browser, _ data: Data, filename: String = "logo.png", csrf: String? = nil)
        async throws -> Reply
    {
        let page = try await browser.get("/console/sign-in-experience")
        let token = try csrf ?? #require(page.csrfToken)
        let (body, headers) = multipart([("csrf_token", nil, Data(token.utf8)), ("logo", filename, data)])
        return try await browser.send("/console/sign-in-experience/logo", method: .post, headers: headers, body: body)
    }

    @Test(arguments: TestDatabase.available)
    func anUploadedLogoIsServedFromSesamesOwnOrigin(database: TestDatabase) async throws {
        try await Fixture.withServer(database: database) { fixture, browser in
            try await ConsoleTests.signIn(fixture, browser)
            let uploaded = try await Self.upload(browser, Self.png, filename: "logo.svg")
            #expect(uploaded.status == .seeOther)
            #expect(uploaded.location == "/console/sign-in-experience?notice=logoUploaded")
            let digest = SHA256.hash(data: Self.png).map { String(format: "%02x", $0) }.joined()
            let path = "/assets/branding/\(digest).png"
            let settings = try await fixture.runtime.signInExperience()
            #expect(settings.branding.logoURL == fixture.runtime.configuration.endpoint + path)
            // Served with the type its bytes have (not the name it came with), cached for good, inert.
            let image = try await browser.get(path)
            #expect(image.status == .ok)
            #expect(Data(image.body.readableBytesView) == Self.png)
            #expect(image.headers[.contentType] == "image/png")
            #expect(image.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(image.headers[.cacheControl]?.contains("immutable") == true)
            #expect(image.headers[.contentSecurityPolicy]?.contains("sandbox") == true)
            // The hosted pages show it, and their policy allows images from this origin.
            let signIn = try await browser.get("/sign-in")
            #expect(signIn.text.contains(#"<img class="logo" src="\#(fixture.runtime.configuration.endpoint + path)""#))
            #expect(signIn.headers[.contentSecurityPolicy]?.contains("img-src 'self' https: data:") == true)
            // The same image again is stored once; the audit log has the change.
            #expect(try await Self.upload(browser, Self.png).status == .seeOther)
            #expect(try await browser.get("/assets/branding/\(String(repeating: "0", count: 64)).png").status == .notFound)
            #expect(try await browser.get("/assets/branding/..%2F..%2Fetc%2Fpasswd").status == .notFound)
            #expect(try await browser.get("/assets/branding/\(digest).PNG").status == .notFound)
        }
    }

    @Test func badUploadsAreRefusedWithTheReason() async throws {
        try await Fixture.withServer { fixture, browser in
            try await ConsoleTests.signIn(fixture, browser)
            let svg = Data(#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.utf8)
            let cases: [(Data, String)] = [
                (svg, "SVG is not accepted"),
                (Data(), "Choose an image"),
                (Self.png + Data(count: BrandingAsset.maximumSize), "too large"),
                (Data("GIF8".utf8), "not a PNG"),
            ]
            for (data, reason) in cases {
                let refused = try await Self.upload(browser, data)
                #expect(refused.status == .badRequest, "\(reason)")
                #expect(refused.text.contains(reason), "\(reason)")
                #expect(refused.text.contains(#"class="banner danger" role="alert""#))
            }
            #expect(try await fixture.runtime.signInExperience().branding.logoURL == nil)
            // The upload is a Console form like the others: CSRF-bound, and malformed bodies are refused.
            #expect(try await Self.upload(browser, Self.png, csrf: "forged").status == .forbidden)
            let (body, _) = Self.multipart([("logo", "a.png", Self.png)])
            for contentType in ["multipart/form-data", "multipart/form-data; boundary=",
                                "multipart/form-data; boundary=" + String(repeating: "b", count: 71), "text/plain"] {
                let response = try await browser.send("/console/sign-in-experience/logo", method: .post,
                                                      headers: [.contentType: contentType], body: body)
                #expect(response.status == .badRequest, "\(contentType)")
            }
            let truncated = try await browser.send("/console/sign-in-experience/logo", method: .post,
                                                   headers: [.contentType: "multipart/form-data; boundary=x"],
                                                   body: ByteBuffer(string: "--x\r\nContent-Disposition: form"))
            #expect(truncated.status == .badRequest)
            // Signed out, nothing is accepted: the Console sends the browser to its sign-in page.
            browser.forget("_sesame_console")
            let signedOut = try await Self.upload(browser, Self.png, csrf: "x")
            #expect(signedOut.location?.hasPrefix("/console/sign-in") == true)
            #expect(try await fixture.runtime.signInExperience().branding.logoURL == nil)
        }
    }

    @Test func theLogoSettingAcceptsOnlyWhatThePagesShow() async throws {
        try await Fixture.withServer { fixture, _ in
            var settings = try await fixture.runtime.signInExperience()
            settings.branding.logoURL = "http://cdn.example.com/logo.png"
            await #expect(throws: IdentityError.self) { try await fixture.runtime.saveSignInExperience(settings) }
            settings.branding.logoURL = "https://cdn.example.com/logo.png"
            try await fixture.runtime.saveSignInExperience(settings)
            settings.branding.logoURL = fixture.runtime.configuration.endpoint + "/assets/branding/x.png"
            try await fixture.runtime.saveSignInExperience(settings)
            do {
                settings.branding.logoURL = "http://cdn.example.com/logo.png"
                try await fixture.runtime.saveSignInExperience(settings)
            } catch let error as IdentityError {
                #expect(error.phrase == "sign_in_experience.logo_not_https")
                #expect(PhraseBook(locale: "zh-CN").message(error).contains("https"))
            }
        }
    }
}
