"""How well can fields nobody labelled be recognised at all? A reference for `hyperssl experiment`.

For each draw of an experiment (its runs' split.json), the test pixels are split as the
experiment's region columns split them: those in regions of the label map (8-connected pieces of
one class: a field) that hold a pixel whose label the run used, and the rest ("elsewhere"). RBF
SVMs are trained on image-only features and scored on the pixels elsewhere:

- on the draw's own labelled pixels, as a user would;
- on every labelled pixel of the labelled regions (at most --max-train, drawn with the seed),
  labels no user has: what a classifier learns of a class from the fields it was shown, taken
  as far as the ground truth allows.

When the second is low, the fields of one class differ more from field to field than the
classes do, and labelling more of the shown fields does not teach the rest. Each is trained on
two inputs: the spectra (their first 30 principal components) and spatial features (those
components and their means over 5x5 and 11x11 windows, a simpler form of hyperssl's, computed
here so that the script stands alone). The last column is the OA of a map that is right on every
pixel of the labelled regions and, elsewhere, as good as the better SVM trained on every pixel.

    python scripts/unseen_fields.py SCENE.npy LABELS.npy EXPERIMENT_DIR [--max-train N]

SCENE.npy is rows x cols x bands, LABELS.npy rows x cols (0 = unlabelled), as given to
`hyperssl experiment` (or gzip-compressed, as data/indian_pines_*.npy.gz, the embedded scene); EXPERIMENT_DIR is its --out folder. The principal components are those of
the spectra standardised per band, scaled together so that the first has variance 1; the SVM has
C = 100 and gamma = 1 / (features x variance).
"""

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

RUN_NAME = re.compile(r"-pc(\d+)-seed(\d+)$")
INPUTS = ("spectra", "spatial features")


def fail(message):
    """Bad input: one line on stderr and exit status 2, as the hyperssl command gives."""
    print(message, file=sys.stderr)
    sys.exit(2)


def load(path):
    """A .npy file, or a gzip-compressed one (.npy.gz, as the repository's data/ holds)."""
    try:
        if path.endswith(".gz"):
            with gzip.open(path) as f:
                return np.load(f)
        return np.load(path)
    except (OSError, ValueError, EOFError) as e:
        fail(f"{path}: cannot read it as .npy ({e})")


def regions(labels):
    """Each labelled pixel's region: 8-connected pieces of one class, numbered from 1 (0 = none)."""
    out = np.zeros(labels.shape, dtype=np.int64)
    for value in np.unique(labels[labels > 0]):
        pieces, n = ndimage.label(labels == value, structure=np.ones((3, 3)))
        out[pieces > 0] = pieces[pieces > 0] + out.max()
    return out


def features(cube, components=30, windows=(5, 11)):
    """Inputs by name: the principal components of the standardised spectra ("spectra"), and
    those with their window means ("spatial features"). The components keep their variances (scaled
    together, so that the faint ones, mostly noise, weigh as little as they do in the spectra)."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    h, w, bands = cube.shape
    z = StandardScaler().fit_transform(cube.reshape(h * w, bands).astype(np.float64))
    p = PCA(min(components, bands), random_state=0).fit_transform(z)
    p /= p[:, 0].std()
    img = p.reshape(h, w, -1)
    means = [ndimage.uniform_filter(img, (k, k, 1), mode="reflect").reshape(h * w, -1) for k in windows]
    return {"spectra": p, "spatial features": np.hstack([p] + means)}


def svm_accuracy(x, labels, train, scored):
    from sklearn.svm import SVC

    if len(np.unique(labels[train])) < 2:
        return float(np.mean(labels[scored] == labels[train][0]))
    model = SVC(C=100.0, gamma="scale").fit(x[train], labels[train])
    return float(np.mean(model.predict(x[scored]) == labels[scored]))


def draws(folder):
    """(budget, seed) -> split.json of one run of each draw (every method of a draw shares it)."""
    found = {}
    for split in sorted(Path(folder).glob("*/split.json")):
        m = RUN_NAME.search(split.parent.name)
        if m:
            found.setdefault((int(m.group(1)), int(m.group(2))), split)
    return found


def scores_elsewhere(x, flat, region, split, max_train):
    """Share of test pixels elsewhere, and each input's two SVMs' accuracies there, in the order
    of INPUTS (None where no test pixel lies elsewhere). `flat` and `region` are the label map
    and its regions, flattened."""
    used = np.asarray(split["train"] + split.get("valid", []), dtype=np.int64)
    test = np.asarray(split["test"], dtype=np.int64)
    shown = np.unique(region[used])
    shown = shown[shown > 0]
    elsewhere = test[~np.isin(region[test], shown)]
    share = len(elsewhere) / len(test)
    if len(elsewhere) == 0:
        return share, None
    every = np.flatnonzero(np.isin(region, shown))
    rng = np.random.default_rng(split.get("seed", 0))
    if len(every) > max_train:
        every = rng.choice(every, max_train, replace=False)
    return share, [svm_accuracy(x[name], flat, rows, elsewhere) for name in INPUTS for rows in (used, every)]


def table(rows):
    """Markdown: one line per budget, mean ± std over the draws that have pixels elsewhere."""
    heads = [f"SVM on the {name}, {rows}: OA % elsewhere" for name in INPUTS
             for rows in ("the draw's labels", "every pixel of the labelled regions")]
    out = ["| labels/class | draws | test pixels elsewhere % | " + " | ".join(heads)
           + " | best OA %: labelled regions all right, elsewhere the better SVM on every pixel |",
           "|---" * (4 + len(heads)) + "|"]
    cell = lambda a: f"{100 * np.mean(a):.1f} ± {100 * np.std(a):.1f}"
    for budget in sorted(rows):
        draws = rows[budget]
        share = [s for s, _ in draws]
        scored = np.array([acc for _, acc in draws if acc is not None]).reshape(-1, len(heads))
        accuracies = [cell(scored[:, k]) if len(scored) else "-" for k in range(len(heads))]
        best = [1 - s + s * max(acc[1::2]) if acc is not None else 1.0 for s, acc in draws]
        out.append(f"| {budget} | {len(draws)} | {cell(share)} | " + " | ".join(accuracies) + f" | {cell(best)} |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scene")
    parser.add_argument("labels")
    parser.add_argument("experiment")
    parser.add_argument("--max-train", type=int, default=3000)
    args = parser.parse_args()
    if args.max_train < 1:
        fail(f"--max-train must be at least 1, not {args.max_train}")
    cube, labels = load(args.scene), load(args.labels)
    if cube.ndim != 3 or labels.shape != cube.shape[:2]:
        fail(f"{args.labels}: a {labels.shape} label map does not fit the {cube.shape} scene {args.scene}")
    found = draws(args.experiment)
    if not found:
        fail(f"{args.experiment}: no run folder of an experiment (NAME-pcBUDGET-seedSEED/split.json) in it")
    x = features(cube)
    flat, region = labels.astype(np.int64).ravel(), regions(labels).ravel()
    rows = {}
    for (budget, seed), path in sorted(found.items()):
        try:
            split = json.loads(path.read_text())
            indices = split["train"] + split.get("valid", []) + split["test"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            fail(f"{path}: not a split.json of hyperssl ({e})")
        if indices and (min(indices) < 0 or max(indices) >= labels.size):
            fail(f"{path}: pixel indices beyond the {labels.shape} label map (another scene's run?)")
        split["seed"] = seed
        rows.setdefault(budget, []).append(scores_elsewhere(x, flat, region, split, args.max_train))
        print(f"budget {budget}, seed {seed}: done", file=sys.stderr, flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
