"""Impostor and genuine distance statistics, and the acceptance distance for a gallery size."""
import json

import numpy as np
import pytest

from facerec import FacerecError
from facerec.identity.openset import GRID, DistanceStats, measure, shipped


def _people(rng, n_people=60, per=3, spread=0.25, dim=32):
    centres = rng.normal(size=(n_people, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = np.repeat(centres, per, axis=0) + rng.normal(scale=spread / np.sqrt(dim), size=(n_people * per, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.repeat(np.arange(n_people), per)


def test_measure_counts_every_pair_once(rng):
    x, y = _people(rng)
    s = measure(x, y, "toy")
    n = len(x)
    assert s.genuine_pairs == 60 * 3 and s.impostor_pairs == n * (n - 1) // 2 - 60 * 3
    d = np.linalg.norm(x[:, None] - x[None], axis=2)[np.triu_indices(n, 1)]
    same = (y[:, None] == y[None])[np.triu_indices(n, 1)]
    for t in (0.2, 0.8, 1.2):
        i = int(np.searchsorted(GRID, t))
        assert s.impostor_cdf[i] == pytest.approx(np.mean(d[~same] <= GRID[i]), abs=1e-9)
        assert s.genuine_cdf[i] == pytest.approx(np.mean(d[same] <= GRID[i]), abs=1e-9)


def test_acceptance_distance_shrinks_with_the_gallery_and_holds_the_target(rng):
    x, y = _people(rng, n_people=200, per=2)
    s = measure(x, y, "toy")
    ds = [s.acceptance_distance(m, 0.01) for m in (1, 10, 100, 1000)]
    assert ds == sorted(ds, reverse=True) and ds[0] > ds[-1]
    for m, d in zip((1, 10, 100, 1000), ds):
        assert s.strangers_accepted(d, m) <= 0.0101


def test_calibration_file_round_trip_and_bad_files(rng):
    x, y = _people(rng)
    s = measure(x, y, "toy")
    back = DistanceStats.from_json(s.to_json())
    assert back.acceptance_distance(10) == s.acceptance_distance(10)
    for bad in ("{}", "not json", '{"format": "facerec-impostors", "impostor_cdf": [1, 0]}'):
        with pytest.raises(FacerecError):
            DistanceStats.from_json(bad)
    with pytest.raises(FacerecError, match="two people"):
        measure(x[:3], y[:3], "toy")


def test_statistics_measured_through_a_projection_keep_it_and_compare_through_it(rng):
    x, y = _people(rng)
    squash = np.diag(np.r_[np.full(16, 0.1), np.ones(16)]).astype(np.float32)  # half the directions count less
    s = measure(x, y, "toy", projection=squash)
    p = s.project(x)
    assert np.allclose(np.linalg.norm(p, axis=1), 1, atol=1e-5) and not np.allclose(p, x)
    d = np.linalg.norm(p[:, None] - p[None], axis=2)[np.triu_indices(len(x), 1)]
    same = (y[:, None] == y[None])[np.triu_indices(len(x), 1)]
    i = int(np.searchsorted(GRID, 0.8))
    assert s.impostor_cdf[i] == pytest.approx(np.mean(d[~same] <= GRID[i]), abs=1e-9)
    back = DistanceStats.from_json(s.to_json())
    assert np.allclose(back.project(x), p, atol=1e-4)
    assert np.array_equal(measure(x, y, "toy").project(x), x.astype(np.float32))  # none: as embedded
    with pytest.raises(FacerecError, match="projection"):
        DistanceStats.from_json(json.dumps(dict(json.loads(s.to_json()), projection=[[1, 2, 3], [4, 5, 6]])))


def test_the_default_models_figures_ship_with_the_package():
    s = shipped("dlib-resnet-v1")
    assert s is not None and s.identities > 1000 and s.impostor_pairs > 1_000_000
    # One enrolled face at a 1% target sits near the model's equal-error distance (0.42).
    assert 0.38 < s.acceptance_distance(1, 0.01) < 0.46
    assert s.acceptance_distance(10000, 0.01) < s.acceptance_distance(10, 0.01)


def test_probability_is_calibrated_on_the_models_own_distances():
    """Faces drawn from the model's own measured distances, half of them strangers against one
    enrolled photo: answers binned by probability are right about as often as they say."""
    from facerec.identity.odds import AnswerOdds

    stats = shipped("dlib-resnet-v1")
    odds = AnswerOdds(stats)
    rng = np.random.default_rng(3)
    n = 400000
    draw = lambda cdf, k: np.interp(rng.random(k), cdf, GRID)  # inverse-CDF sampling
    stranger = rng.random(n) < 0.5
    d = np.where(stranger, draw(stats.impostor_cdf, n), draw(stats.genuine_cdf, n))
    # Where the two overlap (elsewhere every answer is sure and right): conditioning on the
    # distance leaves each answer's chance unchanged.
    doubt = (d > 0.37) & (d < 0.46)
    d, stranger, n = d[doubt], stranger[doubt], int(doubt.sum())
    p_person, p_stranger = odds.chances(d[:, None], np.ones((n, 1)), people=1)
    named = p_person[:, 0] >= 0.5
    prob = np.where(named, p_person[:, 0], p_stranger)
    right = named != stranger
    bins = np.minimum((prob * 10).astype(int), 9)
    gaps = [abs(prob[bins == b].mean() - right[bins == b].mean()) for b in range(10) if (bins == b).sum() > 200]
    assert len(gaps) >= 4 and max(gaps) < 0.05


def test_the_default_floor_keeps_strangers_to_the_target_and_tightens_with_the_gallery():
    from facerec.identity.odds import AnswerOdds

    odds = AnswerOdds(shipped("dlib-resnet-v1"))
    floors = []
    for people in (1, 3, 12, 86, 1000):
        photos = np.full(people, 3)
        f = odds.floor_for(photos, 0.01)
        assert 0.5 <= f < 1 and odds.strangers_named(f, photos) <= 0.0101
        floors.append(f)
    assert floors == sorted(floors)  # more people: more chances for a stranger, a higher floor
