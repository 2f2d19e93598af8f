"""A TCP relay on 127.0.0.1 that a test can cut and heal: a network cut between two real processes.

    relay = TcpRelay(target_port).start()        # listens on relay.port, forwards to target_port
    relay.cut()                                  # every connection through it dies, new ones are closed at once
    relay.heal()                                 # it forwards again (it kept its port: nobody else took it)
"""
from __future__ import annotations

import socket
import threading
from typing import List, Optional


class TcpRelay(object):
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener = None  # type: Optional[socket.socket]
        self._conns = []  # type: List[socket.socket]
        self._lock = threading.Lock()
        self.cut_now = threading.Event()

    def start(self) -> "TcpRelay":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(128)
        self.port = s.getsockname()[1]
        self._listener = s
        self.cut_now.clear()
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self.cut_now.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data or self.cut_now.is_set():
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def cut(self) -> None:
        """Every connection through the relay dies, and new ones are closed as soon as they are made."""
        self.cut_now.set()
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def heal(self) -> "TcpRelay":
        self.cut_now.clear()
        return self

    def close(self) -> None:
        self.cut()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.port
