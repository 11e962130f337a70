"""`spindetect serve`: a real HTTP client against a server started on loopback."""

import json
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
