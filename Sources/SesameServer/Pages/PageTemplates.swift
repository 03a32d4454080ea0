/// The hosted pages' templates. Each page works without JavaScript, labels every field, and fits a
/// 360 px screen.
enum PageTemplates {
    static let all: [String: String] = [
        "layout": layout, "sign-in": signIn, "consent": consent, "error": error, "logout": logout,
        "signed-out": signedOut, "signed-in": signedIn, "email-form": emailForm, "code-form": codeForm,
        "message": message, "username-form": usernameForm, "verified-choice": verifiedChoice,
    ]

    static let layout = """
        <!doctype html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Sesame</title>
        <style>
        :root { color-scheme: {{colorScheme}}; --accent: {{primaryColor}}; --link: {{primaryColor}}; --danger: #c62828; }
        {{#isDarkModeEnabled}}@media (prefers-color-scheme: dark) {
          /* On a dark page the brand color is lightened for text, and errors are a light red: 4.5:1 or more. */
          :root { --link: color-mix(in srgb, {{primaryColor}} 40%, white); --danger: #ff8a80; }
        }{{/isDarkModeEnabled}}
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "PingFang SC", sans-serif;
               background: Canvas; color: CanvasText; }
        main { max-width: 420px; margin: 0 auto; padding: 48px 20px; }
        h1 { font-size: 1.5rem; margin: 0 0 8px; }
        p.lead { margin: 0 0 24px; opacity: .8; }
        label { display: block; font-weight: 600; margin: 16px 0 6px; }
        input[type=text], input[type=email], input[type=password] { width: 100%; padding: 12px; font-size: 1rem;
               border: 1px solid #8888; border-radius: 8px; background: Field; color: FieldText; }
        input:focus, button:focus { outline: 3px solid var(--link); outline-offset: 2px; }
        button { width: 100%; margin-top: 24px; padding: 12px; font-size: 1rem; font-weight: 600; border: 0;
                 border-radius: 8px; background: var(--accent); color: #fff; cursor: pointer; }
        button.secondary { background: transparent; color: CanvasText; border: 1px solid #8888; margin-top: 12px; }
        .error { color: var(--danger); background: color-mix(in srgb, var(--danger) 8%, transparent); border-radius: 8px;
                 padding: 10px 12px; margin: 16px 0 0; }
        ul.scopes { padding-left: 20px; }
        code { overflow-wrap: anywhere; }
        .links { margin-top: 20px; display: flex; flex-direction: column; gap: 8px; }
        .links a, footer a { color: var(--link); }
        .logo { max-height: 48px; margin-bottom: 16px; }
        footer { margin-top: 32px; font-size: .875rem; opacity: .8; display: flex; gap: 16px; }
        </style>
        </head>
        <body><main>
        {{#logoURL}}<img class="logo" src="{{logoURL}}" alt="{{appName}}">{{/logoURL}}
        {{{body}}}
        {{#hasLegal}}<footer>{{#termsURL}}<a href="{{termsURL}}">{{terms}}</a>{{/termsURL}}{{#privacyURL}}<a href="{{privacyURL}}">{{privacy}}</a>{{/privacyURL}}</footer>{{/hasLegal}}
        </main></body>
        </html>
        """

    static let signIn = """
        <h1>{{t.signIn}}</h1>
        <p class="lead">{{#appName}}{{t.signInTo}} <strong>{{appName}}</strong>{{/appName}}{{^appName}}{{t.signInToAccount}}{{/appName}}</p>
        {{#passwordEnabled}}
        <form method="post" action="/sign-in">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <label for="identifier">{{identifierLabel}}</label>
        <input type="text" id="identifier" name="identifier" value="{{identifier}}" autocomplete="username" autocapitalize="none" spellcheck="false" required{{^identifier}} autofocus{{/identifier}}{{#error}} aria-describedby="form-error" aria-invalid="true"{{/error}}>
        <label for="password">{{t.password}}</label>
        <input type="password" id="password" name="password" autocomplete="current-password" required{{#identifier}} autofocus{{/identifier}}>
        {{#error}}<p class="error" id="form-error" role="alert">{{error}}</p>{{/error}}
        <button type="submit">{{t.signIn}}</button>
        </form>
        {{/passwordEnabled}}
        {{^passwordEnabled}}{{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}{{/passwordEnabled}}
        <div class="links">
        {{#codeEnabled}}<a href="/sign-in/code">{{t.signInWithCode}}</a>{{/codeEnabled}}
        {{#forgotEnabled}}<a href="/forgot-password">{{t.forgotPassword}}</a>{{/forgotEnabled}}
        {{#signUpEnabled}}<a href="/register">{{t.createAccount}}</a>{{/signUpEnabled}}
        </div>
        {{#canCancel}}
        <form method="post" action="/sign-in/cancel">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <button type="submit" class="secondary">{{t.cancel}}</button>
        </form>
        {{/canCancel}}
        """

    /// Step one of the code flows: the address to send a code to.
    static let emailForm = """
        <h1>{{title}}</h1>
        {{#lead}}<p class="lead">{{lead}}</p>{{/lead}}
        <form method="post" action="{{action}}">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <label for="identifier">{{t.email}}</label>
        <input type="email" id="identifier" name="identifier" value="{{identifier}}" autocomplete="username" inputmode="email" autocapitalize="none" spellcheck="false" required autofocus{{#error}} aria-describedby="form-error" aria-invalid="true"{{/error}}>
        {{#error}}<p class="error" id="form-error" role="alert">{{error}}</p>{{/error}}
        <button type="submit">{{t.sendCode}}</button>
        </form>
        <div class="links">{{#backLink}}<a href="{{backLink}}">{{backText}}</a>{{/backLink}}{{#signUpLink}}<a href="/register">{{t.createAccount}}</a>{{/signUpLink}}</div>
        """

    /// Step two: the code (and, where the flow needs them, a new password and a name).
    static let codeForm = """
        <h1>{{title}}</h1>
        <p class="lead">{{t.codeSentTo}} <strong>{{identifier}}</strong></p>
        <form method="post" action="{{action}}">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <input type="hidden" name="identifier" value="{{identifier}}">
        <label for="code">{{t.code}}</label>
        <input type="text" id="code" name="code" inputmode="numeric" pattern="[0-9 ]*" maxlength="8" autocomplete="one-time-code" required autofocus{{#codeError}} aria-describedby="code-error" aria-invalid="true"{{/codeError}}>
        {{#codeError}}<p class="error" id="code-error" role="alert">{{codeError}}</p>{{/codeError}}
        {{#askPassword}}
        <label for="newPassword">{{passwordLabel}}</label>
        <input type="password" id="newPassword" name="newPassword" autocomplete="new-password" required{{#passwordError}} aria-describedby="password-error" aria-invalid="true"{{/passwordError}}>
        {{#passwordError}}<p class="error" id="password-error" role="alert">{{passwordError}}</p>{{/passwordError}}
        {{/askPassword}}
        {{#askName}}
        <label for="name">{{t.name}}</label>
        <input type="text" id="name" name="name" value="{{name}}" autocomplete="name">
        {{/askName}}
        <button type="submit">{{t.submit}}</button>
        </form>
        <form method="post" action="{{resendAction}}">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <input type="hidden" name="identifier" value="{{identifier}}">
        <button type="submit" class="secondary">{{t.resend}}</button>
        </form>
        <div class="links"><a href="/sign-in">{{t.back}}</a></div>
        """

    /// After a code proved the address: no account uses it (create one, no second code) or one does (sign in
    /// instead). Only the person who proved the address learns which.
    static let verifiedChoice = """
        <h1>{{title}}</h1>
        <p class="lead">{{lead}} <strong>{{identifier}}</strong></p>
        {{#action}}
        <form method="post" action="{{action}}">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <input type="hidden" name="identifier" value="{{identifier}}">
        {{#askPassword}}
        <label for="newPassword">{{t.password}}</label>
        <input type="password" id="newPassword" name="newPassword" autocomplete="new-password" required autofocus{{#passwordError}} aria-describedby="password-error" aria-invalid="true"{{/passwordError}}>
        {{#passwordError}}<p class="error" id="password-error" role="alert">{{passwordError}}</p>{{/passwordError}}
        {{/askPassword}}
        {{#askName}}
        <label for="name">{{t.name}}</label>
        <input type="text" id="name" name="name" value="{{name}}" autocomplete="name">
        {{/askName}}
        <button type="submit">{{buttonText}}</button>
        </form>
        {{/action}}
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <div class="links">{{#altLink}}<a href="{{altLink}}">{{altText}}</a>{{/altLink}}<a href="/sign-in">{{t.back}}</a></div>
        """

    /// Registration by username: no address to verify, a username and a password.
    static let usernameForm = """
        <h1>{{title}}</h1>
        <form method="post" action="/register/username">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <label for="username">{{t.username}}</label>
        <input type="text" id="username" name="username" value="{{username}}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus aria-describedby="username-hint{{#usernameError}} username-error{{/usernameError}}"{{#usernameError}} aria-invalid="true"{{/usernameError}}>
        <p class="hint" id="username-hint">{{t.usernameRules}}</p>
        {{#usernameError}}<p class="error" id="username-error" role="alert">{{usernameError}}</p>{{/usernameError}}
        <label for="newPassword">{{t.password}}</label>
        <input type="password" id="newPassword" name="newPassword" autocomplete="new-password" required{{#passwordError}} aria-describedby="password-error" aria-invalid="true"{{/passwordError}}>
        {{#passwordError}}<p class="error" id="password-error" role="alert">{{passwordError}}</p>{{/passwordError}}
        <label for="name">{{t.name}}</label>
        <input type="text" id="name" name="name" value="{{name}}" autocomplete="name">
        <button type="submit">{{t.register}}</button>
        </form>
        <div class="links"><a href="/sign-in">{{lead}} {{t.signIn}}</a></div>
        """

    static let message = """
        <h1>{{title}}</h1>
        <p class="lead">{{lead}}</p>
        {{#link}}<div class="links"><a href="{{link}}">{{linkText}}</a></div>{{/link}}
        """

    static let consent = """
        <h1>{{t.authorize}} {{appName}}</h1>
        <p class="lead"><strong>{{appName}}</strong> {{t.isAsking}}</p>
        <ul class="scopes">
        {{#scopes}}<li>{{.}}</li>{{/scopes}}
        </ul>
        <form method="post" action="/consent">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <button type="submit" name="decision" value="allow">{{t.allow}}</button>
        <button type="submit" name="decision" value="deny" class="secondary">{{t.deny}}</button>
        </form>
        """

    static let error = """
        <h1>{{t.errorTitle}}</h1>
        <p class="error" role="alert">{{description}}</p>
        <p>{{t.errorCode}}: <code>{{code}}</code></p>
        """

    static let logout = """
        <h1>{{t.signOut}}</h1>
        {{#clientName}}<p class="lead"><strong>{{clientName}}</strong></p>{{/clientName}}
        <p class="lead">{{t.signOutQuestion}}</p>
        <form method="post" action="/oidc/session/end/confirm">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        {{#clientID}}<input type="hidden" name="client_id" value="{{clientID}}">{{/clientID}}
        {{#postLogoutRedirectURI}}<input type="hidden" name="post_logout_redirect_uri" value="{{postLogoutRedirectURI}}">{{/postLogoutRedirectURI}}
        {{#state}}<input type="hidden" name="state" value="{{state}}">{{/state}}
        <button type="submit" name="logout" value="yes">{{t.signOut}}</button>
        </form>
        """

    static let signedOut = """
        <h1>{{t.signedOut}}</h1>
        <p class="lead">{{t.signedOutLead}}</p>
        """

    static let signedIn = """
        <h1>{{t.signedIn}}</h1>
        <p class="lead">{{t.signedInLead}}</p>
        """
}
