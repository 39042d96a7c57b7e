"""Load test behind scripts/loadtest: N logged-in users browse lists, company pages and the dashboard for
a fixed time against a running Ladder on this machine; prints throughput, p50/p95/p99 and errors, overall and
for each kind of page (issue 8 §3).

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
from dataclasses import dataclass, field
from urllib.error import HTTPError, URLError

# (kind, path): the company list three ways, a company page, the dashboard — the pages leaders and officers open.
PAGES = [("company list", "/companies/"), ("company list", "/companies/?district={district}"),
         ("company list", "/companies/?q=科技"), ("company page", "/companies/{company}"), ("dashboard", "/dashboard")]


@dataclass
class Report:
    users: int
    seconds: int
    latencies: dict[str, list[float]] = field(default_factory=dict)  # ms by kind of page
    errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def lines(self) -> list[str]:
        every = [ms for v in self.latencies.values() for ms in v]
        lines = [f"{self.users} users, {self.seconds} s: {len(every)} requests, {len(every) / self.seconds:.1f} req/s, "
                 f"{_percentiles(every)}, errors {len(self.errors)}"]
        lines += [f"  {kind:<13} {len(v):>6} requests, {_percentiles(v)}" for kind, v in sorted(self.latencies.items())]
        lines += [f"  error: {line}" for line in self.errors[:10]]
        return lines


def _percentiles(ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0] if ms else 0] * 99
    return f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, p99 {q[98]:.0f} ms"


def session(base: str, username: str, password: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token}).encode()
    opener.open(base + "/login", data=data, timeout=30).read()
    return opener


def user_loop(base, opener, deadline, company_ids, report: Report, lock):
    rng = random.Random()
    while time.monotonic() < deadline:
        kind, path = rng.choice(PAGES)
        path = path.format(district=rng.randint(1, 7), company=rng.choice(company_ids))
        start = time.perf_counter()
        try:
            opener.open(base + urllib.parse.quote(path, safe="/?=&"), timeout=30).read()
            with lock:
                report.latencies.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
        except (HTTPError, URLError, TimeoutError) as exc:
            with lock:
                report.errors.append(f"{path}: {exc}")


def run(base: str, username: str, password: str, users: int, seconds: int, company_ids: list[int]) -> Report:
    if urllib.parse.urlsplit(base).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("load tests only target this machine")
    openers = [session(base, username, password) for _ in range(users)]
    report, lock = Report(users, seconds), threading.Lock()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=user_loop, args=(base, o, deadline, company_ids, report, lock))
               for o in openers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scripts/loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="ladder-demo")
    parser.add_argument("--companies", type=int, default=1000, help="company ids 1..N to open")
    args = parser.parse_args(argv)
    try:
        report = run(args.base, args.username, args.password, args.users, args.seconds,
                     list(range(1, args.companies + 1)))
    except ValueError as exc:
        parser.error(str(exc))
    print("\n".join(report.lines()))


if __name__ == "__main__":
    main()
