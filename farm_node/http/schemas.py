"""The API's machine-readable description in one place: the job dictionary's JSON Schema (CONTRACT sections 1 and 6),
the error answer, and every status each route can give, for ``/openapi.json``.

The routes validate with ``jobspec`` (which names the bad place in a 422); these schemas say the same rules to a
tool, so that a client generator or a fuzzer builds valid jobs. ``install(app)`` puts the schemas under
``components/schemas`` of the app's document; the routes refer to them with ``ref(name)`` and take their
``responses`` from ``answers(...)``.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from farm_node.wire import MAX_INT

MAX_NAME = 200  # jobspec.MAX_NAME: the HTTP layer says the rule, jobspec enforces it
_TAG_PATTERN = "^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$"  # scheduler.TAG_RULE (case does not count)


def ref(name: str) -> dict[str, str]:
    return {"$ref": "#/components/schemas/" + name}


_NAME = {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": "^[^/\\x00]+$",
         "not": {"enum": [".", ".."]}, "description": "1 to 200 characters, no '/', not '.' or '..'"}
_TAGS = {"type": "array", "items": {"type": "string", "pattern": _TAG_PATTERN},
         "description": "host tags: 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or a digit"}
_LIMITS = {"type": "object", "propertyNames": {"pattern": _TAG_PATTERN},
           "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 1000000},
           "description": "limit name -> units each rendering frame holds; every limit named must exist"}
_TIMEOUT = {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "null"}],
            "description": "seconds a frame may render before it is killed (a failed attempt); null: no timeout"}
_PRIORITY = {"type": "integer", "minimum": 0, "maximum": 100, "default": 50, "description": "higher first"}
_ATTEMPTS = {"type": "integer", "minimum": 1, "maximum": 1000, "default": 3}
_DEPENDS = {"type": "array", "items": _NAME, "description": "jobs (existing ones) that must be Complete first"}
_COMMENT = {"type": "string", "maxLength": 10000}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "string", "description": "what is wrong, in words a user understands"},
                       "path": {"type": "string", "description": "the offending place, e.g. "
                                                                 "Job1.subjobs.sub1.frames.3.command"}},
        "additionalProperties": True},
    "Name": _NAME,
    "FrameSubmission": {
        "type": "object", "required": ["command"],
        "properties": {
            "command": {"type": "string", "pattern": "^[^\\x00]*\\S[^\\x00]*$",
                        "description": "split into arguments by POSIX shell-word rules, never run through a shell;"
                                       " its first word is a program name the render host maps (--exe)"},
            "argv": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[^\\x00]*$"},
                     "description": "when present, what runs (command is then for display); argv[0] non-empty"}},
        "additionalProperties": True,
        "description": "status, host, pid, stdout and the other derived keys are ignored; other keys are kept"},
    "SubjobSubmission": {
        "type": "object", "required": ["frames"],
        "properties": {
            "frames": {"type": "object", "minProperties": 1,
                       "propertyNames": {"pattern": "^[+-]?[0-9]{1,18}$"},
                       "additionalProperties": ref("FrameSubmission"),
                       "description": "frame number (a 64-bit integer, as a string key) -> frame"},
            "requires": _TAGS, "limits": _LIMITS},
        "additionalProperties": True},
    "JobSubmission": {
        "type": "object", "required": ["subjobs"],
        "properties": {
            "subjobs": {"type": "object", "minProperties": 1, "propertyNames": ref("Name"),
                        "additionalProperties": ref("SubjobSubmission")},
            "priority": _PRIORITY, "max_attempts": _ATTEMPTS, "frame_timeout": _TIMEOUT,
            "requires": _TAGS, "limits": _LIMITS, "depends_on": _DEPENDS,
            "user": {"type": "string", "maxLength": MAX_NAME, "description": "the submitter's login"},
            "comment": _COMMENT, "paused": {"type": "boolean", "description": "true: the job arrives paused"}},
        "additionalProperties": True,
        "description": "other keys (scene, renderer, ...) are kept verbatim"},
    "JobDictionary": {
        "type": "object", "minProperties": 1, "propertyNames": ref("Name"),
        "additionalProperties": ref("JobSubmission"),
        "description": "job name -> job (CONTRACT section 1); job names are unique on a farm; nothing is stored"
                       " unless all of it is valid"},
    "JobPatch": {
        "type": "object", "minProperties": 1, "additionalProperties": False,
        "properties": {"priority": _PRIORITY, "max_attempts": _ATTEMPTS, "frame_timeout": _TIMEOUT,
                       "requires": {"anyOf": [_TAGS, {"type": "null"}]},
                       "limits": {"anyOf": [_LIMITS, {"type": "null"}]},
                       "depends_on": {"anyOf": [_DEPENDS, {"type": "null"}]},
                       "comment": {"anyOf": [_COMMENT, {"type": "null"}]}}},
    "Retry": {
        "type": "object", "additionalProperties": True,
        "properties": {"subjob": {"type": "string"},
                       "frames": {"type": "array", "items": {"type": "integer", "minimum": -MAX_INT - 1,
                                                             "maximum": MAX_INT}}},
        "description": "empty: the Failed and Cancelled frames; subjob (and frames): those frames, whatever their"
                       " status"},
    "Submitted": {"type": "object", "required": ["jobs"],
                  "properties": {"jobs": {"type": "array", "items": {"type": "string"}}}},
    "Job": {"type": "object", "required": ["status", "frames", "subjobs"],
            "description": "a job as the farm returns it (docs/DESIGN.md, 'The job dictionary the node returns')",
            "properties": {"status": {"enum": ["Queued", "Rendering", "Complete", "Failed", "Cancelled",
                                               "Paused"]},
                           "frames": {"type": "object"}, "subjobs": {"type": "object"}},
            "additionalProperties": True},
    "Capacity": {"type": "object", "required": ["capacity"], "additionalProperties": False,
                 "properties": {"capacity": {"type": "integer", "minimum": 0, "maximum": 1000000}}},
    "WorkerBody": {
        "type": "object", "required": ["host", "worker_id"],
        "properties": {"host": {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": "\\S"},
                       "worker_id": {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": "\\S"}},
        "additionalProperties": True,
        "description": "every worker call names the host and the worker's id (docs/DESIGN.md, 'Worker protocol')"},
}

_TEXT = {"application/json": {"schema": ref("Error")}}
_WHY = {
    400: "the body is not valid JSON (or holds NaN, a lone surrogate, nesting too deep), or is not what the route"
         " reads",
    401: "no token, or a wrong one (header Authorization: Bearer <token>)",
    403: "the other kind of token: the worker token on a client route, the clients' token on a worker route",
    404: "no such job, subjob, frame, attempt or limit",
    409: "a conflict: a job name that is taken, a worker name another worker holds, a host that must send a"
         " heartbeat first (rejoin), a limit whose units rendering frames hold",
    413: "the body is larger than the node accepts",
    422: "a field is invalid; path names it",
    500: "a fault of the node itself (logged); never an answer to bad input",
    503: "the store cannot be used now (a PostgreSQL gone away): nothing changed, ask again",
    507: "the data folder's disk is full: nothing changed",
}
# What any authenticated route may answer, whatever it does.
_EVERY = (401, 403, 500, 503, 507)


def answers(*statuses: int, ok: int = 200, ok_schema: dict | None = None, ok_text: str = "done",
            ok_media: str = "application/json") -> dict[int | str, Any]:
    """The ``responses`` of a route: its success, ``statuses``, and those every authenticated route may give."""
    out: dict[int | str, Any] = {ok: {"description": ok_text,
                                      "content": {ok_media: {"schema": ok_schema or {}}}}}
    for status in sorted(set(statuses) | set(_EVERY)):
        out[status] = {"description": _WHY[status], "content": _TEXT}
    return out


def body(schema: dict, media: str = "application/json", required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its body itself (so FastAPI does not describe it)."""
    return {"requestBody": {"required": required, "content": {media: {"schema": schema}}}}


# Links between operations (OpenAPI links): what a tool may call with what another answered. A submitted job's name
# leads to every route of that job; a limit set leads to its removal.
_JOB_ROUTES = [("get", "/api/jobs/{job}"), ("patch", "/api/jobs/{job}"), ("post", "/api/jobs/{job}/pause"),
               ("post", "/api/jobs/{job}/resume"), ("post", "/api/jobs/{job}/cancel"),
               ("post", "/api/jobs/{job}/retry"), ("delete", "/api/jobs/{job}/blocklist"),
               ("get", "/api/queue.xml"), ("delete", "/api/jobs/{job}")]
LINKS: list[tuple[tuple[str, str, str], str, tuple[str, str], dict[str, str]]] = [
    *[(("post", "/api/jobs", "201"), "job_%s" % (method + path.replace("/api/jobs/{job}", "")).replace("/", "_"),
       (method, path), {"job": "$response.body#/jobs/0"}) for method, path in _JOB_ROUTES],
    (("put", "/api/limits/{name}", "200"), "remove", ("delete", "/api/limits/{name}"),
     {"name": "$request.path.name"}),
]


def _add_links(doc: dict[str, Any]) -> None:
    for (method, path, status), name, (to_method, to_path), parameters in LINKS:
        target = doc["paths"][to_path][to_method]
        answer = doc["paths"][path][method]["responses"][status]
        answer.setdefault("links", {})[name] = {"operationId": target["operationId"], "parameters": parameters}


def install(app: FastAPI) -> None:
    """The app's document with the schemas above, and its bearer token scheme, built once when first asked."""
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = doc.setdefault("components", {})
            components.setdefault("schemas", {}).update(SCHEMAS)
            components["securitySchemes"] = {"token": {"type": "http", "scheme": "bearer",
                                                       "description": "the clients' token, or on /api/worker/"
                                                                      " routes the worker token"}}
            _add_links(doc)
            for path, methods in doc["paths"].items():
                if path != "/api/health":
                    for operation in methods.values():
                        operation["security"] = [{"token": []}]
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
