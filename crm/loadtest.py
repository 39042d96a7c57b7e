"""Load test behind scripts/loadtest: N logged-in users browse lists, company pages and the dashboard for
a fixed time against a running Ladder on this machine; prints throughput, p50/p95/p99 and errors (issue 8 §3).

Bounded: stops after --seconds, talks only to the given localhost base URL.
"""
import argparse
import http.cookiejar
import random
import re
import statistics
import threading
import time
import urllib.parse
import urllib.request
from urllib.error import HTTPError, URLError

PAGES = ["/companies/", "/companies/?district={district}", "/companies/?q=科技", "/companies/{company}", "/dashboard"]


def session(base: str, username: str, password: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token}).encode()
    opener.open(base + "/login", data=data, timeout=30).read()
    return opener


def user_loop(base, opener, deadline, company_ids, latencies, errors, lock):
    rng = random.Random()
    while time.monotonic() < deadline:
        path = rng.choice(PAGES).format(district=rng.randint(1, 7), company=rng.choice(company_ids))
        start = time.perf_counter()
        try:
            opener.open(base + urllib.parse.quote(path, safe="/?=&"), timeout=30).read()
            with lock:
                latencies.append((time.perf_counter() - start) * 1000)
        except (HTTPError, URLError, TimeoutError) as exc:
            with lock:
                errors.append(f"{path}: {exc}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scripts/loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="ladder-demo")
    parser.add_argument("--companies", type=int, default=1000, help="company ids 1..N to open")
    args = parser.parse_args(argv)
    if urllib.parse.urlsplit(args.base).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("load tests only target this machine")
    openers = [session(args.base, args.username, args.password) for _ in range(args.users)]
    latencies, errors, lock = [], [], threading.Lock()
    deadline = time.monotonic() + args.seconds
    ids = list(range(1, args.companies + 1))
    threads = [threading.Thread(target=user_loop, args=(args.base, o, deadline, ids, latencies, errors, lock))
               for o in openers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    print(f"{args.users} users, {args.seconds} s: {len(latencies)} requests, {len(latencies) / args.seconds:.1f} req/s, "
          f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, p99 {q[98]:.0f} ms, errors {len(errors)}")
    for line in errors[:10]:
        print("  error:", line)


if __name__ == "__main__":
    main()
