import HTTPTypes
import Hummingbird
import Mustache
import SesameOIDC

/// Renders the hosted pages from the Mustache templates compiled into the binary.
struct PageRenderer: Sendable {
    private let library: MustacheLibrary

    init() {
        var templates: [String: MustacheTemplate] = [:]
        for (name, source) in PageTemplates.all {
            // The templates are part of the binary and covered by tests; a parse error is a build defect.
            templates[name] = try! MustacheTemplate(string: source)
        }
        library = MustacheLibrary(templates: templates)
    }

    /// Renders `template` with `model` inside the layout.
    func render(_ template: String, title: String, model: [String: Any]) -> String {
        let body = library.render(model, withTemplate: template) ?? ""
        return library.render(["title": title, "body": body], withTemplate: "layout") ?? body
    }

    func page(_ template: String, title: String, model: [String: Any], status: HTTPResponse.Status = .ok,
              cookies: [String] = []) -> Response
    {
        var headers = HTTPFields()
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Responses.html(render(template, title: title, model: model), status: status, headers: headers)
    }

    func error(_ error: OAuthError) -> Response {
        page("error", title: "Something went wrong",
             model: ["code": error.code.rawValue, "description": error.description],
             status: HTTPResponse.Status(code: error.status))
    }
}
