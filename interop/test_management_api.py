"""The Management API's OpenAPI document is valid and describes routes that exist."""
import json
import subprocess

import requests
from openapi_spec_validator import validate

from conftest import binary

MANAGEMENT = "https://default.logto.app/api"


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
                concrete = path.replace("{id}", "does-not-exist").replace("{scopeId}", "does-not-exist")
                response = requests.request(method, sesame.base + concrete,
                                            headers={**headers, "Content-Type": "application/json"}, data="{}",
                                            timeout=5)
                assert response.status_code in (400, 404), f"{method} {path}: {response.status_code}"
    # Management routes refuse a missing token.
    assert requests.get(sesame.base + "/api/users", timeout=5).status_code == 401


def test_an_end_user_token_is_refused(sesame):
    response = requests.get(sesame.base + "/api/applications",
                            headers={"Authorization": "Bearer " + "x.y.z"}, timeout=5)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.unauthorized"
