"""The packaged machine-translation samples: how training/build_mt_data.py joins and labels them."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

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
