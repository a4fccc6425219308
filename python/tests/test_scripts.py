"""The repository's helper scripts (scripts/*.py), run as a user runs them."""

import importlib.util
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
