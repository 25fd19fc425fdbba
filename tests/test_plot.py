"""gridflex.plot: every plot on a small result has units on its axes, legends outside the
data, nothing outside the figure, and writes PNG and SVG at 300 dpi."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

import gridflex as gf
from gridflex import plot

T = 8


def small_net():
    net = pp.create_empty_network()
    for k in range(3):
        pp.create_bus(net, vn_kv=110.0, geodata=(float(k), float(k % 2)))
    for a, b in ((0, 1), (1, 2), (0, 2)):
        pp.create_line_from_parameters(net, a, b, length_km=10.0, r_ohm_per_km=0.05,
                                       x_ohm_per_km=0.4, c_nf_per_km=0.0, max_i_ka=0.4)  # fmt: skip
    pp.create_ext_grid(net, 0)
    return net


@pytest.fixture(scope="module")
def solved():
    periods = pd.date_range("2026-07-01", periods=T, freq="1h")
    model = gf.Model(small_net(), periods=periods, net_elements=False)
    reserve = gf.products.SPINNING
    model.add(gf.Generator([0, 2], [90.0, 60.0], cost_per_mwh=[20.0, 35.0],
                           offers={reserve: 1.0}, name="gen"))  # fmt: skip
    model.add(gf.ExternalGrid(0, 50.0, p_min_mw=0.0, p_max_mw=30.0, name="grid"))
    model.add(gf.Load([1, 2], 40 + 30 * np.sin(np.arange(T) / 2) ** 2 * np.ones((2, 1)),
                      name="load"))  # fmt: skip
    model.add(gf.Storage(1, p_mw=15.0, e_mwh=40.0, name="bess"))
    model.add(gf.Requirement(reserve, 10.0))
    result = model.solve()
    return model, result, gf.validate_ac(result)


def _all_axes(fig):
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def assert_readable(fig, units=True):
    """Axis labels with units, legends outside their axes, every artist inside the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    figure_box = fig.bbox
    axes = _all_axes(fig)
    if units:  # the bottom panel names the shared x axis; every panel its y unit
        assert axes[-1].get_xlabel(), "x axis without a label"
    for ax in axes:
        if ax.axison and units:
            assert "(" in ax.get_ylabel() and ")" in ax.get_ylabel(), ax.get_ylabel()
        legend = ax.get_legend()
        if legend is not None:
            assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
        for artist in [ax, *ax.texts, ax.title, ax.xaxis.label, ax.yaxis.label, legend]:
            if artist is None or not artist.get_visible():
                continue
            box = artist.get_window_extent(renderer)
            if box.width and box.height:
                assert figure_box.x0 - 1 <= box.x0 and box.x1 <= figure_box.x1 + 1, artist
                assert figure_box.y0 - 1 <= box.y0 and box.y1 <= figure_box.y1 + 1, artist
    for colorbar_axes in [a for a in fig.axes if a.get_label() == "<colorbar>"]:
        assert "(" in colorbar_axes.get_ylabel() + colorbar_axes.get_xlabel()


def test_dispatch_stack_meets_demand(solved):
    _, result, _ = solved
    fig = plot.dispatch(result)
    assert_readable(fig)
    demand = fig.axes[0].lines[-1].get_ydata()
    production = sum(np.clip(np.asarray(r.p_mw), 0, None).sum(axis=0) for r in result.injections)
    np.testing.assert_allclose(production, demand, atol=1e-6)  # lossless: the stack = demand


@pytest.mark.parametrize("name", ["storage", "prices", "reserves"])
def test_result_plots(solved, name):
    _, result, _ = solved
    assert_readable(getattr(plot, name)(result))


def test_ac_plots(solved):
    model, _, report = solved
    assert_readable(plot.ac_validation(report))
    assert_readable(plot.network_map(model.net, report), units=False)


def test_sweep_and_convergence():
    table = pd.DataFrame({"cost": [3.0, 2.0, 2.5], "shedding": [5.0, 1.0, 0.0]},
                         index=pd.Index([0.5, 1.0, 1.5], name="EV scale"))  # fmt: skip
    assert_readable(plot.sweep(table, {"cost": "$", "shedding": "MWh"}))
    bounds = pd.DataFrame({"lower": [1.0, 2.0, 2.4], "upper": [4.0, 3.0, 2.5]},
                          index=pd.Index([1, 2, 3], name="iteration"))  # fmt: skip
    assert_readable(plot.convergence(bounds))


def test_blocks_on_the_time_axis():
    blocks = gf.scenario_blocks([0.5, 0.5], periods_per_scenario=3)
    model = gf.Model(small_net(), periods=blocks, net_elements=False)
    model.add(gf.Generator(0, 100.0, cost_per_mwh=10.0, name="gen"))
    model.add(gf.Load(1, 50.0, name="load"))
    fig = plot.dispatch(model.solve())
    assert_readable(fig)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["scenario_0", "scenario_1"]


def test_result_plots_writes_png_and_svg_at_300_dpi(solved, tmp_path):
    model, result, report = solved
    written = plot.result_plots(result, tmp_path, report=report, net=model.net)
    names = {p.name for p in written}
    for stem in ("dispatch", "storage", "prices", "reserves", "ac_validation", "network_map"):
        assert {f"{stem}.png", f"{stem}.svg"} <= names
    from matplotlib.image import imread

    assert imread(tmp_path / "dispatch.png").shape[1] > 2000  # 9 in at 300 dpi, trimmed


def test_a_plot_that_does_not_apply_says_why():
    model = gf.Model(small_net(), periods=2, net_elements=False)
    model.add(gf.Generator(0, 100.0, name="gen"))
    model.add(gf.Load(1, 50.0, name="load"))
    with pytest.raises(ValueError, match="no storage-like table"):
        plot.storage(model.solve())
