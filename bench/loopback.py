"""A guard for the benchmarks: refuse every connection that is not to a loopback address.
Nothing in a benchmark should try one; `REFUSED` lists any that did, for the printed notes."""

from __future__ import annotations

import socket

REFUSED: list[str] = []


def loopback_only(label: str) -> None:
    """Patch `socket.socket.connect`/`connect_ex` in this process to refuse non-loopback hosts."""
    original, original_ex = socket.socket.connect, socket.socket.connect_ex

    def check(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0] if isinstance(address, tuple) else address)
            if host not in ("::1", "localhost") and not host.startswith("127."):
                REFUSED.append(host)
                raise ConnectionRefusedError(f"{label}: no connections beyond 127.0.0.1 ({host})")

    def connect(self: socket.socket, address: object) -> None:
        check(self, address)
        return original(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        check(self, address)
        return original_ex(self, address)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
