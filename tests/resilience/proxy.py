"""A TCP proxy between the app and PostgreSQL that a test can cut and reopen, to make the database go away for
real: cutting closes every open connection and refuses new ones; reopening listens on the same port again."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress


class Proxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._start()

    def _start(self) -> None:
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:  # the listener was closed: cut
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open |= {client, server}
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for sock in (source, target):
            self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self) -> None:
        """Close the listener (a new connection is refused) and every connection through the proxy."""
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept(); close alone does not
        self._listener.close()
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            self._close(sock)

    def reopen(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._start()

    @property
    def connections(self) -> int:
        """Open connections through the proxy, counting both ends of each."""
        with self._lock:
            return len(self._open) // 2

    def close(self) -> None:
        self.cut()
