extension ConsoleTemplates {
    static let peopleTemplates: [String: String] = [
        "users": users, "user": user, "audit-log": auditLog,
    ]

    static let users = """
        <h1>{{t.users}}</h1>
        <p class="lead">{{t.usersLead}}</p>
        <form method="get" action="/console/users" role="search" class="actions">
        <label for="search" class="inline">{{t.search}}</label>
        <input type="search" id="search" name="search" value="{{search}}" placeholder="{{t.searchHint}}">
        <button type="submit" class="secondary">{{t.search}}</button>
        </form>
        <p class="muted">{{total}} {{t.countUsers}}</p>
        {{#hasUsers}}
        <div class="table-wrap"><table>
        <thead><tr><th scope="col">{{t.user}}</th><th scope="col">{{t.email}}</th><th scope="col">{{t.username}}</th><th scope="col">{{t.lastSignIn}}</th></tr></thead>
        <tbody>
        {{#users}}<tr><td><a href="/console/users/{{id}}">{{display}}</a>{{#isSuspended}} <span class="badge">{{t.suspended}}</span>{{/isSuspended}}</td><td>{{email}}</td><td>{{username}}</td><td>{{lastSignIn}}</td></tr>{{/users}}
        </tbody>
        </table></div>
        {{/hasUsers}}
        <nav class="pager" aria-label="{{t.pages}}">{{#previous}}<a href="{{previous}}">← {{t.previous}}</a>{{/previous}}<span>{{t.page}} {{page}} / {{pageCount}}</span>{{#next}}<a href="{{next}}">{{t.next}} →</a>{{/next}}</nav>
        <h2>{{t.createUser}}</h2>
        <form method="post" action="/console/users">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <label for="primaryEmail">{{t.email}}</label>
        <input type="email" id="primaryEmail" name="primaryEmail" value="{{form.primaryEmail}}" autocomplete="off">
        <label for="username">{{t.username}}</label>
        <input type="text" id="username" name="username" value="{{form.username}}" autocomplete="off" autocapitalize="none">
        <label for="name">{{t.name}}</label>
        <input type="text" id="name" name="name" value="{{form.name}}" autocomplete="off">
        <label for="password">{{t.initialPassword}}</label>
        <input type="password" id="password" name="password" autocomplete="new-password">
        <p class="hint">{{t.initialPasswordHint}}</p>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <div class="actions"><button type="submit">{{t.createUser}}</button></div>
        </form>
        """

    static let user = """
        <p><a href="/console/users">← {{t.users}}</a></p>
        <h1>{{display}}</h1>
        <p class="lead"><code>{{profile.id}}</code>{{#profile.isSuspended}} · <span class="badge">{{t.suspended}}</span>{{/profile.isSuspended}}</p>
        <dl class="values card">
        <dt>{{t.createdAt}}</dt><dd>{{createdAt}}</dd>
        <dt>{{t.lastSignIn}}</dt><dd>{{lastSignIn}}</dd>
        <dt>{{t.password}}</dt><dd>{{#hasPassword}}{{t.passwordSet}}{{/hasPassword}}{{^hasPassword}}{{t.passwordNotSet}}{{/hasPassword}}</dd>
        </dl>
        <h2>{{t.profile}}</h2>
        <form method="post" action="/console/users/{{profile.id}}">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <label for="primaryEmail">{{t.email}}</label>
        <input type="email" id="primaryEmail" name="primaryEmail" value="{{form.primaryEmail}}" autocomplete="off">
        <label for="username">{{t.username}}</label>
        <input type="text" id="username" name="username" value="{{form.username}}" autocomplete="off" autocapitalize="none">
        <label for="primaryPhone">{{t.phone}}</label>
        <input type="text" id="primaryPhone" name="primaryPhone" value="{{form.primaryPhone}}" autocomplete="off" inputmode="tel">
        <label for="name">{{t.name}}</label>
        <input type="text" id="name" name="name" value="{{form.name}}" autocomplete="off">
        <label for="avatar">{{t.avatar}}</label>
        <input type="url" id="avatar" name="avatar" value="{{form.avatar}}" placeholder="https://">
        {{#profileError}}<p class="error" role="alert">{{profileError}}</p>{{/profileError}}
        <div class="actions"><button type="submit">{{t.saveChanges}}</button></div>
        </form>
        <h2>{{t.resetPassword}}</h2>
        <form method="post" action="/console/users/{{profile.id}}/password">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <label for="newPassword">{{t.newPassword}}</label>
        <input type="password" id="newPassword" name="newPassword" autocomplete="new-password" required>
        <p class="hint">{{t.resetPasswordHint}}</p>
        {{#passwordError}}<p class="error" role="alert">{{passwordError}}</p>{{/passwordError}}
        <div class="actions"><button type="submit" class="secondary">{{t.resetPassword}}</button></div>
        </form>
        <h2>{{t.dangerZone}}</h2>
        <form method="post" action="/console/users/{{profile.id}}/{{#profile.isSuspended}}reactivate{{/profile.isSuspended}}{{^profile.isSuspended}}suspend{{/profile.isSuspended}}">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <p>{{#profile.isSuspended}}{{t.reactivateText}}{{/profile.isSuspended}}{{^profile.isSuspended}}{{t.suspendText}}{{/profile.isSuspended}}</p>
        <button type="submit" class="secondary">{{#profile.isSuspended}}{{t.reactivate}}{{/profile.isSuspended}}{{^profile.isSuspended}}{{t.suspend}}{{/profile.isSuspended}}</button>
        </form>
        <form method="post" action="/console/users/{{profile.id}}/delete">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <div class="actions"><button type="submit" class="danger" data-confirm="{{t.confirmDelete}}">{{t.deleteUser}}</button></div>
        </form>
        <h2>{{t.auditLog}}</h2>
        <p><a href="/console/audit-log?userId={{profile.id}}">{{t.userActivity}}</a></p>
        """

    static let auditLog = """
        <h1>{{t.auditLog}}</h1>
        <p class="lead">{{t.auditLead}}</p>
        <form method="get" action="/console/audit-log">
        <div class="filters">
        <div><label for="logKey">{{t.eventKind}}</label><select id="logKey" name="logKey">{{#kinds}}<option value="{{value}}"{{#isSelected}} selected{{/isSelected}}>{{label}}</option>{{/kinds}}</select></div>
        <div><label for="userId">{{t.userID}}</label><input type="text" id="userId" name="userId" value="{{filters.userId}}"></div>
        <div><label for="applicationId">{{t.appID}}</label><input type="text" id="applicationId" name="applicationId" value="{{filters.applicationId}}"></div>
        <div><label for="from">{{t.from}}</label><input type="datetime-local" id="from" name="from" value="{{filters.from}}"></div>
        <div><label for="to">{{t.to}}</label><input type="datetime-local" id="to" name="to" value="{{filters.to}}"></div>
        </div>
        <p class="hint">{{t.timesUTC}}</p>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <div class="actions"><button type="submit" class="secondary">{{t.filter}}</button><a href="/console/audit-log">{{t.clearFilters}}</a></div>
        </form>
        <p class="muted">{{total}} {{t.countEvents}}</p>
        <div class="table-wrap"><table>
        <thead><tr><th scope="col">{{t.time}}</th><th scope="col">{{t.eventKind}}</th><th scope="col">{{t.user}}</th><th scope="col">{{t.application}}</th><th scope="col">IP</th><th scope="col">{{t.details}}</th></tr></thead>
        <tbody>
        {{#events}}<tr><td>{{time}}</td><td><code>{{key}}</code></td><td>{{#userID}}<a href="/console/users/{{userID}}">{{userID}}</a>{{/userID}}</td><td>{{#applicationID}}<a href="/console/applications/{{applicationID}}">{{applicationID}}</a>{{/applicationID}}</td><td>{{ip}}</td><td><code>{{payload}}</code></td></tr>{{/events}}
        </tbody>
        </table></div>
        <nav class="pager" aria-label="{{t.pages}}">{{#previous}}<a href="{{previous}}">← {{t.previous}}</a>{{/previous}}<span>{{t.page}} {{page}} / {{pageCount}}</span>{{#next}}<a href="{{next}}">{{t.next}} →</a>{{/next}}</nav>
        """
}
