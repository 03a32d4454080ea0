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
            return experiencePage(visit, try await runtime.signInExperience(),
                                  channels: try await runtime.codeChannels(), notice: visit.notice(request))
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
                return experiencePage(visit, shown, channels: try await runtime.codeChannels(),
                                      previewPage: try form.single("previewPage"), error: visit.text.message(error))
            }
            return visit.redirect("/console/sign-in-experience", notice: "saved")
        }
        // A logo uploaded here is stored by Sesame and served from its own origin (`/assets/branding/<id>`).
        console.post("sign-in-experience/logo") { request, context in
            let visit = visit(request, context)
            let form = try await request.multipartForm()
            try visit.verifyCSRF(form.fields)
            let before = try await runtime.signInExperience()
            do {
                let asset = try BrandingAsset.image(form.files["logo"] ?? Data(), now: runtime.provider.now())
                try await runtime.store.insertBrandingAsset(asset)
                var after = before
                after.branding.logoURL = runtime.configuration.endpoint + BrandingAssetRoutes.path + asset.id
                try await runtime.updateSignInExperience(
                    from: before, to: after, applicationID: nil, ip: context.clientIP,
                    by: ["via": "console", "administrator": .string(visit.administrator?.username ?? "")])
            } catch let error as IdentityError {
                return experiencePage(visit, before, channels: try await runtime.codeChannels(),
                                      logoError: visit.text.message(error))
            }
            return visit.redirect("/console/sign-in-experience", notice: "logoUploaded")
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
                let page = visit.renderer.render("preview-error", [
                    "t": visit.text.table, "lang": visit.text.language, "message": visit.text.message(error),
                ])
                var response = Responses.html(page, status: .badRequest)
                response.headers[HTTPField.Name("X-Frame-Options")!] = "SAMEORIGIN"
                response.headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'self'"
                return response
            }
        }
    }

    static let previewPages = PreviewRoutes.pages

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
        /// `error`: what to throw when the field does not hold a whole number.
        func number(_ name: String, _ error: IdentityError) throws -> Int {
            guard let text = try form.text(name), let value = Int(text) else {
                throw error
            }
            return value
        }
        func url(_ name: String) throws -> String? { try form.text(name)?.nilIfEmpty }

        var settings = base
        let choice = try form.single("signUpIdentifier") ?? "none"
        guard let signUp = signUpChoices.first(where: { $0.value == choice }) else {
            throw IdentityError.invalidInput(phrase: "sign_in_experience.unknown_sign_up_identifier", ["value": choice])
        }
        settings.signUp = .init(identifiers: signUp.identifiers, password: form.isChecked("signUpPassword"))
        var methods: [(order: Int, method: SignInExperience.SignInMethod)] = []
        for identifier in SignInExperience.Identifier.allCases where form.isChecked("method." + identifier.rawValue) {
            let key = identifier.rawValue
            let order = try number("order." + key, IdentityError(.invalidInput, phrase: "sign_in_experience.order_not_number",
                                                                 per: identifier))
            methods.append((order, .init(identifier: identifier, password: form.isChecked("password." + key),
                                         verificationCode: form.isChecked("code." + key),
                                         isPasswordPrimary: try form.single("primary." + key) != "code")))
        }
        settings.signIn = .init(methods: methods.sorted { $0.order < $1.order }.map(\.method))
        settings.passwordPolicy = .init(
            minLength: try number("minLength", .invalidInput(phrase: "sign_in_experience.min_length_not_number")),
            characterTypes: try number("characterTypes",
                                       .invalidInput(phrase: "sign_in_experience.character_types_not_number")),
            rejectUserInfo: form.isChecked("rejectUserInfo"), rejectCommon: form.isChecked("rejectCommon"),
            bcryptCost: try number("bcryptCost", .invalidInput(phrase: "sign_in_experience.bcrypt_cost_not_number")))
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
        // The form always carries the policy; settings posted without it (older forms) keep the saved MFA.
        if let policy = try form.single("mfaPolicy") {
            guard let value = MfaPolicy(rawValue: policy) else {
                throw IdentityError.invalidInput(phrase: "input.one_of", [
                    "field": "mfaPolicy", "values": MfaPolicy.allCases.map(\.rawValue).joined(separator: ", "),
                ])
            }
            var factors: [MfaFactor] = []
            for raw in form.all("mfaFactor") {
                guard let factor = Self.consoleMfaFactors.first(where: { $0.rawValue == raw }) else {
                    throw IdentityError.invalidInput(phrase: "input.one_of", [
                        "field": "mfaFactor", "values": Self.consoleMfaFactors.map(\.rawValue).joined(separator: ", "),
                    ])
                }
                if !factors.contains(factor) { factors.append(factor) }
            }
            settings.mfa = MfaSettings(factors: factors, policy: value)
            settings.passkeySignIn.enabled = form.isChecked("passkeySignIn")
        }
        return settings
    }

    /// The factors the Console offers.
    static let consoleMfaFactors: [MfaFactor] = [.webAuthn, .totp, .backupCode]
    /// The policies the Console offers (Logto's deprecated `UserControlled` reads as `PromptAtSignInAndSignUp`).
    static let consoleMfaPolicies: [MfaPolicy] = [.noPrompt, .promptAtSignInAndSignUp, .promptOnlyAtSignIn, .mandatory]

    /// `channels`: the identifiers a code can be sent to now; options that need another are shown disabled,
    /// with the connector they wait for.
    private func experiencePage(_ visit: ConsoleVisit, _ settings: SignInExperience,
                                channels: Set<SignInExperience.Identifier>, previewPage: String? = nil,
                                notice: String? = nil, error: String? = nil, logoError: String? = nil) -> Response
    {
        func waitsFor(_ identifier: SignInExperience.Identifier) -> String? {
            guard identifier != .username, !channels.contains(identifier) else { return nil }
            return visit.t(identifier == .phone ? "needsSMSConnector" : "needsEmailConnector")
        }
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
                // A code option that cannot work now is disabled, unless the saved settings use it.
                "codeDisabled": waitsFor(identifier) != nil && method?.verificationCode != true,
                "codeReason": identifier == .phone ? visit.t("codeNeedsSMSConnector") : visit.t("codeNeedsEmailConnector"),
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
            "signUpOptions": Self.signUpChoices.map { option -> [String: Any] in
                let reason = option.identifiers.lazy.compactMap(waitsFor).first
                let label = visit.t("signUp." + option.value)
                return ["value": option.value, "label": reason.map { "\(label) (\($0))" } ?? label,
                        "isSelected": option.value == choice, "isDisabled": reason != nil && option.value != choice]
            },
            "signUpPassword": settings.signUp.password, "methods": methods,
            "policy": ["minLength": policy.minLength, "characterTypes": policy.characterTypes,
                       "rejectCommon": policy.rejectCommon, "rejectUserInfo": policy.rejectUserInfo,
                       "bcryptCost": policy.bcryptCost] as [String: Any],
            "branding": branding,
            "languageOptions": PhraseBook.pageLocales.map { code in
                ["code": code, "label": PhraseBook.displayName(of: code), "isOn": settings.languages.contains(code),
                 "isDefault": settings.languages.first == code] as [String: Any]
            },
            "previewPages": Self.previewPages.map { value in
                ["value": value, "label": visit.t("previewPage." + value), "isSelected": value == page]
            },
            "previewURL": Self.previewURL(settings, page: page, language: settings.languages.first),
        ]
        let policyShown = settings.mfa.policy == .userControlled ? .promptAtSignInAndSignUp : settings.mfa.policy
        model["mfaFactors"] = Self.consoleMfaFactors.map { factor in
            ["value": factor.rawValue, "label": visit.t("mfaFactor." + factor.rawValue),
             "isOn": settings.mfa.factors.contains(factor)] as [String: Any]
        }
        model["passkeySignIn"] = settings.passkeySignIn.enabled
        model["mfaPolicies"] = Self.consoleMfaPolicies.map { policy in
            ["value": policy.rawValue, "label": visit.t("mfaPolicy." + policy.rawValue),
             "isSelected": policy == policyShown] as [String: Any]
        }
        model["error"] = error
        model["logoError"] = logoError
        model["maximumLogoKiB"] = BrandingAsset.maximumSize / 1024
        return visit.page("sign-in-experience", title: visit.t("signInExperience"), section: .signInExperience,
                          model: model, notice: notice, status: error == nil && logoError == nil ? .ok : .badRequest)
    }
}
