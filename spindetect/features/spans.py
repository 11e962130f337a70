"""Flagged spans: the words a lexical signal fired on, so every verdict can point at the text."""

from __future__ import annotations

from dataclasses import dataclass, replace

# A span that carries only a suggestion: a candidate original too weak to flag the words by itself, which
# names what the text probably had when another signal flags the same words.
SUGGESTION_HINT = "suggestion_hint"


@dataclass(frozen=True)
class FlaggedSpan:
    """Characters `start:end` of a text look machine-garbled.

    `reason` names the signal ("synonym_swap", "tortured_phrase", "function_word_garble"); `strength` runs
    from 0 (barely) to 1 (certain); `suggestion` is the phrase the text probably had, when a signal can
    tell ("court" for "tribunal" in "will appear in tribunal").
    """

    start: int
    end: int
    text: str
    reason: str
    strength: float
    suggestion: str | None = None

    def shifted(self, offset: int) -> FlaggedSpan:
        """The same span with offsets into an enclosing text (a paragraph's span into its document)."""
        return replace(self, start=self.start + offset, end=self.end + offset)

    def overlaps(self, other: FlaggedSpan) -> bool:
        return self.start < other.end and other.start < self.end

    def to_json(self) -> dict:
        data: dict = {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "reason": self.reason,
            "strength": round(self.strength, 2),
        }
        if self.suggestion is not None:
            data["suggestion"] = self.suggestion
        return data


def strongest_first(spans: list[FlaggedSpan]) -> list[FlaggedSpan]:
    """Keep the strongest of overlapping spans (ties: the earlier one), returned in text order."""
    kept: list[FlaggedSpan] = []
    for span in sorted(spans, key=lambda s: (-s.strength, s.start, s.end)):
        if not any(span.overlaps(other) for other in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: (s.start, s.end))


def merge_flags(spans: list[FlaggedSpan]) -> list[FlaggedSpan]:
    """Flags from all signals of one text, ready to show: hints lend their suggestion to overlapping flags
    that have none (the strongest hint first) and are then dropped; a flag still without one takes the
    suggestion of a flag over the same characters, so a stronger signal that cannot tell what the words replaced
    does not hide one that can; overlapping flags are then resolved as in `strongest_first`."""
    hints = sorted((s for s in spans if s.reason == SUGGESTION_HINT), key=lambda s: -s.strength)
    suggested = sorted((s for s in spans if s.reason != SUGGESTION_HINT and s.suggestion), key=lambda s: -s.strength)
    flags = []
    for span in spans:
        if span.reason == SUGGESTION_HINT:
            continue
        if span.suggestion is None:
            hint = next((h for h in hints if h.overlaps(span)), None)
            hint = hint or next((s for s in suggested if (s.start, s.end) == (span.start, span.end)), None)
            if hint is not None:
                span = replace(span, suggestion=hint.suggestion)
        flags.append(span)
    return strongest_first(flags)


# Word flags from the statistical signals are tentative: a paragraph of clean prose has a word or two that
# a reference model finds odd. Where the classifier judges the paragraph spun, they show the words the verdict
# rests on; where it judges it clean, only flags this strong, and lexicon matches, are shown.
CONCLUSIVE_STRENGTH = 0.9
ALWAYS_SHOWN_REASONS = ("tortured_phrase",)


def shown_flags(spans: list[FlaggedSpan], judged_spun: bool) -> list[FlaggedSpan]:
    """The merged flags of a paragraph that are shown, given the paragraph's verdict."""
    if judged_spun:
        return spans
    return [span for span in spans if span.strength >= CONCLUSIVE_STRENGTH or span.reason in ALWAYS_SHOWN_REASONS]
