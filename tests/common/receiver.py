"""A real webhook receiver: an HTTP server on an ephemeral loopback port."""

from __future__ import annotations

import dataclasses
import http.server
import threading
from typing import Any


@dataclasses.dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: str


class Receiver:
    """An HTTP server on an ephemeral loopback port that records what it is sent.

    It answers each request with the next code of ``codes`` (200 once they run out).
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.codes: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append(Received(self.path, headers, body))
                code = receiver.codes.pop(0) if receiver.codes else 200
                answer = f"answered {code}".encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        """The URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
