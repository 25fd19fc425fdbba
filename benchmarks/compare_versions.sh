#!/usr/bin/env bash
# Two gridflex versions side by side on the dcopf_vs_pypsa case, interleaved in one run, with
# PyPSA alongside (for the ratio). Usage, from the repository root, in a venv with the [bench]
# extra:
#   benchmarks/compare_versions.sh OLD_COMMIT [NEW_COMMIT_OR_WORKTREE] [REPEATS] [T ...]
# e.g. benchmarks/compare_versions.sh 76cb9ca HEAD 3 96 2190
# Each version is installed with `pip install --no-deps --target` into a temporary folder and
# selected with PYTHONPATH; every measurement is a fresh `--worker` child. Prints one JSON line
# per run; summarise with the minimum per (T, version).
set -euo pipefail
old=$1; new=${2:-HEAD}; reps=${3:-3}; shift $(( $# < 3 ? $# : 3 )); periods=${*:-96 2190}
root=$(git rev-parse --show-toplevel); tmp=$(mktemp -d)
for v in old new; do
    ref=${!v}
    git -C "$root" worktree add -f -q "$tmp/src_$v" "$ref"
    pip install -q --no-deps --target "$tmp/gf_$v" "$tmp/src_$v" > /dev/null
done
cd "$root/benchmarks"
for rep in $(seq 1 "$reps"); do
    for T in $periods; do
        for v in old new; do
            echo "$v $(PYTHONPATH=$tmp/gf_$v python dcopf_vs_pypsa.py --worker lazy "$T" | tail -1)"
        done
        echo "pypsa $(python dcopf_vs_pypsa.py --worker pypsa "$T" | tail -1)"
    done
done
for v in old new; do git -C "$root" worktree remove --force "$tmp/src_$v"; done
rm -rf "$tmp"
