"""The bridging fit: agreement with the reference, robustness, thin data, CLI."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr

from ranking.bridging import (
    FLAG_FITTED,
    FLAG_THIN,
    FLAG_UNRATED,
    fit_bridging,
    main,
)
from ranking.simulation.society import bridging_truth, generate_society, sample_ratings

ROOT = Path(__file__).resolve().parents[2]


def _reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "reference_bridging", ROOT / "bench" / "reference_bridging.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["reference_bridging"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def held_out() -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Synthetic ratings from a society neither fit has seen, random exposure."""
    society = generate_society(400, 800, seed=11, follows_per_user=0)
    r, i, v = sample_ratings(society, ratings_per_rater=30, seed=12, selection_bias=0.0)
    return r, i, v, 400, 800


def test_intercepts_agree_with_reference_on_held_out_data(held_out) -> None:
    r, i, v, n_r, n_i = held_out
    ref = _reference().reference_fit(r, i, v, n_raters=n_r, n_items=n_i)
    fitted = ~np.isnan(ref.item_intercept)
    assert fitted.sum() > 300
    for robust in (False, True):
        ours = fit_bridging(r, i, v, n_raters=n_r, n_items=n_i, robust=robust)
        assert np.array_equal(ours.item_flag == FLAG_FITTED, fitted)
        rho = spearmanr(ours.item_intercept[fitted], ref.item_intercept[fitted])[0]
        fac = pearsonr(ours.item_factor[fitted], ref.item_factor[fitted])[0]
        assert rho >= 0.95, (robust, rho)
        assert abs(fac) >= 0.90, (robust, fac)


def test_robust_fit_tracks_the_less_favourable_side_better_under_selection() -> None:
    society = generate_society(600, 1500, seed=21, follows_per_user=0)
    r, i, v = sample_ratings(society, ratings_per_rater=30, seed=22, selection_bias=3.0)
    truth = bridging_truth(society)
    plain = fit_bridging(r, i, v, n_raters=600, n_items=1500, robust=False)
    robust = fit_bridging(r, i, v, n_raters=600, n_items=1500, robust=True)
    core = plain.item_flag == FLAG_FITTED
    rho_plain = spearmanr(plain.item_intercept[core], truth[core])[0]
    rho_robust = spearmanr(robust.item_intercept[core], truth[core])[0]
    assert robust.metrics["exposure_gate"] > 0
    assert rho_robust > rho_plain + 0.02, (rho_plain, rho_robust)


def test_bridging_item_beats_partisan_favourite() -> None:
    # Two camps of 20 raters; item 0 is liked by both, item 1 only by camp A
    # (and rated mostly by camp A), items 2..29 give the factor something to fit.
    rng = np.random.default_rng(0)
    rows = []
    for rater in range(40):
        camp = rater < 20
        for item in range(30):
            if item == 0:
                value = 1.0
            elif item == 1:
                if not camp and rater % 4:
                    continue
                value = 1.0 if camp else 0.0
            else:
                slant = 1 if item % 2 else -1
                value = float((slant > 0) == camp) if rng.random() < 0.9 else 0.5
            rows.append((rater, item, value))
    r, i, v = (np.array(col) for col in zip(*rows, strict=True))
    result = fit_bridging(r.astype(int), i.astype(int), v, n_raters=40, n_items=30)
    assert result.item_intercept[0] > result.item_intercept[1]
    assert abs(result.item_factor[1]) > abs(result.item_factor[0])


def test_thin_and_unrated_items_are_flagged_and_shrunk() -> None:
    society = generate_society(200, 300, seed=3, follows_per_user=0)
    r, i, v = sample_ratings(society, ratings_per_rater=25, seed=4, selection_bias=0)
    # Item 299 gets two extra helpful ratings and nothing else.
    keep = i != 299
    r = np.concatenate([r[keep], [0, 1]])
    i = np.concatenate([i[keep], [299, 299]])
    v = np.concatenate([v[keep], [1.0, 1.0]])
    n_items = 301  # item 300 is never rated
    result = fit_bridging(r, i, v, n_raters=200, n_items=n_items)
    assert result.item_flag[299] == FLAG_THIN
    assert result.item_flag[300] == FLAG_UNRATED
    assert result.item_intercept[300] == 0.0
    assert result.item_n_ratings[299] == 2
    # Shrunk toward 0: two glowing ratings do not make a top item.
    fitted = result.item_intercept[result.item_flag == FLAG_FITTED]
    assert result.item_intercept[299] < np.quantile(fitted, 0.95)
    assert result.item_flag_name(299) == "thin"


def test_fit_is_deterministic_for_a_seed(held_out) -> None:
    r, i, v, n_r, n_i = held_out
    a = fit_bridging(r, i, v, n_raters=n_r, n_items=n_i, seed=5)
    b = fit_bridging(r, i, v, n_raters=n_r, n_items=n_i, seed=5)
    assert np.array_equal(a.item_intercept, b.item_intercept)
    assert np.array_equal(a.item_factor, b.item_factor)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": np.array([1.0, 2.0])}, "between 0"),
        ({"item_idx": np.array([0, 9])}, "item_idx must lie"),
        ({"rater_idx": np.array([0])}, "same length"),
    ],
)
def test_bad_input_is_refused_with_a_reason(kwargs, message) -> None:
    args = {
        "rater_idx": np.array([0, 1]),
        "item_idx": np.array([0, 1]),
        "values": np.array([1.0, 0.0]),
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        fit_bridging(**args, n_raters=2, n_items=2)


def test_cli_writes_scores_for_every_item(tmp_path: Path, held_out) -> None:
    r, i, v, _, _ = held_out
    ratings = tmp_path / "ratings.csv"
    with ratings.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["rater_id", "item_id", "value"])
        for a, b, c in zip(r, i, v, strict=True):
            writer.writerow([f"u{a}", f"p{b}", c])
    out = tmp_path / "scores.csv"
    assert main([str(ratings), "--out", str(out)]) == 0
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(np.unique(i))
    assert {"item_id", "intercept", "factor", "n_ratings"} <= set(rows[0])
    assert sum(int(row["n_ratings"]) for row in rows) == len(r)


def test_cli_reports_a_bad_value_by_line(tmp_path: Path, capsys) -> None:
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("rater_id,item_id,value\na,x,1\nb,x,yes\n")
    assert main([str(ratings), "--out", str(tmp_path / "o.csv")]) == 2
    assert ":3:" in capsys.readouterr().err
