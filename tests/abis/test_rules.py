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


def test_a_gap_is_asked_for_again_until_its_writer_has_ended() -> None:
    position = rules.Position()
    # 3 overtaken by 4 while transactions up to xid 100 may still run
    position.read([1, 2, 4], complete=True, xmin=90, xmax=100)
    assert (position.high, position.gaps) == (4, {3: 100})
    position.read([], complete=True, xmin=99, xmax=120)  # a writer that began before: still open
    assert position.gaps == {3: 100}
    position.read([3, 5], complete=True, xmin=99, xmax=120)  # it committed
    assert (position.high, position.gaps) == (5, {})


def test_a_gap_whose_writer_ended_without_it_is_forgotten() -> None:
    position = rules.Position()
    position.read([2], complete=True, xmin=50, xmax=60)
    assert position.gaps == {1: 60}
    position.read([], complete=True, xmin=60, xmax=61)  # every writer before 60 has ended
    assert (position.high, position.gaps) == (2, {})
    # no transaction running at all: a gap is final at once
    position.read([4], complete=True, xmin=70, xmax=70)
    assert (position.high, position.gaps) == (4, {})


def test_a_read_cut_by_its_limit_judges_nothing_above_its_last_row() -> None:
    position = rules.Position(high=10, gaps={3: 5, 12: 5})
    position.read([11], complete=False, xmin=9, xmax=20)
    # 3 is below the last row: missing and its writer ended (9 >= 5); 12 is above: not judged
    assert (position.high, position.gaps) == (11, {12: 5})
