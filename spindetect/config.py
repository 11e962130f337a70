"""Typed configuration, loaded from the YAML files in `configs/`.

A config describes everything that makes a model: which language model and feature families it uses, how
documents are cut into paragraphs, which data it learns from and which classifier. Loading validates every
key before anything heavy is loaded, so a typo fails in milliseconds with the key's dotted path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Section(BaseModel):
    # Unknown keys are errors: a misspelt option silently falling back to its default is the worst outcome.
    model_config = ConfigDict(extra="forbid", frozen=True)


class LanguageModelConfig(_Section):
    """Which causal language model gives the perplexity features."""

    name: Literal["smollm2-135m", "gemma3-270m", "tiny-random"] = "smollm2-135m"
    # Paragraphs longer than this many tokens are scored on their first `max_tokens` tokens.
    max_tokens: int = Field(512, ge=16, le=8192)
    # bfloat16 runs the model about twice as fast on CPUs with native bfloat16 (AVX512-BF16, AMX) and on
    # GPUs; token surprisals differ from float32 by about 0.1 bits on average (correlation 0.998). A CPU without
    # native support runs bfloat16 in float32 (emulated, it was 6x slower and no nearer to native scores).
    # Features are cached per precision the model runs in.
    precision: Literal["float32", "bfloat16"] = "float32"


class FeaturesConfig(_Section):
    """Which feature families the classifier sees."""

    language_model: bool = True
    ngram: bool = True
    lexical: bool = True  # synonym-swap test, tortured phrases, function-word garble
    # The language model also reads the words after each paragraph's worst-fitting words without them
    # (`features.deletion`): two more features, off in the shipped model (it was trained without them).
    deletion_test: bool = False
    # The replaced-word probe on the language model's hidden states (`features.word_probe`): two more features,
    # read in the same pass; its weights are packaged per language model (training/fit_word_probe.py).
    word_probe: bool = False
    # The function-word swap test (`features.function_swaps`): would another function word be far likelier in
    # each function word's place? Two more features, read in the same pass; off in the shipped model.
    function_word_swaps: bool = False

    @model_validator(mode="after")
    def _at_least_one_family(self) -> FeaturesConfig:
        if not (self.language_model or self.ngram or self.lexical):
            raise ValueError("enable at least one of features.language_model, features.ngram and features.lexical")
        return self

    @model_validator(mode="after")
    def _language_model_options_need_it(self) -> FeaturesConfig:
        options = (
            ("deletion_test", self.deletion_test),
            ("word_probe", self.word_probe),
            ("function_word_swaps", self.function_word_swaps),
        )
        for option, enabled in options:
            if enabled and not self.language_model:
                raise ValueError(f"features.{option} needs features.language_model")
        return self


class SegmentationConfig(_Section):
    """How documents are cut into paragraphs."""

    # Paragraphs with fewer words are scored but marked too short to judge alone.
    min_words: int = Field(20, ge=1)
    # Longer paragraphs are split at sentence boundaries into pieces of at most this many words.
    max_paragraph_words: int = Field(200, ge=20)


class CorpusConfig(_Section):
    """A corpus of clean prose to draw paragraphs from."""

    name: Literal["brown", "wikipedia", "python_docs", "wmt_english"]
    # Paragraphs drawn at random (seeded) from the corpus.
    max_paragraphs: int = Field(1000, ge=10)
    # Brown only: categories (letters a-r or names like press_reportage); None means all.
    categories: list[str] | None = None

    @model_validator(mode="after")
    def _categories_only_for_brown(self) -> CorpusConfig:
        if self.categories is not None and self.name != "brown":
            raise ValueError("categories apply to the brown corpus only")
        return self


class LabeledFileConfig(_Section):
    """A file of the user's own labeled texts (.jsonl, .csv or .parquet) to train on."""

    path: Path  # relative paths are taken from the working directory
    text_field: str = "text"
    label_field: str = "label"
    # Texts with the same value in this field (a document and its spun copy, one source site) go to the
    # same split; without it each text is split on its own.
    group_field: str | None = None
    # Label values meaning spun or clean besides spun/1/true and clean/0/false.
    spun_values: list[str] = Field(default_factory=list)
    clean_values: list[str] = Field(default_factory=list)


class PhraseSpinConfig(_Section):
    """Phrase-level spinning: multiword phrases and function words swapped for thesaurus synonyms."""

    enabled: bool = False
    # Share of the clean paragraphs that also get a phrase-spun twin.
    share: float = Field(0.3, gt=0, le=1)
    # Share of phrase and function-word candidates rewritten, taken in turn.
    rates: list[float] = Field(default_factory=lambda: [0.3, 0.6, 1.0])
    # Chance, relative to the rate, that a content word becomes one of its multiword synonyms of any sense
    # ("office" -> "branch office"); 0 leaves content words to thesaurus_spin alone.
    content_words: float = Field(0.15, ge=0, le=1)
    # Chance that a replacement is spun again, one of its words or phrases swapped in turn (a spinner run
    # twice, nested spintax: "according to" -> "in accordance with" -> "in harmony with"), at most
    # chain_depth times.
    chain: float = Field(0.3, ge=0, le=1)
    chain_depth: int = Field(2, ge=1, le=5)
    # Share of the paragraphs spun with the first synonym listed instead of a random one, as some spinners do.
    first_synonym_share: float = Field(0.3, ge=0, le=1)
    # Share of the sentences left untouched, and how far the others' rates spread around the paragraph's
    # (0: all at its rate; 1: anywhere from none to twice); the paragraph's expected rate stays the rate.
    untouched_sentences: float = Field(0.2, ge=0, lt=1)
    sentence_spread: float = Field(0.5, ge=0, le=1)

    @model_validator(mode="after")
    def _rates_in_range(self) -> PhraseSpinConfig:
        if not self.rates or any(not 0 < rate <= 1 for rate in self.rates):
            raise ValueError("rates must be a non-empty list of rates in (0, 1]")
        return self


class TorturedInsertionConfig(_Section):
    """Tortured phrases put in place of the established terms they garble, where a clean paragraph has one."""

    enabled: bool = False
    # At most this many paragraphs of the train and valid splits (with a term of the list) get a tortured twin;
    # every test paragraph with a term of the held-out part gets one (they are few, and they are its measure),
    # up to `max_per_term` for each term.
    max_paragraphs: int = Field(400, ge=1)
    # At most this many paragraphs garbling the same term, in every split: without it, "United States" (in 465
    # of the default corpora's 799 paragraphs with a training term) made 231 of the 400 tortured twins.
    max_per_term: int = Field(8, ge=1)
    # Share of the tortured-phrase list kept for the test split; train and valid draw from the rest.
    held_out_fraction: float = Field(0.3, gt=0, lt=1)


# The packaged samples of human-judged machine translation (`spindetect.synth.translation.TRANSLATION_SETS`):
# MLQE-PE's pairs into English, with DA scores and post-edits, and WMT MQM's Chinese-English news.
MachineTranslationPair = Literal["mlqe-si-en", "mlqe-et-en", "mlqe-ro-en", "mlqe-ru-en", "mqm-zh-en"]


class MachineTranslationConfig(_Section):
    """Garbled machine translations against their human post-edits or error-free translations of the same
    documents (the packaged samples)."""

    enabled: bool = False
    # The samples to learn from; each names its corpus in the metrics.
    pairs: list[MachineTranslationPair] = Field(default_factory=lambda: list(get_args(MachineTranslationPair)), min_length=1)
    sentences_per_paragraph: int = Field(4, ge=1, le=20)
    # Paragraphs of each quality (garbled, clean) to use at most from each sample; None: all it makes.
    max_paragraphs: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _pairs_once(self) -> MachineTranslationConfig:
        repeated = sorted({pair for pair in self.pairs if self.pairs.count(pair) > 1})
        if repeated:
            raise ValueError(f"pairs lists {', '.join(repeated)} more than once")
        return self


class RoundTripConfig(_Section):
    """Clean paragraphs translated to Portuguese and back offline: fluent rewrites that must stay clean."""

    enabled: bool = False
    max_paragraphs: int = Field(300, ge=1)


class WordNetSpinConfig(_Section):
    """A second spinner: the thesaurus spinner drawing from WordNet (Debian wordnet-base) instead of Moby, at the
    same rates. The synonym-swap test looks candidates up in Moby, so spins from another dictionary teach the
    classifier spinning rather than Moby's word pairs (see `spindetect.synth.wordnet`)."""

    enabled: bool = False
    share: float = Field(0.5, gt=0, le=1)  # of the clean paragraphs get their spun twin from WordNet, not Moby
    # WordNet's database files (index.noun, data.noun, ...); None: $SPINDETECT_WORDNET, else /usr/share/wordnet.
    # Relative paths are taken from the working directory.
    directory: Path | None = None


class ShortLinesConfig(_Section):
    """Titles, headings, headlines and captions of the test split's documents, and thesaurus-spun twins of
    them, scored as records the way `spindetect score` scores them: measured (most are too short to judge,
    so a detector must leave them unjudged rather than call them spun), never trained on."""

    enabled: bool = False
    spin_rate: float = Field(0.3, gt=0, le=1)


class DataConfig(_Section):
    """Where the training data comes from: synthetic pairs from clean corpora, the user's labeled files, or both."""

    # Clean paragraphs from `corpora` and their spun twins; false trains on `labeled_files` alone.
    synthetic: bool = True
    # Each labeled text is cut into paragraphs like a scored document; every paragraph long enough to
    # judge takes the text's label, and all paragraphs of one text go to the same split.
    labeled_files: list[LabeledFileConfig] = Field(default_factory=list)
    corpora: list[CorpusConfig] = Field(default_factory=lambda: [CorpusConfig(name="brown")], min_length=1)
    min_words: int = Field(20, ge=5)
    max_words: int = Field(200, ge=20)
    # Share of content words the spinner replaces; each clean paragraph gets one spun twin at a rate
    # drawn from this list, so every rate is represented.
    spin_rates: list[float] = Field(default_factory=lambda: [0.05, 0.1, 0.2, 0.3, 0.4])
    # The metrics by rate also spin every test paragraph at every other rate (never trained on), so each
    # rate is measured on all test paragraphs: the ~40 spun at one rate of six leave an AUC near 0.9 with a
    # standard error of about 0.04. Phrase and WordNet spins likewise: every test paragraph at every one of
    # their rates.
    rate_sweep: bool = True
    # The spinner draws from this many of the most frequent synonyms of a word (None: the whole entry);
    # commercial spinners swap in everyday words, not a big thesaurus's rarities.
    common_synonyms: int | None = Field(10, ge=1)
    valid_fraction: float = Field(0.15, gt=0, lt=0.5)
    test_fraction: float = Field(0.15, gt=0, lt=0.5)
    # More kinds of synthetic text beside the thesaurus-spun twins; each is off unless enabled.
    phrase_spin: PhraseSpinConfig = PhraseSpinConfig()
    wordnet_spin: WordNetSpinConfig = WordNetSpinConfig()
    tortured: TorturedInsertionConfig = TorturedInsertionConfig()
    machine_translation: MachineTranslationConfig = MachineTranslationConfig()
    round_trip: RoundTripConfig = RoundTripConfig()
    short_lines: ShortLinesConfig = ShortLinesConfig()

    @model_validator(mode="after")
    def _some_data(self) -> DataConfig:
        if not self.synthetic and not self.labeled_files:
            raise ValueError("with data.synthetic false, give data.labeled_files to train on")
        return self

    @model_validator(mode="after")
    def _rates_in_range(self) -> DataConfig:
        if not self.spin_rates or any(not 0 < rate <= 1 for rate in self.spin_rates):
            raise ValueError("data.spin_rates must be a non-empty list of rates in (0, 1]")
        return self


class ClassifierConfig(_Section):
    kind: Literal["hist_gradient_boosting", "logistic_regression"] = "hist_gradient_boosting"
    # Passed to the scikit-learn estimator as keyword arguments.
    params: dict[str, float | int | str | None] = Field(default_factory=dict)
    # Fit once more on each spun row the tortured-phrase lexicon finds, as if the lexicon did not list its phrase,
    # where the replaced-word probe marks a word in it (`model.UnlistedCopies`): unlisted phrases are the ones
    # the lexicon cannot catch. Needs the lexicon's count and the probe among the features; else nothing is added.
    unlisted_copies: bool = True


class ThresholdConfig(_Section):
    """How the spun/clean threshold is chosen on the validation split."""

    strategy: Literal["max_f1", "target_fpr"] = "max_f1"
    target_fpr: float = Field(0.02, gt=0, lt=1)


class CascadeConfig(_Section):
    """A fast classifier without the language model, trained beside the full one.

    In cascade mode the fast classifier scores every paragraph, and only paragraphs whose fast score falls in
    an uncertain band go through the language model and the full classifier. The band is the narrowest one
    that costs at most `max_auc_loss` of ROC-AUC against the full model on the validation split and, with
    `band_folds` of 2 or more, on the training split's out-of-fold scores (both classifiers refitted
    `band_folds` times, grouped by source document) as well. Chosen on the validation split alone, the default
    model's band cost 0.019 of test ROC-AUC against a budget of 0.005; on both, 0.003.
    """

    enabled: bool = False
    max_auc_loss: float = Field(0.005, ge=0, lt=0.5)
    # 0 or 1: the validation split alone (when the training split has too few source documents to fold).
    band_folds: int = Field(5, ge=0)


class EvaluationConfig(_Section):
    """How a trained model is measured beyond its test split."""

    # Folds of the cross-validation by source document that gives the metrics by style and by corpus with
    # their uncertainty (`spindetect.cross_validation`); 0 or 1 skips it. Each fold refits the classifier.
    cv_folds: int = Field(5, ge=0)


# The devices `runtime.device` may name; checked here, without importing torch, so a typo fails fast.
DEVICE_PATTERN = r"^(auto|cpu|cuda(:\d+)?)$"


class RuntimeConfig(_Section):
    """Settings for speed and memory. Scores stay as they are up to rounding: in bfloat16 a paragraph's scores move
    a little with the paragraphs batched beside it (on 80 test paragraphs, `batch_tokens` 2048 instead of 512
    moved them by 0.0007 on average, 0.016 at most). `max_document_chars` is a limit: a longer document is
    scored on its first part, and says so."""

    # On the CPU, the token budget of one language-model batch (rows x padded length): on a 2-core CPU small
    # batches are fastest (they stay in cache).
    batch_tokens: int = Field(512, ge=64)
    # On the CPU, logits are computed for this many token positions at a time, bounding memory to rows x vocabulary.
    logits_chunk_rows: int = Field(128, ge=1)
    # Longer documents are scored on their first `max_document_chars` characters, and say so.
    max_document_chars: int = Field(100_000, ge=1000)
    # Threads torch runs the language model on, set for the whole process when a detector loads (None: torch's
    # own default, one per core).
    torch_threads: int | None = Field(None, ge=1)
    # Where the language model runs: auto (the first CUDA GPU when torch sees one, else the CPU), cpu, cuda or
    # cuda:N. On a GPU, batch sizes come from its free memory (see spindetect.device), not the two above.
    device: str = Field("auto", pattern=DEVICE_PATTERN)
    # On a GPU: the token budget of one batch, in place of the size from free memory.
    gpu_batch_tokens: int | None = Field(None, ge=64)


class SpindetectConfig(_Section):
    name: str = "default"
    seed: int = 13
    language_model: LanguageModelConfig = LanguageModelConfig()
    features: FeaturesConfig = FeaturesConfig()
    segmentation: SegmentationConfig = SegmentationConfig()
    data: DataConfig = DataConfig()
    classifier: ClassifierConfig = ClassifierConfig()
    threshold: ThresholdConfig = ThresholdConfig()
    cascade: CascadeConfig = CascadeConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    runtime: RuntimeConfig = RuntimeConfig()

    @model_validator(mode="after")
    def _cascade_needs_both_kinds_of_features(self) -> SpindetectConfig:
        fast = self.features.ngram or self.features.lexical
        if self.cascade.enabled and not (self.features.language_model and fast):
            raise ValueError("cascade.enabled needs features.language_model and at least one of features.ngram and features.lexical")
        return self


class ConfigError(ValueError):
    """A config file that cannot be used, with a message that names the file and the key."""


def _format_validation_error(path: Path | str, error: ValidationError) -> str:
    lines = [f"invalid config {path}:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {key}: {item['msg']}")
    return "\n".join(lines)


def parse_config(data: object, source: Path | str = "<config>") -> SpindetectConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"invalid config {source}: expected a mapping of sections, got {type(data).__name__}")
    try:
        return SpindetectConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_format_validation_error(source, error)) from None


def load_config(path: Path | str) -> SpindetectConfig:
    """Read and validate a YAML config; raise ConfigError naming the bad key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read config {path}: {error.strerror or error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"config {path} is not valid YAML: {error}") from None
    return parse_config(data, path)
