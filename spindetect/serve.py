"""A scoring service over HTTP: `POST /score`, `POST /filter`, `GET /health`, with its OpenAPI schema.

The detector is loaded once, before the server starts. Scoring is CPU-bound and the detector is not meant to
be shared by threads, so requests are scored one at a time (the server still accepts and queues others).
Request bodies are capped in bytes, in documents and in nesting depth; bad input gets a 4xx answer that says
what is wrong, and a document that cannot be scored gets its `error` in the answer, never a failed request.
Every answer is valid JSON: a lone surrogate in the body (the escape `\\ud800` alone, which no UTF-8 can
carry) is read as U+FFFD, and a 422 names the field without echoing its value.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from spindetect.render import result_fields

if TYPE_CHECKING:
    from spindetect.detector import Detector

MAX_BODY_BYTES = 10_000_000
MAX_DOCUMENTS = 256
# Deeper bodies are refused: real records nest a few levels, and pydantic writes at most about 250.
MAX_JSON_DEPTH = 100

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class ServiceLimits:
    max_body_bytes: int = MAX_BODY_BYTES
    max_documents: int = MAX_DOCUMENTS


class BodySizeLimit:
    """ASGI middleware answering 413 to a request body over `max_bytes`, declared or streamed."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        refused = False

        async def limited_receive() -> dict:
            # Over the limit: answer 413 at once and tell the application the client has gone, so it stops
            # reading; whatever it tries to send afterwards is dropped.
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                refused = True
                await self._refuse(send)
                return {"type": "http.disconnect"}
            return message

        async def send_unless_refused(message: dict) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, limited_receive, send_unless_refused)
        except Exception:
            if not refused:
                raise  # a refused request ends in the application's complaint about the lost client

    async def _refuse(self, send: Any) -> None:
        body = f'{{"detail": "request body over the limit of {self.max_bytes} bytes"}}'.encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def read_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A request body parsed as JSON, each lone surrogate in its strings and keys replaced by U+FFFD.

    Malformed JSON raises `json.JSONDecodeError` (FastAPI answers it with a 422); a body that is not UTF-8, is
    nested deeper than `max_depth` or holds a number Python will not read raises a 422 `HTTPException` saying so.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _unreadable_body(f"request body is not UTF-8 text (at byte {error.start}: {error.reason})") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep(max_depth) from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # the one other failure: an integer longer than Python converts
        raise _unreadable_body(f"request body: a number of over {sys.get_int_max_str_digits()} digits") from None
    return _mended(value, max_depth)


def _mended(value: Any, max_depth: int) -> Any:
    """Parsed JSON with U+FFFD for each lone surrogate in its strings and keys, walked in a loop, not by
    recursion, since its depth is what is being checked."""
    root = [value]
    pending: list[tuple[list | dict, int]] = [(root, 0)]
    while pending:
        container, depth = pending.pop()
        if depth > max_depth:
            raise _too_deep(max_depth)
        if isinstance(container, dict) and any(_SURROGATE.search(key) for key in container):
            mended = {_SURROGATE.sub("\ufffd", key): item for key, item in container.items()}
            container.clear()
            container.update(mended)
        for key, item in container.items() if isinstance(container, dict) else enumerate(container):
            if isinstance(item, str):
                container[key] = _SURROGATE.sub("\ufffd", item)
            elif isinstance(item, list | dict):
                pending.append((item, depth + 1))
    return root[0]


def _too_deep(max_depth: int) -> HTTPException:
    return _unreadable_body(f"request body: JSON nested deeper than {max_depth} levels")


def _unreadable_body(message: str) -> HTTPException:
    return HTTPException(422, [{"type": "json_invalid", "loc": ["body"], "msg": message}])


class JsonBodyRequest(Request):
    """A request whose JSON body `read_json` reads."""

    async def json(self) -> Any:
        return read_json(await self.body())


class JsonBodyRoute(APIRoute):
    """A route that reads its JSON body with `read_json`."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(JsonBodyRequest(request.scope, request.receive))

        return handle


async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 without each error's `input`: the client has it, it can be megabytes, and it can hold what
    JSON cannot write (NaN, bytes that are not UTF-8), which made FastAPI's own answer a 500."""
    errors = [{key: value for key, value in entry.items() if key != "input"} for entry in error.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


Threshold = Annotated[
    float | None,
    Field(ge=0.0, le=1.0, allow_inf_nan=False, description="Between 0 and 1; default: the model's own threshold."),
]


class ScoreRequest(BaseModel):
    documents: list[str] = Field(description="Texts to score, one document each.", min_length=1)
    threshold: Threshold = None


class DocumentScore(BaseModel):
    spin_score: float | None = Field(description="Probability that the document is spun or garbled; null if not scored.")
    spin_label: Literal["spun", "clean", "unjudged"] | None = Field(
        description="unjudged (and no score): no paragraph is English prose long enough to judge; null: not scored."
    )
    spin_unjudged: Literal["too_short", "not_english"] | None = None
    paragraphs: list[dict] = Field(description="{start, end, score, flags} per paragraph, offsets into the text.")
    spin_warnings: list[str] = []
    error: str | None = None


class ScoreResponse(BaseModel):
    threshold: float
    results: list[DocumentScore]


class FilterRequest(BaseModel):
    records: list[Any] = Field(description="JSON objects holding the text in `text_field`, or plain strings.", min_length=1)
    text_field: str = "text"
    threshold: Threshold = None
    paragraph_mode: bool = Field(False, description="Cut only spun paragraphs from kept records (listed in spin_cut).")
    unjudged: Literal["keep", "reject", "error"] = Field(
        "keep", description="What to do with a record with nothing long enough, or English enough, to judge."
    )


class FilterDecisionModel(BaseModel):
    action: Literal["keep", "reject", "error"]
    label: Literal["spun", "clean", "unjudged"] | None = None
    record: dict = Field(
        description="The record to keep, the rejected record with its scores, or the error entry; NaN and Infinity in it come back as null."
    )
    score: float | None = None
    error: str | None = None


class FilterResponse(BaseModel):
    read: int
    kept: int
    rejected: int
    errored: int
    decisions: list[FilterDecisionModel] = Field(description="One per record, in request order.")


class Health(BaseModel):
    status: Literal["ok"]
    threshold: float
    features: list[str]


def create_app(detector: Detector, limits: ServiceLimits = ServiceLimits()) -> FastAPI:
    """The service around one loaded detector.

    No /docs or /redoc page: FastAPI's load their scripts from a CDN, blank offline; the schema is at /openapi.json.
    """
    app = FastAPI(
        title="spindetect",
        summary="Scores text for article-spinner rewrites, tortured phrases and garbled machine translation.",
        docs_url=None,
        redoc_url=None,
        exception_handlers={RequestValidationError: _invalid_request},
    )
    app.router.route_class = JsonBodyRoute
    scoring = threading.Lock()

    def check_count(count: int) -> None:
        if count > limits.max_documents:
            raise HTTPException(413, f"{count} documents in one request; the limit is {limits.max_documents}")

    @app.get("/health")
    def health() -> Health:
        return Health(status="ok", threshold=detector.threshold, features=sorted({n.split("_")[0] for n in detector.model.feature_names}))

    @app.post("/score")
    def score(request: ScoreRequest) -> ScoreResponse:
        check_count(len(request.documents))
        threshold = detector.threshold if request.threshold is None else request.threshold
        with scoring:
            results = detector.score(request.documents, threshold=threshold)
        return ScoreResponse(threshold=threshold, results=[DocumentScore(**result_fields(result)) for result in results])

    @app.post("/filter")
    def filter_records(request: FilterRequest) -> FilterResponse:
        check_count(len(request.records))
        with scoring:
            decisions = list(detector.filter(
                request.records, request.threshold, request.text_field, request.paragraph_mode, request.unjudged
            ))
        counts = {action: sum(d.action == action for d in decisions) for action in ("keep", "reject", "error")}
        return FilterResponse(
            read=len(request.records),
            kept=counts["keep"],
            rejected=counts["reject"],
            errored=counts["error"],
            decisions=[
                FilterDecisionModel(action=d.action, label=d.label, record=d.output, score=d.score, error=d.error)
                for d in decisions
            ],
        )

    app.add_middleware(BodySizeLimit, max_bytes=limits.max_body_bytes)
    return app


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that calls `on_ready(url)` once it accepts requests (with port 0, on the port it got)."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[str], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: list | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            self.on_ready(f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}")


def run(app: FastAPI, host: str, port: int, log_level: str, on_ready: Callable[[str], None]) -> None:
    """Serve `app` until interrupted."""
    try:
        AnnouncingServer(uvicorn.Config(app, host=host, port=port, log_level=log_level), on_ready).run()
    except KeyboardInterrupt:
        pass
