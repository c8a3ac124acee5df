"""The synthetic business: reproducible, contract-shaped, and carrying real signal.

Small businesses (1-5k customers) keep every test well under a few seconds.
"""

from __future__ import annotations

import gzip
import io
import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ltv_pipeline.synthetic import (
    allocation_value,
    generate_business,
    true_new_customers,
    true_optimal_allocation,
    truth_dir_for,
)
from ltv_pipeline.synthetic.business import simulate_business
from ltv_pipeline.synthetic.value import daily_discount, expected_discounted_transactions, new_customer_value

CONTRACT_COLUMNS = {
    "orders": ["order_id", "customer_id", "order_ts", "revenue", "cost", "refund"],
    "customers": ["customer_id", "signup_ts", "acquisition_channel", "acquisition_campaign", "country", "email"],
    "marketing_spend": ["spend_date", "channel", "campaign", "spend", "impressions", "clicks"],
    "support_tickets": ["ticket_id", "customer_id", "created_ts", "category", "resolved_ts", "csat"],
}
TIMESTAMPS = {"orders": ["order_ts"], "customers": ["signup_ts"], "support_tickets": ["created_ts", "resolved_ts"]}
START, END = datetime(2024, 1, 1), datetime(2026, 10, 1)


@pytest.fixture(scope="module")
def business(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, pl.DataFrame]:
    landing = tmp_path_factory.mktemp("biz") / "landing"
    summary = generate_business(landing, n_customers=4_000, seed=11, messy=True)
    truth = json.loads((summary.truth_dir / "truth.json").read_text())
    return landing, truth, pl.read_parquet(summary.truth_dir / "customers_truth.parquet")


def _read(path: Path) -> pl.DataFrame:
    """A clean delivery with typed columns, whatever its format."""
    source = path.parent.name
    if path.name.endswith(".parquet"):
        frame = pl.read_parquet(path)
        return frame.with_columns(pl.col(pl.Datetime("us", "UTC")).dt.replace_time_zone(None))
    data = path.read_bytes()
    data = gzip.decompress(data) if path.name.endswith(".gz") else data
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    ts = [pl.col(c).str.strip_suffix("Z").str.replace(" ", "T").str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us")
          for c in TIMESTAMPS.get(source, [])]
    numeric = [pl.col(c).cast(pl.Float64) for c in ("revenue", "cost", "refund", "spend") if c in frame.columns]
    ints = [pl.col(c).cast(pl.Int64) for c in ("impressions", "clicks", "csat") if c in frame.columns]
    dates = [pl.col("spend_date").str.to_date()] if source == "marketing_spend" else []
    return frame.with_columns(*ts, *numeric, *ints, *dates)


def _source(landing: Path, source: str) -> pl.DataFrame:
    files = sorted(p for p in (landing / source).iterdir() if "_zz_" not in p.name)
    return pl.concat([_read(p) for p in files], how="vertical_relaxed")


def _all_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    runs = [generate_business(tmp_path / name, 1_000, seed=seed, messy=True)
            for name, seed in (("a", 3), ("b", 3), ("c", 4))]
    a, b, c = ({**_all_bytes(s.landing_dir), **_all_bytes(s.truth_dir)} for s in runs)
    assert a == b
    assert a["orders/orders_2024q1.csv"] != c["orders/orders_2024q1.csv"]
    assert a["truth.json"] != c["truth.json"]


def test_layout_formats_and_contract_columns(business: tuple[Path, dict, pl.DataFrame]) -> None:
    landing, truth, _ = business
    assert truth_dir_for(landing).is_dir() and not (landing / "truth.json").exists()
    for source, columns in CONTRACT_COLUMNS.items():
        files = sorted(p.name for p in (landing / source).iterdir())
        assert {n.split(".", 1)[1] for n in files if "_zz_" not in n} == {"csv", "csv.gz", "parquet"}
        assert files[-1].startswith(f"{source}_zz_"), "messy deliveries sort after the clean ones"
        for name in files:
            path = landing / source / name
            if "_zz_" in name:  # messy files break CSV on purpose: check their header line only
                assert path.read_bytes().decode("utf-8-sig").splitlines()[0].split(",") == columns, name
            else:
                assert _read(path).columns == columns, name
    orders = _source(landing, "orders")
    assert orders["order_id"].str.contains(r"^O\d{8}$").all() and orders["order_id"].is_unique().all()
    assert orders["customer_id"].str.contains(r"^C\d{7}$").all()
    assert len(list((landing / "orders").glob("orders_2024q*"))) == 4


def test_orders_inside_window_after_signup_with_sane_money(business: tuple[Path, dict, pl.DataFrame]) -> None:
    landing, _, customers_truth = business
    orders = _source(landing, "orders").join(
        customers_truth.select("customer_id", "signup_ts"), on="customer_id", how="left"
    )
    assert orders["signup_ts"].null_count() == 0
    assert orders["order_ts"].min() >= START and orders["order_ts"].max() < END
    assert (orders["order_ts"] >= orders["signup_ts"]).all()
    assert (orders["refund"] >= 0).all() and (orders["refund"] <= orders["revenue"]).all()
    ratio = (orders["cost"] / orders["revenue"]).drop_nans()
    assert ratio.is_between(0.36, 0.69).mean() > 0.999
    assert 0.02 <= (orders["refund"] > 0).mean() <= 0.06
    same_day = orders.group_by("customer_id", pl.col("order_ts").dt.date()).len()
    assert (same_day["len"] > 1).any(), "same-day repeat orders occur"


def test_guests_and_silent_signups(business: tuple[Path, dict, pl.DataFrame]) -> None:
    landing, truth, _ = business
    ordering = set(_source(landing, "orders")["customer_id"])
    listed = set(_source(landing, "customers")["customer_id"])
    guests = len(ordering - listed) / len(ordering)
    assert 0.005 < guests < 0.04
    assert len(listed - ordering) > 0.05 * len(listed), "some customers sign up but never order"
    assert truth["realised"]["customers_acquired"] == 4_000


def test_cheapest_channel_is_not_best_on_ltv_to_cac(business: tuple[Path, dict, pl.DataFrame]) -> None:
    _, truth, _ = business
    paid = {k: c for k, c in truth["channels"].items() if c["paid"]}
    assert len(paid) >= 5 and {"organic", "referral"} <= set(truth["channels"])
    cheapest = min(paid, key=lambda k: paid[k]["cac_at_current_spend"])
    best = max(paid, key=lambda k: paid[k]["ltv_to_cac_at_current_spend"])
    assert cheapest != best
    assert paid[best]["cac_at_current_spend"] > 2 * paid[cheapest]["cac_at_current_spend"]


def test_spend_varies_over_time_per_channel(business: tuple[Path, dict, pl.DataFrame]) -> None:
    landing, truth, _ = business
    spend = _source(landing, "marketing_spend")
    labels = {c["label"] for c in truth["channels"].values() if c["paid"]}
    assert set(spend["channel"]) == labels
    days = pl.date_range(date(2024, 1, 1), date(2026, 9, 30), eager=True).alias("spend_date")
    for label in labels:
        daily = spend.filter(pl.col("channel") == label).group_by("spend_date").agg(pl.col("spend").sum())
        series = days.to_frame().join(daily, on="spend_date", how="left")["spend"].fill_null(0.0).to_numpy()
        assert series.std() / series.mean() > 0.2, label
        assert np.quantile(series, 0.9) > 1.5 * np.quantile(series, 0.1), label
        assert spend.filter(pl.col("channel") == label)["campaign"].n_unique() >= 2, label


def test_tickets_and_low_csat_precede_churn(business: tuple[Path, dict, pl.DataFrame]) -> None:
    landing, _, customers_truth = business
    tickets = _source(landing, "support_tickets")
    assert tickets["csat"].null_count() > 0 and tickets["resolved_ts"].null_count() > 0
    resolved = tickets.drop_nulls("resolved_ts")
    assert (resolved["resolved_ts"] > resolved["created_ts"]).all()
    per_customer = tickets.group_by("customer_id").agg(pl.len().alias("tickets"), pl.col("csat").mean())
    ordering = customers_truth.filter(pl.col("orders_in_window") > 0).join(per_customer, on="customer_id", how="left")
    stats = ordering.group_by("alive_at_end").agg(pl.col("tickets").fill_null(0).mean(), pl.col("csat").mean())
    dropped, alive = (stats.filter(pl.col("alive_at_end") == flag).row(0, named=True) for flag in (False, True))
    assert dropped["tickets"] > 1.5 * alive["tickets"]
    assert dropped["csat"] < alive["csat"] - 0.5


def test_messy_truth_counts_match_the_files(business: tuple[Path, dict, pl.DataFrame]) -> None:
    landing, truth, _ = business
    assert set(truth["messy"]) == set(CONTRACT_COLUMNS)
    for source, files in truth["messy"].items():
        for name, entry in files.items():
            expected, kinds = entry["expected"], entry["kinds"]
            assert truth["deliveries"][source][name] | {"format": "csv"} == {"format": "csv", **expected}
            content = (landing / source / name).read_bytes()
            if expected["status"] == "already_loaded":
                original = kinds["redelivery"]["same_bytes_as"]
                assert content == (landing / source / original).read_bytes()
                assert expected["rows_read"] == 0
                continue
            lines = content.decode("utf-8-sig").splitlines()[1:]
            assert expected["rows_read"] == len(lines) == sum(k["rows"] for k in kinds.values())
            by_outcome = {o: sum(k["rows"] for k in kinds.values() if k["outcome"] == o)
                          for o in ("loaded", "correction", "duplicate", "quarantined")}
            assert expected["rows_loaded"] == by_outcome["loaded"] + by_outcome["correction"]
            assert expected["rows_duplicate"] == by_outcome["duplicate"]
            assert expected["rows_quarantined"] == by_outcome["quarantined"]
            accounted = expected["rows_loaded"] + expected["rows_quarantined"] + expected["rows_duplicate"]
            assert expected["rows_read"] == accounted
    orders_kinds = truth["messy"]["orders"]["orders_zz_messy.csv"]["kinds"]
    for kind in ("empty_customer_id", "negative_revenue", "currency_symbol", "absurd_amount", "nan_amount",
                 "refund_above_revenue", "us_format_date", "future_date", "unbalanced_quote", "too_many_fields",
                 "conflict_same_id", "exact_duplicate_of_delivered", "correction", "timezone_offset"):
        assert kind in orders_kinds
    ticket_kinds = truth["messy"]["support_tickets"]["support_tickets_zz_messy.csv"]["kinds"]
    assert ticket_kinds["unknown_customer"]["outcome"] == "loaded"
    for source, rows in truth["expected_raw_rows"].items():
        new = sum(e["rows_loaded"] for e in truth["deliveries"][source].values())
        corrections = sum(k["rows"] for f in truth["messy"][source].values() for k in f["kinds"].values()
                          if k["outcome"] == "correction")
        assert rows == new - corrections


def test_allocation_helpers_work_from_truth_json(business: tuple[Path, dict, pl.DataFrame]) -> None:
    _, truth, _ = business
    paid = [c for c in truth["channels"].values() if c["paid"]]
    values = [c["new_customer_value_365"] for c in paid]
    current = [c["current_daily_spend"] for c in paid]
    optimal = true_optimal_allocation(paid, values, sum(current))
    assert optimal.sum() == pytest.approx(sum(current))
    best = allocation_value(paid, values, optimal)
    assert best == pytest.approx(truth["allocation"]["value_per_day_optimal"])
    assert best > 1.05 * allocation_value(paid, values, current), "re-allocation has a real gain"
    rng = np.random.default_rng(0)
    for _ in range(200):
        other = rng.dirichlet(np.ones(len(paid))) * sum(current)
        assert allocation_value(paid, values, other) <= best + 1e-9
    c0 = paid[0]
    assert true_new_customers(c0, 0.0) == 0.0
    assert true_new_customers(c0, 2 * c0["current_daily_spend"]) < 2 * true_new_customers(c0, c0["current_daily_spend"])


def test_unit_economics_do_not_depend_on_size(tmp_path: Path) -> None:
    small, large = (json.loads((generate_business(tmp_path / f"n{n}", n, seed=2).truth_dir / "truth.json").read_text())
                    for n in (1_000, 5_000))
    for key, channel in small["channels"].items():
        if channel["paid"]:
            assert channel["marginal_cac_at_current_spend"] == pytest.approx(
                large["channels"][key]["marginal_cac_at_current_spend"], rel=0.02)
    assert large["scale_factor"] == pytest.approx(5 * small["scale_factor"])


def test_new_customer_value_matches_simulated_cohorts() -> None:
    world = simulate_business(40_000, 5, date(2024, 1, 1), date(2026, 9, 30))
    acq, orders, params = world.acquired, world.orders, world.params
    cohort = acq.signup_t < world.timeline.n_days - 366
    age = orders.t - acq.signup_t[orders.cust]
    inside = (age < 365) & cohort[orders.cust]
    margin = (orders.revenue - orders.refund - orders.cost) * 1.1 ** (-age / 365)
    realised = np.bincount(orders.cust[inside], weights=margin[inside], minlength=acq.lam.size)
    value = np.array([new_customer_value(c, params.purchase, params.economics, 365, 0.1) for c in params.channels])
    assert realised[cohort].mean() == pytest.approx(value[acq.channel[cohort]].mean(), rel=0.06)


def test_expected_discounted_transactions_matches_monte_carlo() -> None:
    """Event-level BG/NBD futures (N ~ Geometric(p) purchases, the last at D ~ Gamma(N, lam))
    against the closed form, on a strongly seasonal business clock."""
    rng = np.random.default_rng(1)
    day_warp = 1.0 + 0.4 * np.sin(np.arange(365) / 30.0)
    discount = daily_discount(365, 0.1)
    edges = np.concatenate([[0.0], np.cumsum(day_warp)])
    lam, p = np.array([0.05, 0.2]), np.array([0.3, 0.05])
    exact = expected_discounted_transactions(lam, p, day_warp, discount)
    n = 40_000
    for i in range(2):
        purchases = rng.geometric(p[i], n)
        death = rng.gamma(purchases.astype(float), 1.0 / lam[i])
        owner = np.repeat(np.arange(n), purchases - 1)
        times = np.concatenate([rng.random(owner.size) * death[owner], death])
        day = np.searchsorted(edges, times, side="right") - 1
        simulated = discount[day[day < 365]].sum() / n
        assert simulated == pytest.approx(exact[i], rel=0.03)


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    generate_business(tmp_path / "landing", 200, seed=1)
    with pytest.raises(FileExistsError):
        generate_business(tmp_path / "landing", 200, seed=1)
    summary = generate_business(tmp_path / "landing", 300, seed=1, overwrite=True)
    assert json.loads((summary.truth_dir / "truth.json").read_text())["n_customers"] == 300
    with pytest.raises(ValueError):
        generate_business(tmp_path / "tiny", 10)
