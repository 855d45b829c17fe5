import uuid

from services.abis import rules


def test_threshold_is_the_calibrated_point_at_or_below_the_target() -> None:
    assert rules.threshold_for(0.001) == 57
    assert rules.threshold_for(0.0005) == 58  # between two points: the stricter
    assert rules.threshold_for(0.05) == 53
    assert rules.threshold_for(1e-6) == 58
    assert rules.threshold_for(None) == rules.threshold_for(rules.DEFAULT_FPIR)


def test_candidates_above_threshold_best_first_capped() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    found = rules.candidates([(a, 0.6), (b, 0.9), (c, 0.3)], threshold=55, max_results=5)
    assert [(x.reference_id, x.score) for x in found] == [(b, 90), (a, 60)]
    assert len(rules.candidates([(a, 0.6), (b, 0.9)], threshold=55, max_results=1)) == 1


def test_reference_url_prefixes() -> None:
    assert rules.reference_allowed("http://127.0.0.1:8103/x", ("http://127.0.0.1:",))
    assert not rules.reference_allowed("http://10.0.0.9/x", ("http://127.0.0.1:",))
