"""A scoring service over HTTP: `POST /score`, `POST /filter`, `GET /health`, with its OpenAPI schema.

The detector is loaded once, before the server starts. Scoring is CPU-bound and the detector is not meant to
be shared by threads, so requests are scored one at a time (the server still accepts and queues others).
Request bodies are capped in bytes and in documents; bad input gets a 4xx answer that says what is wrong
(a 422 names the field without echoing its value), and a document that cannot be scored gets its `error` in
the answer, never a failed request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from spindetect.render import result_fields

if TYPE_CHECKING:
    from spindetect.detector import Detector

MAX_BODY_BYTES = 10_000_000
MAX_DOCUMENTS = 256


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
    spin_label: Literal["spun", "clean"] | None
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


class FilterDecisionModel(BaseModel):
    action: Literal["keep", "reject", "error"]
    record: dict = Field(description="The record to keep, the rejected record with its scores, or the error entry.")
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
    """The service around one loaded detector."""
    app = FastAPI(
        title="spindetect",
        summary="Scores text for article-spinner rewrites, tortured phrases and garbled machine translation.",
        exception_handlers={RequestValidationError: _invalid_request},
    )
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
            decisions = list(detector.filter(request.records, request.threshold, request.text_field, request.paragraph_mode))
        counts = {action: sum(d.action == action for d in decisions) for action in ("keep", "reject", "error")}
        return FilterResponse(
            read=len(request.records),
            kept=counts["keep"],
            rejected=counts["reject"],
            errored=counts["error"],
            decisions=[FilterDecisionModel(action=d.action, record=d.output, score=d.score, error=d.error) for d in decisions],
        )

    app.add_middleware(BodySizeLimit, max_bytes=limits.max_body_bytes)
    return app
