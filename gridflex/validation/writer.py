"""Write an optimized dispatch into a copy of the pandapower net, one period at a time.

:class:`DispatchWriter` prepares, once, the arrays (n_elements, T) of every column that changes
between periods, so writing period ``t`` is a handful of NumPy assignments:

* net elements (``gen``, ``sgen``, ``load``): their own rows get the model's ``p_mw`` (loads
  also ``q_mvar``: the model's where it has reactive power, else the net's power factor; sgens
  the model's ``q_mvar`` where it has reactive power); ``scaling`` is set to 1; ``gen`` rows
  are voltage-controlled, so they get the model's bus voltage (``vm_pu``) where the formulation
  has one;
* a planning result's built candidate branches are in service (in the periods of the stages
  that have them);
* every other device (storage, renewables, flexible demand, boundaries): its net injection is
  summed per bus into one added ``sgen`` per bus (``name = "gridflex"``), with the model's
  reactive power where it has any, else ``q = p * tan(acos(power_factor))`` of the device type;
* the ext_grid stays the slack and absorbs the losses; generators keep their voltage set points.

The original net is never modified.
"""

import copy

import numpy as np
import pandapower as pp

from gridflex.conventions import net_table_value

WRITTEN_TABLES = ("gen", "sgen", "load")


class DispatchWriter:
    """A copy of the net and the per-period values to write into it."""

    def __init__(self, net, injections, network, T, bus_vm_pu=None, built=None):
        self.net = copy.deepcopy(net)
        self.columns = {}  # (table, column) -> (row labels, values (n_rows, T))
        self.n_periods = T
        self.model_slack_p_mw = np.zeros(T)
        self._built_branches(built or {})
        self.bus_vm_pu = bus_vm_pu  # DataFrame (periods x bus) of the model, or None
        others = []
        for record in injections:
            mine = np.asarray([n == network for n in record.networks])
            if not mine.any():
                continue
            if record.net_table in WRITTEN_TABLES:
                self._element(record)
            elif record.net_table == "ext_grid":
                self.model_slack_p_mw += record.p_mw.sum(axis=0)
            elif record.net_table is None:
                others.append((record, mine))
        self._others(others, T)

    def _element(self, record):
        table, labels = record.net_table, np.asarray(record.unit_labels)
        self._set(table, "p_mw", labels, net_table_value(table, record.p_mw))
        self.net[table].loc[labels, "scaling"] = 1.0
        if table == "load":
            self._set(table, "q_mvar", labels, self._load_q(record, labels))
        elif table == "sgen" and record.q_mvar is not None:
            self._set(table, "q_mvar", labels, net_table_value(table, record.q_mvar))
        elif table == "gen" and self.bus_vm_pu is not None:
            vm = self.bus_vm_pu[self.net.gen.loc[labels, "bus"].to_numpy()].to_numpy().T
            self._set(table, "vm_pu", labels, vm)

    def _built_branches(self, built):
        """Built candidates in service: once when they serve every period, else per period."""
        for table in ("line", "trafo"):
            rows = {i: np.asarray(a, bool) for (t, i), a in built.items() if t == table}
            if not rows:
                continue
            labels = np.array(list(rows))
            values = np.vstack(list(rows.values()))
            if (values == values[:, :1]).all():
                self.net[table].loc[labels, "in_service"] = values[:, 0]
            else:
                self.columns[(table, "in_service")] = (labels, values)

    @property
    def injections_only(self):
        """True when only injections change between periods (the batch power flow's case)."""
        return all(column in ("p_mw", "q_mvar") for _, column in self.columns)

    def _load_q(self, record, labels):
        if record.q_mvar is not None:
            return net_table_value("load", record.q_mvar)
        load = self.net.load.loc[labels]
        ratio = np.divide(
            load.q_mvar.to_numpy(float),
            load.p_mw.to_numpy(float),
            out=np.zeros(len(load)),
            where=load.p_mw.to_numpy(float) != 0,
        )
        return net_table_value("load", record.p_mw) * ratio.reshape(-1, 1)

    def _others(self, others, T):
        """One sgen per bus carrying the sum of the other devices' injections there."""
        if not others:
            return
        buses = np.concatenate([r.buses[m] for r, m in others])
        p = np.vstack([r.p_mw[m] for r, m in others])
        q = np.vstack([_reactive(r, m) for r, m in others])
        unique, where = np.unique(buses, return_inverse=True)
        summed_p, summed_q = np.zeros((len(unique), T)), np.zeros((len(unique), T))
        np.add.at(summed_p, where, p)
        np.add.at(summed_q, where, q)
        labels = np.array(
            [pp.create_sgen(self.net, int(b), p_mw=0.0, name="gridflex") for b in unique]
        )
        self._set("sgen", "p_mw", labels, summed_p)
        self._set("sgen", "q_mvar", labels, summed_q)

    def _set(self, table, column, labels, values):
        """Rows ``labels`` of ``net[table][column]`` per period; devices sharing a table (a net's
        controllable and fixed sgens) add their rows."""
        values = np.asarray(values, dtype=float)
        if (table, column) in self.columns:
            old_labels, old_values = self.columns[(table, column)]
            labels, values = np.r_[old_labels, labels], np.vstack([old_values, values])
        self.columns[(table, column)] = (labels, values)

    def select(self, positions):
        """Keep only the periods at ``positions`` (renumbered 0..len-1)."""
        self.columns = {k: (labels, v[:, positions]) for k, (labels, v) in self.columns.items()}
        self.model_slack_p_mw = self.model_slack_p_mw[positions]
        self.n_periods = len(self.model_slack_p_mw)

    def write(self, t):
        """Write period ``t`` into :attr:`net`."""
        for (table, column), (labels, values) in self.columns.items():
            self.net[table].loc[labels, column] = values[:, t]


def _reactive(record, mine):
    if record.q_mvar is not None:
        return record.q_mvar[mine]
    pf = float(np.clip(record.power_factor, 1e-6, 1.0))
    return record.p_mw[mine] * np.tan(np.arccos(pf))
