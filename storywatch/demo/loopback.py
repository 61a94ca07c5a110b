"""The one loopback HTTP server of the demo, the tests and the benchmarks: a thread of this
process on 127.0.0.1, answering every GET (and HEAD) through a plain function."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (status, headers, body) for a request's path and headers.
Responder = Callable[[str, Mapping[str, str]], tuple[int, Mapping[str, str], bytes]]


class LoopbackServer(ThreadingHTTPServer):
    """Call `close()` (or use it as a context manager) to stop it; `base` is its URL."""

    daemon_threads = True
    request_queue_size = 512

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer (a size cap, a killed pass) is not an error here."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve(respond: Responder, keep_alive: bool = False) -> LoopbackServer:
    """Start a server on a free 127.0.0.1 port; `keep_alive` speaks HTTP/1.1 (connections are
    reused, as a pass's client does), else HTTP/1.0."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
        timeout = 60  # an idle keep-alive connection is closed after this

        def _answer(self, with_body: bool) -> None:
            status, headers, body = respond(self.path, self.headers)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body and body:
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._answer(True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(False)

        def log_message(self, *args: object) -> None:
            pass

    server = LoopbackServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    return server
