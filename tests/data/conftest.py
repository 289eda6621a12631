"""A throwaway cache, no mirror, and a local HTTP server: data tests never touch the internet."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def data_env(tmp_path, monkeypatch):
    """Each test gets its own empty cache; no mirror; downloads allowed (to 127.0.0.1 only)."""
    monkeypatch.setenv("INTRODL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("INTRODL_DATA", raising=False)
    monkeypatch.delenv("INTRODL_OFFLINE", raising=False)
    return tmp_path / "cache"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; ``/short/NAME`` promises NAME's full length but sends only half."""

    requests: list[str]

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 -- http.server's naming
        self.requests.append(self.path)
        if self.path.startswith("/short/"):
            data = (Path(self.directory) / self.path.removeprefix("/short/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        super().do_GET()


class Server:
    def __init__(self, root: Path, url: str, requests: list[str]):
        self.root, self.url, self.requests = root, url, requests

    def put(self, name: str, data: bytes) -> str:
        """Serve ``data`` as ``name``; returns its URL."""
        (self.root / name).write_bytes(data)
        return f"{self.url}/{name}"


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 (port chosen by the OS) serving ``server.root``."""
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []
    handler = type("Handler", (_Handler,), {"requests": requests})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Server(root, f"http://127.0.0.1:{httpd.server_address[1]}", requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
