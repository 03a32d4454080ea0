import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// Sign-in experience: sign-up and sign-in methods, password policy, branding and languages, with the
/// hosted page previewed beside the form (unsaved changes included).
extension ConsoleSections {
    func registerSignInExperience(on console: RouterGroup<SesameRequestContext>) {
        console.get("sign-in-experience") { request, context in
            let visit = visit(request, context)
            return experiencePage(visit, try await runtime.signInExperience(), notice: visit.notice(request))
        }
        console.post("sign-in-experience") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let before = try await runtime.signInExperience()
            do {
                try await runtime.updateSignInExperience(
                    from: before, to: try Self.settings(from: form, base: before), applicationID: nil,
                    ip: context.clientIP,
                    by: ["via": "console", "administrator": .string(visit.administrator?.username ?? "")])
            } catch let error as IdentityError {
                let shown = (try? Self.settings(from: form, base: before)) ?? before
                return experiencePage(visit, shown, previewPage: try form.single("previewPage"),
                                      error: visit.text.message(error))
            }
            return visit.redirect("/console/sign-in-experience", notice: "saved")
        }
        console.post("sign-in-experience/preview") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let page = Self.previewPages.contains(try form.single("previewPage") ?? "")
                ? try form.single("previewPage") ?? "sign-in" : "sign-in"
            do {
                let settings = try Self.settings(from: form, base: try await runtime.signInExperience())
                return Responses.redirect(Self.previewURL(settings, page: page, language: settings.languages.first))
            } catch let error as IdentityError {
                // Shown inside the preview frame, so it may be framed by the Console.
                var response = Responses.html("<!doctype html><meta charset=utf-8><p>" + Markdown.escape(error.message),
                                              status: .badRequest)
                response.headers[HTTPField.Name("X-Frame-Options")!] = "SAMEORIGIN"
                response.headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'self'"
                return response
            }
        }
    }

    static let previewPages = ["sign-in", "sign-in-code", "register", "forgot-password"]

    static func previewURL(_ settings: SignInExperience, page: String, language: String?) -> String {
        let json = (try? JSONEncoder().encode(settings)) ?? Data()
        return "/preview/\(page)?settings=\(Base64URL.encode(json))&language=\(language ?? "en")"
    }

    /// The sign-up choices the form offers, as Logto's Console names them.
    static let signUpChoices: [(value: String, identifiers: [SignInExperience.Identifier])] = [
        ("email", [.email]), ("username", [.username]), ("phone", [.phone]), ("emailOrPhone", [.email, .phone]),
        ("none", []),
    ]

    /// Reads the form into settings; `base` supplies anything the form does not carry.
    static func settings(from form: RequestParameters, base: SignInExperience) throws -> SignInExperience {
        func number(_ name: String, _ label: String) throws -> Int {
            guard let text = try form.text(name), let value = Int(text) else {
                throw IdentityError.invalidInput("\(label) must be a whole number")
            }
            return value
        }
        func url(_ name: String) throws -> String? { try form.text(name)?.nilIfEmpty }

        var settings = base
        let choice = try form.single("signUpIdentifier") ?? "none"
        guard let signUp = signUpChoices.first(where: { $0.value == choice }) else {
            throw IdentityError.invalidInput("unknown sign-up identifier '\(choice)'")
        }
        settings.signUp = .init(identifiers: signUp.identifiers, password: form.isChecked("signUpPassword"))
        var methods: [(order: Int, method: SignInExperience.SignInMethod)] = []
        for identifier in SignInExperience.Identifier.allCases where form.isChecked("method." + identifier.rawValue) {
            let key = identifier.rawValue
            let order = try number("order." + key, "the order of \(key)")
            methods.append((order, .init(identifier: identifier, password: form.isChecked("password." + key),
                                         verificationCode: form.isChecked("code." + key),
                                         isPasswordPrimary: try form.single("primary." + key) != "code")))
        }
        settings.signIn = .init(methods: methods.sorted { $0.order < $1.order }.map(\.method))
        settings.passwordPolicy = .init(
            minLength: try number("minLength", "the minimum length"),
            characterTypes: try number("characterTypes", "the character types"),
            rejectUserInfo: form.isChecked("rejectUserInfo"), rejectCommon: form.isChecked("rejectCommon"),
            bcryptCost: try number("bcryptCost", "the bcrypt cost"))
        settings.branding = .init(
            appName: try form.text("appName")?.nilIfEmpty, logoURL: try url("logoURL"),
            primaryColor: try form.text("primaryColor") ?? base.branding.primaryColor,
            isDarkModeEnabled: form.isChecked("darkMode"), termsOfUseURL: try url("termsOfUseURL"),
            privacyPolicyURL: try url("privacyPolicyURL"))
        var languages = form.all("language")
        if let first = try form.single("defaultLanguage"), languages.contains(first) {
            languages.removeAll { $0 == first }
            languages.insert(first, at: 0)
        }
        settings.languages = languages
        return settings
    }

    private func experiencePage(_ visit: ConsoleVisit, _ settings: SignInExperience, previewPage: String? = nil,
                                notice: String? = nil, error: String? = nil) -> Response
    {
        let choice = Self.signUpChoices.first { $0.identifiers == settings.signUp.identifiers }?.value ?? "none"
        let page = Self.previewPages.contains(previewPage ?? "") ? previewPage ?? "sign-in" : "sign-in"
        // Methods in use keep their order; the others follow them.
        let unused = SignInExperience.Identifier.allCases.filter { settings.method(for: $0) == nil }
        let methods = SignInExperience.Identifier.allCases.map { identifier -> [String: Any] in
            let index = settings.signIn.methods.firstIndex { $0.identifier == identifier }
                ?? settings.signIn.methods.count + (unused.firstIndex(of: identifier) ?? 0)
            let method = settings.method(for: identifier)
            return [
                "identifier": identifier.rawValue, "label": visit.t("identifier." + identifier.rawValue),
                "isOn": method != nil, "order": index + 1,
                "password": method?.password ?? (identifier != .phone),
                "verificationCode": method?.verificationCode ?? false, "canUseCode": identifier != .username,
                "isPasswordPrimary": method?.isPasswordPrimary ?? true,
            ]
        }
        let policy = settings.passwordPolicy
        var branding: [String: Any] = ["primaryColor": settings.branding.primaryColor,
                                       "isDarkModeEnabled": settings.branding.isDarkModeEnabled]
        branding["appName"] = settings.branding.appName
        branding["logoURL"] = settings.branding.logoURL
        branding["termsOfUseURL"] = settings.branding.termsOfUseURL
        branding["privacyPolicyURL"] = settings.branding.privacyPolicyURL
        var model: [String: Any] = [
            "signUpOptions": Self.signUpChoices.map { option in
                ["value": option.value, "label": visit.t("signUp." + option.value), "isSelected": option.value == choice]
            },
            "signUpPassword": settings.signUp.password, "methods": methods,
            "policy": ["minLength": policy.minLength, "characterTypes": policy.characterTypes,
                       "rejectCommon": policy.rejectCommon, "rejectUserInfo": policy.rejectUserInfo,
                       "bcryptCost": policy.bcryptCost] as [String: Any],
            "branding": branding,
            "languageOptions": ConsoleText.languages.map { language in
                ["code": language.code, "label": language.label, "isOn": settings.languages.contains(language.code),
                 "isDefault": settings.languages.first == language.code] as [String: Any]
            },
            "previewPages": Self.previewPages.map { value in
                ["value": value, "label": visit.t("previewPage." + value), "isSelected": value == page]
            },
            "previewURL": Self.previewURL(settings, page: page, language: settings.languages.first),
        ]
        model["error"] = error
        return visit.page("sign-in-experience", title: visit.t("signInExperience"), section: .signInExperience,
                          model: model, notice: notice, status: error == nil ? .ok : .badRequest)
    }
}
