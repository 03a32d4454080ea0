/// The Console's page templates (Mustache). Every value is escaped (`{{...}}`); only the rendered body,
/// the rendered guide and the README, which the server escaped itself, go in with `{{{...}}}`.
enum ConsoleTemplates {
    static var all: [String: String] {
        var templates: [String: String] = [
            "layout": layout, "setup": setup, "sign-in": signIn, "message": message, "home": home,
        ]
        for (name, source) in applicationTemplates { templates[name] = source }
        for (name, source) in settingsTemplates { templates[name] = source }
        for (name, source) in peopleTemplates { templates[name] = source }
        for (name, source) in GuideTemplates.all { templates[name] = source }
        return templates
    }

    static let layout = """
        <!doctype html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · {{t.console}}</title>
        <link rel="stylesheet" href="/console/assets/console.css">
        <script src="/console/assets/console.js" defer></script>
        </head>
        <body>
        <header class="top">
        <a class="brand" href="/console">Sesame {{t.console}}</a>
        <nav class="lang" aria-label="{{t.language}}">{{#languages}}<a href="/console/language?lang={{code}}&amp;next={{next}}" hreflang="{{code}}"{{#isCurrent}} aria-current="true"{{/isCurrent}}>{{label}}</a>{{/languages}}</nav>
        {{#administrator}}
        <form method="post" action="/console/sign-out">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <span class="muted">{{administrator.username}}</span>
        <button type="submit" class="link">{{t.signOut}}</button>
        </form>
        {{/administrator}}
        </header>
        {{#administrator}}
        <div class="shell">
        <nav class="side" aria-label="{{t.sections}}">
        {{#sections}}<a href="{{path}}"{{#isCurrent}} aria-current="page"{{/isCurrent}}>{{label}}</a>{{/sections}}
        </nav>
        <main id="main">
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{{body}}}
        </main>
        </div>
        {{/administrator}}
        {{^administrator}}
        <main id="main" class="narrow">
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{{body}}}
        </main>
        {{/administrator}}
        </body>
        </html>
        """

    static let setup = """
        <h1>{{t.setupTitle}}</h1>
        <p class="lead">{{t.setupLead}}</p>
        <form method="post" action="/console/setup">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <input type="hidden" name="token" value="{{token}}">
        <label for="username">{{t.username}}</label>
        <input type="text" id="username" name="username" value="{{username}}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
        <label for="password">{{t.password}}</label>
        <input type="password" id="password" name="password" autocomplete="new-password" required aria-describedby="password-hint">
        <p class="hint" id="password-hint">{{t.adminPasswordHint}}</p>
        <label for="confirm">{{t.confirmPassword}}</label>
        <input type="password" id="confirm" name="confirm" autocomplete="new-password" required>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <div class="actions"><button type="submit">{{t.createAdmin}}</button></div>
        </form>
        """

    static let signIn = """
        <h1>{{t.signInTitle}}</h1>
        <p class="lead">{{t.signInLead}}</p>
        {{#needsSetup}}<p class="notice">{{t.needsSetup}}</p>{{/needsSetup}}
        <form method="post" action="/console/sign-in">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <input type="hidden" name="next" value="{{next}}">
        <label for="username">{{t.username}}</label>
        <input type="text" id="username" name="username" value="{{username}}" autocomplete="username" autocapitalize="none" spellcheck="false" required{{^username}} autofocus{{/username}}>
        <label for="password">{{t.password}}</label>
        <input type="password" id="password" name="password" autocomplete="current-password" required{{#username}} autofocus{{/username}}>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <div class="actions"><button type="submit">{{t.signIn}}</button></div>
        </form>
        """

    static let message = """
        <h1>{{heading}}</h1>
        <p class="lead">{{text}}</p>
        {{#link}}<p><a class="button" href="{{link.path}}">{{link.label}}</a></p>{{/link}}
        """

    static let home = """
        <h1>{{t.getStarted}}</h1>
        <p class="lead">{{t.homeLead}}</p>
        <div class="card">
        <dl class="values">
        <dt>{{t.issuer}}</dt><dd><code id="home-issuer">{{issuer}}</code><button type="button" class="copy" data-copy="home-issuer" data-copied="{{t.copied}}">{{t.copy}}</button></dd>
        <dt>{{t.discoveryEndpoint}}</dt><dd><code id="home-discovery">{{discovery}}</code><button type="button" class="copy" data-copy="home-discovery" data-copied="{{t.copied}}">{{t.copy}}</button></dd>
        </dl>
        </div>
        <ol class="guide">
        <li><p><strong>{{t.stepApp}}</strong> · {{applicationCount}} {{t.countApplications}}</p><p>{{t.stepAppText}}</p><a class="button" href="/console/applications/new">{{t.createApplication}}</a></li>
        <li><p><strong>{{t.stepConnector}}</strong> · {{#emailConnector}}<span class="badge on">{{emailConnector}}</span>{{/emailConnector}}{{^emailConnector}}<span class="badge">{{t.devConsoleOnly}}</span>{{/emailConnector}}</p><p>{{t.stepConnectorText}}</p><a class="button secondary" href="/console/connectors">{{t.connectors}}</a></li>
        <li><p><strong>{{t.stepExperience}}</strong></p><p>{{t.stepExperienceText}}</p><a class="button secondary" href="/console/sign-in-experience">{{t.signInExperience}}</a></li>
        <li><p><strong>{{t.stepUsers}}</strong> · {{userCount}} {{t.countUsers}}</p><p>{{t.stepUsersText}}</p><a class="button secondary" href="/console/users">{{t.users}}</a></li>
        </ol>
        """
}
