"""Browser tests: Debian's Chromium driven by Playwright against Ladder served on localhost.

Skipped with a clear message where /usr/bin/chromium is missing (`apt-get install chromium`).
The served app has CSRF enabled, as in production, and shares the test database.
"""
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from config import TestingConfig
from crm import create_app

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 375, "height": 667}


@pytest.fixture(scope="session")
def live_server(app, database_url):
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        WTF_CSRF_ENABLED = True

    served = create_app(Config)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                  "--no-first-run", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context per test; every request that leaves the app is recorded in page.outside."""
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    page = context.new_page()
    page.outside = []
    page.on("request", lambda req: None if req.url.startswith(live_server) or req.url.startswith("data:")
            else page.outside.append(req.url))
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def login(page, username: str, password: str = "correct-horse-1") -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
