"""The HTML report: every flag marks the characters it names, verdicts and counts match the results, input
text cannot inject markup, nothing is fetched, and a report that leaves documents out says so."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spindetect.cli import app
from spindetect.detector import DocumentResult, Flag, ParagraphResult
from spindetect.features.spans import FlaggedSpan
from spindetect.report_html import ReportContext, render_report
from spindetect.report_selection import ReportRecord, select

THRESHOLD = 0.5
CONTEXT = ReportContext(threshold=THRESHOLD, model="test model", inputs=("in.jsonl",))
BODY = (
    "The city council voted on Tuesday to approve a new budget for the coming year, after months of debate "
    "over the cost of repairing roads and bridges across the county."
)


class ReportPage(HTMLParser):
    """What a test needs from a report page: documents, marks with their text, counts, every tag and attribute."""

    def __init__(self, page: str) -> None:
        super().__init__()  # convert_charrefs: text arrives unescaped, as a browser shows it
        self.articles: dict[int, dict] = {}
        self.marks: list[dict] = []  # {number, start, end, reason, title, text}
        self.tags: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.counts: dict[str, int] = {}
        self.bars: list[int] = []
        self._article: int | None = None
        self._mark: dict | None = None
        self._count_row: str | None = None
        self._in_count = False
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "article":
            self._article = int(attributes["data-number"])
            self.articles[self._article] = attributes
        elif tag == "mark" and "data-start" in attributes:
            self._mark = {
                "number": self._article,
                "start": int(attributes["data-start"]),
                "end": int(attributes["data-end"]),
                "reason": attributes["data-reason"],
                "title": attributes["title"],
                "text": "",
            }
        elif tag == "tr" and "data-verdict" in attributes:
            self._count_row = attributes["data-verdict"]
        elif tag == "td" and attributes.get("class") == "count" and self._count_row:
            self._in_count = True
        elif tag == "rect":
            self.bars.append(int(attributes["data-count"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark" and self._mark is not None:
            self.marks.append(self._mark)
            self._mark = None
        elif tag == "article":
            self._article = None
        elif tag == "td":
            self._in_count = False
        elif tag == "tr":
            self._count_row = None

    def handle_data(self, data: str) -> None:
        if self._mark is not None:
            self._mark["text"] += data
        if self._in_count:
            self.counts[self._count_row] = int(data.replace(",", ""))


def span_at(text: str, words: str, reason: str = "synonym_swap", suggestion: str | None = None, strength: float = 0.8) -> FlaggedSpan:
    start = text.index(words)
    return FlaggedSpan(start, start + len(words), words, reason, strength, suggestion)


def paragraph(text: str, start: int, end: int, score: float, spans: tuple[FlaggedSpan, ...] = (), judged: bool = True) -> ParagraphResult:
    flags = () if judged else (Flag("too_short", "too short to judge alone"),)
    if judged and score >= THRESHOLD:
        flags = (Flag("lm_swap_evidence_max", "a word both models say replaced a better-fitting synonym", 4.2),)
    return ParagraphResult(start, end, len(text[start:end].split()), score, judged, flags, spans)


def spun_record(number: int, score: float = 0.9) -> ReportRecord:
    """A headline and a spun paragraph with markup-like text and flags on characters HTML must escape."""
    title = "Local <b>News</b> & \"views\"\n\n"
    body = "The mayor 😀 seized bureau & the <script>alert(1)</script> council shall hear it in tribunal today."
    text = title + body
    spans = (
        span_at(text, "seized bureau", suggestion='took "office"'),
        span_at(text, "& the <script>", reason="repeated_word"),
        span_at(text, "tribunal", reason="tortured_phrase", suggestion="court", strength=1.0),
    )
    paragraphs = (
        paragraph(text, 0, len(title.rstrip()), 0.7, judged=False),
        paragraph(text, len(title), len(text), score, spans),
    )
    return ReportRecord(number, f"doc-{number} <i>", text, DocumentResult(score, "spun", THRESHOLD, paragraphs))


def clean_record(number: int, score: float = 0.1) -> ReportRecord:
    text = BODY
    strong = span_at(text, "repairing", reason="unexpected_word", strength=0.95)
    result = DocumentResult(score, "clean", THRESHOLD, (paragraph(text, 0, len(text), score, (strong,)),))
    return ReportRecord(number, f"clean {number}", text, result)


def unjudged_record(number: int) -> ReportRecord:
    text = "Menu"
    result = DocumentResult(None, "unjudged", THRESHOLD, (paragraph(text, 0, 4, 0.8, judged=False),), unjudged="too_short")
    return ReportRecord(number, f"menu {number}", text, result)


def error_record(number: int) -> ReportRecord:
    return ReportRecord(number, f"in.jsonl:{number}", None, None, f"in.jsonl:{number}: no field 'text' (its fields: 'body')")


def mixed_records() -> list[ReportRecord]:
    return [spun_record(1), clean_record(2), unjudged_record(3), error_record(4), spun_record(5, 0.62), clean_record(6, 0.49)]


def test_every_flag_highlights_exactly_the_characters_its_offsets_name() -> None:
    records = mixed_records()
    page = ReportPage(render_report(select(records, 500), CONTEXT))
    texts = {record.number: record.text for record in records}
    expected = [
        (record.number, span)
        for record in records
        if record.result is not None
        for p in record.result.paragraphs
        for span in p.spans
    ]
    assert len(page.marks) == len(expected) == 8
    for mark, (number, span) in zip(page.marks, expected, strict=True):
        assert mark["number"] == number
        assert (mark["start"], mark["end"]) == (span.start, span.end)
        assert mark["text"] == texts[number][span.start : span.end] == span.text
        assert mark["reason"] == span.reason
        assert span.reason.replace("_", " ") in mark["title"]
        if span.suggestion:
            assert f"probably “{span.suggestion}”" in mark["title"]


def test_verdicts_scores_and_counts_match_the_results() -> None:
    records = mixed_records()
    page = ReportPage(render_report(select(records, 500), CONTEXT))
    assert {number: attributes["data-verdict"] for number, attributes in page.articles.items()} == {
        1: "spun", 2: "clean", 3: "unjudged", 4: "error", 5: "spun", 6: "clean"
    }
    assert page.articles[5]["data-score"] == "0.620" and page.articles[3]["data-score"] == ""
    assert page.counts == {"spun": 2, "clean": 2, "unjudged": 1, "error": 1}
    assert sum(page.bars) == 4  # the scored documents: unjudged and errors have no score
    assert len(page.bars) == 20
    assert "left-out" not in page.ids


def test_input_text_cannot_inject_markup() -> None:
    html = render_report(select(mixed_records(), 500), CONTEXT)
    page = ReportPage(html)
    assert not [tag for tag, _ in page.tags if tag in ("script", "b", "i", "img")]
    assert "<script" not in html and "alert(1)&lt;/script&gt;" in html
    # A suggestion holding quotes stays inside its title attribute.
    assert any(mark["title"].endswith("probably “took \"office\"”") for mark in page.marks)


def test_the_page_refers_to_nothing_outside_itself() -> None:
    html = render_report(select(mixed_records(), 500), CONTEXT)
    page = ReportPage(html)
    assert "http://" not in html and "https://" not in html
    assert "url(" not in html and "@import" not in html
    for tag, attributes in page.tags:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed", "base"), tag
        assert "src" not in attributes and "srcset" not in attributes, tag
        if "href" in attributes:
            assert attributes["href"].startswith("#doc-"), attributes["href"]
    policy = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert policy.startswith("default-src 'none'")


def test_a_lone_surrogate_is_written_as_the_detector_scored_it() -> None:
    text = "Caf\ud800 owners " + BODY
    span = span_at(text, "owners")
    result = DocumentResult(0.9, "spun", THRESHOLD, (paragraph(text, 0, len(text), 0.9, (span,)),))
    html = render_report(select([ReportRecord(1, "id\udc00", text, result)], 5), CONTEXT)
    html.encode("utf-8")  # would raise on a surrogate
    page = ReportPage(html)
    assert page.marks[0]["text"] == "owners"


def test_a_report_that_cannot_show_everything_shows_spun_first_and_says_what_it_left_out() -> None:
    records = []
    for number in range(1, 101):
        kind = number % 10
        maker = spun_record if kind == 0 else error_record if kind == 1 else unjudged_record if kind == 2 else clean_record
        records.append(maker(number))  # 10 spun, 10 errors, 10 unjudged, 70 clean
    selection = select(records, 25)
    assert selection.shown_counts == {"spun": 10, "error": 10, "unjudged": 5, "clean": 0}
    assert [record.number for record in selection.shown] == sorted(record.number for record in selection.shown)
    page = ReportPage(render_report(selection, CONTEXT))
    assert len(page.articles) == 25
    assert page.counts == {"spun": 10, "clean": 70, "unjudged": 10, "error": 10}
    assert sum(page.bars) == 80  # every scored document, shown or not
    html = render_report(selection, CONTEXT)
    assert "left-out" in page.ids
    assert "shows 25 of 100 documents" in html and "5 of 10 unjudged" in html and "0 of 70 clean" in html
    # The same input gives the same report.
    assert render_report(select(records, 25), CONTEXT) == html


def test_clean_documents_fill_the_room_left_with_a_sample_spread_over_the_input() -> None:
    records = [clean_record(number, score=number / 2001) for number in range(1, 1001)]
    selection = select(records, 100)
    numbers = [record.number for record in selection.shown]
    assert len(numbers) == 100 == len(set(numbers))
    assert min(numbers) < 200 and max(numbers) > 800  # not just the first ones
    assert sum(selection.tally.histogram) == 1000


def test_the_report_command_writes_a_page_for_files_and_jsonl(tiny_model_dir, tmp_path) -> None:
    runner = CliRunner()
    article = tmp_path / "article.txt"
    article.write_text("Local <script>alert('x')</script> News\n\n" + BODY + "\n")
    output = tmp_path / "report.html"
    result = runner.invoke(
        app, ["report", "--model", str(tiny_model_dir), str(article), str(tmp_path / "missing.txt"), "--html", str(output)]
    )
    assert result.exit_code == 1, result.output  # as `score`: an input could not be read
    assert "report written to" in result.stderr and "1 not scored" in result.stderr
    html = output.read_text(encoding="utf-8")
    page = ReportPage(html)
    assert "<script" not in html and not [tag for tag, _ in page.tags if tag == "script"]
    shown_text = unescape(re.sub(r"<[^>]*>", "", html))  # what a reader sees, marks and all
    assert "Local <script>alert('x')</script> News" in shown_text
    assert page.articles[2]["data-verdict"] == "error" and "no such file" in html
    assert page.articles[1]["data-verdict"] in ("spun", "clean", "unjudged")
    assert not output.with_name("report.html.partial").exists()

    records = tmp_path / "records.jsonl"
    lines = [{"id": "first <one>", "text": BODY}, {"id": 7, "text": BODY + " Again."}, {"body": "no text"}]
    records.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    result = runner.invoke(
        app,
        ["report", "-m", str(tiny_model_dir), "--jsonl", str(records), "--id-field", "id", "--max-documents", "1", "--html", str(output)],
    )
    assert result.exit_code == 1, result.output
    html = output.read_text(encoding="utf-8")
    page = ReportPage(html)
    assert sum(page.counts.values()) == 3 and page.counts["error"] == 1
    assert len(page.articles) == 1 and "left-out" in page.ids
    assert "shows 1 of 3 documents" in html
    names = ("first &lt;one&gt;", ">7 <", f"{records}:3")
    assert sum(name in html for name in names) >= 1

    refused = runner.invoke(app, ["report", "-m", str(tiny_model_dir), str(article), "--html", str(tmp_path)])
    assert refused.exit_code == 2 and "cannot write the report there" in refused.stderr


def _chromium() -> str:
    found = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
    if found is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    return found


def _open_in_chromium(chromium: str, page: Path, profile: Path) -> tuple[str, set[str]]:
    """The DOM Chromium renders from `page`, with every resolver lookup failing; and the URLs the page asked for."""
    net_log = profile.with_name(profile.name + "-net-log.json")
    command = [
        chromium,
        "--headless",
        "--no-sandbox",  # tests may run as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # the page must render without the network
        f"--log-net-log={net_log}",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, _page_requests(net_log)


def _page_requests(net_log: Path) -> set[str]:
    """URLs of the requests a page started, from Chromium's net log. The browser's own (a clock check, a
    spelling dictionary) have no initiator ("not an origin"); a file:// page's have its opaque origin."""
    text = net_log.read_text(encoding="utf-8", errors="replace").rstrip().rstrip(",")
    if not text.endswith("}"):  # Chromium may leave the closing brackets off a log it did not finish
        text += "]}"
    log = json.loads(text)
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    starts = [event.get("params", {}) for event in log["events"] if event["type"] == start_job]
    return {params["url"] for params in starts if "url" in params and params.get("initiator") != "not an origin"}


@pytest.mark.browser
def test_chromium_renders_the_whole_page_without_any_network_request(tmp_path) -> None:
    chromium = _chromium()
    # First, that the net log would show a page's request: a page that asks for an image.
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><html><body><img src="http://example.com/x.png"><p>control</p></body></html>')
    _, control_requests = _open_in_chromium(chromium, control, tmp_path / "control-profile")
    assert control_requests == {"http://example.com/x.png"}

    html = render_report(select(mixed_records(), 500), CONTEXT)
    page_file = tmp_path / "report.html"
    page_file.write_text(html, encoding="utf-8")
    dom, requests = _open_in_chromium(chromium, page_file, tmp_path / "profile")
    assert requests == set()
    rendered, source = ReportPage(dom), ReportPage(html)
    assert rendered.articles.keys() == source.articles.keys() == {1, 2, 3, 4, 5, 6}
    assert [(m["start"], m["end"], m["text"]) for m in rendered.marks] == [(m["start"], m["end"], m["text"]) for m in source.marks]
    assert len(rendered.marks) == 8
    assert rendered.counts == source.counts and sum(rendered.bars) == 4
    assert not [tag for tag, _ in rendered.tags if tag == "script"]
