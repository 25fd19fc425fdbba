"""Seed 002 (Yang et al., IEEE Access 2021) on the IEEE 33-node feeder (Sec. V-E): the paper's
numbers (Tables 6-8); the study itself is :mod:`gridflex.scenarios.ice_cooling`."""

import pandas as pd

from gridflex.scenarios import ice_cooling
from gridflex.scenarios.ice_cooling import CASES, COST_COLUMNS, Paper

PAPER = Paper(
    costs=pd.DataFrame(  # yuan/yr, Table 8 (its WT 40,842,000 implies 138.5 MW, not Table 6's 142)
        [
            [0, 0, 2_497_900, 295_710_000, 0, 298_207_900],
            [45_420_000, 0, 0, 3_309_200, 0, 48_729_200],
            [40_842_000, 325_460, 0, 3_606_600, 824_000, 45_598_060],
        ],
        index=list(CASES),
        columns=COST_COLUMNS,
    ),
    capacities=pd.DataFrame(  # MW, Table 6
        [[0, 0, 0], [52, 102, 0], [36, 106, 5.6]],
        index=list(CASES),
        columns=["WT11", "WT27", "LIM"],
    ),
    routes={  # Table 7 (station 1 = the LIM's yard L, 2 = ISAC1 A1 at node 18, 3 = A2 at 33)
        "s1": "L-A1-L (11-12 L->A1; 20-21 A1->L)",
        "s2": "L-A2-L-A1-L (1-2 L->A2; 6-7 A2->L; 8-9 L->A1; 22-23 A1->L)",
        "s3": "L-A2-L (5-6 L->A2; 12-13 A2->L)",
    },
)


def run(scenario, out_dir):
    """Cases 1-3, Benders, Shapley and the transit-time sweep (see ice_cooling.run)."""
    return ice_cooling.run(scenario, out_dir, PAPER)
