"""Devices for the elements already in a pandapower net (gen, sgen, ext_grid, load).

Shunts are network physics: the formulation draws them (:mod:`gridflex.formulations.base`).

:func:`devices_from_net` turns each in-service table into one vectorised device whose unit
labels are the pandapower indices, so results line up with ``net.res_*``. Costs come from
``net.poly_cost`` (``cp0_eur``, ``cp1_eur_per_mw``, ``cp2_eur_per_mw2``) or ``net.pwl_cost``.
Optional columns added by :func:`gridflex.networks.with_unit_parameters` (``ramp_up_mw_per_h``,
``ramp_down_mw_per_h``, ``min_up_h``, ``min_down_h``, ``startup_cost``) are used when present.
"""

import math

import numpy as np
import pandas as pd

from gridflex.devices.generator import ExternalGrid, Generator
from gridflex.devices.load import Load
from gridflex.devices.renewable import Renewable
from gridflex.errors import InputError

UNIT_PARAMETER_COLUMNS = (
    "ramp_up_mw_per_h",
    "ramp_down_mw_per_h",
    "min_up_h",
    "min_down_h",
    "startup_cost",
)


ELEMENT_TABLES = ("gen", "sgen", "ext_grid", "load", "sgen_fixed", "gen_fixed")


def devices_from_net(net, load_scale=None, options=None):
    """One device per non-empty element table of ``net``.

    Parameters
    ----------
    net : pandapowerNet
    load_scale : float, array (T,) or pandas.Series, optional
        Multiplier applied to every load's ``p_mw * scaling`` (and ``q_mvar``) per period.
    options : dict, optional
        Extra keyword arguments of the device built from a table, by table name (``gen``,
        ``sgen`` (controllable), ``ext_grid``, ``load``, ``sgen_fixed``); they
        override what is read from the net, e.g. ``{"gen": {"offers": {...}},
        "load": {"shed_cost_per_mwh": 200}}``.
    """
    _reject_unsupported(net)
    options = dict(options or {})
    if "shunt" in options:
        raise InputError(
            "net_elements['shunt']: shunts are part of the network formulation (drawn at the "
            "bus voltage in DistFlow, at 1 pu in DC), not devices; they take no options"
        )
    unknown = sorted(set(options) - set(ELEMENT_TABLES))
    if unknown:
        raise InputError(f"net_elements: unknown tables {unknown}; tables: {list(ELEMENT_TABLES)}")
    kw = {table: dict(options.get(table, {})) for table in ELEMENT_TABLES}
    builders = {
        "gen": lambda: _gens(net, "gen", Generator, kw["gen"]),
        "sgen": lambda: _gens(net, "sgen", Generator, kw["sgen"]),
        "ext_grid": lambda: _ext_grids(net, kw["ext_grid"]),
        "load": lambda: _loads(net, load_scale, kw["load"]),
        "sgen_fixed": lambda: _fixed_sgens(net, kw["sgen_fixed"]),
        "gen_fixed": lambda: _fixed_gens(net, kw["gen_fixed"]),
    }
    devices = []
    for table, build in builders.items():
        device = build()
        if device is not None:
            device.net_table = table.removesuffix("_fixed")  # rows of this net table
            devices.append(device)
    return devices


def _reject_unsupported(net):
    if len(net.storage) and net.storage.in_service.any():
        raise InputError(
            "net.storage has in-service rows; gridflex models storage as "
            "gf.Storage devices (model.add(gf.Storage(...))): take them out of "
            "service in the net or remove them"
        )


def _controllable(table, default):
    if "controllable" not in table:
        return np.full(len(table), default)
    return table.controllable.fillna(default).to_numpy(bool)


def _gens(net, et, cls, extra):
    table = net[et]
    default = et == "gen"
    rows = table[table.in_service.to_numpy(bool) & _controllable(table, default)]
    if rows.empty:
        return None
    p_set = rows.p_mw * rows.scaling if "scaling" in rows else rows.p_mw
    no_limits = pd.Series(np.nan, index=rows.index)
    p_max = rows.get("max_p_mw", no_limits).fillna(p_set)  # no limits given: fixed at p_mw
    p_min = rows.get("min_p_mw", no_limits).fillna(
        p_set.where(rows.get("max_p_mw", no_limits).isna(), 0.0)
    )
    kw = _costs(net, et, rows.index) | _unit_parameters(rows) | _q_limits(rows) | extra
    dev = cls(
        rows.bus.to_numpy(),
        p_max.to_numpy(float),
        np.asarray(p_min, float),
        name=et,
        unit_labels=rows.index.tolist(),
        **kw,
    )
    dev.result_table = f"res_{et}"
    return dev


def _ext_grids(net, extra):
    rows = net.ext_grid[net.ext_grid.in_service.to_numpy(bool)]
    if rows.empty:
        return None
    if "cost_per_mwh" in extra:
        raise InputError(
            "net_elements['ext_grid']: an external grid's energy price is 'price_per_mwh' "
            "(as in gf.ExternalGrid), not 'cost_per_mwh'"
        )
    p_min = rows.min_p_mw.fillna(-math.inf) if "min_p_mw" in rows else -math.inf
    p_max = rows.max_p_mw.fillna(math.inf) if "max_p_mw" in rows else math.inf
    kw = _costs(net, "ext_grid", rows.index)
    if "cost_per_mwh" in kw:  # poly_cost's cp1 is the energy price (pwl_cost passes as is)
        kw["price_per_mwh"] = kw.pop("cost_per_mwh")
    ramps = {k: v for k, v in _unit_parameters(rows).items() if k.startswith("ramp")}
    kw = kw | ramps | _q_limits(rows) | {"p_min_mw": np.asarray(p_min)}
    kw |= {"p_max_mw": np.asarray(p_max)} | extra
    return ExternalGrid(rows.bus.to_numpy(), name="ext_grid", unit_labels=rows.index.tolist(), **kw)


def _loads(net, load_scale, extra):
    rows = net.load[net.load.in_service.to_numpy(bool)]
    if rows.empty:
        return None
    p = (rows.p_mw * rows.scaling).to_numpy(float).reshape(-1, 1)
    q = (rows.q_mvar * rows.scaling).to_numpy(float).reshape(-1, 1)
    if load_scale is not None:
        scale = np.asarray(load_scale, dtype=float).reshape(1, -1)
        p, q = p * scale, q * scale
    return Load(rows.bus.to_numpy(), p, q, name="load", unit_labels=rows.index.tolist(), **extra)


def _fixed_gens(net, extra):
    """Non-controllable gens: fixed at ``p_mw * scaling`` (pandapower's power flow does so)."""
    rows = net.gen[net.gen.in_service.to_numpy(bool) & ~_controllable(net.gen, True)]
    if rows.empty:
        return None
    p = (rows.p_mw * rows.get("scaling", 1.0)).to_numpy(float)
    dev = Generator(rows.bus.to_numpy(), p, p, name="gen_fixed", unit_labels=rows.index.tolist(),
                    **_q_limits(rows) | extra)  # fmt: skip
    dev.result_table = "res_gen"
    return dev


def _fixed_sgens(net, extra):
    table = net.sgen
    rows = table[table.in_service.to_numpy(bool) & ~_controllable(table, False)]
    if rows.empty:
        return None
    p = (rows.p_mw * rows.scaling).to_numpy(float).reshape(-1, 1)
    q = (rows.q_mvar * rows.scaling).to_numpy(float).reshape(-1, 1)
    kw = {"curtailable": False, "q_mvar": q} | extra
    return Renewable(
        rows.bus.to_numpy(), p, name="sgen_fixed", unit_labels=rows.index.tolist(), **kw
    )


def _costs(net, et, index):
    """Cost keyword arguments for the rows ``index`` of table ``et`` from poly_cost/pwl_cost."""
    pwl = net.pwl_cost[(net.pwl_cost.et == et) & net.pwl_cost.element.isin(index)]
    if len(pwl):
        if len(pwl) != len(index):
            raise InputError(
                f"net.pwl_cost covers {len(pwl)} of {len(index)} {et} rows; give "
                "every unit of a table the same kind of cost"
            )
        points = pwl.set_index("element").points
        return {"pwl_cost": [points.loc[i] for i in index]}
    poly = net.poly_cost[net.poly_cost.et == et].set_index("element")
    poly = poly.reindex(index)[["cp0_eur", "cp1_eur_per_mw", "cp2_eur_per_mw2"]]
    poly = poly.astype(float).fillna(0.0)
    return {
        "cost_per_mwh": poly.cp1_eur_per_mw.to_numpy(float),
        "cost_per_mw2h": poly.cp2_eur_per_mw2.to_numpy(float),
        "cost_per_h": poly.cp0_eur.to_numpy(float),
    }


def _unit_parameters(rows):
    """The optional unit columns; a NaN ramp rate means no limit."""
    out = {c: rows[c].to_numpy(float) for c in UNIT_PARAMETER_COLUMNS if c in rows}
    for c in ("ramp_up_mw_per_h", "ramp_down_mw_per_h"):
        if c in out:
            out[c] = np.where(np.isnan(out[c]), math.inf, out[c])
    return out


def _q_limits(rows):
    """Reactive limits from ``min_q_mvar``/``max_q_mvar`` where given (NaN: unlimited)."""
    out = {}
    for col, key, default in (
        ("min_q_mvar", "q_min_mvar", -math.inf),
        ("max_q_mvar", "q_max_mvar", math.inf),
    ):
        if col in rows:
            out[key] = rows[col].astype(float).fillna(default).to_numpy()
    return out
