/// The hosted pages' templates. Each page works without JavaScript, labels every field, and fits a
/// 360 px screen.
enum PageTemplates {
    static let all: [String: String] = [
        "layout": layout, "sign-in": signIn, "consent": consent, "error": error, "logout": logout,
        "signed-out": signedOut, "signed-in": signedIn,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Sesame</title>
        <style>
        :root { color-scheme: light dark; --accent: #5d34f2; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "PingFang SC", sans-serif;
               background: Canvas; color: CanvasText; }
        main { max-width: 420px; margin: 0 auto; padding: 48px 20px; }
        h1 { font-size: 1.5rem; margin: 0 0 8px; }
        p.lead { margin: 0 0 24px; opacity: .8; }
        label { display: block; font-weight: 600; margin: 16px 0 6px; }
        input[type=text], input[type=email], input[type=password] { width: 100%; padding: 12px; font-size: 1rem;
               border: 1px solid #8888; border-radius: 8px; background: Field; color: FieldText; }
        input:focus, button:focus { outline: 3px solid var(--accent); outline-offset: 2px; }
        button { width: 100%; margin-top: 24px; padding: 12px; font-size: 1rem; font-weight: 600; border: 0;
                 border-radius: 8px; background: var(--accent); color: #fff; cursor: pointer; }
        button.secondary { background: transparent; color: CanvasText; border: 1px solid #8888; margin-top: 12px; }
        .error { color: #c62828; background: #c6282814; border-radius: 8px; padding: 10px 12px; margin: 16px 0 0; }
        ul.scopes { padding-left: 20px; }
        code { overflow-wrap: anywhere; }
        </style>
        </head>
        <body><main>
        {{{body}}}
        </main></body>
        </html>
        """

    static let signIn = """
        <h1>Sign in</h1>
        <p class="lead">{{#appName}}to continue to <strong>{{appName}}</strong>{{/appName}}{{^appName}}to your account{{/appName}}</p>
        <form method="post" action="/sign-in">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <label for="identifier">Username or email</label>
        <input type="text" id="identifier" name="identifier" value="{{identifier}}" autocomplete="username" autocapitalize="none" spellcheck="false" required{{^identifier}} autofocus{{/identifier}}{{#error}} aria-describedby="form-error"{{/error}}>
        <label for="password">Password</label>
        <input type="password" id="password" name="password" autocomplete="current-password" required{{#identifier}} autofocus{{/identifier}}>
        {{#error}}<p class="error" id="form-error" role="alert">{{error}}</p>{{/error}}
        <button type="submit">Sign in</button>
        </form>
        {{#canCancel}}
        <form method="post" action="/sign-in/cancel">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <button type="submit" class="secondary">Cancel</button>
        </form>
        {{/canCancel}}
        """

    static let consent = """
        <h1>Authorize {{appName}}</h1>
        <p class="lead"><strong>{{appName}}</strong> is asking to:</p>
        <ul class="scopes">
        {{#scopes}}<li>{{.}}</li>{{/scopes}}
        </ul>
        <form method="post" action="/consent">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <button type="submit" name="decision" value="allow">Allow</button>
        <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
        </form>
        """

    static let error = """
        <h1>Something went wrong</h1>
        <p class="error" role="alert">{{description}}</p>
        <p>Error code: <code>{{code}}</code></p>
        """

    static let logout = """
        <h1>Sign out</h1>
        <p class="lead">Do you want to sign out{{#clientName}} of <strong>{{clientName}}</strong> and{{/clientName}} of this account?</p>
        <form method="post" action="/oidc/session/end/confirm">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        {{#clientID}}<input type="hidden" name="client_id" value="{{clientID}}">{{/clientID}}
        {{#postLogoutRedirectURI}}<input type="hidden" name="post_logout_redirect_uri" value="{{postLogoutRedirectURI}}">{{/postLogoutRedirectURI}}
        {{#state}}<input type="hidden" name="state" value="{{state}}">{{/state}}
        <button type="submit" name="logout" value="yes">Sign out</button>
        </form>
        """

    static let signedOut = """
        <h1>Signed out</h1>
        <p class="lead">You have signed out. You can close this window.</p>
        """

    static let signedIn = """
        <h1>Signed in</h1>
        <p class="lead">You are signed in. You can return to your application.</p>
        """
}
