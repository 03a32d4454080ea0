import SesameOIDC
import SesameStorage

/// The framework cards of the Console's "Create application" page and the integration guide each one
/// shows on the application's page, filled in with this server's values.
struct Framework: Sendable {
    let id: String
    let name: String
    let type: ApplicationType
    /// Suggested redirect and post sign-out URIs, editable before the app is created.
    let redirectURI: String?
    let postLogoutRedirectURI: String?
    /// The guide template (`guide-...`).
    let guide: String

    static let all: [Framework] = [
        Framework(id: "authjs", name: "Auth.js (Next Auth)", type: .traditional,
                  redirectURI: "http://localhost:3000/api/auth/callback/logto",
                  postLogoutRedirectURI: "http://localhost:3000", guide: "guide-authjs"),
        Framework(id: "express", name: "Express (openid-client)", type: .traditional,
                  redirectURI: "http://localhost:3000/callback", postLogoutRedirectURI: "http://localhost:3000",
                  guide: "guide-express"),
        Framework(id: "flask", name: "Python Flask (Authlib)", type: .traditional,
                  redirectURI: "http://localhost:5000/callback", postLogoutRedirectURI: "http://localhost:5000",
                  guide: "guide-flask"),
        Framework(id: "web", name: "Other traditional web app", type: .traditional, redirectURI: nil,
                  postLogoutRedirectURI: nil, guide: "guide-generic"),
        Framework(id: "react", name: "React (oidc-client-ts)", type: .spa,
                  redirectURI: "http://localhost:5173/callback", postLogoutRedirectURI: "http://localhost:5173",
                  guide: "guide-spa"),
        Framework(id: "spa", name: "Other single-page app", type: .spa, redirectURI: nil, postLogoutRedirectURI: nil,
                  guide: "guide-generic"),
        Framework(id: "appauth-ios", name: "iOS (AppAuth)", type: .native,
                  redirectURI: "com.example.app://callback", postLogoutRedirectURI: "com.example.app://signed-out",
                  guide: "guide-native"),
        Framework(id: "appauth-android", name: "Android (AppAuth)", type: .native,
                  redirectURI: "com.example.app://callback", postLogoutRedirectURI: "com.example.app://signed-out",
                  guide: "guide-native"),
        Framework(id: "m2m", name: "Machine-to-machine", type: .machineToMachine, redirectURI: nil,
                  postLogoutRedirectURI: nil, guide: "guide-m2m"),
    ]

    static func find(_ id: String?) -> Framework? {
        all.first { $0.id == id }
    }

    /// The guide for an app created without a card (CLI or API).
    static func standard(for type: ApplicationType) -> Framework {
        switch type {
        case .traditional: all[0]
        case .spa: all[4]
        case .native: all[6]
        case .machineToMachine: all[8]
        }
    }
}

/// The integration guides. Values come escaped from the model; `{{{...}}}` is never used here.
enum GuideTemplates {
    static let all: [String: String] = [
        "guide-authjs": authJS, "guide-express": express, "guide-flask": flask, "guide-generic": generic,
        "guide-spa": spa, "guide-native": native, "guide-m2m": m2m,
    ]

    static let authJS = """
        <ol class="guide">
        <li><p>{{t.guideInstall}}</p><pre><code>npm i next-auth@beta</code></pre></li>
        <li><p>{{t.guideEnv}} <code>.env.local</code>:</p>
        <pre><code id="guide-env">AUTH_LOGTO_ISSUER={{issuer}}
        AUTH_LOGTO_ID={{appID}}
        AUTH_LOGTO_SECRET={{secretOrPlaceholder}}</code></pre>
        <button type="button" class="copy" data-copy="guide-env" data-copied="{{t.copied}}">{{t.copy}}</button></li>
        <li><p>{{t.guideAuthJSConfig}} <code>auth.ts</code>:</p>
        <pre><code>import NextAuth from 'next-auth';
        import Logto from 'next-auth/providers/logto';

        export const { handlers, signIn, signOut, auth } = NextAuth({
          providers: [Logto],
        });</code></pre>
        <p>{{t.guideAuthJSRoute}} <code>app/api/auth/[...nextauth]/route.ts</code>:</p>
        <pre><code>import { handlers } from '@/auth';
        export const { GET, POST } = handlers;</code></pre></li>
        <li><p>{{t.guideRedirect}}</p><pre><code>{{redirectURI}}</code></pre></li>
        <li><p>{{t.guideAuthJSv4}}</p>
        <pre><code>{
          id: 'logto',
          name: 'Logto',
          type: 'oauth',
          wellKnown: '{{discovery}}',
          authorization: { params: { scope: 'openid offline_access profile email' } },
          clientId: '{{appID}}',
          clientSecret: '{{secretOrPlaceholder}}',
          client: { id_token_signed_response_alg: 'ES384' },
          profile(profile) {
            return { id: profile.sub, name: profile.name ?? profile.username,
                     email: profile.email, image: profile.picture };
          },
        }</code></pre></li>
        <li><p>{{t.guideCheckpoint}}</p></li>
        </ol>
        """

    static let express = """
        <ol class="guide">
        <li><pre><code>npm i express express-session openid-client</code></pre></li>
        <li><pre><code>import * as client from 'openid-client';

        const config = await client.discovery(
          new URL('{{issuer}}'), '{{appID}}', '{{secretOrPlaceholder}}');
        // Sign in: build the URL with PKCE (S256) and redirect to it.
        const verifier = client.randomPKCECodeVerifier();
        const url = client.buildAuthorizationUrl(config, {
          redirect_uri: '{{redirectURI}}',
          scope: 'openid profile email offline_access',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        });
        // Callback: exchange the code; tokens.claims() is the verified ID token.
        const tokens = await client.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: verifier });</code></pre></li>
        <li><p>{{t.guideRedirect}}</p><pre><code>{{redirectURI}}</code></pre></li>
        </ol>
        """

    static let flask = """
        <ol class="guide">
        <li><pre><code>pip install flask authlib requests</code></pre></li>
        <li><pre><code>from authlib.integrations.flask_client import OAuth

        oauth = OAuth(app)
        oauth.register(
            'sesame',
            client_id='{{appID}}',
            client_secret='{{secretOrPlaceholder}}',
            server_metadata_url='{{discovery}}',
            client_kwargs={'scope': 'openid profile email offline_access',
                           'code_challenge_method': 'S256'},
        )

        @app.route('/sign-in')
        def sign_in():
            return oauth.sesame.authorize_redirect('{{redirectURI}}')

        @app.route('/callback')
        def callback():
            token = oauth.sesame.authorize_access_token()  # verifies the ES384 ID token
            session['user'] = token['userinfo']
            return redirect('/')</code></pre></li>
        <li><p>{{t.guideRedirect}}</p><pre><code>{{redirectURI}}</code></pre></li>
        </ol>
        """

    static let generic = """
        <p>{{t.guideGeneric}}</p>
        <dl class="values">
        <dt>{{t.discoveryEndpoint}}</dt><dd><code>{{discovery}}</code></dd>
        <dt>{{t.issuer}}</dt><dd><code>{{issuer}}</code></dd>
        <dt>{{t.appID}}</dt><dd><code>{{appID}}</code></dd>
        {{#isConfidential}}<dt>{{t.appSecret}}</dt><dd><code>{{secretOrPlaceholder}}</code></dd>{{/isConfidential}}
        <dt>{{t.guideFlow}}</dt><dd>{{t.guideFlowValue}}</dd>
        </dl>
        """

    static let spa = """
        <ol class="guide">
        <li><pre><code>npm i oidc-client-ts</code></pre></li>
        <li><pre><code>import { UserManager } from 'oidc-client-ts';

        const users = new UserManager({
          authority: '{{issuer}}',
          client_id: '{{appID}}',
          redirect_uri: '{{redirectURI}}',
          post_logout_redirect_uri: '{{postLogoutRedirectURI}}',
          scope: 'openid profile email offline_access',
        });
        await users.signinRedirect();           // sign in (PKCE S256 is automatic)
        const user = await users.signinCallback(); // on the callback page</code></pre></li>
        <li><p>{{t.guidePublic}}</p></li>
        </ol>
        """

    static let native = """
        <p>{{t.guideNative}}</p>
        <dl class="values">
        <dt>{{t.discoveryEndpoint}}</dt><dd><code>{{discovery}}</code></dd>
        <dt>Client ID</dt><dd><code>{{appID}}</code></dd>
        <dt>{{t.redirectURIs}}</dt><dd><code>{{redirectURI}}</code></dd>
        <dt>{{t.guideFlow}}</dt><dd>{{t.guideFlowValue}}</dd>
        </dl>
        <p>{{t.guidePublic}}</p>
        """

    static let m2m = """
        <p>{{t.guideM2M}}</p>
        <pre><code id="guide-m2m">curl -u '{{appID}}:{{secretOrPlaceholder}}' {{issuer}}/token \\
          -d grant_type=client_credentials \\
          -d resource=https://api.example.com -d scope='read:books'</code></pre>
        <button type="button" class="copy" data-copy="guide-m2m" data-copied="{{t.copied}}">{{t.copy}}</button>
        """
}
