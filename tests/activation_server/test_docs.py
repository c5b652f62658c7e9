"""The API docs at /api/docs load nothing from outside: every file the page names is served here
(FastAPI's page loaded Swagger UI from a CDN and was blank offline). With a token, the docs are
public and declare the token so that Swagger UI can send it; the operations still need it."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient

from neuron_explainer.activation_server.engine import Engine
from tests.activation_server.conftest import BASE_URL, make_app

TOKEN = "docs-token"


class _Urls(HTMLParser):
    """The URLs a page loads: script sources and linked files."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        self.urls += [value for name, value in attrs if name == wanted and value is not None]


def loaded_urls(html: str) -> list[str]:
    parser = _Urls()
    parser.feed(html)
    return parser.urls


def check_docs_are_local(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = loaded_urls(page.text)
    assert len(urls) >= 3, urls  # the script, the stylesheet, the icon
    assert "://" not in page.text and "//cdn" not in page.text
    for url in urls:
        assert url.startswith("/api/docs/") and not url.startswith("//"), url
        response = client.get(url)
        assert response.status_code == 200 and len(response.content) > 100, url
    assert "url: '/api/openapi.json'" in page.text
    assert client.get("/api/openapi.json").json()["paths"]


def test_docs_load_only_local_files(client: TestClient) -> None:
    check_docs_are_local(client)
    script = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in script.text
    assert client.get("/api/docs/assets/nothing.js").status_code == 404
    spec = client.get("/api/openapi.json").json()
    assert "security" not in spec  # no token here: nothing to declare


def test_docs_are_public_with_a_token(engine: Engine, data_dir: Path) -> None:
    app = make_app(engine, data_dir, token=TOKEN)
    with TestClient(app, base_url=BASE_URL) as client:
        check_docs_are_local(client)  # no token sent
        spec = client.get("/api/openapi.json").json()
        assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
        assert spec["security"] == [{"bearer": []}]
        assert client.get("/api/health").status_code == 401
        assert client.post("/api/model/tokenize", json={"text": "a"}).status_code == 401
        authorized = {"Authorization": f"Bearer {TOKEN}"}
        assert client.get("/api/health", headers=authorized).status_code == 200
        # Only the docs' own paths are public: nothing leads from them to the API.
        for path in (
            "/api/docs/assets/%2e%2e/%2e%2e/health",
            "/api/docs/assets/..%2F..%2Fhealth",
            "/api/docs/",
            "/api/docsx",
            "/api/openapi.json/x",
        ):
            response = client.get(path)
            assert response.status_code in (401, 404), path
            assert "status" not in response.text, path
