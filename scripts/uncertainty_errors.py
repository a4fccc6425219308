"""How well does a run's uncertainty map point at the errors of its class map?

For each run folder (of `hyperssl train`, or the runs inside an `experiment` folder), the test
pixels of its split.json are ranked by the uncertainty it wrote (uncertainty.npy), and the
script prints the area under the ROC curve of that ranking for telling the wrong pixels of the
class map (class_map.npy against the label map) from the right ones: 1 when every wrong pixel is
less sure than every right one, 0.5 when the uncertainty says nothing of the errors. Ties count
one half.

With --beside NAME, the maps that `hyperssl predict --run RUN SCENE --out RUN/NAME` wrote into the
subfolder NAME of each run are scored too, on the run's test pixels, with the difference per run:
two builds, or two rules for the uncertainty, compared on the same draws.

    python scripts/uncertainty_errors.py LABELS.npy RUN_DIR [RUN_DIR ...] [--beside NAME]

LABELS.npy is the label map given to the runs (rows x cols, 0 = unlabelled), or gzip-compressed
as data/indian_pines_gt.npy.gz, the embedded scene's.
"""

import argparse
import gzip
import json
import sys
from pathlib import Path

import numpy as np


class Refused(Exception):
    """Input the script cannot score: one line for the user."""


def load_npy(path):
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return np.load(f)
        return np.load(path)
    except (OSError, ValueError, EOFError) as e:
        raise Refused(f"{path}: cannot read it as .npy ({e})")


def auroc(uncertainty, wrong):
    """Area under the ROC curve of `uncertainty` for telling `wrong` pixels from right ones
    (the Mann-Whitney statistic, ties counted one half); None without both kinds."""
    wrong = np.asarray(wrong, dtype=bool)
    n_wrong, n_right = int(wrong.sum()), int((~wrong).sum())
    if n_wrong == 0 or n_right == 0:
        return None
    values, inverse, counts = np.unique(uncertainty, return_inverse=True, return_counts=True)
    # The average rank (from 1) of each distinct value, given to every pixel holding it.
    last = np.cumsum(counts)
    ranks = (last - (counts - 1) / 2.0)[inverse]
    return (ranks[wrong].sum() - n_wrong * (n_wrong + 1) / 2.0) / (n_wrong * n_right)


def score(maps, test, labels):
    """(test pixels, wrong ones, AUROC) of the class map and uncertainty in folder `maps`."""
    classes = load_npy(maps / "class_map.npy").ravel()
    uncertainty = load_npy(maps / "uncertainty.npy").ravel()
    if classes.size != labels.size or uncertainty.size != labels.size:
        raise Refused(f"{maps}: maps of {classes.size} and {uncertainty.size} pixels for a label map of {labels.size}")
    if not np.all(np.isfinite(uncertainty[test])):
        raise Refused(f"{maps}: uncertainty.npy holds values that are not numbers (NaN or infinite) at test pixels")
    if np.any(test >= labels.size) or np.any(labels[test] == 0):
        raise Refused(f"{maps}: its test pixels are not labelled pixels of this label map")
    wrong = classes[test] != labels[test]
    return test.size, int(wrong.sum()), auroc(uncertainty[test], wrong)


def test_pixels(run):
    try:
        split = json.loads((run / "split.json").read_text())
        return np.asarray(split["test"], dtype=np.int64)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise Refused(f"{run}: not a run folder with a split.json ({e})")


def fmt(a):
    return "n/a" if a is None else f"{a:.3f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labels", type=Path)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--beside", metavar="NAME", help="also score the maps in the subfolder NAME of each run")
    args = parser.parse_args(argv)
    labels = load_npy(args.labels).ravel()
    own, beside = [], []
    for run in args.runs:
        test = test_pixels(run)
        n, w, a = score(run, test, labels)
        line = f"{run}  test pixels {n}  wrong {w} ({100.0 * w / max(n, 1):.1f}%)  AUROC {fmt(a)}"
        if args.beside:
            _, w2, b = score(run / args.beside, test, labels)
            line += f"  {args.beside}: wrong {w2}, AUROC {fmt(b)}"
            if a is not None and b is not None:
                own.append(a)
                beside.append(b)
        elif a is not None:
            own.append(a)
        print(line)
    if not own:
        print("no run has both right and wrong test pixels: no AUROC")
        return
    own = np.array(own)
    print(f"mean AUROC {own.mean():.3f} ± {own.std(ddof=1) if own.size > 1 else 0.0:.3f} over {own.size} runs")
    if args.beside:
        beside = np.array(beside)
        d = beside - own
        print(f"{args.beside}: mean AUROC {beside.mean():.3f}; {args.beside} minus the run's own {d.mean():+.3f} ± {d.std(ddof=1) if d.size > 1 else 0.0:.3f} (ahead on {int((d > 0).sum())}, behind on {int((d < 0).sum())} of {d.size})")


if __name__ == "__main__":
    try:
        main()
    except Refused as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
