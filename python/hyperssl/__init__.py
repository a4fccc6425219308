"""hyperssl: semi-supervised classification of hyperspectral pixels with the deep generative
models of Kingma, Rezende, Mohamed and Welling (NIPS 2014).

- ``M1Classifier``, ``M2Classifier``, ``M1M2Classifier``: scikit-learn estimators for rows of
  spectra; ``fit(X, y)`` with ``y == -1`` for unlabelled rows.
- ``fit_scene(cube, labels)``: the default model (M2 on spatial features, label propagation
  and a graph cut) on an image and its label map (0 = unlabelled); ``load(path)`` reads a model saved by ``save`` or
  trained by the ``hyperssl`` command line.
"""

from ._estimators import M1Classifier, M1M2Classifier, M2Classifier
from ._scene import SceneModel, config_toml, fit_scene, load
from ._hyperssl import indian_pines

__all__ = [
    "M1Classifier",
    "M2Classifier",
    "M1M2Classifier",
    "SceneModel",
    "fit_scene",
    "load",
    "config_toml",
    "indian_pines",
]
