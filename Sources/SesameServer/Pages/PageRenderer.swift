import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import SesameIdentity
import SesameOIDC

/// Renders the hosted pages from the Mustache templates compiled into the binary.
struct PageRenderer: Sendable {
    private let library: MustacheLibrary

    init() {
        library = MustacheLibrary(compiling: PageTemplates.all)
    }

    /// Renders `template` with `model` inside the layout, in the page's language and branding.
    func render(_ template: String, title: String, model: [String: Any], look: PageLook = .standard) -> String {
        var model = model
        model["t"] = look.localizer.table
        var body = library.render(model, withTemplate: template) ?? ""
        // A preview framed in the Console must not pull the Console's focus (and scroll) into itself.
        if look.isPreview { body = body.replacingOccurrences(of: " autofocus", with: "") }
        var layout: [String: Any] = [
            "title": title, "body": body, "lang": look.localizer.language, "primaryColor": look.branding.primaryColor,
            "colorScheme": look.branding.isDarkModeEnabled ? "light dark" : "light",
            "isDarkModeEnabled": look.branding.isDarkModeEnabled,
            "terms": look.localizer("terms"), "privacy": look.localizer("privacy"),
            "hasLegal": look.branding.termsOfUseURL != nil || look.branding.privacyPolicyURL != nil,
        ]
        layout["logoURL"] = look.branding.logoURL
        layout["appName"] = look.branding.appName
        layout["termsURL"] = look.branding.termsOfUseURL
        layout["privacyURL"] = look.branding.privacyPolicyURL
        return library.render(layout, withTemplate: "layout") ?? body
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
        page("error", title: look.localizer("errorTitle"),
             model: ["code": error.code.rawValue, "description": error.description], look: look,
             status: HTTPResponse.Status(code: error.status))
    }
}

extension MustacheLibrary {
    /// A library of templates compiled into the binary. They are covered by tests, so a parse error is a
    /// build defect, not a runtime condition.
    init(compiling sources: [String: String]) {
        self.init(templates: sources.mapValues { try! MustacheTemplate(string: $0) })
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
