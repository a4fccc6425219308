"""Two experiments on the same draws, method by method: what a change of settings did.

`hyperssl experiment --out BASE ...` and `hyperssl experiment --out NEW ... --some-flag` draw the
same labelled pixels for the same seed and budget (the draws depend on the scene, the seed, the
budget and the split's settings, not on the model's). This script checks that they did (every
draw's split.json is the same in both) and prints, for every budget both hold and every method
both ran, the mean OA of each and the per-draw difference (NEW minus BASE, mean ± sample standard
deviation, as `experiment` gives its own per-draw rows), with on how many draws NEW is ahead.

    python scripts/compare_experiments.py BASE NEW [BASE NEW ...] [--budgets 5,10,20] [--against METHOD]

With `--against METHOD` every method of NEW is compared with that one method of BASE instead of
with itself; BASE and NEW may then be one folder, to pair two methods of one experiment draw by
draw (`--against "m2 (spatial) + propagation + graph cut"`: each baseline against the default).

Given more than one pair of folders (say the same change on two scenes), each pair is checked and
tabled as above, and a last table pools every draw of every budget and pair, per method: the
mean difference ± its sample standard deviation, the draws NEW is ahead and behind on, and how
many standard errors (std / sqrt(draws)) the mean lies from zero. A single pair with more than
one budget gets that table too.

Only the standard library is needed. Bad input (a folder that is not an experiment's, draws that
differ, a method BASE did not run) is one line on stderr and exit status 2.
"""

import argparse
import json
import math
import re
import statistics
import sys
from pathlib import Path

RUN_NAME = re.compile(r"-pc(\d+)-seed(\d+)$")
RESULTS = re.compile(r"^results-pc(\d+)\.json$")


def fail(message):
    """Bad input: one line on stderr and exit status 2, as the hyperssl command gives."""
    print(message, file=sys.stderr)
    sys.exit(2)


def budgets_of(folder):
    """The budgets an experiment folder holds results of."""
    if not folder.is_dir():
        fail(f"{folder}: no such folder")
    found = sorted(int(m.group(1)) for p in folder.iterdir() if (m := RESULTS.match(p.name)))
    if not found:
        fail(f"{folder}: no results-pcN.json: not the --out folder of a finished hyperssl experiment")
    return found


def per_draw(folder, budget):
    """{seed: {method: OA}} of one budget's results."""
    path = folder / f"results-pc{budget}.json"
    try:
        summary, draws = json.loads(path.read_text())
        return {d["seed"]: {m["method"]: m["metrics"]["overall_accuracy"] for m in d["methods"]} for d in draws}
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail(f"{path}: not an experiment's results ({type(e).__name__}: {e})")


def splits(folder, budget):
    """{seed: the draw's split} from the runs of one budget (the runs of a draw share it)."""
    out = {}
    for run in sorted(folder.iterdir()):
        m = RUN_NAME.search(run.name)
        if m and int(m.group(1)) == budget and int(m.group(2)) not in out and (run / "split.json").is_file():
            out[int(m.group(2))] = json.loads((run / "split.json").read_text())
    return out


def compare(base, new, budget, against=None):
    """Rows (method, base mean, new mean, differences) of one budget: each method of BASE against
    itself in NEW, or with `against` each of NEW's (in NEW's order) against that one of BASE."""
    a, b = per_draw(base, budget), per_draw(new, budget)
    seeds = sorted(set(a) & set(b))
    if not seeds:
        fail(f"{base} and {new}: no seed in common at {budget} labels per class")
    split_a, split_b = splits(base, budget), splits(new, budget)
    for s in seeds:
        if s not in split_a or s not in split_b:
            fail(f"{base if s not in split_a else new}: no split.json of seed {s} at {budget} labels per class, so the draws cannot be checked")
        if split_a[s] != split_b[s]:
            fail(f"{base} and {new}: the draws of seed {s} at {budget} labels per class differ (other scene, budget or split settings)")
    if against is not None and not all(against in a[s] for s in seeds):
        fail(f"{base}: no method {against!r} on every draw at {budget} labels per class (it ran {sorted(a[seeds[0]])})")
    if against is None:
        methods = [m for m in a[seeds[0]] if all(m in a[s] and m in b[s] for s in seeds)]
    else:
        methods = [m for m in b[seeds[0]] if m != against and all(m in b[s] for s in seeds)]
    rows = []
    for m in methods:
        reference = m if against is None else against
        diffs = [100 * (b[s][m] - a[s][reference]) for s in seeds]
        rows.append((m, 100 * statistics.mean(a[s][reference] for s in seeds), 100 * statistics.mean(b[s][m] for s in seeds), diffs))
    return seeds, rows


def budgets_to_compare(base, new, asked):
    """The budgets both folders hold, or those asked for (each of which both must hold)."""
    common = sorted(set(budgets_of(base)) & set(budgets_of(new)))
    if asked:
        try:
            wanted = [int(x) for x in asked.split(",")]
        except ValueError:
            fail(f"--budgets {asked}: not a comma-separated list of labels per class")
        missing = [x for x in wanted if x not in common]
        if missing:
            fail(f"--budgets: {missing} not held by both {base} and {new} (both hold {common})")
        common = wanted
    if not common:
        fail(f"{base} and {new}: no budget in common")
    return common


def pooled(cells):
    """Per method found in every cell, in the first cell's order: (method, every draw's
    difference of every cell). A cell is the rows of one budget of one pair."""
    by_method = [{m: diffs for m, _, _, diffs in rows} for rows in cells]
    return [(m, [d for cell in by_method for d in cell[m]]) for m in by_method[0] if all(m in cell for cell in by_method)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+", metavar="BASE NEW", help="pairs of --out folders: the experiment compared against, then the one with the change")
    parser.add_argument("--budgets", help="labels per class to compare (comma-separated; default: every budget both hold)")
    parser.add_argument("--against", metavar="METHOD", help="compare every method of NEW with this method of BASE (BASE and NEW may be one folder)")
    args = parser.parse_args()
    if len(args.folders) % 2:
        fail(f"{len(args.folders)} folders: give them in pairs, BASE NEW [BASE NEW ...]")
    pairs = list(zip(args.folders[::2], args.folders[1::2]))
    # Every pair and budget is checked before anything is printed, so a refusal leaves no
    # partial table.
    compared = []
    for base, new in pairs:
        budgets = budgets_to_compare(base, new, args.budgets)
        compared.append((base, new, [(budget, *compare(base, new, budget, args.against)) for budget in budgets]))
    for i, (base, new, cells) in enumerate(compared):
        reference = base if args.against is None else f"{args.against} of {base}"
        if i:
            print()
        print(f"{new} against {reference}, OA %, on the same draws")
        print()
        print("| labels/class | method | base | new | per draw | ahead |")
        print("|---|---|---:|---:|---:|---:|")
        for budget, seeds, rows in cells:
            for method, mean_a, mean_b, diffs in rows:
                ahead = sum(d > 0 for d in diffs)
                print(f"| {budget} | {method} | {mean_a:.1f} | {mean_b:.1f} | {statistics.mean(diffs):+.1f} ± {spread(diffs):.1f} | {ahead}/{len(seeds)} |")
    cells = [rows for _, _, budget_cells in compared for _, _, rows in budget_cells]
    if len(cells) > 1:
        print()
        print(f"Pooled over every budget and pair above ({len(cells)} cells), per draw:")
        print()
        print("| method | draws | per draw | ahead | behind | standard errors from zero |")
        print("|---|---:|---:|---:|---:|---:|")
        for method, diffs in pooled(cells):
            mean, std = statistics.mean(diffs), spread(diffs)
            errors = f"{mean / (std / math.sqrt(len(diffs))):+.1f}" if std > 0 else "-"
            print(f"| {method} | {len(diffs)} | {mean:+.2f} ± {std:.2f} | {sum(d > 0 for d in diffs)} | {sum(d < 0 for d in diffs)} | {errors} |")


def spread(diffs):
    """The sample standard deviation; 0 for a single draw."""
    return statistics.stdev(diffs) if len(diffs) > 1 else 0.0


if __name__ == "__main__":
    main()
