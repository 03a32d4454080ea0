#!/usr/bin/env python3
"""Password sign-ins through the Experience API from N threads for a while, one account per thread (each check
is a bcrypt at cost 10): the load under which benchmarks/run measures discovery, to show that hashing stays off
the event loops. Prints the number of sign-ins that succeeded and the number that did not."""
import json
import sys
import threading
import time
import urllib.request
from http.cookiejar import CookieJar


def main(base, seconds, users):
    done, failed = [0], [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def call(opener, method, path, body):
        request = urllib.request.Request(base + "/api/experience" + path, method=method,
                                         data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        with opener.open(request, timeout=30) as response:
            return response.status

    def worker(username):
        while time.monotonic() < deadline:
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
            try:
                call(opener, "PUT", "", {"interactionEvent": "SignIn"})
                call(opener, "POST", "/verification/password",
                     {"identifier": {"type": "username", "value": username}, "password": "Correct-Horse-9"})
                outcome = done
            except Exception:
                outcome = failed
            with lock:
                outcome[0] += 1

    threads = [threading.Thread(target=worker, args=(name,)) for name in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(done[0], failed[0])


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), sys.argv[3:])
