import numpy as np
import pytest

from spindetect.detector import Detector
from spindetect.errors import ModelError

BODY = (
    "The city council voted on Tuesday to approve a new budget for the coming year, after months of debate "
    "over the cost of repairing roads and bridges across the county."
)
PAGE = "Local News\nMenu\n\n" + BODY + "\n\nRelated stories\nFive Ways To Save On Heating\n"


@pytest.fixture(scope="module")
def detector(tiny_model_dir) -> Detector:
    return Detector.load(tiny_model_dir)


def test_paragraphs_carry_offsets_scores_and_conditions(detector) -> None:
    (result,) = detector.score([PAGE])
    assert [PAGE[p.start : p.end] for p in result.paragraphs][2] == BODY
    assert all(0.0 <= p.score <= 1.0 for p in result.paragraphs)
    short = [p for p in result.paragraphs if any(f.reason == "too_short" for f in p.flags)]
    assert len(short) == 4 and not any(p.judged for p in short)


def test_short_lines_do_not_move_the_document_score(detector) -> None:
    (page,) = detector.score([PAGE])
    body = next(p for p in page.paragraphs if p.judged)
    assert page.score == pytest.approx(body.score)
    assert page.label == ("spun" if page.score >= page.threshold else "clean")


def test_a_document_of_short_lines_is_unjudged_not_given_a_verdict(detector) -> None:
    (result,) = detector.score(["Local News\nMenu\nContact us\n"])
    assert (result.score, result.label, result.unjudged, result.error) == (None, "unjudged", "too_short", None)
    assert len(result.paragraphs) == 3 and all(0.0 <= p.score <= 1.0 for p in result.paragraphs)


def test_a_document_with_no_english_prose_is_unjudged_as_not_english(detector) -> None:
    german = (
        "Der Stadtrat hat am Dienstag den Haushalt für das kommende Jahr nach monatelanger Debatte über die Kosten "
        "für die Reparatur von Straßen und Brücken im ganzen Landkreis beschlossen, wie die Stadt mitteilte."
    )
    (result,) = detector.score([german])
    assert (result.label, result.unjudged, result.score) == ("unjudged", "not_english", None)


def test_empty_documents_are_errors_not_scores(detector) -> None:
    results = detector.score(["", "   \n", BODY])
    assert [r.score is None for r in results] == [True, True, False]
    assert "empty" in results[0].error


def test_scores_are_deterministic_and_independent_of_batch_company(detector) -> None:
    alone = detector.score([BODY])[0].score
    together = detector.score([PAGE, BODY, "Another text entirely, with its own words in it."])[1].score
    assert alone == pytest.approx(together, abs=1e-6)


def test_threshold_override_changes_only_the_label(detector) -> None:
    low, high = detector.score([BODY], threshold=0.0)[0], detector.score([BODY], threshold=1.0 + 1e-9)[0]
    assert low.score == high.score
    assert (low.label, high.label) == ("spun", "clean")


def test_non_english_paragraphs_are_flagged_and_not_judged(detector) -> None:
    german = "Die Staatschefs von China und Nordkorea bekräftigen ihre Allianz nach den schwierigen Gesprächen zwischen hohen Diplomaten aus Washington und Peking am Wochenende."
    (result,) = detector.score([german + "\n\n" + BODY])
    flags = [{f.reason for f in p.flags} for p in result.paragraphs]
    assert "not_english" in flags[0] and "not_english" not in flags[1]
    assert result.score == pytest.approx(result.paragraphs[1].score)


def test_very_long_documents_are_cut_with_a_warning(detector) -> None:
    text = BODY + " " + "word " * 40_000
    (result,) = detector.score([text])
    assert result.paragraphs[-1].end <= detector.runtime.max_document_chars
    assert any("scored the first" in warning for warning in result.warnings)


def test_progress_reports_every_paragraph(detector) -> None:
    calls = []
    detector.score([PAGE, BODY], progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (6, 6)
    assert np.all(np.diff([done for done, _ in calls]) > 0)


def test_weak_word_flags_show_only_in_paragraphs_judged_spun(detector) -> None:
    # A doubled word (a garble flag of strength 0.8) and whatever the tiny random model finds unexpected.
    text = "The two leaders said the agreement was important to every and every one of their nations and to the region."
    judged_spun, judged_clean = detector.score([text], threshold=0.0)[0], detector.score([text], threshold=1.0 + 1e-9)[0]
    shown_if_spun = [span for p in judged_spun.paragraphs for span in p.spans]
    assert any(span.strength < 0.9 for span in shown_if_spun)
    assert [span for p in judged_clean.paragraphs for span in p.spans] == [span for span in shown_if_spun if span.strength >= 0.9]


def test_threads_sharing_a_fresh_detector_get_the_scores_one_thread_gets(tiny_model_dir) -> None:
    import pickle
    import threading

    documents = [BODY, PAGE, "The committee said the plan would take effect next spring, pending a final vote."]
    alone = [result.score for result in Detector.load(tiny_model_dir).score(documents)]
    fresh = pickle.loads(pickle.dumps(Detector.load(tiny_model_dir)))  # loads its models on first use
    start = threading.Barrier(4)
    scores: dict[int, object] = {}

    def score(worker: int) -> None:
        start.wait()
        try:
            scores[worker] = [result.score for result in fresh.score(documents)]
        except Exception as error:  # recorded, so the assertion below shows it
            scores[worker] = error

    threads = [threading.Thread(target=score, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert scores == {worker: alone for worker in range(4)}


def test_runtime_torch_threads_sets_torch_s_thread_count(tiny_model_dir) -> None:
    import torch

    from spindetect.config import RuntimeConfig

    before = torch.get_num_threads()
    try:
        Detector.load(tiny_model_dir, RuntimeConfig(torch_threads=1))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_model_trained_on_other_features_is_refused_naming_the_difference(detector) -> None:
    from dataclasses import replace

    model = detector.model
    names = model.feature_names
    older = replace(model, feature_names=tuple(name for name in names if name != names[-1]) + ("lm_retired_feature",))
    with pytest.raises(ModelError) as refused:  # the command line prints a ModelError as one line
        Detector(older, detector.extractor, detector.reference, detector.runtime)
    message = str(refused.value)
    assert f"this spindetect does not compute lm_retired_feature; the model was not trained on {names[-1]}" in message
    assert "retrain it with this version" in message and names[0] not in message
    with pytest.raises(ModelError, match="the same features in another order"):
        Detector(replace(model, feature_names=names[::-1]), detector.extractor, detector.reference, detector.runtime)


def test_a_model_whose_features_were_computed_with_other_weights_is_refused(detector, tiny_model_dir) -> None:
    from dataclasses import replace

    from spindetect.model import TrainedModel

    model = detector.model
    # Training records what each family's features depended on, and saving and loading keep it.
    assert model.feature_definitions == detector.extractor.definitions
    assert TrainedModel.load(tiny_model_dir).feature_definitions == model.feature_definitions
    # The same feature names from a refitted span model (another fingerprint in the lexical family's definition).
    lexical = next(index for index, definition in enumerate(model.feature_definitions) if definition.startswith("lexical-"))
    refitted = list(model.feature_definitions)
    refitted[lexical] = "lexical-v1-oddsrefitted"
    with pytest.raises(ModelError, match="lexical-v1-oddsrefitted -> lexical-.*refitted packaged weights"):
        Detector(replace(model, feature_definitions=tuple(refitted)), detector.extractor, detector.reference, detector.runtime)
    # A model saved before definitions were recorded is scored as before.
    Detector(replace(model, feature_definitions=None), detector.extractor, detector.reference, detector.runtime)
