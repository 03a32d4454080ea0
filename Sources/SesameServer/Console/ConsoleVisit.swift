import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// Renders Console pages from the templates under `Resources/console/` (compiled into the binary).
struct ConsoleRenderer: Sendable {
    private let templates = TemplateSource(folder: "console")

    func render(_ template: String, _ model: [String: Any]) -> String {
        templates.current.render(model, template: template) ?? ""
    }
}

/// The Console's sections, in the order of its navigation.
enum ConsoleSection: String, CaseIterable, Sendable {
    case home, applications, resources, roles, organizations, organizationTemplate, connectors, signInExperience, users,
        auditLog

    var path: String {
        switch self {
        case .home: "/console"
        case .applications: "/console/applications"
        case .resources: "/console/resources"
        case .roles: "/console/roles"
        case .organizations: "/console/organizations"
        case .organizationTemplate: "/console/organization-template"
        case .connectors: "/console/connectors"
        case .signInExperience: "/console/sign-in-experience"
        case .users: "/console/users"
        case .auditLog: "/console/audit-log"
        }
    }

    var textKey: String {
        switch self {
        case .home: "getStarted"
        case .applications: "applications"
        case .resources: "apiResources"
        case .roles: "roles"
        case .organizations: "organizations"
        case .organizationTemplate: "organizationTemplate"
        case .connectors: "connectors"
        case .signInExperience: "signInExperience"
        case .users: "users"
        case .auditLog: "auditLog"
        }
    }
}

/// One Console request: who is signed in, the language, the CSRF binding, and how to answer.
struct ConsoleVisit: Sendable {
    static let sessionCookie = "_sesame_console"
    static let csrfCookie = "_sesame_console_csrf"
    static let languageCookie = "_sesame_console_lang"
    static let flashCookie = "_sesame_console_flash"
    static let cookiePath = "/console"

    let runtime: SesameRuntime
    let renderer: ConsoleRenderer
    let administrator: Administrator?
    let text: ConsoleText
    /// What CSRF tokens are bound to: the session token, or before sign-in a random cookie of the form's own.
    let binding: String
    /// Cookies to set with the response (a fresh CSRF cookie).
    let cookies: [String]
    /// The request's path and query, to come back to after switching language.
    let here: String
    let clientIP: String

    static func load(_ request: Request, context: SesameRequestContext, runtime: SesameRuntime,
                     renderer: ConsoleRenderer, jar: CookieJar) -> ConsoleVisit
    {
        let text = ConsoleText(cookie: request.cookie(languageCookie), acceptLanguage: request.headers[.acceptLanguage])
        var cookies: [String] = []
        var binding = context.consoleSessionToken ?? request.cookie(csrfCookie)
        if binding == nil || binding?.isEmpty == true {
            let fresh = SecureRandom.token()
            cookies.append(jar.set(csrfCookie, fresh, maxAge: 3600, path: cookiePath, sameSite: "Strict"))
            binding = fresh
        }
        // After a form was posted, switching language returns to the page, not to the POST-only path.
        var here = request.method == .get ? request.uri.path : "/console"
        if request.method == .get, let query = request.uri.query, !query.isEmpty { here += "?" + query }
        return ConsoleVisit(runtime: runtime, renderer: renderer, administrator: context.administrator, text: text,
                            binding: binding ?? "", cookies: cookies, here: here, clientIP: context.clientIP)
    }

    var csrfToken: String { CSRF.token(runtime.csrf, binding: "console:" + binding) }

    func verifyCSRF(_ form: RequestParameters) throws {
        try CSRF.verify(runtime.csrf, token: try form.single("csrf_token"), binding: "console:" + binding)
    }

    func t(_ key: String) -> String { text(key) }

    /// A full page: the template inside the layout, with navigation when an administrator is signed in.
    func page(_ template: String, title: String, section: ConsoleSection? = nil, model values: [String: Any] = [:],
              notice: String? = nil, status: HTTPResponse.Status = .ok, cookies extra: [String] = []) -> Response
    {
        var model: [String: Any] = ["t": text.table, "csrfToken": csrfToken]
        for (key, value) in values { model[key] = value }
        if let tabs = values["tabs"] as? [Any], !tabs.isEmpty { model["hasTabs"] = true }
        let body = renderer.render(template, model)
        var layout: [String: Any] = [
            "t": text.table, "lang": text.language, "title": title, "body": body, "csrfToken": csrfToken,
            "languages": ConsoleText.languages.map { code, label in
                ["code": code, "label": label, "isCurrent": code == text.language,
                 "next": RequestParameters.encode(here)] as [String: Any]
            },
        ]
        if let administrator {
            layout["administrator"] = ["username": administrator.username]
            layout["sections"] = ConsoleSection.allCases.map { item in
                ["path": item.path, "label": t(item.textKey), "isCurrent": item == section, "icon": item.rawValue]
                    as [String: Any]
            }
        }
        layout["notice"] = notice
        // The outcome of a form post is in view at the top of the page: a failure repeats there the first error
        // the page shows beside its field (`error`, or a field's `...Error`), with the provider's detail if any.
        let errorKeys = values.keys.filter { $0 == "error" || $0.hasSuffix("Error") }.sorted()
        if let alert = errorKeys.lazy.compactMap({ values[$0] as? String }).first(where: { !$0.isEmpty }) {
            layout["alert"] = alert
            layout["alertDetail"] = values["errorDetail"] as? String
        }
        var headers = HTTPFields()
        for cookie in cookies + extra { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        var response = Responses.html(renderer.render("layout", layout), status: status, headers: headers)
        // The Console's own policy: its script and stylesheet by URL, nothing inline, the preview framed
        // from the same origin, and nothing framing the Console.
        response.headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' https: data:; form-action 'self'; frame-src 'self'; frame-ancestors 'none'; "
            + "base-uri 'none'"
        return response
    }

    /// Back to a page after a change (303), with a notice from the fixed list of `notice.*` texts.
    func redirect(_ path: String, notice: String? = nil, cookies extra: [String] = []) -> Response {
        var location = path
        if let notice { location += (path.contains("?") ? "&" : "?") + "notice=" + notice }
        return Responses.redirect(location, cookies: cookies + extra)
    }

    /// The notice a redirect asked for, when it is one the Console knows.
    func notice(_ request: Request) -> String? {
        guard let query = try? request.queryParameters(), let key = try? query.single("notice") else { return nil }
        return text.table["notice." + key]
    }

    /// A date as the Console shows it: UTC, to the minute.
    static func format(_ date: Date?) -> String {
        guard let date else { return "—" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}

extension Request {
    /// A Console form: URL-encoded, under 1 MiB, with a valid CSRF token.
    func consoleForm(_ visit: ConsoleVisit) async throws -> RequestParameters {
        let form = try await formParameters()
        try visit.verifyCSRF(form)
        return form
    }
}

extension RequestParameters {
    /// A text field's value, trimmed; nil when the field is absent.
    func text(_ name: String) throws -> String? {
        try single(name)?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A checkbox: on when present with any value.
    func isChecked(_ name: String) -> Bool { self[name] != nil }

    /// One entry per non-empty line (redirect URIs, scopes).
    func lines(_ name: String) throws -> [String] {
        (try single(name) ?? "").split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
