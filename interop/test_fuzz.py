"""A schema-driven fuzz run (schemathesis) of the Management and Experience APIs against the live server:
no 5xx, and every response matches the OpenAPI document."""
import os
import subprocess
import sys
from pathlib import Path

from test_management_api import management_token


def test_schemathesis_finds_no_server_error_and_no_schema_violation(sesame, tmp_path):
    token = management_token(sesame)
    st = Path(sys.executable).parent / "st"
    result = subprocess.run([
        str(st), "run", sesame.base + "/api/swagger.json",
        "-H", "Authorization: Bearer " + token,
        "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
        # The test send reaches out to whatever endpoint a generated configuration names.
        "--exclude-path", "/api/connectors/{id}/test",
        "--max-examples", "25", "--seed", "20261125", "--no-color", "--workers", "2",
        "--request-timeout", "15", "--generation-database", "none",
    ], capture_output=True, text=True, timeout=600, cwd=tmp_path, env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    # The caller could not delete its own application: the token still works at the end.
    import requests
    assert requests.get(sesame.base + "/api/users", headers={"Authorization": "Bearer " + token},
                        timeout=5).status_code == 200
