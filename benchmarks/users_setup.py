"""Creates COUNT users with the addresses bench-N@bench.test through the Management API (urllib only), for the
email-code flow row, and prints the addresses one per line."""
import base64
import json
import sys
import urllib.parse
import urllib.request

base, client_id, secret, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
form = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "all",
                               "resource": "https://default.logto.app/api"}).encode()
basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
request = urllib.request.Request(base + "/oidc/token", data=form, method="POST", headers={
    "Content-Type": "application/x-www-form-urlencoded", "Authorization": basic})
token = json.loads(urllib.request.urlopen(request, timeout=10).read())["access_token"]
for index in range(count):
    address = f"bench-{index}@bench.test"
    request = urllib.request.Request(base + "/api/users", data=json.dumps({"primaryEmail": address}).encode(),
                                     method="POST", headers={"Content-Type": "application/json",
                                                             "Authorization": "Bearer " + token})
    urllib.request.urlopen(request, timeout=10).read()
    print(address)
