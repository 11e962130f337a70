"""The packaged machine-translation samples: how training/build_mt_data.py joins and labels them, and how
training reads them into paragraphs split by source document."""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path
from typing import get_args

import pytest

from spindetect.config import ConfigError, MachineTranslationPair, parse_config
from spindetect.cross_validation import corpus_of
from spindetect.synth.dataset import assign_splits, translation_examples
from spindetect.synth.translation import (
    CLEAN,
    GARBLED,
    TRANSLATION_SETS,
    TranslationSet,
    read_translations,
    translated_paragraphs,
)

from .conftest import load_training_script


@pytest.fixture(scope="module")
def builder():
    return load_training_script("build_mt_data")


# --------------------------------------------------------------------------- the builder


def _assessments(*rows: tuple[str, float]) -> list[dict[str, str]]:
    return [{"index": str(i), "original": "src", "translation": text, "mean": str(mean)} for i, (text, mean) in enumerate(rows)]


def test_mlqe_rows_are_joined_line_by_line_labelled_by_score_and_detokenized(builder) -> None:
    assessments = _assessments(("He went home, then slept.", 12.5), ("It's fine.", 85.0), ("A middle one.", 55.0))
    post_editing = {
        "mt": ["He went home , then slept .", "It 's fine .", "A middle one ."],
        "pe": ['He went " home " , then slept .', "It 's fine .", "A middle one ( really ) ."],
        "hter": ["0.5", "0", "0.25"],
    }
    rows = builder.join_mlqe_split("xx-en", "dev", assessments, ["Doc A", "Doc B", "Doc A"], post_editing)

    assert [row["label"] for row in rows] == ["mt_garble", "mt_clean", "mt_mid"]
    assert [row["doc"] for row in rows] == ["Doc A", "Doc B", "Doc A"]
    assert rows[0]["text"] == "He went home, then slept." and rows[0]["da_mean"] == 12.5 and rows[0]["hter"] == 0.5
    assert [row["post_edit"] for row in rows] == ['He went "home", then slept.', "It's fine.", "A middle one (really)."]
    assert {row["lang_pair"] for row in rows} == {"xx-en"} and {row["split"] for row in rows} == {"dev"}


def test_mlqe_files_out_of_step_are_refused(builder) -> None:
    assessments = _assessments(("First sentence.", 10.0), ("Second sentence.", 90.0))
    shifted = {"mt": ["Second sentence .", "First sentence ."], "pe": ["a", "b"], "hter": ["0", "0"]}
    with pytest.raises(ValueError, match="segment 0.*not aligned"):
        builder.join_mlqe_split("xx-en", "dev", assessments, ["d", "d"], shifted)
    short = {"mt": ["First sentence ."], "pe": ["a"], "hter": ["0"]}
    with pytest.raises(ValueError, match="number of segments"):
        builder.join_mlqe_split("xx-en", "dev", assessments, ["d", "d"], short)


def test_mlqe_pair_is_read_from_the_dataset_tarballs(builder, tmp_path: Path) -> None:
    def tarball(path: Path, files: dict[str, str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(path, "w:gz") as tar:
            for name, text in files.items():
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

    table = "index\toriginal\ttranslation\tmean\n0\tsrc\tThe garbled \"one\".\t20\n"
    for split, folder in builder.MLQE_SPLITS:
        tarball(
            tmp_path / f"data/direct-assessments/{folder}/si-en-{folder}.tar.gz",
            {f"si-en/{split}.sien.df.short.tsv": table, f"si-en/{split}.doc_ids": "doc_id\nSome article\n"},
        )
        tarball(
            tmp_path / f"data/post-editing/{folder}/si-en-{folder}.tar.gz",
            {f"x/{split}.mt": 'The garbled " one " .\n', f"x/{split}.pe": "The good one .\n", f"x/{split}.hter": "0.4\n"},
        )

    rows = builder.build_mlqe_pair(builder.DatasetRepo(tmp_path), "si-en")

    assert [row["split"] for row in rows] == ["test20", "dev"]
    assert rows[0] == {
        "text": 'The garbled "one".', "label": "mt_garble", "lang_pair": "si-en", "split": "test20",
        "da_mean": 20.0, "hter": 0.4, "post_edit": "The good one.", "doc": "Some article",
    }
    with pytest.raises(ValueError, match="not one of the packaged pairs"):
        builder.build_mlqe_pair(builder.DatasetRepo(tmp_path), "xx-en")


def _rating(system: str, segment: str, rater: str, target: str, category: str, severity: str, doc: str = "news.1") -> dict:
    return {"system": system, "doc": doc, "docSegId": segment, "rater": rater, "target": target, "category": category, "severity": severity}


def test_mqm_ratings_label_major_errors_and_error_free_translations(builder) -> None:
    ratings = [
        # a Major error marked by one of two raters: garbled
        _rating("A", "1", "r1", "The <v>bank</v> of the river.", "Accuracy/Mistranslation", "Major"),
        _rating("A", "1", "r2", "The bank of the river.", "No-error", "No-error"),
        # no error from either rater, and the same text from a second system: one clean text, ratings pooled
        _rating("B", "2", "r1", "All is well.", "No-error", "No-error"),
        _rating("B", "2", "r2", "All is well.", "No-error", "No-error"),
        _rating("C", "2", "r3", "All is well. ", "No-error", "No-error"),
        # the only Major is the source's fault, the rest Minor: left out
        _rating("A", "3", "r1", "A <v>so-so</v> line.", "Source issue", "Major"),
        _rating("A", "3", "r2", "A so-so <v>line</v>.", "Style/Awkward", "Minor"),
        # a rater whose view held a planted error is left out: the Major came from that view
        _rating("B", "4", "r1", "Planted <v>error</v> here.", "Fluency/Grammar", "Major"),
        _rating("B", "4", "r1", "Planted error here.", "Found", "HOTW-test"),
        _rating("B", "4", "r2", "Planted error here.", "No-error", "No-error"),
    ]
    segments = builder.mqm_segments(ratings)

    by_text = {segment["text"]: segment for segment in segments}
    assert set(by_text) == {"The bank of the river.", "All is well.", "Planted error here."}
    assert by_text["The bank of the river."]["label"] == "mt_garble"
    assert by_text["The bank of the river."]["major_errors"] == ["Accuracy/Mistranslation"]
    assert by_text["All is well."] | {} == {
        "text": "All is well.", "label": "mt_clean", "lang_pair": "zh-en", "doc": "news.1", "segment": 2,
        "systems": ["B", "C"], "ratings": 3, "major_errors": [],
    }
    assert by_text["Planted error here."]["label"] == "mt_clean" and by_text["Planted error here."]["ratings"] == 1


def test_english_sources_are_read_once_a_segment_without_error_marks(builder) -> None:
    def row(doc: str, segment: str, source: str, system: str) -> dict[str, str]:
        return {"system": system, "doc": doc, "docSegId": segment, "source": source, "target": "Ziel."}

    ratings = [
        row("news_x.1:en-de", "2", "The second paragraph.", "A"),
        row("news_x.1:en-de", "1", "A headline", "A"),
        row("news_x.1:en-de", "2", "The <v>second</v> paragraph.", "B"),  # a rater marked a source error
        row("news_x.1:en-de", "1", "A headline", "B"),
    ]

    assert builder.english_sources(ratings, "news", "docSegId") == [
        {"text": "A headline", "doc": "news_x.1", "segment": 1, "genre": "news"},
        {"text": "The second paragraph.", "doc": "news_x.1", "segment": 2, "genre": "news"},
    ]
    with pytest.raises(ValueError, match="different sources"):
        builder.english_sources(ratings + [row("news_x.1:en-de", "1", "Another headline", "C")], "news", "docSegId")


# --------------------------------------------------------------------------- reading the samples


def _rows(doc: str, labels: str, **extra) -> list[dict]:
    """Rows of one document: one per letter of `labels` (g garbled, c clean, m middle)."""
    names = {"g": GARBLED, "c": CLEAN, "m": "mt_mid"}
    return [
        {"text": f"{doc} sentence {i} ({names[letter]}).", "label": names[letter], "doc": doc, "post_edit": f"{doc} edit {i}."} | extra
        for i, letter in enumerate(labels)
    ]


MLQE_LIKE = TranslationSet("test-xx-en", "unused.jsonl", GARBLED, CLEAN, post_edits=True)


def test_paragraphs_take_sentences_of_one_quality_and_keep_each_document_in_one_group() -> None:
    rows = [row for number in range(40) for row in _rows(f"doc{number}", "ggcmcgcm")]
    paragraphs = translated_paragraphs(rows, MLQE_LIKE, sentences_per_paragraph=3, seed=1)

    groups_of_doc: dict[str, set[str]] = {}
    for paragraph in paragraphs:
        sentences = re.findall(r"(doc\d+) sentence \d+ \((\w+)\)", paragraph.machine)
        assert {label for _, label in sentences} == {paragraph.quality}
        assert paragraph.documents == tuple(dict.fromkeys(doc for doc, _ in sentences))
        for doc in paragraph.documents:
            groups_of_doc.setdefault(doc, set()).add(paragraph.source_id)
    assert all(len(groups) == 1 for groups in groups_of_doc.values())
    assert len({p.source_id for p in paragraphs}) >= 3
    assert all(corpus_of(p.source_id) == "test-xx-en" for p in paragraphs)
    # Hardly a sentence is lost: 120 garbled and 120 clean, in groups that do not divide by 3.
    used = sum(p.machine.count("sentence") for p in paragraphs)
    assert used >= 0.95 * 240


def test_garbled_paragraphs_carry_the_post_edits_of_the_same_sentences() -> None:
    rows = [row for number in range(30) for row in _rows(f"doc{number}", "gggc")]
    paragraphs = translated_paragraphs(rows, MLQE_LIKE, sentences_per_paragraph=3, seed=2, max_paragraphs=5)

    garbled = [p for p in paragraphs if p.quality == GARBLED]
    assert len(garbled) == 5 and all(p.style == GARBLED for p in garbled)
    for paragraph in garbled:
        edits = [row["post_edit"] for row in rows if row["text"] in paragraph.machine]
        assert paragraph.post_edit == " ".join(edits)
    assert all(p.post_edit is None for p in paragraphs if p.quality == CLEAN)


def test_segments_of_a_document_are_used_once_and_in_order() -> None:
    mqm_like = TranslationSet("test-mqm", "unused.jsonl", "mt_major_error", "mt_no_error", post_edits=False)
    rows = []
    for number in range(12):
        for segment in (3, 1, 2, 4):  # two systems' translations of each segment, out of order
            for system in ("A", "B"):
                rows.append({"text": f"d{number} s{segment} {system}.", "label": GARBLED, "doc": f"d{number}", "segment": segment})
    paragraphs = translated_paragraphs(rows, mqm_like, sentences_per_paragraph=4, seed=3)

    assert {p.style for p in paragraphs} == {"mt_major_error"} and all(p.post_edit is None for p in paragraphs)
    assert len(paragraphs) == 12  # one translation of each of a document's four segments
    for paragraph in paragraphs:
        assert re.findall(r"s(\d) ", paragraph.machine) == ["1", "2", "3", "4"]
        assert len(set(re.findall(r"(d\d+) ", paragraph.machine))) == 1


def test_every_packaged_sample_reads_with_its_own_source_ids_and_splits_never_share_a_document() -> None:
    assert set(get_args(MachineTranslationPair)) == set(TRANSLATION_SETS)
    for name, translation_set in TRANSLATION_SETS.items():
        rows = read_translations(name)
        paragraphs = translated_paragraphs(rows, translation_set, sentences_per_paragraph=4, seed=13)
        assert {corpus_of(p.source_id) for p in paragraphs} == {name}
        assert {p.quality for p in paragraphs} == {GARBLED, CLEAN}
        assert {p.style for p in paragraphs} == {translation_set.garbled_style, translation_set.clean_style}
        splits = assign_splits((p.source_id for p in paragraphs), 0.15, 0.15, seed=13)
        splits_of_doc: dict[str, set[str]] = {}
        for paragraph in paragraphs:
            for doc in paragraph.documents:
                splits_of_doc.setdefault(doc, set()).add(splits[paragraph.source_id])
        assert all(len(of_doc) == 1 for of_doc in splits_of_doc.values()), name
        assert {e.split for e in translation_examples(paragraphs, splits)} == {"train", "valid", "test"}


def test_packaged_rows_have_the_fields_training_reads() -> None:
    for name, translation_set in TRANSLATION_SETS.items():
        rows = read_translations(name)
        assert all(row["text"].strip() and row["doc"] and row["label"] in (GARBLED, CLEAN, "mt_mid") for row in rows)
        if translation_set.post_edits:
            assert all(row["post_edit"].strip() for row in rows if row["label"] == GARBLED)


# --------------------------------------------------------------------------- the config


def test_machine_translation_pairs_default_to_every_sample_and_are_checked() -> None:
    assert parse_config({}).data.machine_translation.pairs == list(TRANSLATION_SETS)
    chosen = parse_config({"data": {"machine_translation": {"pairs": ["mqm-zh-en"]}}})
    assert chosen.data.machine_translation.pairs == ["mqm-zh-en"]
    with pytest.raises(ConfigError, match=r"data\.machine_translation\.pairs\.0"):
        parse_config({"data": {"machine_translation": {"pairs": ["mlqe-xx-en"]}}})
    with pytest.raises(ConfigError, match="mqm-zh-en more than once"):
        parse_config({"data": {"machine_translation": {"pairs": ["mqm-zh-en", "mqm-zh-en"]}}})
    with pytest.raises(ConfigError, match=r"data\.machine_translation\.pairs"):
        parse_config({"data": {"machine_translation": {"pairs": []}}})

