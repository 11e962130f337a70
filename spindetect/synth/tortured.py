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


_WORD = re.compile(r"\w+")  # phrases and texts are cut into the same word tokens


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
        # Phrases by their word tokens: a text is scanned once, looking up the token runs that start at each
        # word, instead of trying thousands of alternatives of one pattern at every character.
        self._by_tokens = {tuple(_WORD.findall(phrase)): phrase for phrase in self._variants}
        self._longest = max((len(tokens) for tokens in self._by_tokens), default=0)

    def __len__(self) -> int:
        return len(self._variants)

    def finds(self, text: str) -> bool:
        """Whether ``text`` holds a term of the lexicon, that is whether `insert` would change it."""
        return bool(self._occurrences(text))

    def terms_in(self, text: str) -> set[str]:
        """The expected phrases of the lexicon that ``text`` holds (lowercased), those `insert` would garble."""
        return {phrase for _, _, phrase in self._occurrences(text)}

    def insert(self, text: str, rng: random.Random) -> SpinResult:
        """``text`` with each expected phrase replaced by a tortured form drawn with ``rng``."""
        replacements = [
            (start, end, match_case(rng.choice(self._variants[phrase]), text[start:end]))
            for start, end, phrase in self._occurrences(text)
        ]
        return splice(text, replacements, len(replacements))

    def _occurrences(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, phrase)`` of each term in ``text``, left to right, the longest where terms overlap."""
        tokens = list(_WORD.finditer(text))
        lowered = [token.group().lower() for token in tokens]
        found = []
        position = 0
        while position < len(tokens):
            match = self._longest_phrase_at(text, tokens, lowered, position)
            if match is None:
                position += 1
                continue
            length, phrase = match
            found.append((tokens[position].start(), tokens[position + length - 1].end(), phrase))
            position += length
        return found

    def _longest_phrase_at(
        self, text: str, tokens: list[re.Match[str]], lowered: list[str], position: int
    ) -> tuple[int, str] | None:
        """(tokens spanned, phrase) of the longest phrase starting at token `position`, written exactly as
        listed apart from case (same hyphens and spaces), or None."""
        for length in range(min(self._longest, len(tokens) - position), 0, -1):
            phrase = self._by_tokens.get(tuple(lowered[position : position + length]))
            if phrase is not None:
                start, end = tokens[position].start(), tokens[position + length - 1].end()
                if text[start:end].lower() == phrase:
                    return length, phrase
        return None
