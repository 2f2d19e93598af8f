"""The client of a PyFarm node: the only network code of the Maya side.

Runs on Python 3.7 (Maya 2022) to 3.13 without Qt or Maya. It talks HTTP through ``requests`` when Maya's Python can
import it, and through the standard library's ``urllib`` otherwise: some Maya builds cannot import ``urllib3`` for want
of ``ssl`` (aws-deadline/deadline-cloud-for-maya#133), and a submitter that dies on import helps nobody.

Every failure is one of ``maya_plugin.errors``: network trouble becomes ``FarmUnavailable``, a refused token
``FarmAuthError``, any other error answer ``FarmRejected`` carrying the node's own message.
"""
from __future__ import annotations

import json
import threading
from typing import Any, BinaryIO, Callable, Dict, Iterable, Iterator, List, Optional, Tuple
from urllib.parse import quote, urlencode

from maya_plugin.errors import (FarmAuthError, FarmConflict, FarmError, FarmNotFound, FarmRejected,
                                FarmUnavailable)

__all__ = ["FarmClient", "FarmError", "FarmUnavailable", "FarmAuthError", "FarmRejected", "FarmNotFound",
           "FarmConflict", "int_frame_keys"]

DEFAULT_TIMEOUT = 10.0


def int_frame_keys(jobs: Dict[str, Any]) -> Dict[str, Any]:
    """Turn the JSON string frame keys of a job dictionary back into ints, in place, and return it.

    So that the original design's loop (``frames[frame]["pid"]`` with ``frame`` an int) runs unchanged.
    """
    for job in jobs.values():
        for subjob in (job.get("subjobs") or {}).values():
            frames = subjob.get("frames")
            if frames:
                subjob["frames"] = {int(k): v for k, v in frames.items()}
    return jobs


def feed_frames(answer: Dict[str, Any], subjob: Dict[str, Any]) -> Dict[int, Dict[str, Any]]:
    """The changed frames of a watched subjob of the narrowed feed, by number: its ``frame_rows`` read with the
    answer's ``frame_columns``. (The feed sends rows, not a dictionary a frame: half the bytes. A client that merges
    them into rows of its own, as the Monitor's frames table does, needs no dictionary at all.)"""
    columns = answer.get("frame_columns") or ()
    out = {}  # type: Dict[int, Dict[str, Any]]
    for row in subjob.get("frame_rows") or ():
        frame = dict(zip(columns, row))
        out[frame["number"]] = frame
    return out


class _Response(object):
    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body: bytes, headers: Dict[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers = headers


class _Stream(object):
    """An answer whose body is read in chunks (``chunks``, an iterator of bytes); ``close`` frees the connection."""

    def __init__(self, status: int, headers: Dict[str, str], chunks: Iterator[bytes], close: Callable[[], None]):
        self.status = status
        self.headers = headers
        self.chunks = chunks
        self.close = close


class _Upload(object):
    """A file sent as a request body chunk by chunk, ``progress(sent, total)`` told after each one.

    Iterable with a length: requests and http.client both send such a body as it is read, with a Content-Length.
    """

    def __init__(self, source: BinaryIO, size: int, progress: Optional[Callable[[int, int], None]],
                 chunk_size: int) -> None:
        self.source = source
        self.size = size
        self.progress = progress
        self.chunk_size = chunk_size

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        while sent < self.size:
            chunk = self.source.read(min(self.chunk_size, self.size - sent))
            if not chunk:
                break
            sent += len(chunk)
            yield chunk
            if self.progress is not None:
                self.progress(sent, self.size)


class _RequestsTransport(object):
    def __init__(self) -> None:
        import requests  # noqa: F401  (imported here so a broken requests falls back to urllib)
        self._requests = requests
        # One session per thread: the Monitor long-polls on one thread while actions run on others, and a
        # requests.Session is not documented as safe to share between threads.
        self._local = threading.local()
        self._sessions = []  # type: List[Any]

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._requests.Session()
            self._sessions.append(session)
        return session

    def send(self, method: str, url: str, headers: Dict[str, str], body: Optional[bytes],
             timeout: float) -> _Response:
        requests = self._requests
        try:
            r = self._session().request(method, url, headers=headers, data=body, timeout=timeout)
        except requests.exceptions.RequestException as exc:
            raise FarmUnavailable("cannot reach the farm node at %s: %s" % (url.split("/api/")[0], _reason(exc)))
        return _Response(r.status_code, r.content, dict(r.headers))

    def close(self) -> None:
        for session in self._sessions:
            session.close()

    def stream(self, method: str, url: str, headers: Dict[str, str], timeout: float,
               chunk_size: int) -> "_Stream":
        """Like ``send``, but the body is read chunk by chunk as it arrives (a big backup is never held whole)."""
        requests = self._requests
        base = url.split("/api/")[0]
        try:
            r = self._session().request(method, url, headers=headers, timeout=timeout, stream=True)
        except requests.exceptions.RequestException as exc:
            raise FarmUnavailable("cannot reach the farm node at %s: %s" % (base, _reason(exc)))

        def chunks():  # type: ignore[no-untyped-def]
            try:
                for chunk in r.iter_content(chunk_size):
                    if chunk:
                        yield chunk
            except requests.exceptions.RequestException as exc:
                raise FarmUnavailable("the farm node at %s stopped answering: %s" % (base, _reason(exc)))
        return _Stream(r.status_code, dict(r.headers), chunks(), r.close)


class _UrllibTransport(object):
    def send(self, method: str, url: str, headers: Dict[str, str], body: Optional[bytes],
             timeout: float) -> _Response:
        import socket
        import urllib.error
        import urllib.request
        req = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 (http/https only, built by us)
                return _Response(r.status, r.read(), dict(r.headers))
        except urllib.error.HTTPError as exc:
            return _Response(exc.code, exc.read(), dict(exc.headers or {}))
        except (urllib.error.URLError, socket.timeout, OSError) as exc:
            raise FarmUnavailable("cannot reach the farm node at %s: %s" % (url.split("/api/")[0], _reason(exc)))

    def close(self) -> None:
        pass

    def stream(self, method: str, url: str, headers: Dict[str, str], timeout: float,
               chunk_size: int) -> "_Stream":
        import socket
        import urllib.error
        import urllib.request
        base = url.split("/api/")[0]
        req = urllib.request.Request(url, headers=headers, method=method)
        try:
            r = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 (http/https only, built by us)
        except urllib.error.HTTPError as exc:
            return _Stream(exc.code, dict(exc.headers or {}), iter([exc.read()]), exc.close)
        except (urllib.error.URLError, socket.timeout, OSError) as exc:
            raise FarmUnavailable("cannot reach the farm node at %s: %s" % (base, _reason(exc)))

        def chunks():  # type: ignore[no-untyped-def]
            try:
                while True:
                    chunk = r.read(chunk_size)
                    if not chunk:
                        return
                    yield chunk
            except (socket.timeout, OSError) as exc:
                raise FarmUnavailable("the farm node at %s stopped answering: %s" % (base, _reason(exc)))
        return _Stream(r.status, dict(r.headers), chunks(), r.close)


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "timed out", "Name or service not known", "No route to host"):
        if marker in text:
            return marker.lower()
    return text[:200]


def _make_transport() -> Any:
    try:
        return _RequestsTransport()
    except ImportError:
        return _UrllibTransport()


class FarmClient(object):
    """A connection to one farm node (the coordinator).

    ``url`` is the node's base address, e.g. ``http://render01:8750``; ``token`` its access token. ``timeout`` bounds
    every call except the long poll of ``changes``, which adds its own wait to it.
    """

    def __init__(self, url: str, token: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT,
                 transport: Any = None) -> None:
        url = url.strip().rstrip("/")
        if "://" not in url:
            url = "http://" + url
        self.url = url
        self.token = token
        self.timeout = timeout
        self._transport = transport or _make_transport()

    def __repr__(self) -> str:
        return "FarmClient(%r)" % self.url

    def close(self) -> None:
        self._transport.close()

    # -- the farm -----------------------------------------------------------------------------------------------
    def health(self) -> Dict[str, Any]:
        return self._json("GET", "/api/health")

    def submit(self, job_dict: Dict[str, Any]) -> List[str]:
        """Send a job dictionary of one or more jobs; returns the names the farm stored."""
        return list(self._json("POST", "/api/jobs", body=job_dict)["jobs"])

    def jobs(self) -> Dict[str, Any]:
        """The whole queue as one job dictionary, frame keys as ints."""
        return int_frame_keys(self._json("GET", "/api/jobs"))

    def summary(self) -> Dict[str, Any]:
        """Every job and subjob with its status and counts, without frames: ``{"revision": r, "jobs": {name: job}}``
        where each subjob has no ``frames`` key. Small however many frames the farm holds."""
        return self._json("GET", "/api/summary")

    def job(self, name: str, frames: bool = True) -> Dict[str, Any]:
        """One job; with ``frames=False`` its fields, counts and subjobs only (small however big the job)."""
        if not frames:
            return self._json("GET", "/api/jobs/%s?frames=false" % _q(name))
        return int_frame_keys({name: self._json("GET", "/api/jobs/" + _q(name))})[name]

    def changes(self, since: int = 0, wait: float = 0.0,
                watch: Optional[Iterable[Tuple[str, str]]] = None) -> Dict[str, Any]:
        """What changed after revision ``since``, waiting up to ``wait`` seconds for something to change.

        The answer has the shape of the job dictionary holding only what changed; ``reload`` true means ``jobs`` is
        the whole queue and replaces what the caller has (see docs/DESIGN.md).

        With ``watch`` (a list of (job, subjob), maybe empty) the feed is narrowed to what a monitor shows: every
        changed job and subjob with its counts, frames only of the watched subjobs (compact: no stdout, argv or
        command; as ``frame_rows`` of the answer's ``frame_columns``, which ``feed_frames`` reads), ``refetch``
        naming the watched subjobs whose page must be read again; a reload is then the summary, not the queue
        (docs/API.md, "Reads that stay small").
        """
        params = [("since", str(int(since))), ("wait", str(float(wait)))]  # type: List[Tuple[str, str]]
        if watch is not None:
            params.append(("view", "summary"))
            params.extend(("watch", "%s/%s" % (job, subjob)) for job, subjob in watch)
        answer = self._json("GET", "/api/changes?" + urlencode(params), timeout=self.timeout + float(wait))
        int_frame_keys(answer.get("jobs") or {})
        return answer

    def frames(self, job: str, subjob: str, offset: int = 0, limit: int = 200, sort: str = "number",
               descending: bool = False, status: Optional[Iterable[str]] = None, host: Optional[str] = None,
               first: Optional[int] = None, last: Optional[int] = None) -> Dict[str, Any]:
        """A page of one subjob's frames, sorted and filtered by the node: ``{"revision", "total", "offset",
        "frames": [{"number", "status", "host", "pid", "command", ...}]}``; ``total`` counts the frames that pass
        the filter. ``sort``: number, status, progress, host, pid, attempts, started, finished, elapsed,
        exit_code."""
        return self._json("GET", self._page_path(job, subjob, offset, limit, sort, descending, status, host, first,
                                                 last, False))

    def frame_numbers(self, job: str, subjob: str, offset: int = 0, limit: int = 1000000, sort: str = "number",
                      descending: bool = False, status: Optional[Iterable[str]] = None, host: Optional[str] = None,
                      first: Optional[int] = None, last: Optional[int] = None) -> List[int]:
        """The frame numbers of rows ``offset`` to ``offset + limit`` of the same sorted, filtered view."""
        answer = self._json("GET", self._page_path(job, subjob, offset, limit, sort, descending, status, host,
                                                   first, last, True))
        return [int(n) for n in answer["numbers"]]

    @staticmethod
    def _page_path(job: str, subjob: str, offset: int, limit: int, sort: str, descending: bool,
                   status: Optional[Iterable[str]], host: Optional[str], first: Optional[int], last: Optional[int],
                   numbers: bool) -> str:
        params = [("offset", str(int(offset))), ("limit", str(int(limit))), ("sort", sort),
                  ("order", "desc" if descending else "asc")]  # type: List[Tuple[str, str]]
        params.extend(("status", s) for s in (status or ()))
        if host is not None:
            params.append(("host", host))
        if first is not None:
            params.append(("first", str(int(first))))
        if last is not None:
            params.append(("last", str(int(last))))
        if numbers:
            params.append(("numbers", "true"))
        return "/api/jobs/%s/subjobs/%s/frames?%s" % (_q(job), _q(subjob), urlencode(params))

    def pause(self, name: str) -> Dict[str, Any]:
        return self._json("POST", "/api/jobs/%s/pause" % _q(name))

    def resume(self, name: str) -> Dict[str, Any]:
        return self._json("POST", "/api/jobs/%s/resume" % _q(name))

    def cancel(self, name: str) -> Dict[str, Any]:
        return self._json("POST", "/api/jobs/%s/cancel" % _q(name))

    def retry(self, name: str, subjob: Optional[str] = None, frames: Optional[List[int]] = None) -> Dict[str, Any]:
        """Queue again the failed and cancelled frames, or only ``frames`` of ``subjob`` when given."""
        body = None  # type: Optional[Dict[str, Any]]
        if subjob is not None or frames is not None:
            body = {}
            if subjob is not None:
                body["subjob"] = subjob
            if frames is not None:
                body["frames"] = [int(f) for f in frames]
        return self._json("POST", "/api/jobs/%s/retry" % _q(name), body=body)

    def delete(self, name: str) -> Dict[str, Any]:
        return self._json("DELETE", "/api/jobs/" + _q(name))

    def update(self, name: str, **fields: Any) -> Dict[str, Any]:
        """Change a job (``PATCH /api/jobs/{job}``): any of ``priority``, ``max_attempts``, ``frame_timeout``,
        ``requires``, ``limits``; returns the job as the farm now has it (its frames left out)."""
        return self._json("PATCH", "/api/jobs/" + _q(name), body=fields)

    def clear_blocklist(self, name: str, host: Optional[str] = None) -> Dict[str, Any]:
        """Let the hosts a job blocklisted (or only ``host``) render it again."""
        path = "/api/jobs/%s/blocklist" % _q(name) + ("?" + urlencode({"host": host}) if host else "")
        return self._json("DELETE", path)

    def limits(self) -> Dict[str, Dict[str, Any]]:
        """The farm's limits: ``{name: {"capacity": n, "in_use": m}}``."""
        return dict(self._json("GET", "/api/limits")["limits"])

    def set_limit(self, name: str, capacity: int) -> Dict[str, Any]:
        return self._json("PUT", "/api/limits/" + _q(name), body={"capacity": capacity})

    def delete_limit(self, name: str) -> Dict[str, Any]:
        return self._json("DELETE", "/api/limits/" + _q(name))

    def log(self, job: str, subjob: str, frame: int, offset: int = 0, attempt: Optional[int] = None) -> str:
        """The frame's whole log (latest attempt, or ``attempt``) from byte ``offset``, as text."""
        text, _ = self.log_chunk(job, subjob, frame, offset, attempt)
        return text

    def log_chunk(self, job: str, subjob: str, frame: int, offset: int = 0,
                  attempt: Optional[int] = None) -> Tuple[str, int]:
        """Like ``log``, plus the byte offset to ask for next time (for tailing a log that grows)."""
        path = "/api/jobs/%s/subjobs/%s/frames/%d/log?offset=%d" % (_q(job), _q(subjob), int(frame), int(offset))
        if attempt is not None:
            path += "&attempt=%d" % int(attempt)
        r = self._call("GET", path)
        # A multi-byte character cut at the end of this chunk is left for the next call, not shown as U+FFFD.
        body = r.body[:_complete_utf8(r.body)]
        return body.decode("utf-8", "replace"), offset + len(body)

    def workers(self) -> List[Dict[str, Any]]:
        return list(self._json("GET", "/api/workers")["workers"])

    def backup_xml(self, job: Optional[str] = None) -> bytes:
        path = "/api/queue.xml" + ("?" + urlencode({"job": job}) if job else "")
        return self._call("GET", path).body

    def restore_xml(self, data: bytes, replace: bool = False) -> List[str]:
        path = "/api/queue.xml" + ("?replace=true" if replace else "")
        r = self._call("POST", path, raw=data, content_type="application/xml")
        return list(_decode(r)["jobs"])

    # -- plumbing -----------------------------------------------------------------------------------------------
    def _json(self, method: str, path: str, body: Any = None, timeout: Optional[float] = None) -> Any:
        raw = None
        if body is not None:
            raw = json.dumps(body).encode("utf-8")
        return _decode(self._call(method, path, raw=raw, timeout=timeout))

    def _call(self, method: str, path: str, raw: Optional[bytes] = None, timeout: Optional[float] = None,
              content_type: str = "application/json") -> _Response:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        if raw is not None:
            headers["Content-Type"] = content_type
        r = self._transport.send(method, self.url + path, headers, raw, timeout or self.timeout)
        if r.status >= 400:
            raise _error_for(r)
        return r

    # -- streamed backup and restore: a big queue is never held whole, and the caller can show progress ----------
    def backup_to(self, out: BinaryIO, job: Optional[str] = None,
                  progress: Optional[Callable[[int], None]] = None, chunk_size: int = 1 << 16) -> int:
        """Write the queue's XML (or ``job``'s) into the binary file ``out`` as it arrives; returns the bytes written.

        ``progress(written)`` is called after each chunk (the node streams the XML, so no total is known ahead).
        """
        path = "/api/queue.xml" + ("?" + urlencode({"job": job}) if job else "")
        url = self.url + path
        headers = self._headers()
        stream = getattr(self._transport, "stream", None)
        if stream is None:  # a transport of the caller's that only sends whole answers
            r = self._transport.send("GET", url, headers, None, self.timeout)
            answer = _Stream(r.status, r.headers, iter([r.body]), lambda: None)
        else:
            answer = stream("GET", url, headers, self.timeout, chunk_size)
        try:
            if answer.status >= 400:
                raise _error_for(_Response(answer.status, b"".join(answer.chunks), answer.headers))
            written = 0
            for chunk in answer.chunks:
                out.write(chunk)
                written += len(chunk)
                if progress is not None:
                    progress(written)
            return written
        finally:
            answer.close()

    def restore_from(self, source: BinaryIO, size: int, replace: bool = False,
                     progress: Optional[Callable[[int, int], None]] = None,
                     chunk_size: int = 1 << 16) -> List[str]:
        """Send ``size`` bytes of XML read from the binary file ``source`` (what ``restore_xml`` does with bytes);
        ``progress(sent, size)`` is called after each chunk. Returns the names of the jobs restored."""
        path = "/api/queue.xml" + ("?replace=true" if replace else "")
        headers = self._headers()
        headers["Content-Type"] = "application/xml"
        headers["Content-Length"] = str(int(size))
        body = _Upload(source, int(size), progress, chunk_size)
        r = self._transport.send("POST", self.url + path, headers, body, self.timeout)
        if r.status >= 400:
            raise _error_for(r)
        return list(_decode(r)["jobs"])

    def _headers(self) -> Dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        return headers


def _complete_utf8(data: bytes) -> int:
    """Length of ``data`` without a UTF-8 sequence that the end of the data cuts short."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80 or byte > 0xF4:  # ASCII, or a byte no UTF-8 sequence holds: nothing to wait for
            return len(data)
        if byte >= 0xC0:  # a lead byte: is its sequence whole?
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) if back >= need else len(data) - back
    return len(data)


def _q(name: str) -> str:
    return quote(str(name), safe="")


def _decode(r: _Response) -> Any:
    try:
        return json.loads(r.body.decode("utf-8"))
    except ValueError:
        raise FarmRejected("the farm node sent an answer that is not JSON (%d bytes)" % len(r.body), r.status)


def _error_for(r: _Response) -> FarmError:
    try:
        payload = json.loads(r.body.decode("utf-8"))
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    message = payload.get("error") or payload.get("detail") or ("the farm node answered HTTP %d" % r.status)
    if not isinstance(message, str):
        message = json.dumps(message)
    if r.status == 401:
        return FarmAuthError("the farm node refused the token: %s" % message)
    cls = {404: FarmNotFound, 409: FarmConflict}.get(r.status, FarmRejected)
    return cls(message, r.status, payload.get("path"), payload)
