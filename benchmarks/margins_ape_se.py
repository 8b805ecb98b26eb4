#!/usr/bin/env python3
r"""Why the standard error of the bias-corrected cloglog APE (the hypothesis helpers'
default) is about 10% below its spread at 40 countries and not at 20 (issue 15).

Null worlds of :func:`gravity.simulate.simulate_world` (every BRI and finance effect
zero, so the true APE is 0 in every world), entry on exp-year + imp-year + pair fixed
effects clustered by pair, as ``benchmarks/margins_montecarlo.py --defaults``: BRI entry
(``bri_ij`` with ln(1 + tariff/100) and ln fd_o x (ln dist - m)) and the pecking order
(``fd_x_dist`` with fd x size and ln tariff). One JSON line per world and hypothesis is
appended to ``--jsonl`` as it finishes (a stopped run keeps what it did). Per world:

* the MLE ``beta`` and its SE (``se_mle``), the corrected ``beta^bc`` and its SE with
  and without the fixest factor ``(N-1)/(N-K)`` (``se_coef``, ``se_coef_nossc``);
* the corrected APE ``delta^bc = delta(beta^bc) - b`` (``ape``), its analytical SE
  (``se_ape``, the default's), ``delta(beta^bc)`` before the APE's own bias term
  (``ape_unc``) and that term ``b``; the uncorrected APE at the MLE (``ape_mle``);
* with ``--deriv`` (central differences through re-fitted fixed effects): the slope of
  the coefficient correction ``s = d beta^bc / d beta`` (``s_kk``, own direction), the
  SE of the whole map ``beta -> delta^bc`` by the delta method on the MLE's variance
  (``se_full = sqrt(g' V g)``, ``g = d delta^bc / d beta``) and on the corrected
  coefficient's variance (``se_jbc``, the Jacobian ``d delta^bc / d beta^bc`` that
  includes the slope of the APE's bias term).

Usage::

    python benchmarks/margins_ape_se.py --seeds 5000:5200 --countries 40 --deriv --jsonl a.jsonl
    python benchmarks/margins_ape_se.py --summarise a.jsonl [b.jsonl ...]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd

HYPS = (("BRI entry", "bri_ij + ln_tariff + fd_x_dist_c", "bri_ij"),
        ("pecking order", "fd_x_dist + fd_x_size + ln_tariff", "fd_x_dist"))


def world_rows(seed: int, countries: int, years: range, deriv: bool,
               lev: bool = False, coverage: bool = False) -> list[dict]:
    from margins_montecarlo import _world, entry_data, true_entry_effects

    from gravity.estimation import average_partial_effects, bias_correct, feglm_binary
    from gravity.estimation.bias import REFIT_FIXEF_TOL, _model_data
    from gravity.inference.vcov import ssc
    from gravity.simulate import SimParams

    warnings.simplefilter("ignore")
    p0 = SimParams() if coverage else SimParams(bri_flow=0.0, bri_entry=0.0, fd_entry=0.0,
                                                fd_dist_entry=0.0)
    panel, truth = _world(seed, p0, countries, years)
    d = entry_data(panel)
    lam = np.exp(truth.latent["ln_lambda"].to_numpy())[panel["trade"].notna().to_numpy()]
    nossc = ssc(adj=False)
    out = []
    for hyp, rhs, term in HYPS:
        t0 = time.time()
        r = feglm_binary(f"entry ~ {rhs} | exp_year + imp_year + pair", d, family="cloglog",
                         vcov={"CRV1": "pair"})
        rc = bias_correct(r, "network")
        a = average_partial_effects(rc)
        a0 = average_partial_effects(r, bias_correction=False)
        kept = r.in_sample
        ape_true, coef_true = true_entry_effects(term, lam, kept, d, p0)
        row = {"seed": seed, "countries": countries, "hyp": hyp, "n": int(rc.nobs),
               "design": "coverage" if coverage else "null", "ape_true": ape_true,
               "coef_true": coef_true,
               "beta_mle": float(r.params[term]), "se_mle": float(r.bse[term]),
               "beta_bc": float(rc.params[term]), "se_coef": float(rc.bse[term]),
               "se_coef_nossc": float(rc.with_vcov(ssc=nossc).bse[term]),
               "ape": float(a.loc[term, "estimate"]), "se_ape": float(a.loc[term, "std_error"]),
               "ape_unc": float(a.attrs["estimate_uncorrected"][term]),
               "b": float(a.attrs["bias"][term]),
               "ape_mle": float(a0.loc[term, "estimate"]),
               "se_ape_mle": float(a0.loc[term, "std_error"])}
        if lev:
            row.update(_leverage_ses(r, rc, term))
        if deriv:
            k = list(r.params.index).index(term)
            beta0 = r.record.beta.copy()
            step = 1e-3 * max(float(r.bse[term]), 1e-3)
            md = _model_data(r.record, REFIT_FIXEF_TOL)
            K = beta0.size
            g, s = np.zeros(K), np.zeros((K, K))
            for j in range(K):  # regressors
                e = np.zeros(K)
                e[j] = step
                bp, gp = _corrected_ape(r, rc, md, term, beta0 + e)
                bm, gm = _corrected_ape(r, rc, md, term, beta0 - e)
                g[j] = (gp - gm) / (2 * step)
                s[:, j] = (bp - bm) / (2 * step)
            v_mle = r.with_vcov(ssc=nossc).vcov.to_numpy()
            v_bc = rc.with_vcov(ssc=nossc).vcov.to_numpy()
            jbc = np.linalg.solve(s.T, g)
            row.update(s_kk=float(s[k, k]), se_full=float(np.sqrt(g @ v_mle @ g)),
                       se_jbc=float(np.sqrt(jbc @ v_bc @ jbc)))
            if lev:
                for kind in ("lev1", "lev3"):
                    vm, vb = row.pop(f"_V_mle_{kind}"), row.pop(f"_V_bc_{kind}")
                    row[f"se_full_{kind}"] = float(np.sqrt(g @ vm @ g))
                    row[f"se_jbc_{kind}"] = float(np.sqrt(jbc @ vb @ jbc))
        for key in [key for key in row if key.startswith("_")]:
            row.pop(key)
        row["seconds"] = time.time() - t0
        out.append(row)
    return out


def _fit_arrays(res) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``v`` (scores in eta), ``w`` (IRLS weights), ``xt`` and ``(X~'WX~)^{-1}`` of a
    binary fit, as :mod:`gravity.estimation.apes` builds them."""
    r = res.record
    fam = r.family
    h = fam.score_factor(r.eta)
    w = r.prior_weights * np.maximum(fam.mu_eta(r.eta), 1e-300) * h
    v = r.prior_weights * h * (r.y - fam.inverse_link(r.eta))
    bread = np.linalg.inv((r.xt * w) @ r.xt.T)
    return v, w, r.xt, bread


def _leverage_ses(r, rc, term: str) -> dict:
    """Leverage-corrected pair-clustered SEs (one-sided: Weidner-Zylkin; two-sided:
    Mancl-DeRouen / CV3-type), ``G/(G-1)``, of the MLE's coefficient, the corrected
    coefficient and the corrected APE; plus the full matrices (``_V_*``) for the
    whole-map delta method."""
    from gravity.estimation.apes import _ape_parts
    from gravity.inference.cluster_leverage import cluster_meat, inflated_scores

    out: dict = {}
    cl = r.record.fe_codes[2]
    g = int(cl.max()) + 1
    adj = g / (g - 1.0)
    k = list(r.params.index).index(term)
    t0 = time.time()
    for tag, fit in (("mle", r), ("bc", rc)):
        v, w, xt, bread = _fit_arrays(fit)
        vt = inflated_scores(v, w, xt, bread, list(fit.record.fe_codes), 2)
        a = xt.T @ bread
        for kind, vi, two in (("plain", None, False), ("lev1", vt, False), ("lev3", vt, True)):
            vm = adj * cluster_meat(a, v, vi, cl, two)
            out[f"se_{tag}_{kind}"] = float(np.sqrt(vm[k, k]))
            out[f"_V_{tag}_{kind}"] = vm
        if tag == "bc":
            names = [n for n in fit.record.names if n != "(Intercept)"]
            X = fit.record.X
            is_bin = np.array([np.isin(X[:, j], (0.0, 1.0)).all() for j in range(X.shape[1])])
            _, infl, v2, _ = _ape_parts(fit, names, X, is_bin, True, "network")
            j = names.index(term)
            for kind, vi, two in (("plain", None, False), ("lev1", vt, False),
                                  ("lev3", vt, True)):
                vm = adj * cluster_meat(infl[:, [j]], v2, vi, cl, two)
                out[f"se_ape_{kind}"] = float(np.sqrt(vm[0, 0]))
    out["lev_seconds"] = time.time() - t0
    return out


def _corrected_ape(r, rc, md, term: str, beta: np.ndarray) -> tuple[np.ndarray, float]:
    """``beta -> (beta^bc(beta), delta^bc(beta^bc))``: the correction at slopes ``beta``
    (fixed effects re-estimated), then the corrected fit there and its corrected APE."""
    from gravity.estimation import average_partial_effects
    from gravity.estimation.bias import _at_slopes, corrected_slopes

    bbc = corrected_slopes(r, beta, "network")
    at = _at_slopes(r, bbc, md, rc.record.settings,
                    {"bias_corrected": True, "panel_structure": "network"})
    return bbc, float(average_partial_effects(at).loc[term, "estimate"])


def _rate(est: pd.Series, se: pd.Series) -> tuple[float, int]:
    rej = int((np.abs(est / se) > 1.959964).sum())
    return rej / len(est), rej


def summarise(frames: pd.DataFrame) -> str:
    """Markdown: per design and hypothesis, SD over the null worlds, mean SE, SE/sd with
    its Monte Carlo SE (``ratio / sqrt(2 (R - 1))``), rejection at 5% with its count."""
    lines = ["| countries | hypothesis | estimator / SE | worlds | sd | mean SE | SE/sd (MC se) "
             "| rejection 5% (of the true value) |", "|---|---|---|---|---|---|---|---|"]
    facts = ["| countries | hypothesis | worlds | kappa = ape / ape_unc | s = d beta^bc / d beta "
             "| s x kappa | SE_MLE/sd(beta MLE) |", "|---|---|---|---|---|---|---|"]
    levs = ["| countries | hypothesis | worlds | lev one-sided / CRV1, MLE | two-sided / CRV1, "
            "MLE | one-sided, APE^bc | two-sided, APE^bc | fixest factor |",
            "|---|---|---|---|---|---|---|---|"]
    for col in ("ape_true", "coef_true"):
        if col not in frames:
            frames[col] = 0.0
        frames[col] = frames[col].fillna(0.0)
    frames["design"] = frames["design"].fillna("null") if "design" in frames else "null"
    for (c, des, hyp), g in frames.groupby(["countries", "design", "hyp"], sort=False):
        R = len(g)
        hyp = f"{hyp} ({des})"
        rows = [("beta MLE, SE (fit's ssc)", g.beta_mle, g.se_mle),
                ("beta^bc, SE (fit's ssc)", g.beta_bc, g.se_coef),
                ("beta^bc, SE without (N-1)/(N-K)", g.beta_bc, g.se_coef_nossc),
                ("**APE^bc, analytical SE (default)**", g.ape, g.se_ape),
                ("APE^bc, analytical SE x the fit's (N-1)/(N-K) factor", g.ape,
                 g.se_ape * g.se_coef / g.se_coef_nossc),
                ("APE before its bias term, same SE", g.ape_unc, g.se_ape),
                ("APE at the MLE, its SE", g.ape_mle, g.se_ape_mle)]
        if "se_full" in g and g["se_full"].notna().all():
            rows += [("APE^bc, delta method of the whole map on V(MLE)", g.ape, g.se_full),
                     ("APE^bc, Jacobian incl. d b / d beta, on V(beta^bc)", g.ape, g.se_jbc)]
        if "se_mle_lev1" in g and g["se_mle_lev1"].notna().all():
            fx = g.se_coef / g.se_coef_nossc  # the fixest factor sqrt((N-1)/(N-K))
            rows += [("beta MLE, CRV1 without (N-1)/(N-K)", g.beta_mle, g.se_mle_plain),
                     ("beta MLE, leverage one-sided (WZ)", g.beta_mle, g.se_mle_lev1),
                     ("beta MLE, leverage two-sided (MD/CV3)", g.beta_mle, g.se_mle_lev3),
                     ("beta^bc, leverage one-sided (WZ)", g.beta_bc, g.se_bc_lev1),
                     ("beta^bc, leverage two-sided (MD/CV3)", g.beta_bc, g.se_bc_lev3),
                     ("APE^bc, analytical, leverage one-sided (WZ)", g.ape, g.se_ape_lev1),
                     ("APE^bc, analytical, leverage two-sided (MD/CV3)", g.ape, g.se_ape_lev3)]
            if "se_full_lev1" in g and g["se_full_lev1"].notna().all():
                rows += [("APE^bc, whole map on V_lev one-sided (WZ)", g.ape, g.se_full_lev1),
                         ("APE^bc, whole map on V_lev one-sided x fixest factor", g.ape,
                          g.se_full_lev1 * fx),
                         ("APE^bc, whole map on V_lev two-sided (MD/CV3)", g.ape,
                          g.se_full_lev3),
                         ("APE^bc, whole map on V_lev two-sided x fixest factor", g.ape,
                          g.se_full_lev3 * fx),
                         ("APE^bc, J incl. d b / d beta on V_lev(beta^bc) one-sided", g.ape,
                          g.se_jbc_lev1),
                         ("APE^bc, J incl. d b / d beta on V_lev(beta^bc) two-sided", g.ape,
                          g.se_jbc_lev3)]
        for lbl, est, se in rows:
            sd = float(est.std(ddof=1))
            ratio = float(se.mean()) / sd
            true = g.ape_true if lbl.startswith(("**APE^bc", "APE^bc")) else \
                g.coef_true if lbl.startswith("beta") else 0.0
            rate, rej = _rate(est - true, se)
            lines.append(f"| {c} | {hyp} | {lbl} | {R} | {sd:.4f} | {se.mean():.4f} | "
                         f"{ratio:.3f} ({ratio / np.sqrt(2 * (R - 1)):.3f}) | "
                         f"{rate:.3f} ({rej}/{R}) |")
        kappa = float(np.median(g.ape / g.ape_unc))
        s = float(g["s_kk"].mean()) if "s_kk" in g and g["s_kk"].notna().all() else np.nan
        r_mle = float(g.se_mle.mean() / g.beta_mle.std(ddof=1))
        if "se_mle_lev1" in g:
            levs.append(f"| {c} | {hyp} | {R} | {(g.se_mle_lev1 / g.se_mle_plain).mean():.3f} "
                        f"| {(g.se_mle_lev3 / g.se_mle_plain).mean():.3f} "
                        f"| {(g.se_ape_lev1 / g.se_ape).mean():.3f} "
                        f"| {(g.se_ape_lev3 / g.se_ape).mean():.3f} "
                        f"| {(g.se_coef / g.se_coef_nossc).mean():.3f} |")
        facts.append(f"| {c} | {hyp} | {R} | {kappa:.3f} | {s:.3f} | {s * kappa:.3f} | "
                     f"{r_mle:.3f} |")
    out = "\n".join(lines) + "\n\n" + "\n".join(facts) + "\n"
    if len(levs) > 2:
        out += "\nLeverage inflation of the SE (mean ratio over the worlds):\n\n" + \
            "\n".join(levs) + "\n"
    return out


def main() -> None:
    import sys

    sys.path.insert(0, __file__.rsplit("/", 1)[0] if "/" in __file__ else ".")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="5000:5200", help="first:last (exclusive)")
    ap.add_argument("--countries", type=int, default=40)
    ap.add_argument("--first-year", type=int, default=2008)
    ap.add_argument("--last-year", type=int, default=2020)
    ap.add_argument("--deriv", action="store_true")
    ap.add_argument("--lev", action="store_true", help="leverage-corrected variances")
    ap.add_argument("--coverage", action="store_true",
                    help="coverage worlds (default SimParams) instead of null worlds")
    ap.add_argument("--jsonl", default="margins_ape_se.jsonl")
    ap.add_argument("--summarise", nargs="*", help="JSON-lines files to summarise")
    a = ap.parse_args()
    if a.summarise:
        frames = pd.concat([pd.read_json(p, lines=True) for p in a.summarise])
        if "design" not in frames:
            frames["design"] = "null"
        frames["design"] = frames["design"].fillna("null")
        frames = frames.drop_duplicates(["countries", "design", "hyp", "seed"])
        print(summarise(frames))
        return
    lo, hi = (int(v) for v in a.seeds.split(":"))
    years = range(a.first_year, a.last_year + 1)
    for seed in range(lo, hi):  # worlds, one at a time (one core)
        rows = world_rows(seed, a.countries, years, a.deriv, a.lev, a.coverage)
        with open(a.jsonl, "a") as fh:
            fh.write("".join(json.dumps(r) + "\n" for r in rows))
        print(seed, [(r["hyp"], round(r["ape"] / r["se_ape"], 3)) for r in rows], flush=True)


if __name__ == "__main__":
    main()
