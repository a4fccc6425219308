"""The repository's helper scripts (scripts/*.py), run as a user runs them."""

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
HOUSTON = REPO / "scripts" / "houston_crop.py"


def houston_module():
    spec = importlib.util.spec_from_file_location("houston_crop", HOUSTON)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_coarse_pixel_takes_the_class_only_where_all_its_cells_agree():
    # 4 x 4 map of 2 x 2 blocks: top left all 3, top right mixed, bottom left all 0, bottom
    # right all 5.
    fine = np.array([[3, 3, 1, 1], [3, 3, 1, 2], [0, 0, 5, 5], [0, 0, 5, 5]], dtype=np.uint8)
    got = houston_module().pure_block_labels(fine, 2)
    np.testing.assert_array_equal(got, [[3, 0], [0, 5]])
    with pytest.raises(ValueError):
        houston_module().pure_block_labels(fine[:3], 2)


def test_the_houston_script_writes_the_crop_and_refuses_other_files(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    cube = np.arange(2 * 3 * 5, dtype=np.uint16).reshape(2, 3, 5)
    fine = np.zeros((8, 12), dtype=np.uint8)
    fine[:4, :4] = 7  # the first coarse pixel, whole
    fine[4:, 8:] = 2
    fine[7, 11] = 1  # the last coarse pixel, mixed
    source = tmp_path / "houston_dataset.mat"
    scipy_io.savemat(source, {"hyprImg": cube, "clasLabs": fine})
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, str(HOUSTON), str(source), str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    np.testing.assert_array_equal(np.load(out / "houston_crop.npy"), cube)
    np.testing.assert_array_equal(np.load(out / "houston_crop_gt.npy"), [[7, 0, 0], [0, 0, 0]])

    scipy_io.savemat(tmp_path / "other.mat", {"a": np.zeros((2, 2))})
    (tmp_path / "junk.mat").write_text("not a MATLAB file")
    for bad, needle in [("other.mat", "no variable hyprImg or clasLabs"), ("junk.mat", "cannot read it"), ("missing.mat", "cannot read it")]:
        run = subprocess.run([sys.executable, str(HOUSTON), str(tmp_path / bad), str(out)], capture_output=True, text=True)
        assert run.returncode == 2, (bad, run.stderr)
        assert needle in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


UNSEEN = REPO / "scripts" / "unseen_fields.py"


def four_fields(swapped):
    """A 40 x 40 scene of four 14 x 14 fields on a background, two per class: top left class 1,
    top right class 2, bottom left class 1 and bottom right class 2. The bottom fields look like
    the top field of their own class, or, `swapped`, like the top field of the other class. The
    fields lie 12 pixels apart, so no 11 x 11 window reaches two of them."""
    rng = np.random.default_rng(0)
    a, b, background = np.eye(6)[0] * 10, np.eye(6)[1] * 10, np.eye(6)[5] * 10
    labels = np.zeros((40, 40), dtype=np.uint8)
    cube = np.tile(background, (40, 40, 1))
    fields = [(0, 0, 1, a), (0, 26, 2, b), (26, 0, 1, b if swapped else a), (26, 26, 2, a if swapped else b)]
    for r, c, cls, look in fields:
        labels[r:r + 14, c:c + 14] = cls
        cube[r:r + 14, c:c + 14] = look
    cube = cube + rng.normal(0, 0.1, cube.shape)
    return cube.astype(np.float32), labels


def write_draw(folder, name, labels):
    """One run folder whose draw labels two pixels of each top field and tests every other
    labelled pixel; returns the share of its test pixels in the bottom fields."""
    flat = labels.ravel()
    train = [r * 40 + c for r in (5, 9) for c in (7, 33)]
    test = [i for i in np.flatnonzero(flat) if i not in train]
    run = folder / name
    run.mkdir(parents=True)
    (run / "split.json").write_text(json.dumps({"train": [int(i) for i in train], "valid": [], "test": [int(i) for i in test]}))
    return sum(1 for i in test if i >= 26 * 40) / len(test)


def unseen_fields(tmp_path, swapped):
    pytest.importorskip("sklearn")
    cube, labels = four_fields(swapped)
    with gzip.open(tmp_path / "scene.npy.gz", "wb") as f:  # as the repository's data/ holds scenes
        np.save(f, cube)
    np.save(tmp_path / "gt.npy", labels)
    share = write_draw(tmp_path / "exp", "m2-pc1-seed0", labels)
    write_draw(tmp_path / "exp", "m2-labels-only-pc1-seed0", labels)  # the same draw, counted once
    run = subprocess.run([sys.executable, str(UNSEEN), str(tmp_path / "scene.npy.gz"), str(tmp_path / "gt.npy"), str(tmp_path / "exp")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    row = [line for line in run.stdout.splitlines() if line.startswith("| 1 |")]
    assert len(row) == 1, run.stdout
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    values = [float(c.split(" ± ")[0]) for c in cells[2:]]
    return share, cells[1], values


def test_unseen_fields_are_recognised_where_they_look_like_the_shown_fields_of_their_class(tmp_path):
    share, draws, values = unseen_fields(tmp_path, swapped=False)
    elsewhere, accuracies, best = values[0], values[1:5], values[5]
    assert draws == "1" and elsewhere == pytest.approx(100 * share, abs=0.05) and 40 < elsewhere < 60
    assert min(accuracies) >= 95, accuracies
    assert best == pytest.approx(100 - elsewhere + elsewhere * max(accuracies[1::2]) / 100, abs=0.1)


def test_unseen_fields_that_look_like_the_other_class_are_not_recognised_however_many_labels(tmp_path):
    share, _, values = unseen_fields(tmp_path, swapped=True)
    elsewhere, accuracies, best = values[0], values[1:5], values[5]
    assert elsewhere == pytest.approx(100 * share, abs=0.05)
    assert max(accuracies) <= 5, accuracies
    assert best == pytest.approx(100 - elsewhere + elsewhere * max(accuracies[1::2]) / 100, abs=0.1)


def test_the_unseen_fields_script_refuses_bad_input_in_one_line(tmp_path):
    cube, labels = four_fields(swapped=False)
    np.save(tmp_path / "scene.npy", cube)
    np.save(tmp_path / "gt.npy", labels[:30])
    (tmp_path / "empty").mkdir()
    np.save(tmp_path / "gt_ok.npy", labels)
    cases = [(["scene.npy", "gt.npy", "empty"], "does not fit"),
             (["scene.npy", "gt_ok.npy", "empty"], "no run folder of an experiment"),
             (["missing.npy", "gt_ok.npy", "empty"], "cannot read it")]
    for args, needle in cases:
        run = subprocess.run([sys.executable, str(UNSEEN)] + [str(tmp_path / a) for a in args], capture_output=True, text=True)
        assert run.returncode == 2, (args, run.stderr)
        assert needle in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


COMPARE = REPO / "scripts" / "compare_experiments.py"


def write_experiment(folder, budget, oas, splits):
    """An experiment's --out folder: results of `oas` ({method: OA per seed}) and one run folder
    per seed holding its draw's split."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = range(len(splits))
    draws = [{"seed": s, "methods": [{"method": m, "metrics": {"overall_accuracy": v[s]}} for m, v in oas.items()]} for s in seeds]
    (folder / f"results-pc{budget}.json").write_text(json.dumps([{"per_class": budget}, draws]))
    for s, split in zip(seeds, splits):
        run = folder / f"m2-pc{budget}-seed{s}"
        run.mkdir()
        (run / "split.json").write_text(json.dumps(split))


def compare(*args):
    return subprocess.run([sys.executable, str(COMPARE)] + [str(a) for a in args], capture_output=True, text=True)


def test_the_comparison_gives_each_methods_per_draw_difference_on_the_same_draws(tmp_path):
    splits = [{"train": [s, 10 + s], "valid": [], "test": [20, 21, 22]} for s in range(3)]
    write_experiment(tmp_path / "base", 5, {"m": [0.50, 0.60, 0.70], "only in base": [0.1, 0.1, 0.1]}, splits)
    write_experiment(tmp_path / "new", 5, {"m": [0.55, 0.58, 0.80]}, splits)
    run = compare(tmp_path / "base", tmp_path / "new")
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("| 5 |")]
    # Differences +5, -2, +10 points: mean 13/3; deviations 2/3, -19/3, 17/3, so the sample
    # variance is (4 + 361 + 289) / 9 / 2 = 36.33 and the std 6.03.
    assert rows == ["| 5 | m | 60.0 | 64.3 | +4.3 ± 6.0 | 2/3 |"], run.stdout


def test_against_a_method_pairs_two_methods_of_one_experiment_draw_by_draw(tmp_path):
    splits = [{"train": [s], "valid": [], "test": [9, 8]} for s in range(4)]
    write_experiment(tmp_path / "one", 10, {"model": [0.60, 0.70, 0.80, 0.90], "baseline": [0.62, 0.66, 0.80, 0.95]}, splits)
    run = compare(tmp_path / "one", tmp_path / "one", "--against", "model")
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("| 10 |")]
    # Baseline minus model: +2, -4, 0, +5 points, mean 0.75; deviations 1.25, -4.75, -0.75, 4.25,
    # squares 1.5625 + 22.5625 + 0.5625 + 18.0625 = 42.75, sample variance 14.25, std 3.77. Ahead
    # on 2 of 4 (a tie is not ahead); the model is not compared with itself.
    assert rows == ["| 10 | baseline | 75.0 | 75.8 | +0.8 ± 3.8 | 2/4 |"], run.stdout
    refused = compare(tmp_path / "one", tmp_path / "one", "--against", "no such method")
    assert refused.returncode == 2 and refused.stdout == "", refused.stdout
    assert "no method 'no such method'" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1, refused.stderr


def test_pairs_of_experiments_are_pooled_over_every_draw_of_every_budget_and_pair(tmp_path):
    splits = [{"train": [s], "valid": [], "test": [7, 8]} for s in range(2)]
    write_experiment(tmp_path / "base-a", 5, {"m": [0.50, 0.60]}, splits)
    write_experiment(tmp_path / "new-a", 5, {"m": [0.53, 0.58]}, splits)
    write_experiment(tmp_path / "base-b", 10, {"m": [0.70, 0.80], "only in b": [0.1, 0.1]}, splits)
    write_experiment(tmp_path / "new-b", 10, {"m": [0.71, 0.84], "only in b": [0.2, 0.2]}, splits)
    run = compare(*(tmp_path / f for f in ["base-a", "new-a", "base-b", "new-b"]))
    assert run.returncode == 0, run.stderr
    # Each pair's own table as with one pair.
    assert "| 5 | m | 55.0 | 55.5 | +0.5 ± 3.5 | 1/2 |" in run.stdout, run.stdout
    assert "| 10 | m | 75.0 | 77.5 | +2.5 ± 2.1 | 2/2 |" in run.stdout, run.stdout
    pooled = run.stdout.split("Pooled over")[1]
    rows = [line for line in pooled.splitlines() if line.startswith("| ") and not line.startswith("| method")]
    # Differences +3, -2 (pair a) and +1, +4 (pair b): mean 1.5; deviations 1.5, -3.5, -0.5, 2.5,
    # squares 2.25 + 12.25 + 0.25 + 6.25 = 21, sample variance 7, std 2.65; standard error
    # 2.65 / sqrt(4) = 1.32, so the mean lies 1.1 of them from zero. "only in b" is not in pair a,
    # so it is not pooled.
    assert rows == ["| m | 4 | +1.50 ± 2.65 | 3 | 1 | +1.1 |"], run.stdout
    odd = compare(*(tmp_path / f for f in ["base-a", "new-a", "base-b"]))
    assert odd.returncode == 2 and odd.stdout == "" and "give them in pairs" in odd.stderr, odd.stderr


def test_the_comparison_refuses_other_draws_and_folders_that_are_not_experiments(tmp_path):
    splits = [{"train": [s], "valid": [], "test": [9]} for s in range(2)]
    write_experiment(tmp_path / "base", 10, {"m": [0.5, 0.6]}, splits)
    write_experiment(tmp_path / "other", 10, {"m": [0.5, 0.6]}, [splits[0], {"train": [7], "valid": [], "test": [9]}])
    write_experiment(tmp_path / "budget20", 20, {"m": [0.5, 0.6]}, splits)
    (tmp_path / "empty").mkdir()
    cases = [(["base", "other"], "the draws of seed 1 at 10 labels per class differ"),
             (["base", "empty"], "not the --out folder of a finished hyperssl experiment"),
             (["base", "missing"], "no such folder"),
             (["base", "budget20"], "no budget in common"),
             (["base", "base", "--budgets", "5"], "not held by both")]
    for args, needle in cases:
        run = compare(*[tmp_path / a if not a.startswith("-") and not a.isdigit() else a for a in args])
        assert run.returncode == 2 and run.stdout == "", (args, run.stdout, run.stderr)
        assert needle in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


UNCERTAINTY = REPO / "scripts" / "uncertainty_errors.py"


def write_run_maps(folder, labels, classes, uncertainty, test):
    folder.mkdir(parents=True)
    np.save(folder / "class_map.npy", np.asarray(classes, dtype=np.uint32).reshape(labels.shape))
    np.save(folder / "uncertainty.npy", np.asarray(uncertainty, dtype=np.float32).reshape(labels.shape))
    (folder / "split.json").write_text(json.dumps({"train": [0], "valid": [], "test": test}))


def test_the_uncertainty_is_scored_by_how_it_ranks_the_maps_errors(tmp_path):
    # A 2 x 3 label map; pixel 0 trains, pixels 1-4 are tested, pixel 5 is unlabelled.
    labels = np.array([[1, 1, 2], [2, 1, 0]], dtype=np.uint8)
    np.save(tmp_path / "gt.npy", labels)
    # Wrong on pixels 1 (uncertainty 0.9) and 3 (0.5); right on 2 (0.5) and 4 (0.1). Of the
    # four (wrong, right) pairs the wrong pixel is less sure in three and tied in one: 3.5 / 4.
    run = tmp_path / "run"
    write_run_maps(run, labels, [1, 2, 2, 1, 1, 1], [0.0, 0.9, 0.5, 0.5, 0.1, 0.0], [1, 2, 3, 4])
    # The same map beside it with an uncertainty that ranks the errors the wrong way round:
    # every wrong pixel surer than every right one.
    (run / "other").mkdir()
    np.save(run / "other" / "class_map.npy", np.load(run / "class_map.npy"))
    np.save(run / "other" / "uncertainty.npy", np.array([[0, 0.1, 0.8], [0.2, 0.9, 0]], dtype=np.float32))
    out = subprocess.run([sys.executable, str(UNCERTAINTY), str(tmp_path / "gt.npy"), str(run), "--beside", "other"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "test pixels 4  wrong 2 (50.0%)  AUROC 0.875  other: wrong 2, AUROC 0.000" in out.stdout, out.stdout
    assert "other minus the run's own -0.875" in out.stdout and "behind on 1 of 1" in out.stdout, out.stdout
    # A map of other pixels, an uncertainty that is not a number, and a folder that is no run,
    # are refused in one line.
    write_run_maps(tmp_path / "small", labels[:1], [1, 1, 2], [0.1, 0.2, 0.3], [1])
    write_run_maps(tmp_path / "nan", labels, [1, 2, 2, 1, 1, 1], [0.0, np.nan, 0.5, 0.5, 0.1, 0.0], [1, 2, 3, 4])
    for folder, needle in [(tmp_path / "small", "maps of 3 and 3 pixels for a label map of 6"), (tmp_path / "nan", "not numbers"), (tmp_path / "none", "not a run folder")]:
        bad = subprocess.run([sys.executable, str(UNCERTAINTY), str(tmp_path / "gt.npy"), str(folder)], capture_output=True, text=True)
        assert bad.returncode == 2 and needle in bad.stderr and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_the_uncertainty_auroc_is_scikit_learns_roc_auc_ties_included():
    metrics = pytest.importorskip("sklearn.metrics")
    spec = importlib.util.spec_from_file_location("uncertainty_errors", UNCERTAINTY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(3)
    for _ in range(5):
        wrong = rng.random(200) < 0.3
        # Rounded to tenths: many ties, within and across the two kinds.
        uncertainty = np.round(rng.random(200) * 0.6 + 0.4 * wrong, 1)
        assert module.auroc(uncertainty, wrong) == pytest.approx(metrics.roc_auc_score(wrong, uncertainty), abs=1e-12)
    assert module.auroc(np.array([0.2, 0.3]), np.array([False, False])) is None
