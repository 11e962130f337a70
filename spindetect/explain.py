"""Plain-language names for the signals behind a score."""

from __future__ import annotations

SIGNAL_DESCRIPTIONS: dict[str, str] = {
    "ng_logprob_mean": "word sequences improbable in English",
    "ng_logprob_p10": "some very improbable word sequences",
    "ng_context_fit_mean": "words that fit their neighbours poorly",
    "ng_context_fit_p10": "some words that clash with their neighbours",
    "ng_poor_fit_share": "many words less likely in context than alone",
    "ng_pmi_mean": "word pairs that rarely go together",
    "ng_pmi_p10": "some word pairs that never go together",
    "ng_unseen_common_bigram_share": "common-word pairs unknown to English n-grams",
    "ng_unseen_common_trigram_share": "common-word triples unknown to English n-grams",
    "ng_oov_share": "many words outside the English vocabulary",
    "lm_surprisal_mean": "tokens the language model finds surprising",
    "lm_surprisal_median": "surprising tokens throughout",
    "lm_surprisal_std": "uneven surprisal",
    "lm_surprisal_p75": "a surprising upper quarter of tokens",
    "lm_surprisal_p90": "a surprising top tenth of tokens",
    "lm_surprisal_max": "one very surprising token",
    "lm_entropy_mean": "a language model unsure what comes next",
    "lm_excess_surprisal_mean": "tokens more surprising than the model expected",
    "lm_rank_top10": "few tokens among the model's top-10 guesses",
    "lm_rank_top100": "tokens ranked 10-100 by the model",
    "lm_rank_top1000": "tokens ranked 100-1000 by the model",
    "lm_rank_beyond1000": "tokens outside the model's top 1000 guesses",
    "lm_spike_share": "surprisal spikes",
    "lm_window_surprisal_max": "a burst of surprising tokens",
    "lm_window_surprisal_std": "bursts of surprise",
    "lm_log_tokens": "paragraph length",
    "lm_word_fit_mean": "words the language model finds out of place",
    "lm_word_fit_p10": "a tenth of the words out of place",
    "lm_word_fit_min": "one word badly out of place",
    "lm_word_fit_second_min": "a second word badly out of place",
    "lm_poor_word_fit_share": "many words far less likely here than usual",
    "lm_very_poor_word_fit_count": "words that clash with their context",
    "lm_word_pair_fit_min": "two words in a row out of place",
    "lm_word_pair_fit_second_min": "another two words in a row out of place",
    "lm_word_triple_fit_min": "three words in a row out of place",
    "lm_word_quad_fit_min": "four words in a row out of place",
    "lm_deletion_fit_min": "a word out of place that the words after it read better without",
    "lm_deletion_fit_second_min": "a second word out of place that the words after it read better without",
    "lm_word_probe_max": "a word the language model's reading of the text marks as put in by a spinner",
    "lm_word_probe_top2_mean": "two words the language model's reading of the text marks as put in by a spinner",
    "lm_swap_evidence_max": "a word both models say replaced a better-fitting synonym",
    "lm_swap_evidence_second": "a second word both models say replaced a synonym",
    "lm_candidate_gain_max": "a word whose thesaurus neighbour the language model expects far more",
    "lm_candidate_gain_second": "a second word whose thesaurus neighbour the language model expects far more",
    "lm_span_replaced_max": "a word whose signs together make a spinner's replacement likely",
    "lm_span_replaced_second": "a second word whose signs together make a replacement likely",
    "lm_context_gain_max": "a likely replacement whose synonym makes the words after it read far better",
    "lm_context_gain_first": "the likeliest replacement: its synonym makes the words after it read better",
    "lm_context_gain_second": "the second likeliest replacement: its synonym makes the words after it read better",
    "lm_context_gain_third": "the third likeliest replacement: its synonym makes the words after it read better",
    "ng_context_fit_min": "one word that clashes with its neighbours",
    "ng_context_fit_second_min": "a second word that clashes with its neighbours",
    "ng_poor_fit_count": "words at least 10x less likely beside their neighbours",
    "lx_swap_gain_max": "a word whose thesaurus neighbour would fit far better",
    "lx_swap_gain_second": "a second word whose neighbour would fit far better",
    "lx_swap_gain_mean": "words that better-fitting synonyms could replace",
    "lx_swap_strong_count": "words a synonym would fit 100x better",
    "lx_swap_strong_share": "a high share of words a synonym would fit 100x better",
    "lx_swap_poor_fit_gain_max": "a poorly fitting word with a far better synonym",
    "lx_tortured_phrase_count": "known tortured phrases",
    "lx_garble_count": "broken function-word sequences",
    "lx_span_replaced_max": "a common word whose fit and synonyms make a replacement likely",
    "lx_span_replaced_second": "a second word whose fit and synonyms make a replacement likely",
}

# What each kind of flagged span means, for the README and for readers of `--jsonl` output.
SPAN_DESCRIPTIONS: dict[str, str] = {
    "synonym_swap": "a thesaurus neighbour fits their place far better, or their n-gram signs make a replacement likely",
    "unexpected_word": "the language model finds this word far less likely here than it usually is",
    "swap_evidence": "the trigram model and the language model together make it likely these words replaced a thesaurus neighbour (the suggestion)",
    "tortured_phrase": "a known tortured phrase from the Problematic Paper Screener's list",
    "determiner_before_verb": "a determiner before a word that can only be a verb",
    "repeated_word": "a repeated word English does not repeat that way",
}

CONDITION_DESCRIPTIONS: dict[str, str] = {
    "too_short": "too short to judge alone; never decides the document (one with nothing longer is unjudged)",
    "not_english": "does not look like English; not counted in the document score",
    "truncated": "longer than the language model window; scored on its beginning",
}


def describe(reason: str) -> str:
    return SIGNAL_DESCRIPTIONS.get(reason) or CONDITION_DESCRIPTIONS.get(reason) or SPAN_DESCRIPTIONS.get(reason) or reason
