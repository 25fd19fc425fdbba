"""Carriers beyond electricity: carriers, nodes, ports and the balance of every node.

Electricity balances through the network formulations (a device's electric terminal is a
pandapower bus). Every other carrier (heat, cooling, gas, ice, data-center workload, ...)
balances at **carrier nodes**: a device has **ports** on nodes, and each node's port flows sum
to zero in every period,

.. math:: \\sum_{(d, k) \\in \\mathrm{ports}(n)} f_{d,k,t} = 0 \\quad \\forall n, t,

with ``f`` the flow **into the node** (supplying positive, like a producer's injection into a
bus; a demand's port flow is ``-demand``). The carrier's price at the node, per stock unit
(``$/MWh`` of heat), is what one more unit demanded there in a period would cost: minus the
balance's dual (cvxpy's sign for ``inflow - outflow == 0``) divided by the hours the period
stands for (weight x probability x dt_h x stage factor). It is in the result table
``res_node_<carrier>`` with the inflow and outflow of every node.

A :class:`Carrier` names its flow unit (a rate: ``MW`` of heat or cooling, ``m3/h`` of gas,
``req/s`` of workload), its stock unit (rate x h) and the currency of its price; the result
columns carry them (``price_per_mwh``, ``inflow_mw``).
"""

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gridflex.errors import InputError
from gridflex.tables import stack_frames


@dataclass(frozen=True)
class Carrier:
    """A commodity other than electricity.

    Parameters
    ----------
    name : str
    flow_unit : str
        Unit of a flow (a rate), default ``"MW"``.
    stock_unit : str
        Unit of a stored amount (flow x h), default ``"MWh"``.
    currency : str
        Currency of prices and costs, default ``"$"``.
    """

    name: str
    flow_unit: str = "MW"
    stock_unit: str = "MWh"
    currency: str = "$"

    def __post_init__(self):
        for key in ("name", "flow_unit", "stock_unit", "currency"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value:
                raise InputError(f"Carrier: {key} must be a non-empty string, got {value!r}")

    @property
    def flow_key(self):
        """The flow unit as a column suffix (``"mw"``, ``"m3_per_h"``)."""
        return _slug(self.flow_unit)

    @property
    def stock_key(self):
        return _slug(self.stock_unit)

    @property
    def price_unit(self):
        return f"{self.currency}/{self.stock_unit}"


def _slug(unit):
    text = unit.lower().replace("/", "_per_").replace("·", "_")
    return re.sub(r"[^a-z0-9_]+", "", text.replace(" ", "_")).strip("_")


HEAT = Carrier("heat")
COOLING = Carrier("cooling")
GAS = Carrier("gas")  # energy content (MW); a volume-based gas is Carrier("gas", "m3/h", "m3")
ICE = Carrier("ice")  # cooling energy stored as ice (MW of cooling, MWh)
WORKLOAD = Carrier("workload", "req/s", "req/s·h")
REGULATION = Carrier("regulation")  # load moved by aggregates between scopes (seed 000 eq. 21)


@dataclass(frozen=True, eq=False)
class Node:
    """A balance point of one carrier (a hub's heat bus, a station's ice tank inlet).

    Nodes are compared by identity; their names must be unique in a model.

    Parameters
    ----------
    name : str
    carrier : Carrier
    """

    name: str
    carrier: Carrier

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise InputError(f"Node: name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.carrier, Carrier):
            raise InputError(
                f"Node '{self.name}': carrier must be a gf.Carrier (gf.carriers.HEAT, ...), "
                f"got {self.carrier!r}"
            )

    def __repr__(self):
        return f"Node({self.name!r}, {self.carrier.name})"


# --- the balance of all nodes -------------------------------------------------------------------
@dataclass
class PortFlow:
    """One port of one device build: the node of each unit and the flow into it (n, T)."""

    owner: str
    port: str
    nodes: tuple
    flow: object
    direction: str  # "in" (takes from the node), "out" (gives to it) or "both"


@dataclass
class NodeBalance:
    """The nodes of a model, their balance constraint (N, T) and the ports on them."""

    nodes: list
    constraint: object
    ports: list
    matrices: list  # per port: (N, n) incidence


def node_balance(port_flows):
    """Collect the nodes of ``port_flows`` (a list of :class:`PortFlow`), check them and build
    one balance constraint ``sum of port flows == 0`` per node and period; None without ports.
    """
    if not port_flows:
        return None
    nodes = _unique_nodes(port_flows)
    position = {id(node): k for k, node in enumerate(nodes)}
    matrices = []
    for pf in port_flows:
        rows = [position[id(node)] for node in pf.nodes]
        cols = np.arange(len(rows))
        shape = (len(nodes), len(rows))
        matrices.append(sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape))
    _check_supplied(nodes, port_flows, position)
    total = sum((C @ pf.flow for C, pf in zip(matrices, port_flows, strict=True)), start=0)
    return NodeBalance(nodes, total == 0, port_flows, matrices)


def _unique_nodes(port_flows):
    nodes, names, tables = [], {}, {}
    for pf in port_flows:
        for node in pf.nodes:
            other = tables.setdefault(_slug(node.carrier.name), node.carrier)
            if other != node.carrier:
                raise InputError(
                    f"two different carriers are named '{other.name}' ({other} and "
                    f"{node.carrier}, node '{node.name}'); carrier names must be unique"
                )
            known = names.get(node.name)
            if known is None:
                names[node.name] = node
                nodes.append(node)
            elif known is not node:
                raise InputError(
                    f"two different nodes are named '{node.name}' ({pf.owner}, port "
                    f"'{pf.port}'); node names must be unique in a model"
                )
    return nodes


def _check_supplied(nodes, port_flows, position):
    """A node whose ports only take from it can never balance: name it before any solve."""
    gives = np.zeros(len(nodes), dtype=bool)
    takes = {}
    for pf in port_flows:
        for node in pf.nodes:
            if pf.direction == "in":
                takes.setdefault(position[id(node)], f"{pf.owner} (port '{pf.port}')")
            else:
                gives[position[id(node)]] = True
    for k, who in takes.items():
        if not gives[k]:
            node = nodes[k]
            raise InputError(
                f"node '{node.name}' ({node.carrier.name}) has demand from {who} but nothing "
                "supplies it: add a source, a converter output, a link or a store on it"
            )


def node_tables(balance, cost_hours, periods):
    """``{"res_node_<carrier>": DataFrame}``: per node and period the price per stock unit
    (dual / cost hours), the inflow and the outflow (flow units)."""
    if balance is None:
        return {}
    dual = balance.constraint.dual_value
    # the balance is "inflow - outflow == 0": one more unit demanded lowers its left side, so
    # the price (d objective / d demand) is minus the dual, per hour the period stands for
    price = None if dual is None else -np.asarray(dual, dtype=float) / cost_hours[None, :]
    flows = [np.asarray(getattr(pf.flow, "value", pf.flow), dtype=float) for pf in balance.ports]
    inflow = sum(C @ np.maximum(f, 0.0) for C, f in zip(balance.matrices, flows, strict=True))
    outflow = sum(C @ np.maximum(-f, 0.0) for C, f in zip(balance.matrices, flows, strict=True))
    tables = {}
    for carrier in dict.fromkeys(node.carrier for node in balance.nodes):
        rows = [k for k, node in enumerate(balance.nodes) if node.carrier == carrier]
        cols = pd.Index([balance.nodes[k].name for k in rows], name="element")
        quantities = {
            f"price_per_{carrier.stock_key}": np.full((len(rows), len(periods)), np.nan)
            if price is None
            else price[rows],
            f"inflow_{carrier.flow_key}": inflow[rows],
            f"outflow_{carrier.flow_key}": outflow[rows],
        }
        frames = {k: pd.DataFrame(v.T, index=periods, columns=cols) for k, v in quantities.items()}
        tables[f"res_node_{_slug(carrier.name)}"] = stack_frames(frames)
    return tables
