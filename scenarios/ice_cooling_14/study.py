"""Seed 002 (Yang et al., IEEE Access 2021) on its 14-node feeder: the paper's numbers (Tables
2-5, the routes of Sec. V-B-3); the study itself is :mod:`gridflex.scenarios.ice_cooling`."""

import pandas as pd

from gridflex.scenarios import ice_cooling
from gridflex.scenarios.ice_cooling import CASES, COST_COLUMNS, Paper

PAPER = Paper(
    costs=pd.DataFrame(  # yuan/yr, Table 2 (L367-L373)
        [
            [0, 0, 28_026_000, 168_640_000, 0, 196_666_000],
            [44_240_000, 0, 0, 5_551_500, 0, 49_791_500],
            [30_083_000, 2_115_200, 0, 3_497_000, 970_000, 36_665_200],
        ],
        index=list(CASES),
        columns=COST_COLUMNS,
    ),
    capacities=pd.DataFrame(  # MW, Table 3 (L391-L396)
        [[0, 0, 0], [102, 48, 0], [96, 6, 37]], index=list(CASES), columns=["WT3", "WT10", "LIM"]
    ),
    routes={"s1": "L-A2-L-A1-L", "s2": "L-A1-L-A2-L", "s3": "L-A2-L"},  # L408, no times
    coalitions={
        "GO": 49_791_500,
        "GO, ISAC1": 40_627_000,
        "GO, ISAC2": 43_099_000,
        "GO, ISAC1, ISAC2": 36_665_200,
    },  # Table 4
    shapley={"GO": 42_773_400, "ISAC1": -3_672_000, "ISAC2": -2_436_000},  # L439
)


def run(scenario, out_dir):
    """Cases 1-3, Benders, Shapley and the transit-time sweep (see ice_cooling.run)."""
    return ice_cooling.run(scenario, out_dir, PAPER)
