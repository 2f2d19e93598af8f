"""The render host's one way to its coordinator: POST a JSON body, get back the status and a JSON object.

Lower errors are translated here and nowhere else: a coordinator that cannot be reached, answers with a server
error or with something that is not JSON is ``CoordinatorUnavailable`` (the reports wait in the spool); a refused
token is ``CoordinatorRefused``. The transport is a seam: a test hands in one that calls an in-process app.
"""
from __future__ import annotations

import json
import threading
from typing import Any, Protocol

from farm_node.errors import CoordinatorRefused, CoordinatorUnavailable


class Transport(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
        """``(status, body)``; raises ``CoordinatorUnavailable`` when the coordinator cannot be reached."""

    def close(self) -> None: ...


class RequestsTransport:
    """HTTP through ``requests``, one session per thread (the heartbeat, lease and sender threads each keep their
    own connection, and a session is not documented as safe to share)."""

    def __init__(self) -> None:
        import requests
        self._requests = requests
        self._local = threading.local()
        self._sessions: list[Any] = []
        self._lock = threading.Lock()

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._requests.Session()
            with self._lock:
                self._sessions.append(session)
        return session

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
        try:
            r = self._session().post(url, data=body, headers=headers, timeout=timeout)
        except self._requests.RequestException as exc:
            raise CoordinatorUnavailable(exc.__class__.__name__) from None
        return r.status_code, r.content

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()


class CoordinatorClient:
    """``urls``: one coordinator's address, or several of one farm (CONTRACT section 7): a call that cannot reach
    the current one moves the client to the next for the calls after it."""

    def __init__(self, urls: str | list[str], token: str, transport: Transport | None = None) -> None:
        self.urls = [u.strip().rstrip("/") for u in ([urls] if isinstance(urls, str) else urls) if u.strip()]
        if not self.urls:
            raise ValueError("a worker needs at least one coordinator address")
        self._current = 0
        self._headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        self._transport = transport or RequestsTransport()

    @property
    def url(self) -> str:
        """The coordinator the next call goes to."""
        return self.urls[self._current]

    def post(self, path: str, body: dict[str, Any], timeout: float) -> tuple[int, dict[str, Any]]:
        url = self.url
        try:
            status, raw = self._transport.post(url + path, json.dumps(body, separators=(",", ":")).encode(),
                                               self._headers, timeout)
        except CoordinatorUnavailable:
            self._move(url)
            raise
        if status in (401, 403):
            raise CoordinatorRefused("the coordinator at %s refused the token: give the worker the coordinator's"
                                     " worker token (--token-file FILE, --token or FARM_TOKEN; the coordinator keeps"
                                     " it in its data folder, file 'worker-token')" % self.url)
        if status >= 500:
            self._move(url)
            raise CoordinatorUnavailable("HTTP %d" % status)
        try:
            data = json.loads(raw)
        except ValueError:
            raise CoordinatorUnavailable("an answer that is not JSON") from None
        return status, data if isinstance(data, dict) else {}

    def _move(self, failed: str) -> None:
        # Only the first thread to see this address fail moves on: the others' calls failed on the same one.
        if len(self.urls) > 1 and self.url == failed:
            self._current = (self._current + 1) % len(self.urls)

    def close(self) -> None:
        self._transport.close()
