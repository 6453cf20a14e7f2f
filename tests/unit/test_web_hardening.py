"""What every response carries (security headers), what no request may bring (oversized
headers), static paths that cannot name a file, and a page the CSP does not break
(bot/web/hardening.py)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.core.settings import load_settings
from bot.requests.store import RequestStore
from bot.services import Services
from bot.storage.db import make_engine
from bot.web import hardening
from bot.web.app import create_app

WEB_DIR = Path(hardening.__file__).resolve().parent
EXPECTED = {
    "content-security-policy": hardening.CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


@pytest.fixture
def services(migrated_sqlite):
    services = Services(RequestStore(make_engine(migrated_sqlite("hardening.db")), secret="s"))
    yield services
    services.store.engine.dispose()


@pytest.fixture
def seen():
    return []


@pytest.fixture
def client(services, seen):
    def rasa(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=[{"text": "hi"}])

    app = create_app(
        replace(load_settings(), rasa_url="http://rasa.test"),
        transport=httpx.MockTransport(rasa),
        services=services,
        session_secret="hardening-test",
    )

    async def boom(_: Request) -> None:
        raise RuntimeError("a handler that fails")

    app.router.routes.append(Route("/boom", boom))
    return TestClient(app, raise_server_exceptions=False, follow_redirects=False)


def test_the_policy_forbids_inline_script_framing_plugins_and_base_rewriting():
    policy = dict(
        (part.split(" ", 1) + [""])[:2] for part in hardening.CONTENT_SECURITY_POLICY.split("; ")
    )
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["form-action"] == "'self'"
    assert "unsafe" not in hardening.CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    "method,path,status",
    [
        ("GET", "/", 200),
        ("GET", "/health", 200),
        ("POST", "/api/chat", 200),
        ("POST", "/api/feedback", 400),
        ("GET", "/api/chat/news", 200),
        ("POST", "/api/chat/end", 200),
        ("GET", "/static/chat.js", 200),
        ("GET", "/static/style.css", 200),
        ("GET", "/static/no-such-file.js", 404),
        ("GET", "/static/a%00b", 404),
        ("GET", "/no/such/page", 404),
        ("GET", "/api/chat", 405),
        ("GET", "/boom", 500),
        ("GET", "/staff/login", 200),
        ("GET", "/staff/requests", 303),
        ("GET", "/staff/handoffs.json", 401),
        ("GET", "/download/not-a-real-token", 404),
    ],
)
def test_every_kind_of_response_carries_the_security_headers(client, method, path, status):
    response = client.request(method, path, json={"message": "hi"} if method == "POST" else None)
    assert response.status_code == status
    for name, value in EXPECTED.items():
        if path.startswith("/download/") and name == "referrer-policy":
            value = "no-referrer"  # the page's own, stricter: its address holds a token
        assert response.headers.get(name) == value, (path, name)
        assert len(response.headers.get_list(name)) == 1, (path, name)


def test_headers_over_the_limit_get_431_and_reach_no_handler(client, seen):
    big = {f"x-filler-{i}": "x" * 1000 for i in range(17)}
    refused = client.post("/api/chat", json={"message": "hi"}, headers=big)
    assert refused.status_code == 431 and seen == []
    assert refused.headers["x-frame-options"] == "DENY"
    one_huge = client.get("/", headers={"cookie": "vp_lang=en; junk=" + "y" * 70_000})
    assert one_huge.status_code == 431
    ordinary = {f"x-filler-{i}": "x" * 1000 for i in range(10)}
    assert client.post("/api/chat", json={"message": "hi"}, headers=ordinary).status_code == 200
    assert len(seen) == 1


def test_the_limit_counts_names_and_values_of_all_headers():
    async def app(scope, receive, send):  # reached only within the limit
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limited = TestClient(hardening.HeaderLimit(app, limit=2000))
    base = sum(
        len(k) + len(v)
        for k, v in limited.build_request("GET", "/").headers.raw  # what the client always sends
    )
    name = "x-pad"
    room = 2000 - base - len(name)
    assert limited.get("/", headers={name: "p" * room}).status_code == 204
    assert limited.get("/", headers={name: "p" * (room + 1)}).status_code == 431


@pytest.mark.parametrize(
    "path", ["/static/a%00b", "/static/%00", "/static/chat.js%00.png", "/static/..%00/x"]
)
def test_a_static_path_with_a_null_byte_is_not_found(client, path):
    assert client.get(path).status_code == 404


# -- nothing on the pages that the policy would block --------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE = re.compile(r"\sstyle\s*=|<style\b", re.I)


def templates():
    return sorted((WEB_DIR / "templates").rglob("*.html"))


def test_templates_have_no_inline_script_handlers_or_style_attributes():
    assert len(templates()) >= 10
    for path in templates():
        source = path.read_text(encoding="utf-8")
        assert not INLINE_SCRIPT.search(source), path.name
        assert not HANDLER.search(source), path.name
        assert not STYLE.search(source), path.name
        assert "javascript:" not in source.lower(), path.name


def test_scripts_and_charts_write_no_inline_script_or_style():
    for path in sorted((WEB_DIR / "static").glob("*.js")):
        source = path.read_text(encoding="utf-8")
        for forbidden in ("insertAdjacentHTML", "eval(", "new Function", "setAttribute('style'"):
            assert forbidden not in source, (path.name, forbidden)
        assert not re.search(r"\.(?:inner|outer)HTML\s*\+?=", source), path.name
        assert not re.search(r"setTimeout\(\s*['\"]", source), path.name
    charts = (WEB_DIR / "charts.py").read_text(encoding="utf-8")
    assert not STYLE.search(charts) and not HANDLER.search(charts)


def test_the_rendered_page_has_only_its_json_data_block_inline(client):
    html = client.get("/").text
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == [
        '<script type="application/json" id="chat-texts">',
        '<script src="/static/chat.js" defer>',
    ]
    assert not HANDLER.search(html) and not STYLE.search(html)
