"""Plots of the seed-002 ice-cooling study (:mod:`gridflex.scenarios.ice_cooling`): the truck's
route and load per typical day, each ISAC's cooling by source, the voltages of every case, the
Benders bounds and the transit-time sweep (Fig. 9). Each is written as PNG and SVG."""

import numpy as np

from gridflex import plot

STATION_NAMES = ("L", "A1", "A2")


def study_plots(out, system, results, decomposed, tables):
    """Every plot of the study into ``out/plots``; returns the written paths."""
    folder = out / "plots"
    written = []
    case3 = results["Case 3"]
    written += plot.save(truck_route(case3, system), folder / "truck_route_case_3")
    written += plot.save(isac_cooling(case3, system), folder / "isac_cooling_case_3")
    written += plot.save(voltages(results, system), folder / "voltages")
    for case, found in decomposed.items():
        if found is not None:
            name = f"benders_bounds_{case.lower().replace(' ', '_')}"
            written += plot.save(found.plot(title=f"Benders bounds, {case}"), folder / name)
    if "fig9_transit_sweep" in tables:
        written += plot.save(transit_sweep(tables["fig9_transit_sweep"]), folder / "fig9_transit")
    plot._pyplot().close("all")
    return written


def _hours(system):
    """Clock hour at the start of each period of a typical day."""
    return np.arange(system.hours) * system.step


def truck_route(result, system):
    """Per typical day: where the truck is (a station or driving) and its ice load (MWh)."""
    truck = result.tables["res_ice_truck"]
    fig, axes = plot.figure(rows=len(system.days), height=2.0)
    for ax, day in zip(axes, system.days, strict=True):
        parked = truck["parked"].loc[day].to_numpy()
        where = np.where(parked.max(axis=1) > 0.5, parked.argmax(axis=1), len(STATION_NAMES))
        hours = _hours(system)
        ax.step(hours, where, where="post", color="C0", label="station")
        ax.set_yticks(range(len(STATION_NAMES) + 1), [*STATION_NAMES, "driving"])
        ax.set_ylabel(day)
        load = ax.twinx()
        load.step(hours, truck["truck_e_mwh"].loc[day].iloc[:, 0], where="post", color="C1")
        load.set_ylabel("ice load (MWh)", color="C1", fontsize=8)
    axes[-1].set_xlabel("hour of the typical day")
    axes[0].set_title("Case 3: the truck's station (left) and ice load (right)", fontsize=10)
    return fig


def isac_cooling(result, system):
    """Per ISAC: cooling from the chiller and from melted ice (stacked), and the demand (MW)."""
    isac = result.tables["res_isac"]
    demand = result.tables["res_carrier_demand"]["demand_mw"]
    units = list(isac["cooling_chiller_mw"].columns)
    fig, axes = plot.figure(rows=len(units), height=2.4)
    x = np.arange(len(isac))
    for k, (ax, unit) in enumerate(zip(axes, units, strict=True)):
        chiller = isac["cooling_chiller_mw"][unit].to_numpy()
        ice = isac["cooling_ice_mw"][unit].to_numpy()
        ax.stackplot(x, chiller, ice, labels=["chiller", "melted ice"], step="post", alpha=0.7)
        ax.step(x, demand.iloc[:, k].to_numpy(), where="post", color="k", lw=1, label="demand")
        plot._finish(ax, isac.index, f"{unit} cooling (MW)")
    axes[0].set_title("Case 3: each ISAC's cooling by source", fontsize=10)
    return fig


def voltages(results, system):
    """Lowest and highest bus voltage per period of every case, with the limits."""
    fig, (ax,) = plot.figure(height=3.2)
    for k, (case, result) in enumerate(results.items()):
        vm = result.tables["res_bus"]["vm_pu"]
        x = np.arange(len(vm))
        ax.fill_between(x, vm.min(axis=1), vm.max(axis=1), step="post", alpha=0.25,
                        color=f"C{k}", label=f"{case} (min-max)")  # fmt: skip
    for limit in system.option("vm_limits_pu"):
        ax.axhline(limit, color="r", ls="--", lw=0.8)
    plot._finish(ax, vm.index, "bus voltage (pu)")
    ax.set_title("Bus voltages per period (SOC DistFlow), limits dashed", fontsize=10)
    return fig


def transit_sweep(table):
    """Fig. 9: total cost against the truck's transit time, both curves."""
    columns = ["re-planned (yuan/yr)", "plan held (yuan/yr)"]
    return plot.sweep(table[columns], {c: "yuan/yr" for c in columns},
                      title="Fig. 9: total cost against the transit time")  # fmt: skip
