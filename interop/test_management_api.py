"""The Management API's OpenAPI document is valid and describes routes that exist."""
import json
import subprocess

import requests
from openapi_spec_validator import validate

from conftest import binary

MANAGEMENT = "https://default.logto.app/api"
OTHER_API = "https://api.other.example"


def machine_app(sesame):
    """An ordinary machine-to-machine app with a token for another API."""
    cli = lambda *args: json.loads(subprocess.run([binary(), *args, "--json"], env=sesame.env, capture_output=True,
                                                  text=True, check=True).stdout)
    if not getattr(sesame, "other_api", None):
        cli("resource", "create", "--indicator", OTHER_API, "--scope", "read")
        app = cli("app", "create", "--name", "Worker", "--type", "m2m")
        sesame.other_api = (app["id"], app["secret"])
    return sesame.other_api


def end_user_token(sesame):
    """Alice's access token from the code flow (an opaque userinfo token)."""
    from test_authlib import authorize, client
    session = client(sesame)
    metadata, callback, verifier = authorize(sesame, session, requests.Session())
    token = session.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    return token["access_token"]


def management_token(sesame):
    result = subprocess.run([binary(), "app", "create", "--name", "Scripts", "--type", "m2m", "--management", "--json"],
                            env=sesame.env, capture_output=True, text=True, check=True)
    app = json.loads(result.stdout)
    response = requests.post(sesame.issuer + "/token", data={
        "grant_type": "client_credentials", "resource": MANAGEMENT, "scope": "all",
    }, auth=(app["id"], app["secret"]), timeout=5)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_the_openapi_document_is_valid_and_its_routes_exist(sesame):
    document = requests.get(sesame.base + "/api/swagger.json", timeout=5).json()
    validate(document)
    assert document["servers"][0]["url"] == sesame.base
    token = management_token(sesame)
    headers = {"Authorization": "Bearer " + token}
    for path, operations in document["paths"].items():
        if "get" in operations and "{" not in path:
            response = requests.get(sesame.base + path, headers=headers, timeout=5)
            assert response.status_code in (200, 204), f"GET {path}: {response.status_code} {response.text}"
        for method in operations:
            if "{" in path:
                concrete = (path.replace("{id}", "does-not-exist").replace("{scopeId}", "does-not-exist")
                            .replace("{name}", "does-not-exist"))
                response = requests.request(method, sesame.base + concrete,
                                            headers={**headers, "Content-Type": "application/json"}, data="{}",
                                            timeout=5)
                assert response.status_code in (400, 404), f"{method} {path}: {response.status_code}"
    # Every Management route refuses a missing token, a token for another API, and an end user's token.
    other = requests.post(sesame.issuer + "/token", data={"grant_type": "client_credentials",
                                                           "resource": OTHER_API, "scope": "read"},
                          auth=machine_app(sesame), timeout=5).json()["access_token"]
    end_user = end_user_token(sesame)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if operation.get("security") == []:
                continue
            concrete = path.replace("{id}", "x").replace("{scopeId}", "x").replace("{name}", "x")
            for token, expected in ((None, 401), (other, 403), (end_user, 401)):
                headers = {"Content-Type": "application/json"}
                if token:
                    headers["Authorization"] = "Bearer " + token
                response = requests.request(method, sesame.base + concrete, headers=headers, data="{}", timeout=5)
                assert response.status_code == expected, f"{method} {path} with {token and token[:8]}: {response.status_code}"
                assert set(response.json()) == {"code", "message"}


def test_an_end_user_token_is_refused(sesame):
    response = requests.get(sesame.base + "/api/applications",
                            headers={"Authorization": "Bearer " + "x.y.z"}, timeout=5)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.unauthorized"


def test_a_failed_connector_test_names_the_provider_code_and_request_id(sesame):
    from aliyun_fake import AliyunFake
    fake = AliyunFake({"LTAI-api": "api-secret"}).start()
    try:
        headers = {"Authorization": "Bearer " + management_token(sesame)}
        config = {"accessKeyId": "LTAI-api", "accessKeySecret": "not-the-secret",
                  "accountName": "noreply@mail.example.test", "endpoint": fake.endpoint,
                  "templates": [{"usageType": "Generic", "subject": "Code", "content": "{{code}}"},
                                {"usageType": "ForgotPassword", "subject": "Reset", "content": "{{code}}"}]}
        failed = requests.post(sesame.base + "/api/connectors/aliyun-direct-mail/test", headers=headers,
                               json={"email": "ops@example.com", "config": config}, timeout=30)
        assert failed.status_code == 502
        body = failed.json()
        assert body["code"] == "connector.auth_failed" and body["providerCode"] == "SignatureDoesNotMatch"
        assert body["requestId"] and body["requestId"] in body["message"]
        assert "not-the-secret" not in failed.text
        config["accessKeySecret"] = "api-secret"
        sent = requests.post(sesame.base + "/api/connectors/aliyun-direct-mail/test", headers=headers,
                             json={"email": "ops@example.com", "config": config, "usageType": "ForgotPassword"},
                             timeout=30)
        assert sent.status_code == 204, sent.text
        assert fake.sent[-1]["Subject"] == "Reset"
        bad = requests.post(sesame.base + "/api/connectors/aliyun-direct-mail/test", headers=headers,
                            json={"email": "ops@example.com", "config": config, "usageType": "Login"}, timeout=30)
        assert bad.status_code == 400
    finally:
        fake.stop()
