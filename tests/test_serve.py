"""`spindetect serve`: a real HTTP client against a server on loopback, the app in process (with the default
limits, and for the property tests), and the command itself in a subprocess."""

import json
import math
import queue
import re
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from spindetect.detector import Detector
from spindetect.serve import ServiceLimits, create_app

BODY = (
    "The city council voted on Tuesday to approve a new budget for the coming year, after months of debate "
    "over the cost of repairing roads and bridges across the county."
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def detector(tiny_model_dir) -> Detector:
    return Detector.load(tiny_model_dir)


@pytest.fixture(scope="module")
def server(detector):
    port = _free_port()
    app = create_app(detector, ServiceLimits(max_body_bytes=20_000, max_documents=5))
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        yield client
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def client(detector) -> TestClient:
    """The service in process, with the default limits; an exception in it fails the test with its traceback."""
    with TestClient(create_app(detector)) as client:
        yield client


def test_health_reports_the_model(server, detector) -> None:
    response = server.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["threshold"] == pytest.approx(detector.threshold)


def test_score_matches_the_library_in_order(server, detector) -> None:
    documents = [BODY, "", f"Headline\n\n{BODY} Again."]
    response = server.post("/score", json={"documents": documents})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    expected = detector.score(documents)
    assert [r["spin_score"] for r in results] == [None if e.score is None else round(e.score, 4) for e in expected]
    assert results[1]["error"] and results[1]["spin_label"] is None
    assert [(p["start"], p["end"]) for p in results[2]["paragraphs"]] == [(p.start, p.end) for p in expected[2].paragraphs]


def test_filter_keeps_every_record_in_order(server) -> None:
    records = [{"id": 1, "text": BODY}, {"id": 2}, f"{BODY} Plain string.", {"id": 4, "text": 7}]
    response = server.post("/filter", json={"records": records, "threshold": 1.0})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["read"], answer["kept"], answer["rejected"], answer["errored"]) == (4, 2, 0, 2)
    assert [d["action"] for d in answer["decisions"]] == ["keep", "error", "keep", "error"]
    assert answer["decisions"][0]["record"] == {"id": 1, "text": BODY}
    assert "no field 'text'" in answer["decisions"][1]["error"]
    rejected = server.post("/filter", json={"records": [BODY], "threshold": 0.0}).json()
    assert rejected["decisions"][0]["action"] == "reject" and rejected["decisions"][0]["record"]["spin_label"] == "spun"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ("{not json", 422, "JSON"),
        (json.dumps({"documents": "a string"}), 422, "documents"),
        (json.dumps({"documents": []}), 422, "documents"),
        (json.dumps({"documents": [BODY], "threshold": 2}), 422, "threshold"),
        (json.dumps({"documents": [BODY] * 6}), 413, "limit is 5"),
        (json.dumps({"documents": ["x" * 30_000]}), 413, "20000 bytes"),
    ],
)
def test_bad_requests_get_a_4xx_that_says_why(server, body, status, says) -> None:
    response = server.post("/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert says in response.text


def test_a_streamed_body_over_the_limit_is_refused(server) -> None:
    chunks = (b'{"documents": ["' + b"x" * 5_000 for _ in range(6))
    response = server.post("/score", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_the_openapi_schema_describes_the_endpoints(server) -> None:
    schema = server.get("/openapi.json").json()
    assert {"/score", "/filter", "/health"} <= set(schema["paths"])
    assert "ScoreRequest" in schema["components"]["schemas"]


# Inputs that once got a 500: each must get a 4xx naming what is wrong, or the right answer.


def _post(http, path: str, body: str | bytes, content_type: str = "application/json") -> httpx.Response:
    return http.post(path, content=body, headers={"content-type": content_type})


def test_a_lone_surrogate_is_written_back_as_a_replacement_character(server) -> None:
    body = r'{"records": [{"text": "%s \ud800", "id": "\ud800"}, "%s \udfff"], "threshold": 1.0}' % (BODY, BODY)
    response = _post(server, "/filter", body)
    assert response.status_code == 200, response.text
    decisions = response.json()["decisions"]
    assert [d["action"] for d in decisions] == ["keep", "keep"]
    assert decisions[0]["record"] == {"text": f"{BODY} \ufffd", "id": "\ufffd"}
    assert decisions[1]["record"] == {"text": f"{BODY} \ufffd"}


def test_a_lone_surrogate_in_a_field_name_matches_the_same_text_field(server) -> None:
    response = _post(server, "/filter", r'{"records": [{"\udc00": "%s"}], "text_field": "\udc00", "threshold": 1.0}' % BODY)
    assert response.status_code == 200, response.text
    assert response.json()["decisions"][0]["record"] == {"\ufffd": BODY}


def test_a_lone_surrogate_in_a_wrong_field_gets_a_422_naming_it(server) -> None:
    response = _post(server, "/score", r'{"documents": "\ud800"}')
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "documents"]


@pytest.mark.parametrize("path", ["/score", "/filter"])
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_threshold_that_is_not_a_finite_number_gets_a_422_naming_it(server, path, value) -> None:
    field = "documents" if path == "/score" else "records"
    response = _post(server, path, f'{{"{field}": ["{BODY}"], "threshold": {value}}}')
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "threshold"]
    assert "finite number" in response.json()["detail"][0]["msg"]


def test_a_wrong_value_that_json_cannot_write_gets_a_422_naming_the_field(server) -> None:
    response = _post(server, "/score", '{"documents": [NaN]}')
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "documents", 0]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/score", _nested(10_000)),
        ("/score", '{"documents": ' + _nested(10_000) + "}"),
        ("/filter", '{"records": [' + _nested(10_000) + "]}"),
        ("/filter", '{"records": [{"text": "' + BODY + '", "deep": ' + _nested(300) + "}]}"),
        ("/score", '{"documents": [' + _nested(300) + "]}"),
    ],
)
def test_json_nested_too_deep_gets_a_422(client, path, body) -> None:
    response = _post(client, path, body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert "nested deeper than" in response.json()["detail"][0]["msg"]


def test_a_record_nested_within_the_limit_comes_back_whole(server) -> None:
    record = {"text": BODY, "deep": json.loads(_nested(90))}
    response = server.post("/filter", json={"records": [record], "threshold": 1.0})
    assert response.status_code == 200, response.text
    assert response.json()["decisions"][0]["record"] == record


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_a_body_that_is_not_utf8_gets_a_4xx_that_says_so(server, content_type) -> None:
    response = _post(server, "/score", b'{"documents": ["caf\xe9"]}', content_type)
    assert 400 <= response.status_code < 500
    if content_type == "application/json":
        assert response.status_code == 422 and "UTF-8" in response.text


def test_no_page_loads_assets_from_the_network(server) -> None:
    assert server.get("/docs").status_code == 404
    assert server.get("/redoc").status_code == 404
    assert server.get("/openapi.json").status_code == 200


def _first_line_matching(stream, pattern: str, seconds: float) -> re.Match:
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + seconds
    seen = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if match := re.search(pattern, line):
            return match
    pytest.fail(f"no line matching {pattern!r} within {seconds} s; got:\n{''.join(seen)}")


def test_serve_says_on_stderr_when_it_is_ready_and_where(tiny_model_dir) -> None:
    command = [sys.executable, "-m", "spindetect", "serve", "--model", str(tiny_model_dir), "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = _first_line_matching(process.stderr, r"serving (\S+) on (http://127\.0\.0\.1:\d+)", seconds=120)
        assert ready[1] == str(tiny_model_dir)
        assert httpx.get(f"{ready[2]}/health", timeout=30).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.stdout.read() == ""


# Properties: whatever JSON arrives, the answer is never a 5xx, and a 200 has one result per document or
# record, in order. The values include what once gave a 500: NaN and Infinity, lone surrogates (in strings
# and keys), wrong types and nesting past the limit.

# Lone surrogates often (`st.text` drops them from an alphabet made of several strategies, so lists are joined).
ANY_TEXT = st.lists(st.characters(exclude_categories=()) | st.characters(categories=["Cs"]), max_size=12).map("".join)
FLOATS = st.floats() | st.sampled_from([math.nan, math.inf, -math.inf])
PROSE = st.builds(lambda before, after: f"{before}{BODY}{after}", ANY_TEXT, ANY_TEXT)
DOCUMENTS = PROSE | ANY_TEXT
DEEP = st.integers(1, 200).map(lambda depth: json.loads(_nested(depth)))  # the limit is 100 levels
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | FLOATS | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=10,
)
THRESHOLDS = FLOATS | st.sampled_from([0.0, 0.5, 1.0]) | JSON_VALUES
RECORDS = (
    st.builds(lambda text, others: {**others, "text": text}, DOCUMENTS, st.dictionaries(ANY_TEXT, JSON_VALUES | DEEP, max_size=3))
    | DOCUMENTS
    | JSON_VALUES
)
FIELDS = st.sampled_from(["documents", "records", "threshold", "text_field", "paragraph_mode"]) | ANY_TEXT


def _echoed(value):
    """`value` as the service writes it back: sent as JSON (where an escaped surrogate pair is one character),
    with U+FFFD for each lone surrogate and null for NaN and Infinity."""
    return _mended(json.loads(json.dumps(value)))


def _mended(value):
    if isinstance(value, str):
        return re.sub("[\ud800-\udfff]", "\ufffd", value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_mended(item) for item in value]
    if isinstance(value, dict):
        return {_mended(key): _mended(item) for key, item in value.items()}
    return value


def _answer(client, path: str, body) -> httpx.Response:
    response = _post(client, path, json.dumps(body))  # json.dumps writes NaN, Infinity and \ud800 escapes
    assert response.status_code < 500, response.text
    if response.status_code == 422:
        assert all(error["loc"] and error["msg"] for error in response.json()["detail"])
    return response


@settings(max_examples=100, deadline=None)
@given(body=JSON_VALUES | DEEP | st.dictionaries(FIELDS, JSON_VALUES | DEEP, max_size=4), path=st.sampled_from(["/score", "/filter"]))
def test_any_json_body_gets_an_answer_not_a_server_error(client, body, path) -> None:
    _answer(client, path, body)


@settings(max_examples=60, deadline=None)
@given(body=st.fixed_dictionaries({"documents": st.lists(DOCUMENTS, min_size=1, max_size=3)}, optional={"threshold": THRESHOLDS}))
def test_score_answers_one_result_per_document_in_order(client, detector, body) -> None:
    response = _answer(client, "/score", body)
    if response.status_code == 200:
        answer = response.json()
        expected = detector.score([_echoed(document) for document in body["documents"]], threshold=answer["threshold"])
        assert [(r["spin_score"], r["spin_label"]) for r in answer["results"]] == [
            (None if e.score is None else round(e.score, 4), e.label) for e in expected
        ]


@settings(max_examples=60, deadline=None)
@given(
    body=st.fixed_dictionaries(
        {"records": st.lists(RECORDS, min_size=1, max_size=3)},
        optional={"threshold": THRESHOLDS, "text_field": st.sampled_from(["text", "id"]) | ANY_TEXT, "paragraph_mode": st.booleans()},
    )
)
def test_filter_answers_one_decision_per_record_in_order(client, body) -> None:
    response = _answer(client, "/filter", body)
    if response.status_code == 200:
        answer = response.json()
        records = body["records"]
        text_field = _echoed(body.get("text_field", "text"))
        assert answer["read"] == len(answer["decisions"]) == len(records)
        for number, (record, decision) in enumerate(zip(records, answer["decisions"], strict=True), start=1):
            if decision["action"] == "error":
                assert decision["record"]["line"] == number
            else:
                echoed = _echoed({text_field: record} if isinstance(record, str) else record)
                others = {key: value for key, value in echoed.items() if key != text_field}
                assert {key: decision["record"].get(key) for key in others} == others
