"""A labeled file to try `spindetect evaluate` and `calibrate` on: the Brown sample vendored in
tests/data/brown, each paragraph a clean text, and every fourth one also spun (15% of its content words
swapped for thesaurus synonyms, the project's own spinner, seed 7).

    python examples/brown_labeled.py > brown.jsonl
    spindetect evaluate --data brown.jsonl --group-field genre

Each line is {"text", "label" ("clean" or "spun"), "genre", "source"}.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from spindetect.features.thesaurus import MobyThesaurus
from spindetect.synth.brown import load_brown_paragraphs
from spindetect.synth.spinner import ThesaurusSpinner

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "brown"


def main() -> None:
    spinner = ThesaurusSpinner(MobyThesaurus.load(), rate=0.15, common_synonyms=10)
    rng = random.Random(7)
    for number, paragraph in enumerate(load_brown_paragraphs(SAMPLE)):
        record = {"genre": paragraph.genre, "source": f"{paragraph.source_id}#{paragraph.paragraph_index}"}
        print(json.dumps({"text": paragraph.text, "label": "clean", **record}))
        if number % 4 == 0:
            print(json.dumps({"text": spinner.spin(paragraph.text, rng).text, "label": "spun", **record}))


if __name__ == "__main__":
    main()
