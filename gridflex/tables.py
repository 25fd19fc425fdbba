"""Result-table helpers shared by the model's results and the AC validation: pandapower-like
tables with a (quantity, element) column index and periods as rows."""

import numpy as np
import pandas as pd


def stack_frames(frames_by_quantity):
    """Join ``{quantity: DataFrame(periods x elements)}`` into one two-level-column table."""
    return pd.concat(frames_by_quantity, axis=1, names=["quantity", "element"])


def merge_tables(parts):
    """Concatenate tables of several devices that share a result table, along elements."""
    if len(parts) == 1:
        return parts[0]
    merged = pd.concat(parts, axis=1)
    quantities = list(dict.fromkeys(q for p in parts for q in p.columns.get_level_values(0)))
    return merged.reindex(columns=quantities, level=0)


def cost_table(rows):
    """Cost breakdown frame from ``(device, component, value)`` tuples."""
    frame = pd.DataFrame(rows, columns=["device", "component", "cost"])
    return frame.set_index(["device", "component"]).astype({"cost": float})


def branch_tables(grid, quantities, periods):
    """``res_line`` and ``res_trafo`` from per-branch arrays (n_branch, T), pandapower-like.

    ``quantities`` holds at least ``p_from_mw``; a formulation with reactive power and losses
    adds ``p_to_mw``, ``q_from_mvar``, ``q_to_mvar``, ``pl_mw``, ... (without ``p_to_mw`` the
    branch is lossless). Transformer columns say ``hv``/``lv`` for ``from``/``to``.
    ``loading_percent`` has pandapower's meaning (flow over the nominal rating: ``max_i_ka`` of
    lines, ``sn_mva`` of trafos, without ``max_loading_percent``): the series current where the
    formulation has one (``i_ka``: SOC DistFlow limits the current, so a line at its rating
    reads 100 % even above 1 pu voltage), else the apparent power at the more loaded end (or
    the active power without Q). ``limit_percent`` is the same flow over the limit the model
    enforces (100 = binding). They differ where ``max_loading_percent`` is not 100 (e.g. the
    PGLib transformer limits of case118).
    """
    q = dict(quantities)
    q.setdefault("p_to_mw", -q["p_from_mw"])
    flow = _current_mva(grid, q["i_ka"]) if "i_ka" in q else _apparent(q)
    q["loading_percent"] = _percent(flow, grid.branches.nominal_mva)
    q["limit_percent"] = _percent(flow, grid.branches.rating_mva)
    out = {}
    for element in ("line", "trafo"):
        rows = grid.branches.element == element
        if rows.any():
            labels = pd.Index(grid.branches.element_index[rows], name="element")
            out[f"res_{element}"] = stack_frames(
                {
                    _column(k, element): pd.DataFrame(
                        np.asarray(v)[rows].T, index=periods, columns=labels
                    )
                    for k, v in q.items()
                }
            )
    return out


def _current_mva(grid, i_ka):
    """The series current as MVA at the nominal voltage of the branch's to-bus."""
    vn_kv = grid.bus_vn_kv[grid.branches.to_pos].reshape(-1, 1)
    return np.sqrt(3.0) * vn_kv * np.asarray(i_ka)


def _apparent(q):
    """Largest apparent (or active, without Q) power of the two ends of each branch."""
    if "q_from_mvar" not in q:
        return np.maximum(np.abs(q["p_from_mw"]), np.abs(q["p_to_mw"]))
    s_from = np.hypot(q["p_from_mw"], q["q_from_mvar"])
    s_to = np.hypot(q["p_to_mw"], q.get("q_to_mvar", -q["q_from_mvar"]))
    return np.maximum(s_from, s_to)


def _column(name, element):
    if element == "trafo":
        return name.replace("_from_", "_hv_").replace("_to_", "_lv_")
    return name


def _percent(flow, rating):
    with np.errstate(divide="ignore", invalid="ignore"):
        share = 100.0 * np.abs(flow) / rating.reshape(-1, 1)
    share[~np.isfinite(share)] = np.nan
    return share
