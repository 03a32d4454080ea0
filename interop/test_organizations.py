"""Authlib asks for Logto's organization token with its refresh token; PyJWT checks `aud` and `scope` against the JWKS."""
import secrets

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session

from conftest import REDIRECT_URI
from test_authlib import discovery, sign_in
from test_management_api import management_token

ORGANIZATIONS = "urn:logto:scope:organizations"


def test_a_member_gets_an_organization_token_by_refresh(sesame):
    headers = {"Authorization": "Bearer " + management_token(sesame)}
    api = sesame.base + "/api"

    def post(path, body):
        response = requests.post(api + path, json=body, headers=headers, timeout=5)
        assert response.status_code in (200, 201), response.text
        return response.json() if response.content else None

    scope = post("/organization-scopes", {"name": "read:reports"})
    role = post("/organization-roles", {"name": "analyst", "organizationScopeIds": [scope["id"]]})
    acme = post("/organizations", {"name": "Acme"})
    outsider = post("/organizations", {"name": "Initech"})
    post(f"/organizations/{acme['id']}/users", {"userIds": [sesame.user_id]})
    post(f"/organizations/{acme['id']}/users/{sesame.user_id}/roles", {"organizationRoleIds": [role["id"]]})

    metadata = discovery(sesame)
    assert ORGANIZATIONS in metadata["scopes_supported"]
    session = OAuth2Session(sesame.app_id, sesame.app_secret,
                            scope=f"openid offline_access {ORGANIZATIONS} read:reports write:reports",
                            redirect_uri=REDIRECT_URI, code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, _ = session.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier,
                                              resource="urn:logto:resource:organizations")
    token = session.fetch_token(metadata["token_endpoint"], authorization_response=sign_in(sesame, requests.Session(), url),
                                code_verifier=verifier)
    organization_token = session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"],
                                               organization_id=acme["id"])
    jwks = jwt.PyJWKClient(metadata["jwks_uri"])
    access = organization_token["access_token"]
    claims = jwt.decode(access, jwks.get_signing_key_from_jwt(access), algorithms=["ES384", "ES256", "RS256", "EdDSA"],
                        audience=f"urn:logto:organization:{acme['id']}", issuer=sesame.issuer)
    assert claims["scope"] == "read:reports" and claims["sub"] == sesame.user_id
    assert jwt.get_unverified_header(access)["typ"] == "at+jwt"
    # Not a member of the other organization: 403 access_denied.
    refused = requests.post(metadata["token_endpoint"], data={
        "grant_type": "refresh_token", "refresh_token": organization_token["refresh_token"],
        "organization_id": outsider["id"],
    }, auth=(sesame.app_id, sesame.app_secret), timeout=5)
    assert refused.status_code == 403 and refused.json()["error"] == "access_denied"
