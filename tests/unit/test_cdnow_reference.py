"""CDNOW's files become the literature's calibration summary and holdout truth; the reference
BG/NBD's likelihood and forecast agree with a simulation of the model itself."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from ltv_pipeline.scenarios import reference_bgnbd
from ltv_pipeline.scenarios.cdnow import calibration_summary, holdout_truth, parse_cdnow

SAMPLE_TEXT = (
    " 00004 0001 19970101  2   29.33\r\n"
    " 00004 0001 19970118  2   29.73\r\n"
    " 00004 0001 19970118  1   10.00\r\n"
    " 00004 0001 19970802  1   14.96\r\n"
    " 00004 0001 19971212  2   26.48\r\n"
    " 00004 0001 19971212  1    3.52\r\n"
    " 00021 0002 19970101  3   63.34\r\n"
    " 00021 0002 19980701  1   10.00\r\n"
)
MASTER_TEXT = " customer_id  date number_of_cds  dollar_value\n 00001 19970101  1   11.77\n 00002 19970112  1   12.00\n"


def test_parse_reads_both_layouts_with_the_master_id():
    sample = parse_cdnow(SAMPLE_TEXT, "sample")
    assert sample.height == 8
    assert sample["customer_id"].unique().sort().to_list() == ["21", "4"]
    assert sample.row(0) == ("4", date(1997, 1, 1), 2, 29.33)
    master = parse_cdnow(MASTER_TEXT, "master")
    assert master.rows() == [("1", date(1997, 1, 1), 1, 11.77), ("2", date(1997, 1, 12), 1, 12.0)]


def test_calibration_summary_counts_purchase_days_in_weeks_like_the_literature():
    summary = {row["customer_id"]: row for row in calibration_summary(parse_cdnow(SAMPLE_TEXT, "sample")).to_dicts()}
    # The literature's customer 1 (master 4): x = 2, t_x = 30.43, T = 38.86 weeks
    assert summary["4"]["x"] == 2
    assert summary["4"]["t_x"] == pytest.approx(213 / 7)
    assert summary["4"]["T"] == pytest.approx(272 / 7)
    assert (summary["21"]["x"], summary["21"]["t_x"]) == (0, 0.0)


def test_holdout_truth_counts_purchase_days_up_to_the_horizon_end_only():
    truth = {row["customer_id"]: row for row in holdout_truth(parse_cdnow(SAMPLE_TEXT, "sample")).to_dicts()}
    # Customer 4: two lines on 1997-12-12 are one transaction; 73 days after the calibration end
    assert truth["4"]["realised_orders"] == 1
    assert truth["4"]["realised_revenue"] == pytest.approx(30.0)
    assert truth["4"]["realised_ltv"] == pytest.approx(30.0 * 1.1 ** (-73 / 365))
    assert not truth["4"]["churned"]
    # Customer 21's 1998-07-01 order is one day past the 273-day horizon
    assert truth["21"]["realised_orders"] == 0 and truth["21"]["churned"]


LITERATURE = reference_bgnbd.BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=float("nan"))


def _simulate(model: reference_bgnbd.BGNBD, customers: int, weeks: float, holdout: float, seed: int):
    """New customers' repeat transactions: count and last time within `weeks`, count in the
    following `holdout` weeks."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(model.r, 1.0 / model.alpha, customers)
    dropout = rng.beta(model.a, model.b, customers)
    count, last, future = np.zeros(customers), np.zeros(customers), np.zeros(customers)
    clock = np.zeros(customers)
    active = np.ones(customers, dtype=bool)
    while active.any():
        clock[active] += rng.exponential(1.0, active.sum()) / rate[active]
        calibration = active & (clock <= weeks)
        later = active & (clock > weeks) & (clock <= weeks + holdout)
        count[calibration] += 1
        last[calibration] = clock[calibration]
        future[later] += 1
        active = (calibration | later) & (rng.random(customers) >= dropout)
    return count, last, future


def test_expected_transactions_of_a_new_customer_match_a_simulation():
    count, _, _ = _simulate(LITERATURE, 400_000, 39.0, 0.0, seed=5)
    expected = reference_bgnbd.expected_transactions(LITERATURE, 39.0, np.zeros(1), np.zeros(1), np.zeros(1))[0]
    assert expected == pytest.approx(count.mean(), rel=0.02)


def test_conditional_forecast_matches_a_simulation_given_the_history():
    count, last, future = _simulate(LITERATURE, 400_000, 39.0, 39.0, seed=6)
    forecast = reference_bgnbd.expected_transactions(LITERATURE, 39.0, count, last, np.full(count.size, 39.0))
    for group in (count == 0, (count == 1) & (last < 10), (count == 1) & (last > 30), count >= 4):
        assert forecast[group].mean() == pytest.approx(future[group].mean(), rel=0.05)


def test_fit_recovers_the_parameters_it_simulated_from():
    count, last, _ = _simulate(LITERATURE, 20_000, 39.0, 0.0, seed=7)
    model = reference_bgnbd.fit(count, last, np.full(count.size, 39.0))
    assert model.r == pytest.approx(LITERATURE.r, rel=0.15)
    assert model.alpha == pytest.approx(LITERATURE.alpha, rel=0.2)
    assert model.a == pytest.approx(LITERATURE.a, rel=0.3)
    assert model.b == pytest.approx(LITERATURE.b, rel=0.35)
    assert model.log_likelihood == pytest.approx(
        reference_bgnbd.log_likelihood(np.array([model.r, model.alpha, model.a, model.b]), count, last, np.full(count.size, 39.0)).sum()
    )
