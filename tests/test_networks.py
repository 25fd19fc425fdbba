"""Tests of gridflex.networks: PGLib branch mapping and ratings, ieee33 ratings, registry, units."""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import math
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandapower as pp
import pandas as pd
import pytest
from pandapower.pypower.idx_brch import BR_X, PF, RATE_A

import gridflex.networks as gn
from gridflex.networks import pglib as pglib_module

TRANSMISSION = ("ieee14", "ieee24", "ieee118")
# PGLib branch count = pandapower lines + transformers
BRANCH_COUNTS = {"ieee14": (20, 15, 5), "ieee24": (38, 33, 5), "ieee118": (186, 173, 13)}
# measured: branches at their RATE_A in pp.rundcopp with PGLib ratings and pandapower's costs
BINDING = {"ieee14": [], "ieee24": [], "ieee118": [("line", 128)]}


@pytest.fixture(scope="module")
def nets():
    return {name: gn.load_network(name) for name in gn.NETWORKS}


@pytest.fixture(scope="module")
def cases():
    return {name: gn.pglib_case(name) for name in TRANSMISSION}


@pytest.fixture(scope="module")
def dcopf(nets):
    solved = {}
    for name in TRANSMISSION:
        net = copy.deepcopy(nets[name])
        pp.rundcopp(net)
        solved[name] = net
    return solved


def _ppc_rows(net, kind):
    first, last = net._pd2ppc_lookups["branch"][kind]
    return np.arange(first, last)


def _binding(net):
    """(kind, index) of branches whose |P| reaches the ppc RATE_A after an OPF."""
    branch = net._ppc["branch"]
    out = []
    for kind in ("line", "trafo"):
        rows = _ppc_rows(net, kind)
        at_limit = np.abs(branch[rows, PF].real) >= branch[rows, RATE_A].real * (1 - 1e-4)
        out += [(kind, int(i)) for i in net[kind].index[at_limit]]
    return out


# --- MATPOWER parser -------------------------------------------------------------------------


def test_parse_matpower_inline_text():
    text = """function mpc = tiny
    mpc.baseMVA = 100;
    mpc.bus = [ 1 3 0 0 0 0 1 1 0 230 1 1.1 0.9;  % slack
                2 1 50 10 0 0 1 1 0 230 1 1.1 0.9; ];
    mpc.gen = [1, 60, 0, 30, -30, 1, 100, 1, 80, 0];
    mpc.gencost = [2 0 0 3 0.01 20 5];
    mpc.branch = [
        1 2 0.01 0.1 0.02 120 130 140 0 0 1 -30 30;
    ];"""
    case = gn.parse_matpower(text)
    assert case.base_mva == 100.0
    assert case.bus.shape == (2, 13) and case.bus.at[1, "pd"] == 50.0
    assert case.gen.at[0, "pmax"] == 80.0
    assert list(case.gencost.columns[-3:]) == ["cost_1", "cost_2", "cost_3"]
    assert case.branch.at[0, "rate_a"] == 120.0 and case.branch.at[0, "t_bus"] == 2
    with pytest.raises(ValueError, match="missing"):
        gn.parse_matpower("mpc.baseMVA = 100;")


def test_read_pglib_case14(cases):
    case = cases["ieee14"]
    assert case.base_mva == 100.0
    assert (case.bus.shape, case.gen.shape, case.gencost.shape) == ((14, 13), (5, 10), (5, 7))
    assert case.branch.shape == (20, 13)
    first = case.branch.iloc[0]
    assert (first["f_bus"], first["t_bus"], first["br_x"], first["rate_a"]) == (1, 2, 0.05917, 472)
    assert case.branch.at[7, "tap"] == 0.978  # transformer 4-7
    assert case.gencost.at[0, "cost_2"] == pytest.approx(7.920951)


# --- branch mapping --------------------------------------------------------------------------


@pytest.mark.parametrize("name", TRANSMISSION)
def test_every_pglib_branch_maps_to_exactly_one_pandapower_branch(name, nets, cases):
    net, branch = nets[name], cases[name].branch
    n_branch, n_line, n_trafo = BRANCH_COUNTS[name]
    assert (len(branch), len(net.line), len(net.trafo)) == (n_branch, n_line, n_trafo)
    mapped = pd.concat([net.line["pglib_branch"], net.trafo["pglib_branch"]])
    assert sorted(mapped) == list(range(n_branch))  # each PGLib row exactly once
    for kind, a, b in (("line", "from_bus", "to_bus"), ("trafo", "hv_bus", "lv_bus")):
        rows = branch.loc[net[kind]["pglib_branch"]]
        pp_pair = np.sort(np.c_[net[kind][a] + 1, net[kind][b] + 1], axis=1)
        pg_pair = np.sort(rows[["f_bus", "t_bus"]].to_numpy(), axis=1)
        assert (pp_pair == pg_pair).all()
        assert (net[kind]["pglib_rate_a_mva"].to_numpy() == rows["rate_a"].to_numpy()).all()


@pytest.mark.parametrize("name", TRANSMISSION)
def test_mapped_branch_impedance_matches_pglib(name, dcopf, cases):
    """Lines carry PGLib's x exactly; pandapower's case118 rounds 4 transformers by < 0.5 %."""
    net, branch = dcopf[name], cases[name].branch
    for kind, rtol in (("line", 1e-9), ("trafo", 5e-3)):
        x = net._ppc["branch"][_ppc_rows(net, kind), BR_X].real
        expected = branch.loc[net[kind]["pglib_branch"], "br_x"].to_numpy()
        np.testing.assert_allclose(x, expected, rtol=rtol)


def test_parallel_branches_follow_order_of_appearance(nets):
    line = nets["ieee24"].line
    pair = line[(line["from_bus"] == 14) & (line["to_bus"] == 20)]  # buses 15-21, twice
    # PGLib rows 24, 25; pandapower numbers lines apart from transformers, hence 19, 20
    assert list(pair.index) == [19, 20] and list(pair["pglib_branch"]) == [24, 25]


def test_transformer_orientation(nets):
    """pandapower runs transformers hv -> lv: all five RTS ones are reversed vs. MATPOWER."""
    assert nets["ieee24"].trafo["pglib_reversed"].all()
    assert nets["ieee118"].trafo["pglib_reversed"].sum() == 3
    assert not nets["ieee14"].trafo["pglib_reversed"].any()
    assert not any(nets[n].line["pglib_reversed"].any() for n in TRANSMISSION)


def test_mapping_errors_are_reported(cases):
    branch = cases["ieee14"].branch
    net = gn.ieee14(ratings="pandapower")
    net.line = net.line.drop(index=0)
    with pytest.raises(ValueError, match=r"unmatched MATPOWER branches \['row 0 \(1-2\)'\]"):
        gn.match_branches(net, branch)
    net = gn.ieee14(ratings="pandapower")
    pp.create_line_from_parameters(net, 0, 1, 1.0, 1.0, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"unmatched pandapower branches \['line 15'\]"):
        gn.match_branches(net, branch)
    net = gn.ieee14(ratings="pandapower")
    net.bus["name"] = net.bus.index
    with pytest.raises(ValueError, match="index \\+ 1"):
        gn.match_branches(net, branch)


# --- ratings seen by pandapower's OPF --------------------------------------------------------


def test_line_and_trafo_rating_formulas(nets):
    net = nets["ieee14"]
    assert net.line.at[0, "max_i_ka"] == pytest.approx(472 / (math.sqrt(3) * 135.0))
    assert net.trafo.at[0, "sn_mva"] == 9900.0  # impedance base untouched
    assert net.trafo.at[0, "max_loading_percent"] == pytest.approx(100 * 141 / 9900)


def test_zero_rate_a_means_unlimited(cases):
    assert all((cases[name].branch["rate_a"] > 0).all() for name in TRANSMISSION)  # none in v23
    branch = cases["ieee14"].branch.copy()
    branch.loc[[0, 7], "rate_a"] = 0.0  # line 1-2, transformer 4-7
    net = gn.ieee14(ratings="pandapower")
    gn.apply_pglib_ratings(net, dataclasses.replace(cases["ieee14"], branch=branch))
    unlimited = gn.UNLIMITED_RATE_MVA
    assert net.line.at[0, "max_i_ka"] == pytest.approx(unlimited / (math.sqrt(3) * 135.0))
    assert net.trafo.at[0, "max_loading_percent"] == pytest.approx(100 * unlimited / 9900.0)
    assert net.line.at[0, "pglib_rate_a_mva"] == 0.0


@pytest.mark.parametrize("name", TRANSMISSION)
def test_dcopf_rate_a_equals_pglib_and_binding_lines(name, dcopf, cases):
    net = dcopf[name]
    assert net.OPF_converged
    for kind in ("line", "trafo"):
        rate = net._ppc["branch"][_ppc_rows(net, kind), RATE_A].real
        expected = cases[name].branch.loc[net[kind]["pglib_branch"], "rate_a"].to_numpy()
        np.testing.assert_allclose(rate, expected, rtol=0, atol=1e-6)
    assert _binding(net) == BINDING[name]


@pytest.mark.parametrize("name", ["ieee14", "ieee118"])
def test_stock_ratings_never_bind(name):
    net = gn.load_network(name, ratings="pandapower")
    assert "pglib_branch" in net.line  # the mapping is stored either way
    pp.rundcopp(net)
    assert net.OPF_converged
    np.testing.assert_allclose(net._ppc["branch"][:, RATE_A].real, 9900.0)
    assert _binding(net) == []


def test_rts_stock_ratings_already_equal_pglib():
    net = gn.ieee24(ratings="pandapower")
    line = net.line
    vn_kv = net.bus.loc[line["from_bus"], "vn_kv"].to_numpy()  # 138 or 230 kV
    stock = line["max_i_ka"] * math.sqrt(3) * vn_kv * line["df"] * line["parallel"]
    np.testing.assert_allclose(stock, gn.ieee24().line["pglib_rate_a_mva"], rtol=1e-6)


@pytest.mark.parametrize("name", list(gn.NETWORKS))
def test_ac_power_flow_converges(name, nets):
    net = copy.deepcopy(nets[name])
    pp.runpp(net, numba=False)
    assert net.converged


# --- ieee33 ---------------------------------------------------------------------------------


def test_ieee33_derived_ratings(nets):
    net = copy.deepcopy(nets["ieee33"])
    pp.runpp(net, numba=False)
    active = net.line["in_service"]
    loading = net.res_line.loc[active, "loading_percent"]
    assert (loading < 100).all() and loading.max() == pytest.approx(77.3, abs=0.1)
    assert 60 <= loading.at[0] <= 80 and loading.at[0] == pytest.approx(66.8, abs=0.1)
    assert net.line.at[0, "conductor"] == "3/0 ACSR Pigeon"
    counts = net.line["conductor"].value_counts().to_dict()
    assert counts == {
        "#4 ACSR Swan": 32,
        "#2 ACSR Sparrow": 3,
        "1/0 ACSR Raven": 1,
        "3/0 ACSR Pigeon": 1,
    }
    assert list(net.line.index[~active]) == [32, 33, 34, 35, 36]  # ties stay open
    assert (net.line.loc[~active, "max_i_ka"] == 0.140).all()


def test_ieee33_stock_ratings():
    assert (gn.ieee33(ratings="pandapower").line["max_i_ka"] == 99999.0).all()
    with pytest.raises(ValueError, match="'derived', 'pandapower'"):
        gn.ieee33(ratings="pglib")


@pytest.mark.parametrize("name", list(gn.NETWORKS))
def test_bus_names_are_paper_numbers(name, nets):
    bus = nets[name].bus
    assert list(bus["name"]) == list(bus.index + 1) == list(range(1, len(bus) + 1))


# --- costs -----------------------------------------------------------------------------------


def test_pglib_costs_option():
    net = gn.ieee14(costs="pglib")
    cost = net.poly_cost.set_index(["et", "element"])
    assert cost.at[("ext_grid", 0), "cp1_eur_per_mw"] == pytest.approx(7.920951)
    assert cost.at[("gen", 0), "cp1_eur_per_mw"] == pytest.approx(23.269494)
    assert (cost["cp2_eur_per_mw2"] == 0).all()
    assert net.ext_grid.at[0, "max_p_mw"] == 340 and net.gen.at[0, "max_p_mw"] == 59
    assert (net.gen.loc[1:, "max_p_mw"] == 0).all()  # synchronous condensers


def test_pglib_rts_costs_equal_pandapower_costs():
    """The unit mapping is right: PGLib's RTS costs are pandapower's, row for row."""
    keys = ["et", "element"]
    stock = gn.ieee24().poly_cost.sort_values(keys).reset_index(drop=True)
    pglib = gn.ieee24(costs="pglib").poly_cost.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(stock, pglib, check_dtype=False, atol=1e-6)


# --- unit parameters -------------------------------------------------------------------------


def test_typical_unit_parameters_values():
    table = gn.typical_unit_parameters([20.0, 100.0, 300.0, 500.0, 50.0, np.nan])
    classes = ["peaker", "mid-merit", "large", "base-load", "mid-merit"]
    assert list(table["size_class"][:5]) == classes
    np.testing.assert_allclose(table["ramp_up_mw_per_h"][:4], [120.0, 240.0, 360.0, 300.0])
    np.testing.assert_allclose(table["ramp_down_mw_per_h"][:4], [120.0, 240.0, 360.0, 300.0])
    np.testing.assert_allclose(table["min_up_h"][:4], [1, 4, 8, 24])
    np.testing.assert_allclose(table["min_down_h"][:4], [1, 2, 6, 12])
    np.testing.assert_allclose(table["startup_cost"][:4], [600, 6000, 27000, 60000])
    assert table.iloc[5].drop("size_class").isna().all()
    with pytest.raises(ValueError, match=">= 0"):
        gn.typical_unit_parameters(-1.0)


def test_with_unit_parameters(nets):
    net = copy.deepcopy(nets["ieee24"])
    assert "ramp_up_mw_per_h" not in net.gen  # not added by default
    net.gen["min_up_h"] = np.nan
    net.gen.at[0, "min_up_h"] = 3.0  # present values are kept
    net.sgen.at[0, "controllable"] = False
    out = gn.with_unit_parameters(net)
    assert "ramp_up_mw_per_h" not in net.gen  # input untouched
    assert out.gen.at[0, "min_up_h"] == 3.0 and out.gen.at[6, "min_up_h"] == 24.0
    assert out.gen.at[6, "ramp_up_mw_per_h"] == 240.0  # 400 MW base-load
    assert np.isnan(out.sgen.at[0, "ramp_up_mw_per_h"])  # not controllable
    assert out.sgen.loc[1:, "startup_cost"].notna().all()
    assert out.ext_grid.at[0, "size_class"] == "mid-merit"  # 197 MW
    assert "startup_cost" in gn.ieee14(unit_parameters=True).ext_grid


# --- registry --------------------------------------------------------------------------------


def test_load_network_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"'nope'; valid names: ieee14, ieee24, ieee33, ieee118"):
        gn.load_network("nope")


def test_list_networks():
    table = gn.list_networks()
    assert list(table["name"]) == ["ieee14", "ieee24", "ieee33", "ieee118", "yang14"]
    assert list(table["n_bus"]) == [14, 24, 33, 118, 14]
    assert list(table["n_line"]) == [15, 33, 37, 173, 13]
    assert list(table["n_trafo"]) == [5, 5, 0, 13, 0]
    assert list(table["n_gen"]) == [5, 33, 1, 54, 1]
    np.testing.assert_allclose(table["load_mw"], [259.0, 2850.0, 3.715, 4242.0, 14.0])
    assert table.set_index("name").at["ieee33", "ratings"] == "derived, see docs"
    assert table.set_index("name").at["ieee118", "ratings"] == "PGLib-OPF v23 rate_a"
    assert table.at[0, "function"] == "gridflex.networks.ieee14"


# --- package data ----------------------------------------------------------------------------


def test_pglib_files_are_package_resources():
    data = files("gridflex.networks") / "data" / "pglib"
    for name, filename in gn.pglib.PGLIB_CASES.items():
        assert gn.pglib_file(name) == data / filename and (data / filename).is_file()
    assert "Creative Commons Attribution 4.0" in (data / "LICENSE").read_text()


def test_loader_reads_through_importlib_resources(monkeypatch, tmp_path):
    source = (files("gridflex.networks") / "data" / "pglib" / "pglib_opf_case14_ieee.m").read_text()
    patched = source.replace("0.0528\t 472", "0.0528\t 471")
    assert patched != source
    (tmp_path / "data" / "pglib").mkdir(parents=True)
    (tmp_path / "data" / "pglib" / "pglib_opf_case14_ieee.m").write_text(patched)
    asked = []
    monkeypatch.setattr(pglib_module, "files", lambda pkg: asked.append(pkg) or tmp_path)
    assert gn.pglib_case("ieee14").branch.at[0, "rate_a"] == 471
    assert asked == ["gridflex.networks"]


def test_data_files_match_package_data_globs():
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    if not pyproject.is_file():
        pytest.skip("no source tree")
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    config = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]
    globs = config["package-data"]["gridflex.networks"]
    root = Path(str(files("gridflex.networks")))
    data = [p.relative_to(root).as_posix() for p in (root / "data").rglob("*") if p.is_file()]
    assert len(data) >= 5
    assert all(any(fnmatch.fnmatch(f, g) for g in globs) for f in data)
