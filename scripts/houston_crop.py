"""Write the Houston crop used as a check scene as two .npy files.

The input is `data/houston_dataset.mat` of the public repository
JuanMarcosRamirez/featurefusion_igarss2021: a 128 x 128 x 48 crop of the Houston 2018 (IEEE GRSS
Data Fusion Contest) hyperspectral image (`hyprImg`, uint16) and a 512 x 512 class map on the grid
of its RGB image (`clasLabs`, 0 = unlabelled). Each hyperspectral pixel covers 4 x 4 cells of that
map; it is labelled with their class only when all 16 cells agree, so no label is a guess at the
class of a mixed pixel.

    python scripts/houston_crop.py houston_dataset.mat OUT_DIR

writes OUT_DIR/houston_crop.npy (128 x 128 x 48, uint16) and OUT_DIR/houston_crop_gt.npy
(128 x 128, uint8).
"""

import os
import sys

import numpy as np
from scipy.io import loadmat
from scipy.io.matlab import MatReadError

CELLS = 4


def pure_block_labels(fine, factor):
    """The class of each factor x factor block of `fine` whose cells all agree, else 0."""
    h, w = fine.shape
    if h % factor or w % factor:
        raise ValueError(f"a {h} x {w} map does not split into {factor} x {factor} blocks")
    blocks = fine.reshape(h // factor, factor, w // factor, factor).transpose(0, 2, 1, 3)
    blocks = blocks.reshape(h // factor, w // factor, factor * factor)
    pure = (blocks == blocks[..., :1]).all(axis=-1)
    return np.where(pure, blocks[..., 0], 0).astype(np.uint8)


def fail(message):
    """Bad input: one line on stderr and exit status 2, as the hyperssl command gives."""
    print(message, file=sys.stderr)
    sys.exit(2)


def main():
    if len(sys.argv) != 3:
        fail(__doc__.strip())
    source, out = sys.argv[1], sys.argv[2]
    try:
        mat = loadmat(source)
    except (OSError, ValueError, MatReadError) as e:
        fail(f"{source}: cannot read it as a MATLAB file ({e})")
    missing = [name for name in ("hyprImg", "clasLabs") if name not in mat]
    if missing:
        fail(f"{source}: no variable {' or '.join(missing)} (is it houston_dataset.mat?)")
    cube, fine = mat["hyprImg"], mat["clasLabs"]
    if cube.ndim != 3 or fine.ndim != 2:
        fail(f"{source}: hyprImg must be rows x cols x bands and clasLabs rows x cols")
    if fine.shape != (cube.shape[0] * CELLS, cube.shape[1] * CELLS):
        fail(f"{source}: a {fine.shape} class map is not {CELLS}x the {cube.shape[:2]} image")
    labels = pure_block_labels(fine, CELLS)
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "houston_crop.npy"), np.ascontiguousarray(cube))
    np.save(os.path.join(out, "houston_crop_gt.npy"), labels)
    classes, counts = np.unique(labels[labels > 0], return_counts=True)
    print(f"{cube.shape} image, {int(counts.sum())} labelled pixels:",
          ", ".join(f"{c}: {n}" for c, n in zip(classes, counts)))


if __name__ == "__main__":
    main()
