"""Plots of results a researcher would put in a paper (matplotlib; pandapower's for maps).

Every function returns a :class:`matplotlib.figure.Figure` laid out with constrained layout:
time on the x axis (timestamps, or periods with the blocks marked), units in the axis labels,
legends outside the data. :func:`save` writes PNG and SVG at 300 dpi.

* :func:`dispatch`: production stacked by device, with the demand it serves;
* :func:`storage`: energy of every storage-like unit (batteries, EV fleets, stores);
* :func:`prices`: nodal prices as a time x bus heat map;
* :func:`reserves`: reserve and ramp products held, by provider, one panel per product;
* :func:`ac_validation`: the AC voltage band and largest branch loading per period;
* :func:`network_map`: buses coloured by AC voltage and lines by loading, in one period;
* :func:`sweep`: a study's curves against its swept input, one panel per unit;
* :func:`convergence`: bounds of an iterative method per iteration.

:func:`result_plots` writes the ones that apply to a result (``gridflex run`` and
``gridflex plot``).
"""

from pathlib import Path

import numpy as np
import pandas as pd

DPI = 300
LEGEND = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "fontsize": 8, "frameon": False}
MAX_LEGEND = 14  # more entries than this: the smallest are summed into "others"


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf") and not _interactive():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _interactive():
    import matplotlib

    return bool(matplotlib.is_interactive())


def figure(rows=1, width=9.0, height=3.2, sharex=True):
    """A figure of ``rows`` stacked axes (constrained layout)."""
    plt = _pyplot()
    fig, axes = plt.subplots(rows, 1, figsize=(width, height * rows), sharex=sharex,
                             layout="constrained", squeeze=False)  # fmt: skip
    return fig, list(axes[:, 0])


def save(fig, path, formats=("png", "svg")):
    """Write ``fig`` as ``path`` with each suffix in ``formats`` at 300 dpi; returns the paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        target = path.with_suffix(f".{fmt}")
        fig.savefig(target, dpi=DPI, bbox_inches="tight")
        written.append(target)
    return written


# --- the time axis --------------------------------------------------------------------------
def _time(periods):
    """x values and label for the periods: timestamps, or positions with block names."""
    if isinstance(periods, pd.DatetimeIndex):
        return periods, "time"
    return np.arange(len(periods)), "period"


def _mark_blocks(ax, periods):
    """Vertical lines and names at the start of each block (periods labelled (block, t))."""
    if not isinstance(periods, pd.MultiIndex):
        return
    blocks = periods.get_level_values(0)
    starts = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]])
    for k in starts:
        if k:
            ax.axvline(k - 0.5, color="0.6", lw=0.8, ls=":")
    if len(starts) <= 12:
        ax.set_xticks(starts, [str(blocks[k]) for k in starts], rotation=30, ha="right",
                      fontsize=8)  # fmt: skip


def _finish(ax, periods, ylabel, legend=True):
    _, xlabel = _time(periods)
    if isinstance(periods, pd.DatetimeIndex):
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _mark_blocks(ax, periods)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(**LEGEND)


def _network_injections(result, network):
    name = network or next(iter(result.nets), None)
    records = []
    for record in result.injections:
        mine = np.array([n == name for n in record.networks]) if name else slice(None)
        records.append((record.device, np.asarray(record.p_mw)[mine]))
    return records


def _grouped(parts):
    """``{label: (T,)}`` with the smallest summed into 'others' beyond :data:`MAX_LEGEND`."""
    ordered = sorted(parts.items(), key=lambda kv: -np.abs(kv[1]).sum())
    keep = [(k, v) for k, v in ordered if np.abs(v).sum() > 1e-9]
    if len(keep) > MAX_LEGEND:
        rest = sum(v for _, v in keep[MAX_LEGEND - 1 :])
        keep = [*keep[: MAX_LEGEND - 1], ("others", rest)]
    return dict(keep)


# --- plots of a result ----------------------------------------------------------------------
def dispatch(result, network=None):
    """Production stacked by device (the positive part of each device's injection: gens,
    imports, renewables, storage and EVs discharging) and the demand it serves (the negative
    parts: loads, charging). In a lossless model the stack meets the demand line."""
    production, demand = {}, 0.0
    for device, p in _network_injections(result, network):
        if p.size == 0:
            continue
        production[device] = production.get(device, 0.0) + np.clip(p, 0, None).sum(axis=0)
        demand = demand - np.clip(p, None, 0).sum(axis=0)
    fig, (ax,) = figure()
    x, _ = _time(result.periods)
    groups = _grouped(production)
    ax.stackplot(x, *groups.values(), labels=list(groups), alpha=0.85)
    ax.plot(x, demand, color="black", lw=1.5, label="demand (loads, charging)")
    ax.set_title(f"Dispatch{f' ({network})' if network else ''}")
    _finish(ax, result.periods, "power (MW)")
    return fig


def storage(result):
    """Energy at the end of each period of every storage-like unit (tables with ``e_mwh``)."""
    tables = {n: t for n, t in result.tables.items() if "e_mwh" in t.columns.get_level_values(0)}
    if not tables:
        raise ValueError("no storage-like table (with e_mwh) in these results")
    fig, (ax,) = figure()
    x, _ = _time(result.periods)
    for name, table in tables.items():
        for unit, series in table["e_mwh"].items():
            ax.plot(x, series.to_numpy(), lw=1.2, label=f"{unit} ({name[4:]})")
    ax.set_title("Stored energy")
    _finish(ax, result.periods, "energy (MWh)")
    return fig


def prices(result, network=None, currency="$"):
    """Nodal prices as a heat map: time on x, buses on y, colour in currency per MWh."""
    tables = result.by_network.get(network, result.tables) if network else result.tables
    price = tables["res_bus"]["price_per_mwh"]
    if not np.isfinite(price.to_numpy()).any():
        raise ValueError("these results have no prices (a MILP solved without milp_prices)")
    fig, (ax,) = figure(height=4.0)
    n_bus, periods = price.shape[1], result.periods
    if isinstance(periods, pd.DatetimeIndex):  # the image spans the periods on a date axis
        import matplotlib.dates as mdates

        step = periods[1] - periods[0] if len(periods) > 1 else pd.Timedelta(hours=1)
        span = mdates.date2num([periods[0], periods[-1] + step])
    else:
        span = (-0.5, len(periods) - 0.5)
    image = ax.imshow(price.to_numpy().T, aspect="auto", origin="lower", cmap="viridis",
                      interpolation="nearest", extent=(*span, -0.5, n_bus - 0.5))  # fmt: skip
    ax.set_yticks(*_bus_ticks(price.columns))
    fig.colorbar(image, ax=ax, label=f"price ({currency}/MWh)")
    ax.set_title("Nodal prices")
    _finish(ax, periods, "bus (pandapower index)", legend=False)
    return fig


def _bus_ticks(columns, most=12):
    positions = np.linspace(0, len(columns) - 1, min(most, len(columns))).astype(int)
    return positions, [str(columns[k]) for k in positions]


def reserves(result):
    """Reserve and ramp products held, stacked by provider; one panel per product."""
    from gridflex.products import PRODUCTS

    held = {}
    for table in result.tables.values():
        quantities = set(table.columns.get_level_values(0))
        for product in PRODUCTS.values():
            key = f"{product.name}_mw"
            if key in quantities:
                for unit, series in table[key].items():
                    held.setdefault(product.name, {})[str(unit)] = series.to_numpy()
    if not held:
        raise ValueError("no reserve or ramp product is held in these results")
    fig, axes = figure(rows=len(held), height=2.6)
    x, _ = _time(result.periods)
    for ax, (product, providers) in zip(axes, held.items(), strict=True):
        groups = _grouped(providers)
        ax.stackplot(x, *groups.values(), labels=list(groups), alpha=0.85)
        ax.set_title(product.replace("_", " "), fontsize=9)
        _finish(ax, result.periods, "held (MW)")
    return fig


def ac_validation(report):
    """The AC voltage band and the largest branch loading (share of its limit) per period."""
    s = report.summary
    fig, (ax_v, ax_l) = figure(rows=2, height=2.8)
    periods = _periods_of(s.index)
    x, _ = _time(periods)
    ax_v.fill_between(x, s["vm_min_pu"], s["vm_max_pu"], alpha=0.4, label="bus voltages (AC)")
    for limit, label in zip(report.vm_limits_pu, ("voltage limits", None), strict=True):
        if np.isfinite(limit):
            ax_v.axhline(limit, color="red", lw=1.0, ls="--", label=label)
    ax_l.plot(x, s["max_limit_percent"], label="largest branch flow (AC)")
    ax_l.axhline(100.0, color="red", lw=1.0, label="limit")
    for ax in (ax_v, ax_l):
        bad = np.flatnonzero(~s["converged"].astype(bool).to_numpy())
        if bad.size:
            ax.scatter(np.asarray(x)[bad], np.full(bad.size, ax.get_ylim()[0]), marker="x",
                       color="black", label="not converged")  # fmt: skip
    _finish(ax_v, periods, "voltage (pu)")
    _finish(ax_l, periods, "loading (% of limit)")
    ax_v.set_xlabel("")  # the shared time axis is named once, below
    ax_v.set_title(f"AC validation: {int(s.converged.sum())}/{len(s)} periods converged, "
                   f"{len(report.violations)} violations", fontsize=10)  # fmt: skip
    return fig


def _periods_of(index):
    """The periods as a DatetimeIndex or MultiIndex when the index holds them (else positions)."""
    if isinstance(index, pd.DatetimeIndex | pd.MultiIndex):
        return index
    if len(index) and isinstance(index[0], tuple):
        return pd.MultiIndex.from_tuples(index)
    try:
        return pd.DatetimeIndex(index)
    except (TypeError, ValueError):
        return pd.RangeIndex(len(index))


def network_map(net, report, period=None):
    """Buses coloured by their AC voltage and lines by their loading in ``period`` (default:
    the period with the largest loading); needs bus coordinates (``net.bus.geo``)."""
    import pandapower.plotting as pplot

    if "geo" not in net.bus or net.bus.geo.isna().all():
        raise ValueError("the net has no bus coordinates (net.bus.geo) to draw a map")
    s = report.summary
    row = s["max_loading_percent"].idxmax() if period is None else period
    at = s.index.get_loc(row)
    vm = report.res_bus["vm_pu"].iloc[at]
    fig, (ax,) = figure(height=6.0, width=8.0)
    pplot.set_line_geodata_from_bus_geodata(net)
    colour = {}
    if report.res_line is not None and len(net.line):
        loading = report.res_line["loading_percent"].iloc[at].reindex(net.line.index)
        colour["line loading (%)"] = pplot.create_line_collection(
            net, net.line.index, z=loading.to_numpy(), cmap="plasma", linewidths=1.5
        )
    if len(net.trafo):
        trafos = pplot.create_trafo_collection(net, net.trafo.index, color="0.4",
                                               size=_bus_size(net))  # fmt: skip
        for part in trafos if isinstance(trafos, tuple | list) else [trafos]:
            ax.add_collection(part)
    colour["bus voltage (pu)"] = pplot.create_bus_collection(
        net, net.bus.index, size=_bus_size(net), z=vm.reindex(net.bus.index).to_numpy(),
        cmap="coolwarm", zorder=3,
    )  # fmt: skip
    for label, collection in colour.items():
        ax.add_collection(collection)
        fig.colorbar(collection, ax=ax, label=label, shrink=0.8)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(f"AC power flow in period {row} (largest loading)", fontsize=10)
    return fig


def _bus_size(net):
    coords = np.array([c for c in net.bus.geo.dropna().map(_xy)])
    span = np.ptp(coords, axis=0).max() if len(coords) else 1.0
    return 0.012 * (span or 1.0)


def _xy(geo):
    import json

    return json.loads(geo)["coordinates"][:2] if isinstance(geo, str) else list(geo)[:2]


# --- plots of a study -----------------------------------------------------------------------
def sweep(table, units, title=None):
    """Curves of a study's figures against its swept input (``table.index``), one panel per
    unit: ``units`` maps each column to its unit (``{"operation cost": "$"}``) or to a whole
    axis label (``{"load shedding": "energy (MWh)"}``)."""
    by_unit = {}
    for column, unit in units.items():
        by_unit.setdefault(unit, []).append(column)
    fig, axes = figure(rows=len(by_unit), height=2.6)
    x = table.index.to_numpy()
    for ax, (unit, columns) in zip(axes, by_unit.items(), strict=True):
        for column in columns:
            ax.plot(x, table[column].to_numpy(dtype=float), marker="o", ms=3, label=column)
        if "(" in unit:  # a whole label, e.g. "energy (MWh)"
            ax.set_ylabel(unit)
        else:
            ax.set_ylabel(f"({unit})" if len(columns) > 1 else f"{columns[0]} ({unit})")
        ax.legend(**LEGEND)
    axes[-1].set_xlabel(table.index.name or "swept input")
    if title:
        axes[0].set_title(title, fontsize=10)
    return fig


def convergence(table, currency="$", title="Convergence"):
    """Bounds of an iterative method per iteration (``table``: one row per iteration, one
    column per bound, e.g. lower, upper, best upper)."""
    fig, (ax,) = figure()
    for column in table.columns:
        ax.plot(table.index.to_numpy(), table[column].to_numpy(dtype=float), marker="o", ms=3,
                label=str(column))  # fmt: skip
    ax.set_xlabel(table.index.name or "iteration")
    ax.set_ylabel(f"objective ({currency})")
    ax.set_title(title, fontsize=10)
    ax.legend(**LEGEND)
    return fig


# --- all that apply -------------------------------------------------------------------------
def result_plots(result, out, report=None, net=None):
    """Write every plot that applies to ``result`` (and its AC ``report``) into ``out`` as
    PNG and SVG; returns the written paths."""
    plt = _pyplot()
    makers = {"dispatch": lambda: dispatch(result), "storage": lambda: storage(result),
              "prices": lambda: prices(result), "reserves": lambda: reserves(result)}  # fmt: skip
    if report is not None:
        makers["ac_validation"] = lambda: ac_validation(report)
        if net is not None:
            makers["network_map"] = lambda: network_map(net, report)
    written = []
    for name, make in makers.items():
        try:
            fig = make()
        except ValueError:  # this plot does not apply (no storage, no prices, no map)
            continue
        written += save(fig, Path(out) / name)
        plt.close(fig)
    return written
