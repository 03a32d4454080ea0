"""Puts the benchmark's user in ORGANIZATIONS organizations through the Management API (urllib only) and
prints the id of the one where the user's role holds `read:reports`."""
import base64
import json
import sys
import urllib.parse
import urllib.request

base, client_id, secret, user_id, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])


def call(method, path, body=None, token=None, form=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    data = json.dumps(body).encode() if body is not None else None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
        return json.loads(text) if text else None


token = call("POST", "/oidc/token", form={"grant_type": "client_credentials", "scope": "all",
                                           "resource": "https://default.logto.app/api"})["access_token"]
scope = call("POST", "/api/organization-scopes", {"name": "read:reports"}, token)
role = call("POST", "/api/organization-roles", {"name": "analyst", "organizationScopeIds": [scope["id"]]}, token)
first = None
for index in range(count):
    organization = call("POST", "/api/organizations", {"name": f"Tenant {index}"}, token)
    call("POST", f"/api/organizations/{organization['id']}/users", {"userIds": [user_id]}, token)
    if first is None:
        first = organization["id"]
        call("POST", f"/api/organizations/{first}/users/{user_id}/roles", {"organizationRoleIds": [role["id"]]}, token)
print(first)
