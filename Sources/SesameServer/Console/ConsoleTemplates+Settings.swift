extension ConsoleTemplates {
    static let settingsTemplates: [String: String] = [
        "connectors": connectors, "connector": connector, "sign-in-experience": signInExperience,
        "resources": resources, "resource": resource,
    ]

    static let connectors = """
        <h1>{{t.connectors}}</h1>
        <p class="lead">{{t.connectorsLead}}</p>
        <h2>{{t.emailConnectors}}</h2>
        {{^hasEnabled}}<p class="notice">{{t.noConnectorEnabled}}</p>{{/hasEnabled}}
        <div class="cards">
        {{#connectors}}<a href="/console/connectors/{{id}}" data-connector="{{id}}"><strong>{{name}}</strong><span>{{description}}</span><br>{{#isEnabled}}<span class="badge on">{{t.enabled}}</span>{{/isEnabled}}{{^isEnabled}}{{#isConfigured}}<span class="badge">{{t.configured}}</span>{{/isConfigured}}{{^isConfigured}}<span class="badge">{{t.setUp}}</span>{{/isConfigured}}{{/isEnabled}}</a>{{/connectors}}
        </div>
        <h2>{{t.smsConnectors}}</h2>
        <p class="muted">{{t.noSMSConnectors}}</p>
        """

    static let connector = """
        <p><a href="/console/connectors">← {{t.connectors}}</a></p>
        <h1>{{name}}</h1>
        <p class="lead">{{description}} · {{#isEnabled}}<span class="badge on">{{t.enabled}}</span>{{/isEnabled}}{{^isEnabled}}<span class="badge">{{t.disabled}}</span>{{/isEnabled}}</p>
        <div class="readme">{{{readme}}}</div>
        <form method="post" action="/console/connectors/{{id}}" id="connector-form">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <h2>{{t.parameters}}</h2>
        {{#fields}}
        <label for="field-{{key}}">{{label}} <code>{{key}}</code>{{#isOptional}} <span class="muted">({{t.optional}})</span>{{/isOptional}}</label>
        {{#isText}}<input type="text" id="field-{{key}}" name="config.{{key}}" value="{{value}}"{{^isOptional}} required{{/isOptional}} autocomplete="off" spellcheck="false">{{/isText}}
        {{#isSecret}}<input type="password" id="field-{{key}}" name="config.{{key}}" value="" autocomplete="new-password" placeholder="{{#hasValue}}{{t.secretKept}}{{/hasValue}}"{{^hasValue}}{{^isOptional}} required{{/isOptional}}{{/hasValue}}>{{/isSecret}}
        {{#isNumber}}<input type="number" id="field-{{key}}" name="config.{{key}}" value="{{value}}" min="1" max="65535">{{/isNumber}}
        {{#isSelect}}<select id="field-{{key}}" name="config.{{key}}">{{#options}}<option value="{{value}}"{{#isSelected}} selected{{/isSelected}}>{{label}}</option>{{/options}}</select>{{/isSelect}}
        {{#isMultiline}}<textarea id="field-{{key}}" name="config.{{key}}" spellcheck="false">{{value}}</textarea>{{/isMultiline}}
        {{#isTemplates}}<textarea class="tall" id="field-{{key}}" name="config.{{key}}" spellcheck="false" aria-describedby="templates-hint">{{value}}</textarea>
        <p class="hint" id="templates-hint">{{t.templatesHint}}</p>{{/isTemplates}}
        {{/fields}}
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        {{#tested}}<p class="notice" role="status">{{tested}}</p>{{/tested}}
        <h2>{{t.testConnector}}</h2>
        <p class="hint">{{t.testHint}}</p>
        <label for="testAddress">{{t.testAddress}}</label>
        <input type="email" id="testAddress" name="testAddress" value="{{testAddress}}" autocomplete="email">
        <div class="actions">
        <button type="submit" class="secondary" formaction="/console/connectors/{{id}}/test" id="test-button">{{t.sendTest}}</button>
        <button type="submit" id="save-button">{{t.saveChanges}}</button>
        </div>
        </form>
        {{#isConfigured}}
        <h2>{{t.status}}</h2>
        <form method="post" action="/console/connectors/{{id}}/{{#isEnabled}}disable{{/isEnabled}}{{^isEnabled}}enable{{/isEnabled}}">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <p>{{#isEnabled}}{{t.enabledText}}{{/isEnabled}}{{^isEnabled}}{{t.disabledText}}{{/isEnabled}}</p>
        {{#isEnabled}}<button type="submit" class="secondary" id="disable-button">{{t.disable}}</button>{{/isEnabled}}
        {{^isEnabled}}<button type="submit" id="enable-button">{{t.enable}}</button>{{/isEnabled}}
        </form>
        <form method="post" action="/console/connectors/{{id}}/delete">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <div class="actions"><button type="submit" class="danger" data-confirm="{{t.confirmDelete}}">{{t.deleteConnector}}</button></div>
        </form>
        {{/isConfigured}}
        """

    static let signInExperience = """
        <h1>{{t.signInExperience}}</h1>
        <p class="lead">{{t.experienceLead}}</p>
        <div class="split">
        <form method="post" action="/console/sign-in-experience" id="sign-in-experience">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <fieldset>
        <legend>{{t.signUp}}</legend>
        <label for="signUpIdentifier">{{t.signUpIdentifier}}</label>
        <select id="signUpIdentifier" name="signUpIdentifier">
        {{#signUpOptions}}<option value="{{value}}"{{#isSelected}} selected{{/isSelected}}>{{label}}</option>{{/signUpOptions}}
        </select>
        <p class="hint">{{t.verifyForced}}</p>
        <label class="inline"><input type="checkbox" name="signUpPassword" value="1"{{#signUpPassword}} checked{{/signUpPassword}}> {{t.createPasswordAtSignUp}}</label>
        </fieldset>
        <fieldset>
        <legend>{{t.signIn}}</legend>
        <p class="hint">{{t.signInMethodsHint}}</p>
        <div class="table-wrap"><table>
        <thead><tr><th scope="col">{{t.identifier}}</th><th scope="col">{{t.order}}</th><th scope="col">{{t.password}}</th><th scope="col">{{t.verificationCode}}</th><th scope="col">{{t.firstFactor}}</th></tr></thead>
        <tbody>
        {{#methods}}<tr>
        <td><label class="inline"><input type="checkbox" name="method.{{identifier}}" value="1"{{#isOn}} checked{{/isOn}}> {{label}}</label></td>
        <td><input type="number" name="order.{{identifier}}" value="{{order}}" min="1" max="3" aria-label="{{t.order}} {{label}}"></td>
        <td><input type="checkbox" name="password.{{identifier}}" value="1"{{#password}} checked{{/password}} aria-label="{{t.password}} {{label}}"></td>
        <td>{{#canUseCode}}<input type="checkbox" name="code.{{identifier}}" value="1"{{#verificationCode}} checked{{/verificationCode}} aria-label="{{t.verificationCode}} {{label}}">{{/canUseCode}}{{^canUseCode}}<span class="muted">—</span>{{/canUseCode}}</td>
        <td><select name="primary.{{identifier}}" aria-label="{{t.firstFactor}} {{label}}"><option value="password"{{#isPasswordPrimary}} selected{{/isPasswordPrimary}}>{{t.password}}</option>{{#canUseCode}}<option value="code"{{^isPasswordPrimary}} selected{{/isPasswordPrimary}}>{{t.verificationCode}}</option>{{/canUseCode}}</select></td>
        </tr>{{/methods}}
        </tbody>
        </table></div>
        </fieldset>
        <fieldset>
        <legend>{{t.passwordPolicy}}</legend>
        <label for="minLength">{{t.minLength}}</label>
        <input type="number" id="minLength" name="minLength" value="{{policy.minLength}}" min="8" max="256">
        <label for="characterTypes">{{t.characterTypes}}</label>
        <input type="number" id="characterTypes" name="characterTypes" value="{{policy.characterTypes}}" min="1" max="4">
        <label class="inline"><input type="checkbox" name="rejectCommon" value="1"{{#policy.rejectCommon}} checked{{/policy.rejectCommon}}> {{t.rejectCommon}}</label>
        <label class="inline"><input type="checkbox" name="rejectUserInfo" value="1"{{#policy.rejectUserInfo}} checked{{/policy.rejectUserInfo}}> {{t.rejectUserInfo}}</label>
        <label for="bcryptCost">{{t.bcryptCost}}</label>
        <input type="number" id="bcryptCost" name="bcryptCost" value="{{policy.bcryptCost}}" min="10" max="14">
        </fieldset>
        <fieldset>
        <legend>{{t.branding}}</legend>
        <label for="appName">{{t.brandName}}</label>
        <input type="text" id="appName" name="appName" value="{{branding.appName}}">
        <label for="logoURL">{{t.logoURL}}</label>
        <input type="url" id="logoURL" name="logoURL" value="{{branding.logoURL}}" placeholder="https://">
        <label for="primaryColor">{{t.primaryColor}}</label>
        <input type="color" id="primaryColor" name="primaryColor" value="{{branding.primaryColor}}">
        <label class="inline"><input type="checkbox" name="darkMode" value="1"{{#branding.isDarkModeEnabled}} checked{{/branding.isDarkModeEnabled}}> {{t.darkMode}}</label>
        <label for="termsOfUseURL">{{t.termsURL}}</label>
        <input type="url" id="termsOfUseURL" name="termsOfUseURL" value="{{branding.termsOfUseURL}}" placeholder="https://">
        <label for="privacyPolicyURL">{{t.privacyURL}}</label>
        <input type="url" id="privacyPolicyURL" name="privacyPolicyURL" value="{{branding.privacyPolicyURL}}" placeholder="https://">
        </fieldset>
        <fieldset>
        <legend>{{t.languages}}</legend>
        {{#languageOptions}}<label class="inline"><input type="checkbox" name="language" value="{{code}}"{{#isOn}} checked{{/isOn}}> {{label}}</label>{{/languageOptions}}
        <label for="defaultLanguage">{{t.defaultLanguage}}</label>
        <select id="defaultLanguage" name="defaultLanguage">{{#languageOptions}}<option value="{{code}}"{{#isDefault}} selected{{/isDefault}}>{{label}}</option>{{/languageOptions}}</select>
        </fieldset>
        {{#error}}<p class="error" role="alert" id="settings-error">{{error}}</p>{{/error}}
        <label for="previewPage">{{t.previewPage}}</label>
        <select id="previewPage" name="previewPage">{{#previewPages}}<option value="{{value}}"{{#isSelected}} selected{{/isSelected}}>{{label}}</option>{{/previewPages}}</select>
        <div class="actions">
        <button type="submit" class="secondary" formaction="/console/sign-in-experience/preview" formtarget="preview" id="preview-button">{{t.preview}}</button>
        <button type="submit" id="save-button">{{t.saveChanges}}</button>
        </div>
        </form>
        <div class="preview">
        <h2>{{t.livePreview}}</h2>
        <iframe name="preview" title="{{t.livePreview}}" src="{{previewURL}}"></iframe>
        </div>
        </div>
        """

    static let resources = """
        <h1>{{t.apiResources}}</h1>
        <p class="lead">{{t.resourcesLead}}</p>
        {{#hasResources}}
        <div class="table-wrap"><table>
        <thead><tr><th scope="col">{{t.name}}</th><th scope="col">{{t.indicator}}</th><th scope="col">{{t.scopes}}</th></tr></thead>
        <tbody>
        {{#resources}}<tr><td><a href="/console/resources/{{id}}">{{name}}</a></td><td><code>{{indicator}}</code></td><td>{{scopeCount}}</td></tr>{{/resources}}
        </tbody>
        </table></div>
        {{/hasResources}}
        <h2>{{t.createResource}}</h2>
        <form method="post" action="/console/resources">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <label for="name">{{t.name}}</label>
        <input type="text" id="name" name="name" value="{{form.name}}" placeholder="Bookstore API">
        <label for="indicator">{{t.indicator}}</label>
        <input type="url" id="indicator" name="indicator" value="{{form.indicator}}" placeholder="https://api.example.com" required>
        <p class="hint">{{t.indicatorHint}}</p>
        <label for="scopes">{{t.scopes}}</label>
        <textarea id="scopes" name="scopes">{{form.scopes}}</textarea>
        <p class="hint">{{t.scopesHint}}</p>
        <label for="accessTokenTtl">{{t.accessTokenTTL}}</label>
        <input type="number" id="accessTokenTtl" name="accessTokenTtl" value="{{form.accessTokenTtl}}" min="60" max="86400">
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <div class="actions"><button type="submit">{{t.createResource}}</button></div>
        </form>
        """

    static let resource = """
        <p><a href="/console/resources">← {{t.apiResources}}</a></p>
        <h1>{{resource.name}}</h1>
        <p class="lead"><code>{{resource.indicator}}</code></p>
        <form method="post" action="/console/resources/{{resource.id}}">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <label for="name">{{t.name}}</label>
        <input type="text" id="name" name="name" value="{{resource.name}}" required>
        <label for="accessTokenTtl">{{t.accessTokenTTL}}</label>
        <input type="number" id="accessTokenTtl" name="accessTokenTtl" value="{{resource.accessTokenTTL}}" min="60" max="86400">
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <div class="actions"><button type="submit">{{t.saveChanges}}</button></div>
        </form>
        <h2>{{t.scopes}}</h2>
        <div class="table-wrap"><table>
        <thead><tr><th scope="col">{{t.name}}</th><th scope="col">{{t.description}}</th><th scope="col"><span class="muted">{{t.actions}}</span></th></tr></thead>
        <tbody>
        {{#resource.scopes}}<tr><td><code>{{name}}</code></td><td>{{description}}</td><td>{{^isProtected}}<form method="post" action="/console/resources/{{resourceID}}/scopes/{{id}}/delete"><input type="hidden" name="csrf_token" value="{{csrfToken}}"><button type="submit" class="link" data-confirm="{{t.confirmDelete}}">{{t.delete}}</button></form>{{/isProtected}}</td></tr>{{/resource.scopes}}
        </tbody>
        </table></div>
        <form method="post" action="/console/resources/{{resource.id}}/scopes">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <label for="scopeName">{{t.newScope}}</label>
        <input type="text" id="scopeName" name="scopeName" placeholder="read:books" required>
        <label for="scopeDescription">{{t.description}}</label>
        <input type="text" id="scopeDescription" name="scopeDescription">
        {{#scopeError}}<p class="error" role="alert">{{scopeError}}</p>{{/scopeError}}
        <div class="actions"><button type="submit" class="secondary">{{t.addScope}}</button></div>
        </form>
        {{^isProtected}}
        <h2>{{t.dangerZone}}</h2>
        <form method="post" action="/console/resources/{{resource.id}}/delete">
        <input type="hidden" name="csrf_token" value="{{csrfToken}}">
        <button type="submit" class="danger" data-confirm="{{t.confirmDelete}}">{{t.deleteResource}}</button>
        </form>
        {{/isProtected}}
        """
}
