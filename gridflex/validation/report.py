"""Writing an :class:`~gridflex.validation.ac.ACReport`: CSV tables, figures and a PNG plot."""

from pathlib import Path

import numpy as np

PLOT_NAME = "ac_validation.png"


def report_figures(report):
    """The headline figures of an AC report (for summary.json and the console)."""
    s = report.summary
    return {
        "periods": len(s),
        "converged": int(s["converged"].sum()),
        "not_converged_periods": [str(p) for p in s.index[~s["converged"].astype(bool)]],
        "violations": len(report.violations),
        "violations_by_kind": report.violations["kind"].value_counts().to_dict(),
        "periods_with_overload": int(
            report.violations.loc[report.violations["kind"] == "overload", "period"].nunique()
        ),
        "vm_min_pu": _finite(s["vm_min_pu"].min()),
        "vm_max_pu": _finite(s["vm_max_pu"].max()),
        "max_loading_percent": _finite(s["max_loading_percent"].max()),
        "max_limit_percent": _finite(s["max_limit_percent"].max()),
        "losses_mwh": _finite(s["losses_mw"].sum()),
        "max_abs_slack_deviation_mw": _finite(s["slack_deviation_mw"].abs().max()),
        "max_dp_branch_mw": _finite(report.gap["max_dp_mw"].max()),
        "max_dvm_pu": _finite(report.gap["max_dvm_pu"].max())
        if "max_dvm_pu" in report.gap
        else None,
    }


def _finite(value):
    return float(value) if np.isfinite(value) else None


def write_report(report, out, plot=True):
    """Write ``ac_summary.csv``, ``ac_violations.csv``, ``ac_gap.csv``, ``ac_res_*.csv`` and
    (with ``plot``) ``ac_validation.png`` into ``out``; returns the written file names."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report.summary.to_csv(out / "ac_summary.csv")
    report.violations.to_csv(out / "ac_violations.csv", index=False)
    report.gap.to_csv(out / "ac_gap.csv")
    for name in ("res_bus", "res_line", "res_trafo"):
        table = getattr(report, name)
        if table is not None:
            table.to_csv(out / f"ac_{name}.csv")
    if plot:
        plot_report(report, out / PLOT_NAME)
    return sorted(p.name for p in out.glob("ac_*"))


def plot_report(report, path):
    """The AC validation plot (:func:`gridflex.plot.ac_validation`) as PNG and SVG next to
    ``path`` (its suffix is replaced)."""
    from gridflex import plot

    fig = plot.ac_validation(report)
    plot.save(fig, path)
    plot._pyplot().close(fig)
