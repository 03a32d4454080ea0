import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// Applications: the list, the framework cards, creation, and each app's page with its integration guide.
extension ConsoleSections {
    func registerApplications(on console: RouterGroup<SesameRequestContext>) {
        console.get("applications") { request, context in
            let visit = visit(request, context)
            let applications = try await runtime.store.clients()
            return visit.page("applications", title: visit.t("applications"), section: .applications, model: [
                "hasApplications": !applications.isEmpty,
                "applications": applications.map { app in
                    ["id": app.id, "name": app.name, "typeLabel": visit.t("type." + app.type.rawValue),
                     "canManage": app.canManage] as [String: Any]
                },
            ], notice: visit.notice(request))
        }
        console.get("applications/new") { request, context in
            let visit = visit(request, context)
            let groups = ApplicationType.allCases.map { type in
                [
                    "label": visit.t("type." + type.rawValue), "hint": visit.t("typeHint." + type.rawValue),
                    "frameworks": Framework.all.filter { $0.type == type }.map { framework in
                        ["id": framework.id, "name": framework.name(visit.text), "typeLabel": visit.t("type." + type.rawValue)]
                    },
                ] as [String: Any]
            }
            return visit.page("application-new", title: visit.t("createApplication"), section: .applications,
                              model: ["groups": groups])
        }
        console.get("applications/new/:framework") { request, context in
            let visit = visit(request, context)
            let framework = try framework(context.parameters.get("framework"))
            return createPage(visit, framework: framework, name: "",
                              redirectURIs: framework.redirectURI.map { [$0] } ?? [],
                              postLogoutRedirectURIs: framework.postLogoutRedirectURI.map { [$0] } ?? [])
        }
        console.post("applications") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let framework = try framework(try form.single("framework"))
            let name = try form.text("name") ?? ""
            let redirectURIs = try form.lines("redirectUris")
            let postLogoutRedirectURIs = try form.lines("postLogoutRedirectUris")
            do {
                let created = try await runtime.applications.create(
                    name: name, type: framework.type, redirectURIs: redirectURIs,
                    postLogoutRedirectURIs: postLogoutRedirectURIs,
                    canManage: framework.type == .machineToMachine && form.isChecked("management"))
                return visit.redirect("/console/applications/\(created.client.id)?guide=\(framework.id)&created=1",
                                      cookies: flashCookie(created))
            } catch let error as IdentityError {
                return createPage(visit, framework: framework, name: name, redirectURIs: redirectURIs,
                                  postLogoutRedirectURIs: postLogoutRedirectURIs, error: visit.text.message(error),
                                  management: form.isChecked("management"))
            }
        }
        console.get("applications/:id") { request, context in
            let visit = visit(request, context)
            let app = try await runtime.applications.application(id: context.parameters.get("id") ?? "")
            let query = try request.queryParameters()
            let flash = flashSecret(request, appID: app.id)
            return applicationPage(visit, app: app, guide: try query.single("guide"), secret: flash?.secret,
                                   secretName: flash?.name, created: query["created"] != nil,
                                   notice: visit.notice(request), cookies: flash == nil ? [] : [clearFlash()])
        }
        console.post("applications/:id") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let app = try await runtime.applications.application(id: context.parameters.get("id") ?? "")
            let hasRedirects = app.type != .machineToMachine
            // The select offers the algorithms and "default" (absent: unchanged); anything else is a forged form.
            var algorithm: SigningAlgorithm?? = nil
            if hasRedirects, let name = try form.text("idTokenAlg") {
                if name == "default" {
                    algorithm = .some(nil)
                } else {
                    guard let chosen = SigningAlgorithm(rawValue: name) else {
                        throw IdentityError.invalidInput(phrase: "input.one_of", [
                            "field": "idTokenAlg",
                            "values": SigningAlgorithm.allCases.map(\.rawValue).joined(separator: ", "),
                        ])
                    }
                    algorithm = .some(chosen)
                }
            }
            let changes = ApplicationService.Changes(
                name: try form.text("name") ?? "", description: .some(try form.text("description")),
                redirectURIs: hasRedirects ? try form.lines("redirectUris") : nil,
                postLogoutRedirectURIs: hasRedirects ? try form.lines("postLogoutRedirectUris") : nil,
                idTokenSignedResponseAlg: algorithm,
                isDeviceFlow: app.type == .native ? form.isChecked("deviceFlow") : nil)
            do {
                _ = try await runtime.applications.update(id: app.id, changes)
                return visit.redirect("/console/applications/\(app.id)", notice: "saved")
            } catch let error as IdentityError {
                return applicationPage(visit, app: app, guide: nil, secret: nil, created: false, notice: nil,
                                       form: changes, error: visit.text.message(error))
            }
        }
        console.post("applications/:id/secret") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            let rotated = try await runtime.applications.rotateSecret(id: context.parameters.get("id") ?? "")
            return visit.redirect("/console/applications/\(rotated.client.id)", notice: "secretRotated",
                                  cookies: flashCookie(rotated))
        }
        console.post("applications/:id/secrets") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let app = try await runtime.applications.application(id: context.parameters.get("id") ?? "")
            do {
                var expiresAt: Date?
                if let days = try form.text("expiresInDays"), !days.isEmpty {
                    guard let count = Int(days), (1...3650).contains(count) else {
                        throw IdentityError.invalidInput(phrase: "application.secret_expiry_days_range")
                    }
                    expiresAt = runtime.provider.now().addingTimeInterval(TimeInterval(count) * 86400)
                }
                let added = try await runtime.applications.addSecret(applicationID: app.id,
                                                                     name: try form.text("secretName") ?? "",
                                                                     expiresAt: expiresAt)
                return visit.redirect("/console/applications/\(app.id)", notice: "secretAdded",
                                      cookies: flashCookie(appID: app.id, secret: added.value, name: added.secret.name))
            } catch let error as IdentityError {
                return applicationPage(visit, app: app, guide: nil, secret: nil, created: false, notice: nil,
                                       secretError: visit.text.message(error))
            }
        }
        console.post("applications/:id/secrets/:name/delete") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            let id = context.parameters.get("id") ?? ""
            let name = context.parameters.get("name")?.removingPercentEncoding ?? ""
            try await runtime.applications.deleteSecret(applicationID: id, name: name)
            return visit.redirect("/console/applications/\(id)", notice: "deleted")
        }
        console.post("applications/:id/legacy-secret/delete") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            let id = context.parameters.get("id") ?? ""
            try await runtime.applications.deleteLegacySecret(applicationID: id)
            return visit.redirect("/console/applications/\(id)", notice: "deleted")
        }
        console.post("applications/:id/delete") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            try await runtime.applications.delete(id: context.parameters.get("id") ?? "")
            return visit.redirect("/console/applications", notice: "deleted")
        }
    }

    private func framework(_ id: String?) throws -> Framework {
        guard let framework = Framework.find(id) else {
            throw IdentityError(.notFound, phrase: "application.unknown_framework", ["id": id ?? ""])
        }
        return framework
    }

    private func createPage(_ visit: ConsoleVisit, framework: Framework, name: String, redirectURIs: [String],
                            postLogoutRedirectURIs: [String], error: String? = nil, management: Bool = false)
        -> Response
    {
        var model: [String: Any] = [
            "framework": ["id": framework.id, "name": framework.name(visit.text)], "name": name,
            "typeLabel": visit.t("type." + framework.type.rawValue),
            "typeHint": visit.t("typeHint." + framework.type.rawValue),
            "hasRedirects": framework.type != .machineToMachine, "isMachine": framework.type == .machineToMachine,
            "redirectUris": redirectURIs.joined(separator: "\n"),
            "postLogoutRedirectUris": postLogoutRedirectURIs.joined(separator: "\n"), "management": management,
        ]
        model["error"] = error
        return visit.page("application-create", title: visit.t("createApplication"), section: .applications,
                          model: model, status: error == nil ? .ok : .badRequest)
    }

    private func applicationPage(_ visit: ConsoleVisit, app: Client, guide: String?, secret: String?,
                                 secretName: String? = nil, created: Bool, notice: String?,
                                 form: ApplicationService.Changes? = nil, error: String? = nil,
                                 secretError: String? = nil, cookies: [String] = []) -> Response
    {
        let framework = Framework.find(guide).flatMap { $0.type == app.type ? $0 : nil }
            ?? Framework.standard(for: app.type)
        let issuer = runtime.configuration.issuer
        let guideModel: [String: Any] = [
            "t": visit.text.table, "issuer": issuer, "discovery": issuer + "/.well-known/openid-configuration",
            "appID": app.id, "secretOrPlaceholder": secret ?? visit.t("secretPlaceholder"),
            "isConfidential": app.type.isConfidential,
            "redirectURI": app.redirectURIs.first ?? framework.redirectURI ?? "https://your-app.example.com/callback",
            "postLogoutRedirectURI": app.postLogoutRedirectURIs.first ?? framework.postLogoutRedirectURI ?? "",
        ]
        var model: [String: Any] = [
            "app": ["id": app.id, "name": app.name, "canManage": app.canManage] as [String: Any],
            "tabs": app.type == .machineToMachine
                ? Self.holderTabs(visit, base: "/console/applications/\(app.id)", first: "settings", isRoles: false) : [],
            "typeLabel": visit.t("type." + app.type.rawValue), "isConfidential": app.type.isConfidential,
            "hasRedirects": app.type != .machineToMachine, "created": created,
            "issuer": issuer, "discovery": issuer + "/.well-known/openid-configuration",
            "form": [
                "name": form?.name ?? app.name,
                "description": (form?.description ?? app.description) ?? "",
                "redirectUris": (form?.redirectURIs ?? app.redirectURIs).joined(separator: "\n"),
                "postLogoutRedirectUris": (form?.postLogoutRedirectURIs ?? app.postLogoutRedirectURIs)
                    .joined(separator: "\n"),
                "isDeviceFlow": form?.isDeviceFlow ?? app.isDeviceFlow,
            ],
            "isNative": app.type == .native,
            // Every algorithm, and the server's default (`SESAME_SIGNING_ALG`) for an application that chose none.
            "algorithms": ([nil] + SigningAlgorithm.allCases).map { (algorithm: SigningAlgorithm?) in
                ["value": algorithm?.rawValue ?? "default",
                 "label": algorithm?.rawValue ?? visit.t("idTokenAlgDefault")
                    .replacingOccurrences(of: "%{alg}", with: runtime.configuration.defaultSigningAlgorithm.rawValue),
                 "selected": (form?.idTokenSignedResponseAlg ?? app.idTokenSignedResponseAlg) == algorithm] as [String: Any]
            },
            "framework": ["name": framework.name(visit.text)],
            "guides": Framework.all.filter { $0.type == app.type && $0.id != framework.id }
                .map { ["id": $0.id, "name": $0.name] },
            "guide": renderer.render(framework.guide, guideModel),
        ]
        let now = runtime.provider.now()
        model["hasLegacySecret"] = app.secretHash != nil
        model["secrets"] = app.secrets.map { item in
            ["name": item.name,
             "encodedName": item.name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"]))
                ?? item.name,
             "created": ConsoleVisit.format(item.createdAt),
             "expires": item.expiresAt.map { ConsoleVisit.format($0) } ?? visit.t("never"),
             "isExpired": !item.isValid(at: now)] as [String: Any]
        }
        model["secret"] = secret
        model["secretName"] = secretName
        model["error"] = error
        model["secretError"] = secretError
        return visit.page("application", title: app.name, section: .applications, model: model, notice: notice,
                          status: error == nil && secretError == nil ? .ok : .badRequest, cookies: cookies)
    }

    // MARK: The secret, shown once

    /// A new secret travels to the next page in a sealed, short-lived cookie, never in a URL.
    private func flashCookie(_ created: ApplicationService.Created) -> [String] {
        guard let secret = created.secret else { return [] }
        return flashCookie(appID: created.client.id, secret: secret, name: nil)
    }

    private func flashCookie(appID: String, secret: String, name: String?) -> [String] {
        var flash: [String: JSONValue] = ["app": .string(appID), "secret": .string(secret)]
        flash["name"] = name.map { .string($0) }
        guard let sealed = try? flashBox.seal(JSONValue.object(flash).encoded()) else { return [] }
        return [cookies.set(ConsoleVisit.flashCookie, Base64URL.encode(Data(sealed.utf8)), maxAge: 300,
                            path: ConsoleVisit.cookiePath, sameSite: "Strict")]
    }

    private func flashSecret(_ request: Request, appID: String) -> (secret: String, name: String?)? {
        guard let cookie = request.cookie(ConsoleVisit.flashCookie), let data = Base64URL.decode(cookie),
              let opened = try? flashBox.open(String(decoding: data, as: UTF8.self)),
              let flash = try? JSONValue.decode(opened), flash["app"]?.stringValue == appID,
              let secret = flash["secret"]?.stringValue
        else { return nil }
        return (secret, flash["name"]?.stringValue)
    }

    private func clearFlash() -> String {
        cookies.clear(ConsoleVisit.flashCookie, path: ConsoleVisit.cookiePath, sameSite: "Strict")
    }

    private var flashBox: SecretBox { SecretBox(secret: runtime.configuration.secret, purpose: "sesame.console-flash") }
}
