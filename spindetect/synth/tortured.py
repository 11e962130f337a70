"""Tortured-phrase insertion: established terms in clean prose replaced by their known garblings.

Paper mills run articles through paraphrasers that turn "data mining" into "information mining" and
"artificial intelligence" into "counterfeit consciousness". This generator does the same with the
tortured-phrase list: wherever an expected phrase of the list occurs in a clean paragraph, it is
replaced by one of its tortured forms. Only multiword expected phrases are used: the list also maps
single words ("by", "are"), and swapping those would be thesaurus spinning under another name.

Training draws from one part of the list and the test split from the other (`split_lexicon`), so the
test measures tortured phrases the classifier never saw in training.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict

from spindetect.features.tortured import UNCERTAIN_MARK, TorturedPhraseLexicon, clean_suggestion
from spindetect.synth.spinner import SpinResult, match_case, splice


class TorturedPhraseInserter:
    """Replace every expected phrase of a lexicon found in a text with a tortured form of it."""

    def __init__(self, lexicon: TorturedPhraseLexicon) -> None:
        variants: dict[str, list[str]] = defaultdict(list)
        for tortured, expected in lexicon.pairs:
            # "(?)" marks an expected phrase the curators were unsure of: not a sure source of garbling.
            if UNCERTAIN_MARK in expected:
                continue
            expected = clean_suggestion(expected).lower()
            # A few listed forms still hold the expected phrase ("created nations developed countries").
            if len(expected.split()) >= 2 and expected not in tortured.lower():
                variants[expected].append(tortured)
        self._variants = {expected: sorted(set(forms)) for expected, forms in variants.items()}
        alternatives = "|".join(re.escape(phrase) for phrase in sorted(self._variants, key=len, reverse=True))
        self._pattern = re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE) if alternatives else None

    def __len__(self) -> int:
        return len(self._variants)

    def insert(self, text: str, rng: random.Random) -> SpinResult:
        """``text`` with each expected phrase replaced by a tortured form drawn with ``rng``."""
        matches = self._pattern.finditer(text) if self._pattern else ()
        replacements = [
            (match.start(), match.end(), match_case(rng.choice(self._variants[match.group().lower()]), match.group()))
            for match in matches
        ]
        return splice(text, replacements, len(replacements))
