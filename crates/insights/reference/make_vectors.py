#!/usr/bin/env python3
"""Reference vectors for `lectern_insights::stats` (the `lectern stats ab` output shape).

How to run (from the workspace root; CI does not run this, the JSON it writes is committed):

    python3 -m venv /tmp/gbvenv
    /tmp/gbvenv/bin/pip install gbstats==0.8.0 scipy==1.17.1 statsmodels==0.15.0 mpmath==1.4.1
    /tmp/gbvenv/bin/python crates/insights/reference/make_vectors.py

Versions used for the committed vectors.json: Python 3.11.7, gbstats 0.8.0, scipy 1.17.1,
statsmodels 0.15.0, numpy 1.26.4, mpmath 1.4.1.

Where each number comes from:
- relative/absolute frequentist: gbstats TwoSidedTTest (difference_type relative/absolute);
- sequential: gbstats SequentialTwoSidedTTest with sequential_tuning_parameter = tuning;
- bayes: gbstats EffectBayesianABTest with prior_type "relative" (flat prior when prior is null);
- wilson_ci: statsmodels proportion_confint(method="wilson");
- srm_p_value: gbstats.utils.check_srm (scipy chi2.sf);
- p_value_holm / p_value_bh: statsmodels multipletests over the variants' relative p-values;
- prob_beat_control: exact Beta(1,1)-Binomial sum (Evan Miller's formula) in mpmath at 40 digits,
  cross-checked against scipy numerical integration.
Vectors are only made for inputs where gbstats computes a result (no zero control mean, no zero
variance): where it cannot, gbstats returns placeholder zeros and Lectern returns null instead.
"""

import json
import math
import os

import mpmath
import numpy as np
from scipy import integrate, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
from gbstats.frequentist.tests import (
    FrequentistConfig,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic
from gbstats.utils import check_srm

mpmath.mp.dps = 40


def stat(metric, arm):
    if metric == "binomial":
        return ProportionStatistic(n=arm["n"], sum=arm["conversions"])
    return SampleMeanStatistic(n=arm["n"], sum=arm["sum"], sum_squares=arm["sum_squares"])


def effect(metric, a, b, diff, alpha, tuning, prior):
    sa, sb = stat(metric, a), stat(metric, b)
    f = TwoSidedTTest(sa, sb, FrequentistConfig(alpha=alpha, difference_type=diff)).compute_result()
    s = SequentialTwoSidedTTest(
        sa,
        sb,
        SequentialConfig(alpha=alpha, difference_type=diff, sequential_tuning_parameter=tuning),
    ).compute_result()
    if prior is None:
        gp = GaussianPrior(mean=0, variance=1, proper=False)
    else:
        gp = GaussianPrior(mean=prior["mean"], variance=prior["variance"], proper=True)
    bconf = EffectBayesianConfig(
        alpha=alpha, difference_type=diff, prior_type="relative", prior_effect=gp
    )
    b_res = EffectBayesianABTest(sa, sb, bconf).compute_result()
    for r in (f, s, b_res):
        assert r.error_message is None, r.error_message
    return {
        "estimate": float(f.expected),
        "ci": [float(x) for x in f.ci],
        "p_value": float(f.p_value),
        "sequential": {"ci": [float(x) for x in s.ci], "p_value": float(s.p_value)},
        "bayes": {
            "chance_to_win": float(b_res.chance_to_win),
            "ci": [float(x) for x in b_res.ci],
            "risk": [float(x) for x in b_res.risk],
        },
    }


def prob_beat_control(a, b):
    """P(p_B > p_A) under Beta(1,1) priors, exact finite sum (Evan Miller)."""
    aa, ba = 1 + a["conversions"], 1 + a["n"] - a["conversions"]
    ab, bb = 1 + b["conversions"], 1 + b["n"] - b["conversions"]
    lb = lambda x, y: mpmath.loggamma(x) + mpmath.loggamma(y) - mpmath.loggamma(x + y)
    base = lb(aa, ba)
    total = mpmath.mpf(0)
    for i in range(ab):
        total += mpmath.exp(lb(aa + i, ba + bb) - mpmath.log(bb + i) - lb(1 + i, bb) - base)
    exact = float(total)
    # Independent check by numerical integration (loose: quad is not 1e-12 accurate everywhere).
    if a["n"] <= 5000 and b["n"] <= 5000:
        num, _ = integrate.quad(
            lambda x: stats.beta.pdf(x, ab, bb) * stats.beta.cdf(x, aa, ba),
            0,
            1,
            epsabs=1e-13,
            limit=500,
            points=[a["conversions"] / a["n"], b["conversions"] / b["n"]],
        )
        assert abs(num - exact) < 1e-7, (num, exact)
    return exact


def analyze(case):
    metric = case["metric"]
    alpha = case.get("alpha", 0.05)
    tuning = case.get("sequential_tuning", 5000)
    prior = case.get("prior")
    arms = case["arms"]
    weights = case.get("weights") or [1 / len(arms)] * len(arms)
    out_arms = []
    control = arms[0]
    for i, arm in enumerate(arms):
        s = stat(metric, arm)
        row = {"name": arm["name"], "n": arm["n"], "mean": float(s.mean)}
        if metric == "binomial":
            lo, hi = proportion_confint(arm["conversions"], arm["n"], alpha=alpha, method="wilson")
            row["wilson_ci"] = [float(lo), float(hi)]
        if i > 0:
            row["relative"] = effect(metric, control, arm, "relative", alpha, tuning, prior)
            row["absolute"] = effect(metric, control, arm, "absolute", alpha, tuning, prior)
            if metric == "binomial":
                row["prob_beat_control"] = prob_beat_control(control, arm)
        out_arms.append(row)
    raw = [r["relative"]["p_value"] for r in out_arms[1:]]
    holm = multipletests(raw, method="holm")[1]
    bh = multipletests(raw, method="fdr_bh")[1]
    for r, h, b in zip(out_arms[1:], holm, bh):
        r["p_value_holm"] = float(h)
        r["p_value_bh"] = float(b)
    srm = check_srm([a["n"] for a in arms], weights)
    return {"srm_p_value": float(srm), "arms": out_arms}


def binom(name, n, c):
    return {"name": name, "n": n, "conversions": c}


def mean_arm(name, values):
    v = np.asarray(values, dtype=float)
    return {"name": name, "n": int(len(v)), "sum": float(v.sum()), "sum_squares": float((v * v).sum())}


def mean_sums(name, n, mean, sd):
    """An arm given by its moments (sum and sum of squares chosen so that var = sd^2 exactly)."""
    s = mean * n
    ss = sd * sd * (n - 1) + s * s / n
    return {"name": name, "n": n, "sum": s, "sum_squares": ss}


def cases():
    rng = np.random.default_rng(20261128)
    out = []

    def add(case_id, **case):
        case.setdefault("alpha", 0.05)
        case.setdefault("sequential_tuning", 5000)
        case.setdefault("prior", None)
        out.append({"id": case_id, "input": case})

    # Two arms, binomial.
    add("issue_example", metric="binomial", weights=[0.5, 0.5],
        arms=[binom("control", 412, 23), binom("B", 398, 35)])
    add("small_3_40_vs_7_38", metric="binomial", arms=[binom("control", 40, 3), binom("B", 38, 7)])
    add("small_reversed", metric="binomial", arms=[binom("control", 38, 7), binom("B", 40, 3)])
    add("equal_arms", metric="binomial", arms=[binom("control", 500, 50), binom("B", 500, 50)])
    add("large_arms", metric="binomial",
        arms=[binom("control", 100000, 5000), binom("B", 100000, 5150)])
    add("large_unbalanced", metric="binomial", weights=[0.7, 0.3],
        arms=[binom("control", 70120, 2104), binom("B", 29880, 1003)])
    add("near_equal_large", metric="binomial",
        arms=[binom("control", 90000, 9000), binom("B", 90000, 9003)])
    add("high_rate", metric="binomial", arms=[binom("control", 200, 180), binom("B", 210, 195)])
    add("alpha_10", metric="binomial", alpha=0.1, arms=[binom("control", 1000, 80), binom("B", 1000, 100)])
    add("alpha_01", metric="binomial", alpha=0.01, arms=[binom("control", 1000, 80), binom("B", 1000, 100)])
    add("srm_mismatch", metric="binomial", arms=[binom("control", 1200, 60), binom("B", 1000, 58)])
    add("prior_proper", metric="binomial", prior={"mean": 0.0, "variance": 0.09},
        arms=[binom("control", 412, 23), binom("B", 398, 35)])
    add("prior_shifted", metric="binomial", prior={"mean": 0.1, "variance": 0.01},
        arms=[binom("control", 300, 30), binom("B", 310, 25)])
    add("prior_small_arms", metric="binomial", prior={"mean": 0.0, "variance": 0.09},
        arms=[binom("control", 40, 3), binom("B", 38, 7)])
    for tuning in (100, 1000, 5000, 50000):
        add(f"tuning_{tuning}", metric="binomial", sequential_tuning=tuning,
            arms=[binom("control", 2000, 100), binom("B", 2000, 135)])
    # More arms, binomial.
    add("three_arms", metric="binomial",
        arms=[binom("control", 400, 20), binom("B", 410, 31), binom("C", 395, 22)])
    add("three_arms_weighted", metric="binomial", weights=[0.5, 0.25, 0.25],
        arms=[binom("control", 1010, 50), binom("B", 495, 40), binom("C", 505, 21)])
    add("four_arms", metric="binomial",
        arms=[binom("control", 250, 20), binom("B", 255, 30), binom("C", 248, 18),
              binom("D", 252, 41)])
    add("four_arms_prior", metric="binomial", prior={"mean": 0.0, "variance": 0.09},
        sequential_tuning=2000,
        arms=[binom("control", 3000, 150), binom("B", 2950, 170), binom("C", 3020, 149),
              binom("D", 3010, 190)])
    # Random binomial cases.
    for k in range(6):
        narms = 2 + k % 3
        arms = []
        for j in range(narms):
            n = int(rng.integers(30, 5000))
            p = rng.uniform(0.05, 0.6)
            arms.append(binom("control" if j == 0 else chr(ord("A") + j), n, int(rng.binomial(n, p))))
        add(f"random_binomial_{k}", metric="binomial", sequential_tuning=float(rng.choice([500, 5000])),
            arms=arms)
    # Mean metrics.
    add("mean_revenue", metric="mean",
        arms=[mean_sums("control", 412, 3.1, 11.0), mean_sums("B", 398, 4.2, 13.5)])
    add("mean_watch_minutes_prior", metric="mean", prior={"mean": 0.0, "variance": 0.09},
        arms=[mean_sums("control", 150, 42.0, 15.0), mean_sums("B", 160, 45.5, 14.0)])
    add("mean_small", metric="mean",
        arms=[mean_arm("control", [0, 0, 19, 0, 49, 0, 0, 19, 0, 0, 99, 0]),
              mean_arm("B", [19, 0, 0, 49, 49, 0, 0, 19, 0, 99, 0, 0, 0])])
    add("mean_large", metric="mean",
        arms=[mean_sums("control", 60000, 1.20, 8.0), mean_sums("B", 59000, 1.31, 8.4)])
    add("mean_three_arms", metric="mean", sequential_tuning=1000,
        arms=[mean_sums("control", 800, 10.0, 4.0), mean_sums("B", 790, 10.4, 4.1),
              mean_sums("C", 820, 9.7, 3.8)])
    add("mean_four_arms_weighted", metric="mean", weights=[0.4, 0.2, 0.2, 0.2],
        arms=[mean_sums("control", 4000, 25.0, 30.0), mean_sums("B", 2100, 27.0, 31.0),
              mean_sums("C", 1950, 24.0, 29.0), mean_sums("D", 2000, 25.5, 33.0)])
    add("mean_negative_lift", metric="mean", alpha=0.1,
        arms=[mean_sums("control", 300, 5.0, 2.0), mean_sums("B", 310, 4.4, 2.5)])
    for k in range(4):
        narms = 2 + k % 3
        arms = []
        for j in range(narms):
            n = int(rng.integers(20, 3000))
            vals = rng.gamma(shape=rng.uniform(0.5, 3), scale=rng.uniform(1, 20), size=n).round(2)
            arms.append(mean_arm("control" if j == 0 else chr(ord("A") + j), vals))
        add(f"random_mean_{k}", metric="mean", arms=arms)
    return out


def distributions():
    """Spot values of the distribution functions, including where statrs goes wrong."""
    out = []
    for df in (1.0, 2.5, 7.3, 30.0, 143.7, 1e3, 12345.6, 1e5, 1e6, 1e7):
        for p in (0.25, 0.05, 0.025, 0.005, 1e-6):
            out.append({"fn": "student_t_upper_quantile", "args": [p, df],
                        "value": float(stats.t.isf(p, df))})
        for t in (1e-6, 0.01, 0.7, 1.96, 4.5, 12.0):
            out.append({"fn": "student_t_sf", "args": [t, df], "value": float(stats.t.sf(t, df))})
            out.append({"fn": "student_t_sf", "args": [-t, df], "value": float(stats.t.sf(-t, df))})
    for p in (1e-300, 1e-12, 1e-6, 0.005, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.6, 0.8,
              0.9, 0.95, 0.975, 0.995, 0.999999):
        out.append({"fn": "normal_quantile", "args": [p], "value": float(stats.norm.ppf(p))})
    # A dense grid: every branch of erfc's piecewise approximation is crossed.
    for x in np.linspace(-12.0, 12.0, 97):
        out.append({"fn": "normal_cdf", "args": [float(x)], "value": float(stats.norm.cdf(x))})
    for df in (1, 2, 3, 4, 5):
        for x in (0.0, 0.05, 1.0, 3.84, 10.0, 40.0):
            out.append({"fn": "chi_square_sf", "args": [x, df], "value": float(stats.chi2.sf(x, df))})
    return out


def main():
    vectors = []
    for case in cases():
        vectors.append({"id": case["id"], "input": case["input"], "output": analyze(case["input"])})
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "vectors.json"), "w") as f:
        json.dump(
            {
                "generated_by": "crates/insights/reference/make_vectors.py",
                "versions": {"gbstats": "0.8.0", "scipy": "1.17.1", "statsmodels": "0.15.0",
                             "numpy": "1.26.4", "mpmath": "1.4.1"},
                "vectors": vectors,
                "distributions": distributions(),
            },
            f,
            indent=1,
        )
        f.write("\n")
    print(f"wrote {len(vectors)} vectors")


if __name__ == "__main__":
    main()
