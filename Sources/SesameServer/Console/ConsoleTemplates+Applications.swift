extension ConsoleTemplates {
    static let applicationTemplates: [String: String] = [
        "applications": applications, "application-new": applicationNew, "application-create": applicationCreate,
        "application": application,
    ]

    static let applications = """
        <h1>{{t.applications}}</h1>
        <p class="lead">{{t.applicationsLead}}</p>
        <p><a class="button" href="/console/applications/new">{{t.createApplication}}</a></p>
        {{#hasApplications}}
        <div class="table-wrap"><table>
        <thead><tr><th scope="col">{{t.name}}</th><th scope="col">{{t.type}}</th><th scope="col">{{t.appID}}</th></tr></thead>
        <tbody>
        {{#applications}}<tr><td><a href="/console/applications/{{id}}">{{name}}</a>{{#canManage}} <span class="badge">{{t.managementAccess}}</span>{{/canManage}}</td><td>{{typeLabel}}</td><td><code>{{id}}</code></td></tr>{{/applications}}
        </tbody>
        </table></div>
        {{/hasApplications}}
        {{^hasApplications}}<p class="muted">{{t.noApplications}}</p>{{/hasApplications}}
        """

    static let applicationNew = """
        <h1>{{t.createApplication}}</h1>
        <p class="lead">{{t.chooseFramework}}</p>
        {{#groups}}
        <h2>{{label}}</h2>
        <p class="hint">{{hint}}</p>
        <div class="cards">
        {{#frameworks}}<a href="/console/applications/new/{{id}}" data-framework="{{id}}"><strong>{{name}}</strong><span>{{typeLabel}}</span></a>{{/frameworks}}
        </div>
        {{/groups}}
        """

    static let applicationCreate = """
        <p><a href="/console/applications/new">← {{t.createApplication}}</a></p>
        <h1>{{framework.name}}</h1>
        <p class="lead">{{typeLabel}} · {{typeHint}}</p>
        <form method="post" action="/console/applications">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <input type="hidden" name="framework" value="{{framework.id}}">
        <label for="name">{{t.applicationName}}</label>
        <input type="text" id="name" name="name" value="{{name}}" placeholder="Bookstore" required autofocus maxlength="256">
        {{#hasRedirects}}
        <label for="redirectUris">{{t.redirectURIs}}</label>
        <textarea id="redirectUris" name="redirectUris" aria-describedby="redirect-hint">{{redirectUris}}</textarea>
        <p class="hint" id="redirect-hint">{{t.oneURIPerLine}} {{t.redirectHint}}</p>
        <label for="postLogoutRedirectUris">{{t.postLogoutRedirectURIs}}</label>
        <textarea id="postLogoutRedirectUris" name="postLogoutRedirectUris">{{postLogoutRedirectUris}}</textarea>
        <p class="hint">{{t.oneURIPerLine}}</p>
        {{/hasRedirects}}
        {{#isMachine}}
        <label class="inline"><input type="checkbox" name="management" value="1"{{#management}} checked{{/management}}> {{t.allowManagement}}</label>
        {{/isMachine}}
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <div class="actions"><button type="submit">{{t.createApplication}}</button><a class="button secondary" href="/console/applications">{{t.cancel}}</a></div>
        </form>
        """

    static let application = """
        <p><a href="/console/applications">← {{t.applications}}</a></p>
        <h1>{{app.name}}</h1>
        <p class="lead">{{typeLabel}}{{#app.canManage}} · {{t.managementAccess}}{{/app.canManage}}</p>
        {{#created}}<p class="notice" role="status">{{t.appCreated}}</p>{{/created}}
        {{#secret}}
        <div class="secret" role="status">
        <p><strong>{{t.appSecret}}{{#secretName}} “{{secretName}}”{{/secretName}}</strong> · {{t.secretOnce}}</p>
        <p><code id="app-secret">{{secret}}</code> <button type="button" class="copy" data-copy="app-secret" data-copied="{{t.copied}}">{{t.copy}}</button></p>
        </div>
        {{/secret}}
        <div class="card">
        <dl class="values">
        <dt>{{t.appID}}</dt><dd><code id="app-id">{{app.id}}</code><button type="button" class="copy" data-copy="app-id" data-copied="{{t.copied}}">{{t.copy}}</button></dd>
        {{#isConfidential}}<dt>{{t.appSecret}}</dt><dd>{{#secret}}<span>{{t.secretAbove}}</span>{{/secret}}{{^secret}}<span class="muted">{{t.secretHidden}}</span>{{/secret}}
        <form method="post" action="/console/applications/{{app.id}}/secret"><input type="hidden" name="csrf_token" value="{{csrfToken}}"><button type="submit" class="secondary" data-confirm="{{t.confirmRotate}}">{{t.rotateSecret}}</button></form></dd>{{/isConfidential}}
        <dt>{{t.issuer}}</dt><dd><code id="app-issuer">{{issuer}}</code><button type="button" class="copy" data-copy="app-issuer" data-copied="{{t.copied}}">{{t.copy}}</button></dd>
        <dt>{{t.discoveryEndpoint}}</dt><dd><code id="app-discovery">{{discovery}}</code><button type="button" class="copy" data-copy="app-discovery" data-copied="{{t.copied}}">{{t.copy}}</button></dd>
        </dl>
        </div>
        {{#isConfidential}}
        <h2>{{t.secrets}}</h2>
        <p class="hint">{{t.secretsHint}}</p>
        <div class="table-wrap"><table>
        <thead><tr><th scope="col">{{t.name}}</th><th scope="col">{{t.createdAt}}</th><th scope="col">{{t.expires}}</th><th scope="col"><span class="muted">{{t.actions}}</span></th></tr></thead>
        <tbody>
        {{#hasLegacySecret}}<tr><td>{{t.originalSecret}}</td><td>—</td><td>{{t.never}}</td><td><form method="post" action="/console/applications/{{app.id}}/legacy-secret/delete"><input type="hidden" name="csrf_token" value="{{csrfToken}}"><button type="submit" class="link" data-confirm="{{t.confirmDelete}}">{{t.delete}}</button></form></td></tr>{{/hasLegacySecret}}
        {{#secrets}}<tr><td>{{name}}</td><td>{{created}}</td><td>{{expires}}{{#isExpired}} <span class="badge">{{t.expired}}</span>{{/isExpired}}</td><td><form method="post" action="/console/applications/{{app.id}}/secrets/{{encodedName}}/delete"><input type="hidden" name="csrf_token" value="{{csrfToken}}"><button type="submit" class="link" data-confirm="{{t.confirmDelete}}">{{t.delete}}</button></form></td></tr>{{/secrets}}
        </tbody>
        </table></div>
        <form method="post" action="/console/applications/{{app.id}}/secrets">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <label for="secretName">{{t.secretName}}</label>
        <input type="text" id="secretName" name="secretName" required maxlength="256" placeholder="production-2026">
        <label for="expiresInDays">{{t.expiresInDays}}</label>
        <input type="number" id="expiresInDays" name="expiresInDays" min="1" max="3650">
        {{#secretError}}<p class="error" role="alert">{{secretError}}</p>{{/secretError}}
        <div class="actions"><button type="submit" class="secondary">{{t.addSecret}}</button></div>
        </form>
        {{/isConfidential}}
        <h2>{{t.settings}}</h2>
        <form method="post" action="/console/applications/{{app.id}}">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <label for="name">{{t.applicationName}}</label>
        <input type="text" id="name" name="name" value="{{form.name}}" required maxlength="256">
        <label for="description">{{t.description}}</label>
        <input type="text" id="description" name="description" value="{{form.description}}">
        {{#hasRedirects}}
        <label for="redirectUris">{{t.redirectURIs}}</label>
        <textarea id="redirectUris" name="redirectUris" aria-describedby="redirect-hint">{{form.redirectUris}}</textarea>
        <p class="hint" id="redirect-hint">{{t.oneURIPerLine}} {{t.redirectHint}}</p>
        <label for="postLogoutRedirectUris">{{t.postLogoutRedirectURIs}}</label>
        <textarea id="postLogoutRedirectUris" name="postLogoutRedirectUris">{{form.postLogoutRedirectUris}}</textarea>
        <p class="hint">{{t.oneURIPerLine}}</p>
        {{/hasRedirects}}
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <div class="actions"><button type="submit">{{t.saveChanges}}</button></div>
        </form>
        <h2>{{t.integrationGuide}} · {{framework.name}}</h2>
        <p class="hint">{{t.otherGuides}} {{#guides}}<a href="/console/applications/{{app.id}}?guide={{id}}">{{name}}</a> {{/guides}}</p>
        {{{guide}}}
        <h2>{{t.dangerZone}}</h2>
        <form method="post" action="/console/applications/{{app.id}}/delete">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <p>{{t.deleteAppText}}</p>
        <button type="submit" class="danger" data-confirm="{{t.confirmDelete}}">{{t.deleteApplication}}</button>
        </form>
        """
}
