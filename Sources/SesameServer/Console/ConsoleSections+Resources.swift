import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// API resources (RFC 8707 indicators) and their scopes.
extension ConsoleSections {
    func registerResources(on console: RouterGroup<SesameRequestContext>) {
        console.get("resources") { request, context in
            let visit = visit(request, context)
            return try await resourcesPage(visit, notice: visit.notice(request))
        }
        console.post("resources") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let ttlText = try form.text("accessTokenTtl") ?? ""
            do {
                guard let ttl = ttlText.isEmpty ? 3600 : Int(ttlText) else {
                    throw IdentityError.invalidInput(phrase: "resource.access_token_ttl_not_number")
                }
                let resource = try await runtime.resources.create(
                    name: try form.text("name"), indicator: try form.text("indicator") ?? "",
                    scopes: try form.lines("scopes").flatMap { $0.split(separator: " ").map(String.init) },
                    accessTokenTTL: ttl)
                return visit.redirect("/console/resources/\(resource.id)", notice: "created")
            } catch let error as IdentityError {
                return try await resourcesPage(visit, form: [
                    "name": try form.text("name") ?? "", "indicator": try form.text("indicator") ?? "",
                    "scopes": try form.single("scopes") ?? "", "accessTokenTtl": ttlText,
                ], error: visit.text.message(error))
            }
        }
        console.get("resources/:id") { request, context in
            let visit = visit(request, context)
            let resource = try await runtime.resources.resource(id: context.parameters.get("id") ?? "")
            return resourcePage(visit, resource, notice: visit.notice(request))
        }
        console.post("resources/:id") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let resource = try await runtime.resources.resource(id: context.parameters.get("id") ?? "")
            do {
                let ttlText = try form.text("accessTokenTtl") ?? ""
                guard let ttl = Int(ttlText) else {
                    throw IdentityError.invalidInput(phrase: "resource.access_token_ttl_not_number")
                }
                _ = try await runtime.resources.update(id: resource.id, name: try form.text("name") ?? "",
                                                       accessTokenTTL: ttl)
            } catch let error as IdentityError {
                return resourcePage(visit, resource, error: visit.text.message(error))
            }
            return visit.redirect("/console/resources/\(resource.id)", notice: "saved")
        }
        console.post("resources/:id/scopes") { request, context in
            let visit = visit(request, context)
            let form = try await request.consoleForm(visit)
            let resource = try await runtime.resources.resource(id: context.parameters.get("id") ?? "")
            do {
                _ = try await runtime.resources.addScope(resourceID: resource.id, name: try form.text("scopeName") ?? "",
                                                         description: try form.text("scopeDescription"))
            } catch let error as IdentityError {
                return resourcePage(visit, resource, scopeError: visit.text.message(error))
            }
            return visit.redirect("/console/resources/\(resource.id)", notice: "saved")
        }
        console.post("resources/:id/scopes/:scope/delete") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            let id = context.parameters.get("id") ?? ""
            do {
                try await runtime.resources.deleteScope(resourceID: id, scopeID: context.parameters.get("scope") ?? "")
            } catch let error as IdentityError where error.code == .invalidInput {
                return resourcePage(visit, try await runtime.resources.resource(id: id),
                                    scopeError: visit.text.message(error))
            }
            return visit.redirect("/console/resources/\(id)", notice: "deleted")
        }
        console.post("resources/:id/delete") { request, context in
            let visit = visit(request, context)
            _ = try await request.consoleForm(visit)
            let id = context.parameters.get("id") ?? ""
            do {
                try await runtime.resources.delete(id: id)
            } catch let error as IdentityError where error.code == .invalidInput {
                return resourcePage(visit, try await runtime.resources.resource(id: id), error: visit.text.message(error))
            }
            return visit.redirect("/console/resources", notice: "deleted")
        }
    }

    private func resourcesPage(_ visit: ConsoleVisit, form: [String: String] = [:], error: String? = nil,
                               notice: String? = nil) async throws -> Response
    {
        let resources = try await runtime.store.resources()
        var model: [String: Any] = [
            "hasResources": !resources.isEmpty,
            "resources": resources.map { resource in
                ["id": resource.id, "name": resource.name, "indicator": resource.indicator,
                 "scopeCount": resource.scopes.count] as [String: Any]
            },
            "form": form.isEmpty ? ["accessTokenTtl": "3600"] : form,
        ]
        model["error"] = error
        return visit.page("resources", title: visit.t("apiResources"), section: .resources, model: model,
                          notice: notice, status: error == nil ? .ok : .badRequest)
    }

    private func resourcePage(_ visit: ConsoleVisit, _ resource: APIResource, error: String? = nil,
                              scopeError: String? = nil, notice: String? = nil) -> Response
    {
        var model: [String: Any] = [
            "resource": [
                "id": resource.id, "name": resource.name, "indicator": resource.indicator,
                "accessTokenTTL": resource.accessTokenTTL,
                "scopes": resource.scopes.map { scope in
                    ["id": scope.id, "name": scope.name, "description": scope.description ?? ""]
                },
            ] as [String: Any],
            "resourceID": resource.id,
            "isProtected": resource.indicator == runtime.resources.protectedIndicator,
            // The "Protect your API" guide, with this server's values.
            "issuer": runtime.configuration.issuer, "jwksURI": runtime.configuration.issuer + "/jwks",
            "exampleScope": resource.scopes.first?.name ?? "read:books",
        ]
        model["error"] = error
        model["scopeError"] = scopeError
        return visit.page("resource", title: resource.name, section: .resources, model: model, notice: notice,
                          status: error == nil && scopeError == nil ? .ok : .badRequest)
    }
}
