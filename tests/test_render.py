from spindetect.features.spans import FlaggedSpan
from spindetect.render import strongest_spans


def test_a_crowded_paragraph_shows_its_strongest_spans_in_text_order() -> None:
    strengths = [0.5, 0.9, 0.6, 0.9, 0.7]
    spans = tuple(FlaggedSpan(10 * i, 10 * i + 4, f"w{i}", "replaced_word", s) for i, s in enumerate(strengths))
    assert [span.text for span in strongest_spans(spans, 3)] == ["w1", "w3", "w4"]
    assert strongest_spans(spans, 8) == list(spans)
