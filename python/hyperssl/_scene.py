"""Models of whole images: fitted on a cube with its label map, applied to cubes."""

import numpy as np

from . import _hyperssl

# Keyword arguments of fit_scene that stand for a setting of another name.
_ALIASES = {
    "epochs": "train.epochs",
    "learning_rate": "train.learning_rate",
    "batch_size": "train.batch_size",
    "seed": "train.seed",
    "mrf_weight": "mrf.weight",
    "propagation_neighbours": "propagation.neighbours",
}


def _setting_name(keyword):
    """``epochs`` -> ``train.epochs``; ``m2__latent`` -> ``m2.latent`` (config.toml's names)."""
    return _ALIASES.get(keyword, keyword.replace("__", "."))


def _cube(cube):
    cube = np.ascontiguousarray(cube, dtype=np.float32)
    if cube.ndim != 3:
        raise ValueError(f"expected a cube of height x width x bands, got {cube.ndim} dimensions")
    return cube


class SceneModel:
    """A fitted model with its scaling, spatial features and classes: a run folder in memory.

    ``classes_`` are the label values of the label map it was fitted on, ``class_names`` their
    names; ``predict(cube)`` gives the class map (label values) and the class probabilities.
    """

    _PROBABILITIES = ("classifier", "map")

    def __init__(self, model):
        self._model = model

    @property
    def classes_(self):
        return np.asarray(self._model.classes, dtype=np.uint32)

    @property
    def class_names(self):
        return list(self._model.class_names)

    @property
    def config(self):
        """The model's settings, as a run's config.toml."""
        return self._model.config

    def predict(self, cube, probabilities="classifier"):
        """(class map, probabilities): height x width label values and height x width x classes.

        The probabilities are the classifier's own (``"classifier"``), or those the map was
        decided from (``"map"``): the classifier's weighed by label propagation where the model
        propagates, as the uncertainty map of a run shows them; else the classifier's.
        """
        if probabilities not in self._PROBABILITIES:
            raise ValueError(f"probabilities must be one of {self._PROBABILITIES}, not {probabilities!r}")
        return self._model.predict_scene(_cube(cube), probabilities == "map")

    def save(self, path):
        """Writes the model as a run folder that ``hyperssl.load`` and ``hyperssl predict --run``
        read; a folder that already holds a run is refused."""
        self._model.save(str(path))

    def __repr__(self):
        return f"SceneModel(classes={self._model.classes}, spatial={self._model.spatial})"


def _chosen(model, settings, keywords):
    """The settings asked for, by their dotted names; a model other than M2 goes without M2's
    partner classifier unless one is asked for (and then refused)."""
    chosen = {"model": model}
    if model != "m2":
        chosen["partner"] = None
    chosen.update({_setting_name(k): v for k, v in keywords.items()})
    chosen.update(settings or {})
    return chosen


def fit_scene(cube, labels, model="m2", settings=None, verbose=False, **keywords):
    """Fits a model on an image (height x width x bands) and its label map (height x width,
    0 = unlabelled): every labelled pixel trains, every pixel is unlabelled data.

    The default is hyperssl's default model: M2 on spatial features, its class probabilities
    averaged with logistic regression's (``partner``), the labelled pixels' classes propagated
    over the scene's nearest-neighbour graph, then a graph cut. Settings are those of a
    run's config.toml: ``epochs``, ``seed``, ``learning_rate``, ``batch_size``, ``mrf_weight`` and
    ``propagation_neighbours`` by those names, any other as a keyword with ``__`` for the dot
    (``m2__latent=20``, ``input="spectra"``) or in ``settings`` by its dotted name.
    """
    cube = _cube(cube)
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers (0 = unlabelled), not {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError("labels must not be negative (0 = unlabelled)")
    chosen = _chosen(model, settings, keywords)
    fitted = _hyperssl.fit_scene(
        cube, np.ascontiguousarray(labels, dtype=np.uint32), "scene", chosen, bool(verbose)
    )
    return SceneModel(fitted)


def load(path):
    """Reads a model from a run folder: saved from Python or trained by ``hyperssl train``."""
    return SceneModel(_hyperssl.load(str(path)))


def config_toml(model="m2", settings=None, **keywords):
    """The configuration ``fit_scene`` would train with, as TOML for ``hyperssl train --config``."""
    chosen = _chosen(model, settings, keywords)
    return _hyperssl.config_toml("scene", chosen)
