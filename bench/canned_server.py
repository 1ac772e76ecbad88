"""A loopback HTTP server that answers every POST/DELETE with a fixed connect response.

The floor for ``bench/connect_rate.py``: the same client stack against a server that does no work,
so the emulator's own cost per request can be told apart from the HTTP round trip.
Run: ``python -m bench.canned_server`` (prints ``listening on http://127.0.0.1:PORT``).
"""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = (
    b'{"account_id":"3b5e8f2a-7c14-4d9e-a6b1-92f0c8d4e713","scope_id":"x_y","title":"t",'
    b'"hook_api_version":"v2","is_time_window_disabled":false}'
)
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)


class CannedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.wfile.write(RESPONSE)  # one write: no Nagle/delayed-ACK stall

    do_POST = _answer
    do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CannedHandler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
