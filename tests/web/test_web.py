"""`logvigil web` over a store filled by the demo (`conftest.store`), through Starlette's test client (real
HTTP semantics, in process): every page answers with the expected facts, hostile log
text stays inert, the security headers are on every answer, the token is enforced, and
bad parameters are clear 400s naming them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from starlette.testclient import TestClient
from typer.testing import CliRunner

from graph.inventory import load_inventory
from logvigil.app.settings import Settings
from logvigil.cli import app as cli_app
from logvigil.evaluation.demo import HOMELAB_INVENTORY
from logvigil.web.app import SECURITY_HEADERS, create_app

runner = CliRunner()
NOW = datetime(2026, 3, 5, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine(store: str) -> Iterator[Engine]:
    eng = create_engine(store)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    web = create_app(
        engine, Settings(), inventory=load_inventory(HOMELAB_INVENTORY), clock=lambda: NOW
    )
    with TestClient(web) as c:
        yield c


def oom_id(client: TestClient) -> int:
    page = client.get("/?service=postgres").text
    m = re.search(r'href="/incidents/(\d+)">postgres OOM-killed', page)
    assert m, page
    return int(m.group(1))


def test_the_incidents_page_lists_the_demo_incidents(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert "postgres OOM-killed on db-01" in r.text
    assert r.text.count('<tr class="sev-') >= 3


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("?service=postgres", "postgres OOM-killed", "disk"),
        ("?status=open", "No incident matches", "OOM-killed"),
        ("?severity=critical", "OOM-killed", "sev-warning"),
        ("?since=2026-03-10", "No incident matches", "OOM-killed"),
        ("?host=db-01&until=2026-03-03T11:00", "OOM-killed", "backup"),
    ],
)
def test_the_filters_narrow_the_list(
    client: TestClient, query: str, present: str, absent: str
) -> None:
    r = client.get("/" + query)
    assert r.status_code == 200 and present in r.text and absent not in r.text


def test_the_oom_incident_page_shows_root_impact_chart_and_graph(client: TestClient) -> None:
    r = client.get(f"/incidents/{oom_id(client)}")
    assert r.status_code == 200
    page = r.text
    assert 'class="root-name">postgres</strong>' in page
    for svc in ("nextcloud", "nginx"):
        assert f'<g class="affected" data-service="{svc}">' in page
    assert '<g class="root" data-service="postgres">' in page
    chart = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') :]
    assert 'class="mark"' in chart and "<title>postgres: " in chart
    assert page.count('<g class="svc">') >= 3  # postgres and the services it took down
    assert "Out of memory: Killed process" in page  # evidence with its sample lines
    assert "logvigil investigate --incident" in page


def test_the_other_pages_answer_with_their_facts(client: TestClient) -> None:
    services = client.get("/services").text
    assert "postgres" in services and "learnt" in services
    templates = client.get("/templates?q=postgres+killed").text
    assert "Out of memory: Killed process" in templates and 'class="spark"' in templates
    status = client.get("/status").text
    assert "Open incidents: 0" in status and "console" in status
    trends = client.get("/trends?days=5&until=2026-03-05").text
    assert "postgres" in trends and "2026-03-01" in trends


def test_hostile_log_text_stays_inert_on_every_page(client: TestClient) -> None:
    pages = [client.get(p).text for p in ("/templates?q=evil+template+image+click", "/templates")]
    body = "".join(pages)
    assert "&lt;script&gt;alert(" in body  # shown, as text
    for raw in ("<script>", "<img src=x", 'href="javascript:', "</td></tr><tr><td>injected"):
        assert raw not in body
    assert "<script" not in "".join(client.get(p).text for p in ("/", "/services", "/status"))


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/static/style.css", "/nope", "/?severity=bogus"):
        r = client.get(path)
        for k, v in SECURITY_HEADERS.items():
            assert r.headers[k] == v, (path, k)
    assert "script-src 'none'" in SECURITY_HEADERS["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/?severity=bogus", 400, "severity=&#39;bogus&#39;: expected one of warning"),
        ("/?since=yesterdayish", 400, "since=&#39;yesterdayish&#39;: expected an ISO 8601"),
        ("/trends?days=9999", 400, "days=&#39;9999&#39;: expected 1 to 92"),
        ("/trends?days=x", 400, "days=&#39;x&#39;: expected a whole number"),
        ("/incidents/abc", 400, "incident &#39;abc&#39;: not a number"),
        ("/incidents/99999", 404, "no incident #99999"),
        ("/no/such/page", 404, "no such page"),
    ],
)
def test_bad_requests_are_clear_errors(
    client: TestClient, path: str, status: int, message: str
) -> None:
    r = client.get(path)
    assert r.status_code == status and message in r.text, r.text


def test_nothing_changes_state(client: TestClient) -> None:
    for method in ("post", "put", "delete", "patch"):
        r = client.request(method.upper(), "/")
        assert r.status_code == 405 and "only reads" in r.text


def test_with_a_token_every_request_must_carry_it(engine: Engine) -> None:
    web = create_app(engine, Settings(), token="s3cret", clock=lambda: NOW)
    with TestClient(web) as c:
        assert c.get("/").status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        r = c.get("/services?token=s3cret", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/services"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert c.get("/services").status_code == 200  # the cookie now carries it
        c.cookies.clear()
        assert c.get("/services?token=nope").status_code == 401


def test_the_command_refuses_another_address_without_a_token(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOGVIGIL_WEB_TOKEN", raising=False)
    r = runner.invoke(cli_app, ["web", "--listen", "0.0.0.0:8765", "--db", store])
    assert r.exit_code == 2 and "not a loopback address" in r.output
    r = runner.invoke(cli_app, ["web", "--listen", "localhost", "--db", store])
    assert r.exit_code == 2 and "expected HOST:PORT" in r.output
    assert "Traceback" not in r.output


def test_the_config_refuses_it_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOGVIGIL_WEB_TOKEN", raising=False)
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text("web:\n  listen: 192.0.2.1:8765\n")
    r = runner.invoke(cli_app, ["check-config", str(cfg)])
    assert r.exit_code != 0 and "web.listen" in r.output and "not a loopback" in r.output
