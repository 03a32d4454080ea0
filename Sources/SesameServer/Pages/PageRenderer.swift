import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import SesameIdentity
import SesameOIDC

/// Renders the hosted pages from the Mustache templates under `Resources/pages/` (compiled into the binary),
/// inside `layout.mustache` with the stylesheet `pages.css`.
struct PageRenderer: Sendable {
    private let templates = TemplateSource(folder: "pages")

    /// Renders `template` with `model` inside the layout, in the page's language and branding.
    func render(_ template: String, title: String, model: [String: Any], look: PageLook = .standard) -> String {
        let library = templates.current
        let phrases = look.localizer.table
        var model = model
        model["t"] = phrases
        var body = library.render(model, template: template) ?? ""
        // A preview framed in the Console must not pull the Console's focus (and scroll) into itself.
        if look.isPreview { body = body.replacingOccurrences(of: " autofocus", with: "") }
        var layout: [String: Any] = [
            "title": title, "body": body, "lang": look.localizer.language, "primaryColor": look.branding.primaryColor,
            "styles": ServerResources.text("pages/pages.css") ?? "", "t": phrases,
            "colorScheme": look.branding.isDarkModeEnabled ? "light dark" : "light",
            "isDarkModeEnabled": look.branding.isDarkModeEnabled,
            "hasLegal": look.branding.termsOfUseURL != nil || look.branding.privacyPolicyURL != nil,
        ]
        layout["hasBrand"] = look.branding.logoURL != nil || look.branding.appName != nil
        layout["logoURL"] = look.branding.logoURL
        layout["appName"] = look.branding.appName
        layout["termsURL"] = look.branding.termsOfUseURL
        layout["privacyURL"] = look.branding.privacyPolicyURL
        return library.render(layout, template: "layout") ?? body
    }

    func page(_ template: String, title: String, model: [String: Any], look: PageLook = .standard,
              status: HTTPResponse.Status = .ok, cookies: [String] = []) -> Response
    {
        var headers = HTTPFields()
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Responses.html(render(template, title: title, model: model, look: look), status: status,
                              headers: headers)
    }

    func error(_ error: OAuthError, look: PageLook = .standard) -> Response {
        // A plain explanation in the page's language; the protocol's own description stays as the detail.
        let key = look.localizer.book.has("pages", "oauth.\(error.code.rawValue)") ? "oauth.\(error.code.rawValue)" : "oauth.other"
        return page("error", title: look.localizer("errorTitle"),
             model: ["code": error.code.rawValue, "description": error.description, "explanation": look.localizer(key)],
             look: look,
             status: HTTPResponse.Status(code: error.status))
    }
}

/// A page's language and branding.
struct PageLook: Sendable {
    let localizer: Localizer
    let branding: SignInExperience.Branding
    var isPreview = false

    static let standard = PageLook(localizer: Localizer(uiLocales: nil, acceptLanguage: nil, offered: ["en"]),
                                   branding: .init())
}
