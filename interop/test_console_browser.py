"""The seed's admin path in Chromium (Selenium) at a phone's width: first-run setup, the Auth.js app,
Aliyun Direct Mail configured against the signature-checking fake and tested, email codes turned on
with the live preview, a user created, an API and a role with two of its permissions given to that user;
then that user signs in to the new app with an emailed code and gets both permissions in the access token."""
import json
import re

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from aliyun_fake import AliyunFake
from test_browser import _is_stale, browser, fill, find, fresh_cookies  # noqa: F401 (fixtures)

AUTHJS_CALLBACK = "http://localhost:3000/api/auth/callback/logto"
BOOKSTORE_API = "https://api.bookstore.test"
ADMIN_PASSWORD = "Open-Sesame-2026"
TEMPLATES = [
    {"usageType": "Register", "subject": "注册验证码", "content": "<p>您的注册验证码是 {{code}}</p>"},
    {"usageType": "SignIn", "subject": "登录验证码", "content": "<p>您的登录验证码是 {{code}}</p>"},
    {"usageType": "ForgotPassword", "subject": "重置密码", "content": "<p>验证码 {{code}}</p>"},
    {"usageType": "Generic", "subject": "Your code", "content": "<p>Your code is {{code}}</p>"},
]


def click(browser, element_id):
    """Clicks a button or link and waits for the next page to replace this one."""
    element = WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, element_id))
    page = browser.find_element(By.TAG_NAME, "html")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()
    WebDriverWait(browser, 10).until(lambda b: _is_stale(page))


def notice(browser):
    return WebDriverWait(browser, 10).until(lambda b: b.find_element(By.CSS_SELECTOR, ".banner.success p")).text


def setup_link(sesame):
    match = re.search(r"(http\S+/console/setup\?token=[\w-]+)", sesame.log_path.read_text())
    assert match, "the server printed no setup link"
    return match.group(1)


def test_the_seed_admin_path_then_an_emailed_code_sign_in(sesame, browser):
    fake = AliyunFake({"LTAI-console": "console-secret"}).start()
    try:
        # First run: the one-time link from the server's output creates the administrator.
        browser.get(setup_link(sesame))
        fill(browser, "username", "admin_root")
        fill(browser, "password", ADMIN_PASSWORD)
        fill(browser, "confirm", ADMIN_PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/console"))
        issuer = browser.find_element(By.ID, "home-issuer").text
        assert issuer == sesame.issuer

        # Applications > Create application > the Auth.js (Next Auth) card > name > Create.
        browser.get(sesame.base + "/console/applications/new")
        browser.find_element(By.CSS_SELECTOR, "a[data-framework=authjs]").click()
        fill(browser, "name", "Bookstore")
        assert find(browser, "redirectUris").get_attribute("value") == AUTHJS_CALLBACK
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        app_id = WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "app-id")).text
        app_secret = browser.find_element(By.ID, "app-secret").text
        discovery = browser.find_element(By.ID, "app-discovery").text
        assert discovery == sesame.issuer + "/.well-known/openid-configuration"
        env = browser.find_element(By.ID, "guide-env").text
        assert f"AUTH_LOGTO_ISSUER={sesame.issuer}" in env and f"AUTH_LOGTO_ID={app_id}" in env
        assert f"AUTH_LOGTO_SECRET={app_secret}" in env
        assert requests.get(discovery, timeout=5).json()["issuer"] == sesame.issuer

        # Connectors > Aliyun Direct Mail: parameters, templates as JSON, Test, Save, Enable.
        browser.get(sesame.base + "/console/connectors")
        browser.find_element(By.CSS_SELECTOR, "a[data-connector=aliyun-direct-mail]").click()
        fill(browser, "config.accessKeyId", "LTAI-console")
        fill(browser, "config.accessKeySecret", "console-secret")
        fill(browser, "config.accountName", "noreply@mail.example.test")
        fill(browser, "config.fromAlias", "Bookstore")
        fill(browser, "config.endpoint", fake.endpoint)
        fill(browser, "config.templates", json.dumps(TEMPLATES, ensure_ascii=False))
        fill(browser, "testAddress", "owner@example.com")
        click(browser, "test-button")
        assert notice(browser) == "A test message with the code 123456 was sent to owner@example.com."
        [test_mail] = fake.sent
        assert test_mail["ToAddress"] == "owner@example.com" and "123456" in test_mail["HtmlBody"]
        # The form keeps everything typed, the secret included, so one click saves and enables it.
        assert find(browser, "config.accessKeySecret").get_attribute("value") == "console-secret"
        click(browser, "save-enable-button")
        assert notice(browser) == "Saved. The connector is enabled and sends the codes now."

        # Sign-in experience: email with a verification code first, checked in the live preview, saved.
        browser.get(sesame.base + "/console/sign-in-experience")
        Select(find(browser, "primary.email")).select_by_value("code")
        Select(find(browser, "previewPage")).select_by_value("sign-in")
        browser.find_element(By.ID, "preview-button").click()
        frame = browser.find_element(By.CSS_SELECTOR, "iframe[name=preview]")
        browser.switch_to.frame(frame)
        # Codes come first now: the previewed sign-in page is the email-code form, unsaved as yet.
        WebDriverWait(browser, 10).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, "form[action='/sign-in/code/send'] input[name=identifier]"))
        browser.switch_to.default_content()
        click(browser, "save-button")
        assert notice(browser) == "Saved."

        # Users: create the person who will sign in.
        browser.get(sesame.base + "/console/users")
        fill(browser, "primaryEmail", "grace@example.com")
        fill(browser, "name", "Grace Hopper")
        browser.find_element(By.CSS_SELECTOR, "form[action='/console/users'][method=post] button").click()
        WebDriverWait(browser, 10).until(lambda b: "/console/users/" in b.current_url)
        assert notice(browser) == "Created."

        # API resources and Roles: the Bookstore API, a role with its two permissions, given to Grace by email.
        browser.get(sesame.base + "/console/resources")
        fill(browser, "name", "Bookstore API")
        fill(browser, "indicator", BOOKSTORE_API)
        fill(browser, "scopes", "read:books\nwrite:books")
        browser.find_element(By.CSS_SELECTOR, "form[action='/console/resources'] button[type=submit]").click()
        WebDriverWait(browser, 10).until(lambda b: "/console/resources/" in b.current_url)
        assert "jwtVerify" in browser.page_source  # the "Protect your API" guide
        browser.get(sesame.base + "/console/roles")
        fill(browser, "name", "librarian")
        fill(browser, "description", "Reads and shelves books")
        for scope in ("read:books", "write:books"):
            box = browser.find_element(By.XPATH, f"//label[code[text()='{scope}']]/input[@name='scope']")
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
            box.click()
        browser.find_element(By.CSS_SELECTOR, "form[action='/console/roles'] button[type=submit]").click()
        WebDriverWait(browser, 10).until(lambda b: re.search(r"/console/roles/[^/?]+", b.current_url))
        assert notice(browser) == "Created."
        rows = browser.find_element(By.CSS_SELECTOR, "main table").text
        assert "read:books" in rows and "write:books" in rows
        browser.find_element(By.CSS_SELECTOR, "nav.tabs a[href$='tab=users']").click()
        WebDriverWait(browser, 10).until(lambda b: "tab=users" in b.current_url)
        fill(browser, "user", "grace@example.com")
        browser.find_element(By.CSS_SELECTOR, "form[action$='/users'] button[type=submit]").click()
        assert notice(browser) == "Role assigned."
        assert "Grace Hopper" in browser.find_element(By.CSS_SELECTOR, "main table").text

        # The end user: the Auth.js app's authorization request, the code form, the code from Aliyun.
        session = OAuth2Session(app_id, app_secret, scope="openid profile email offline_access read:books write:books",
                                redirect_uri=AUTHJS_CALLBACK, code_challenge_method="S256")
        verifier = "v" * 64
        url, _ = session.create_authorization_url(sesame.issuer + "/auth", code_verifier=verifier,
                                                  resource=BOOKSTORE_API)
        browser.get(url)
        fill(browser, "identifier", "grace@example.com")
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(browser, 10).until(lambda b: len(fake.sent) == 2)
        mail = fake.sent[-1]
        assert mail["ToAddress"] == "grace@example.com" and mail["Subject"] == "登录验证码"
        fill(browser, "code", re.search(r"(\d{6})", mail["HtmlBody"]).group(1))
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(browser, 10).until(lambda b: b.current_url.startswith(AUTHJS_CALLBACK))
        token = session.fetch_token(sesame.issuer + "/token", authorization_response=browser.current_url,
                                    code_verifier=verifier, resource=BOOKSTORE_API)
        jwks = JsonWebKey.import_key_set(requests.get(sesame.issuer + "/jwks", timeout=5).json())
        claims = jwt.decode(token["id_token"], jwks, claims_cls=CodeIDToken,
                            claims_params={"client_id": app_id, "access_token": token["access_token"]})
        claims.validate()
        assert claims["email"] == "grace@example.com" and claims["name"] == "Grace Hopper"
        assert jwt.decode(token["id_token"], jwks).header["alg"] == "ES384"
        # The access token is for the Bookstore API and carries the role's two permissions.
        access = jwt.decode(token["access_token"], jwks)
        assert access.header["typ"] == "at+jwt" and access["aud"] == BOOKSTORE_API
        assert access["scope"] == "read:books write:books" and access["sub"] == claims["sub"]

        # The audit log shows the administrator's changes and the sign-in.
        browser.get(sesame.base + "/console/audit-log")
        page = browser.page_source
        assert "Admin.Change" in page and "SignIn.Success" in page and "VerificationCode.Sent" in page
    finally:
        fake.stop()
        # The connector stays enabled for no other test module: each module has its own server.
