"""Build the packaged machine-translation samples in `spindetect/data/` from the public datasets.

    python training/build_mt_data.py --mlqe PATH/mlqe-pe --mqm PATH/wmt-mqm-human-evaluation [--output spindetect/data]

Each PATH is a checkout of the dataset's repository or its git directory (read with `git show HEAD:...`);
the tarballs and TSV files are read where they lie and nothing is unpacked to disk.

- MLQE-PE (sheffieldnlp/mlqe-pe, CC0-1.0): for each pair in `MLQE_PAIRS`, the `dev` and `test20` splits.
  Row i of a split's direct-assessment TSV (source, machine translation, DA scores) is joined to line i of
  its post-editing files (`.mt`, `.pe`, `.hter`) and of its `.doc_ids`; the join is checked by comparing the
  machine translation of both sides (whitespace aside). The tokenized post-edit is detokenized. Written to
  `mt_{src}_en.jsonl`: `text`, `label` (`mt_garble` below DA 30, `mt_clean` from 80, `mt_mid` between),
  `lang_pair`, `split`, `da_mean`, `hter`, `post_edit` and `doc` (the source article).
- WMT MQM (google/wmt-mqm-human-evaluation, Apache-2.0): the Chinese->English side-by-side MQM ratings of the
  WMT23 general test set (three raters a segment, ten systems). A rater whose view of a segment carried a
  planted attention-check error ("HOTW-test") is left out for that segment; identical translations of one
  segment are merged with their ratings pooled. A translation with at least one Major error (not one the
  raters put on the source) is `mt_garble`; one in which every rating found no error is `mt_clean`; the rest
  (Minor errors only) are left out. Written to `mt_mqm_zh_en.jsonl`: `text`, `label`, `lang_pair`, `doc`,
  `segment` (its position in the document), `systems`, `ratings`, `major_errors` (the categories).
- English written by people, from the same repository (`--mqm`): the English source documents of the WMT23
  English->German side-by-side ratings (30 news articles: headline, captions and body paragraphs, one
  segment each). Written to `english_sources.jsonl`: `text`, `doc`, `segment`, `genre` (`news`). The
  translations are not read. The repository's TED talks are left out: TED licenses its talks CC BY-NC-ND.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import tarfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The pairs into English that are packaged; any other pair of the dataset is never read.
MLQE_PAIRS = ("si-en", "et-en", "ro-en", "ru-en")
# The dataset's splits that are packaged, in the order they are written.
MLQE_SPLITS = (("test20", "test"), ("dev", "dev"))
GARBLED_BELOW, CLEAN_FROM = 30.0, 80.0

MQM_FILE = "generalMT2023/zhen/sxs_mqm_generalMT2023_zhen.3ratingsPerSegment.tsv.tar.gz"
ATTENTION_CHECK = "HOTW-test"
SOURCE_CATEGORIES = ("Source issue", "Source error")  # errors the raters found in the source, not the translation
# English->German ratings whose English sources are packaged as clean modern English: (genre, file, the
# field numbering a document's segments).
ENGLISH_SOURCE_FILES = (
    ("news", "generalMT2023/ende/sxs_mqm_generalMT2023_ende.3ratingsPerSegment.tsv.tar.gz", "docSegId"),
)


class DatasetRepo:
    """Files of a dataset repository: a checkout, or a git directory without a work tree."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self, relative: str) -> bytes:
        on_disk = self.path / relative
        if on_disk.is_file():
            return on_disk.read_bytes()
        try:
            return subprocess.run(
                ["git", "--git-dir", str(self._git_dir()), "show", f"HEAD:{relative}"], check=True, capture_output=True
            ).stdout
        except subprocess.CalledProcessError as error:
            raise FileNotFoundError(f"{relative} is not in {self.path}: {error.stderr.decode().strip()}") from None

    def _git_dir(self) -> Path:
        return self.path / ".git" if (self.path / ".git").exists() else self.path


def tar_members(archive: bytes) -> dict[str, bytes]:
    """The files of a .tar.gz, by base name."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {Path(member.name).name: tar.extractfile(member).read() for member in tar if member.isfile()}


def read_tsv(data: bytes) -> list[dict[str, str]]:
    # Unquoted: the texts hold quote characters of their own.
    return list(csv.DictReader(io.StringIO(data.decode("utf-8")), delimiter="\t", quoting=csv.QUOTE_NONE))


def lines(data: bytes) -> list[str]:
    return data.decode("utf-8").rstrip("\n").split("\n")


# --------------------------------------------------------------------------- MLQE-PE


def detokenize(text: str) -> str:
    """Undo the Moses-style tokenization of MLQE-PE's post-edits ("Jefferson 's oath , then" -> "Jefferson's
    oath, then"): punctuation and clitics attach to the word before, opening brackets to the word after,
    and a pair of straight double quotes hugs what it quotes. Lone single quotes are left as they are: they
    are as often apostrophes ("the terrorists ' planes") as quotes."""
    text = re.sub(r' " (.+?) " ', r' "\1" ', f" {text.strip()} ").strip()
    text = re.sub(r" ([.,;:!?%)\]}])", r"\1", text)
    text = re.sub(r"([(\[{$]) ", r"\1", text)
    return re.sub(r" ('s|'re|'ve|'ll|'d|'m|n't)\b", r"\1", text)


def mlqe_label(da_mean: float) -> str:
    return "mt_garble" if da_mean < GARBLED_BELOW else "mt_clean" if da_mean >= CLEAN_FROM else "mt_mid"


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def join_mlqe_split(
    pair: str, split: str, assessments: list[dict[str, str]], doc_ids: list[str], post_editing: dict[str, list[str]]
) -> list[dict]:
    """One split of one pair: assessment rows joined line by line to their post-edits and source articles."""
    translations = [row["translation"] for row in assessments]
    sizes = {"assessments": len(translations), "doc_ids": len(doc_ids)} | {name: len(v) for name, v in post_editing.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"{pair} {split}: the files disagree on the number of segments: {sizes}")
    for number, (translation, tokenized) in enumerate(zip(translations, post_editing["mt"])):
        if _squeezed(translation) != _squeezed(tokenized):
            raise ValueError(
                f"{pair} {split} segment {number}: the assessed translation {translation!r} is not the post-edited "
                f"one {tokenized!r}: the files are not aligned"
            )
    rows = []
    for row, doc, post_edit, hter in zip(assessments, doc_ids, post_editing["pe"], post_editing["hter"]):
        da_mean = float(row["mean"])
        rows.append(
            {
                "text": row["translation"],
                "label": mlqe_label(da_mean),
                "lang_pair": pair,
                "split": split,
                "da_mean": round(da_mean, 2),
                "hter": float(hter),
                "post_edit": detokenize(post_edit),
                "doc": doc,
            }
        )
    return rows


def build_mlqe_pair(repo: DatasetRepo, pair: str) -> list[dict]:
    if pair not in MLQE_PAIRS:
        raise ValueError(f"{pair} is not one of the packaged pairs {MLQE_PAIRS}")
    rows = []
    for split, folder in MLQE_SPLITS:
        assessed = tar_members(repo.read(f"data/direct-assessments/{folder}/{pair}-{folder}.tar.gz"))
        edited = tar_members(repo.read(f"data/post-editing/{folder}/{pair}-{folder}.tar.gz"))
        (table,) = [data for name, data in assessed.items() if name.endswith(".df.short.tsv")]
        doc_ids = lines(assessed[f"{split}.doc_ids"])
        if doc_ids[0] != "doc_id":
            raise ValueError(f"{pair} {split}: {split}.doc_ids does not start with its doc_id header")
        post_editing = {suffix: lines(edited[f"{split}.{suffix}"]) for suffix in ("mt", "pe", "hter")}
        rows += join_mlqe_split(pair, split, read_tsv(table), doc_ids[1:], post_editing)
    return rows


# --------------------------------------------------------------------------- WMT MQM


def _unmarked(target: str) -> str:
    """The translation without the <v>...</v> marks around the error span a rating row shows."""
    return target.replace("<v>", "").replace("</v>", "").strip()


def mqm_segments(ratings: Iterable[dict[str, str]]) -> list[dict]:
    """The MQM rating rows (one per error marked, or one 'No-error' row) as labeled translations."""
    by_translation: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    for row in ratings:
        by_translation[row["system"], row["doc"], row["docSegId"]].append(row)
    # Identical translations of one segment (two systems agreeing) are one text, with their ratings pooled.
    pooled: dict[tuple[str, int, str], dict] = {}
    for (system, doc, segment), rows in by_translation.items():
        checked = {row["rater"] for row in rows if row["severity"] == ATTENTION_CHECK}
        kept = [row for row in rows if row["rater"] not in checked]
        if not kept:
            continue
        texts = {_unmarked(row["target"]) for row in kept}
        if len(texts) != 1:
            raise ValueError(f"{system} {doc} segment {segment}: the rating rows show different translations {texts}")
        key = (doc, int(segment), texts.pop())
        entry = pooled.setdefault(key, {"systems": set(), "raters": 0, "rows": []})
        entry["systems"].add(system)
        entry["raters"] += len({row["rater"] for row in kept})
        entry["rows"] += kept
    segments = []
    for (doc, segment, text), entry in sorted(pooled.items()):
        major = sorted(
            row["category"] for row in entry["rows"] if row["severity"] == "Major" and row["category"] not in SOURCE_CATEGORIES
        )
        if major:
            label = "mt_garble"
        elif all(row["severity"] == "No-error" for row in entry["rows"]):
            label = "mt_clean"
        else:
            continue  # Minor errors only
        segments.append(
            {
                "text": text,
                "label": label,
                "lang_pair": "zh-en",
                "doc": doc,
                "segment": segment,
                "systems": sorted(entry["systems"]),
                "ratings": entry["raters"],
                "major_errors": major,
            }
        )
    return segments


def build_mqm(repo: DatasetRepo) -> list[dict]:
    (table,) = tar_members(repo.read(MQM_FILE)).values()
    return mqm_segments(read_tsv(table))


def english_sources(ratings: Iterable[dict[str, str]], genre: str, segment_field: str) -> list[dict]:
    """The English source segments of English->X rating rows, once each, in document and segment order. The
    news documents are named `news_<site>.<number>:en-de`; the pair suffix goes."""
    segments: dict[tuple[str, int], str] = {}
    for row in ratings:
        doc = row["doc"].removesuffix(":en-de")
        text = _unmarked(row["source"])  # a source error is marked in the source
        key = (doc, int(row[segment_field]))
        if segments.setdefault(key, text) != text:
            raise ValueError(f"{doc} segment {key[1]}: two rating rows show different sources")
    return [{"text": text, "doc": doc, "segment": segment, "genre": genre} for (doc, segment), text in sorted(segments.items())]


def build_english_sources(repo: DatasetRepo) -> list[dict]:
    rows = []
    for genre, path, segment_field in ENGLISH_SOURCE_FILES:
        data = repo.read(path)
        tables = tar_members(data).values() if path.endswith(".tar.gz") else [data]
        for table in tables:
            rows += english_sources(read_tsv(table), genre, segment_field)
    return rows


# --------------------------------------------------------------------------- output


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def label_counts(rows: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["label"]] += 1
    return dict(sorted(counts.items()))


def _built(args: argparse.Namespace) -> Iterator[tuple[str, list[dict]]]:
    if args.mlqe:
        repo = DatasetRepo(args.mlqe)
        for pair in MLQE_PAIRS:
            yield f"mt_{pair.replace('-', '_')}.jsonl", build_mlqe_pair(repo, pair)
    if args.mqm:
        yield "mt_mqm_zh_en.jsonl", build_mqm(DatasetRepo(args.mqm))
        yield "english_sources.jsonl", build_english_sources(DatasetRepo(args.mqm))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mlqe", type=Path, help="the sheffieldnlp/mlqe-pe repository (checkout or git directory)")
    parser.add_argument("--mqm", type=Path, help="the google/wmt-mqm-human-evaluation repository")
    parser.add_argument("--output", type=Path, default=ROOT / "spindetect" / "data")
    args = parser.parse_args()
    if not (args.mlqe or args.mqm):
        parser.error("give --mlqe, --mqm or both")
    for name, rows in _built(args):
        write_jsonl(args.output / name, rows)
        labels = label_counts(rows) if rows and "label" in rows[0] else ""
        print(f"{name}: {len(rows)} rows, {len({row['doc'] for row in rows})} documents {labels}")


if __name__ == "__main__":
    main()
