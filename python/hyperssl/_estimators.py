"""scikit-learn estimators over hyperssl's models, for rows of spectra.

``fit(X, y)`` takes every row: ``y == -1`` marks an unlabelled row (as in
``sklearn.semi_supervised``), which the generative models learn from without its label.
"""

import os
import tempfile

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from . import _hyperssl

UNLABELLED = -1


def _settings(pairs):
    """The settings whose value was given (None: the library's default)."""
    return {name: value for name, value in pairs if value is not None}


def _layers(hidden):
    """One hidden layer of `hidden` units, as config.toml lists layers (None: the default)."""
    return None if hidden is None else [int(hidden)]


def _m2_layers(hidden):
    """The hidden layers of M2's three networks."""
    layers = _layers(hidden)
    return [(f"m2.hidden_{net}", layers) for net in ("classifier", "encoder", "decoder")]


def _model_files(model):
    """A fitted model as {file name: bytes} of its run folder (for pickling)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "model")
        model.save(root)
        files = {}
        for name in sorted(os.listdir(root)):
            path = os.path.join(root, name)
            if os.path.isfile(path) and not name.endswith(".lock"):
                with open(path, "rb") as f:
                    files[name] = f.read()
        return files


def _model_from_files(files):
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "model")
        os.mkdir(root)
        for name, data in files.items():
            with open(os.path.join(root, name), "wb") as f:
                f.write(data)
        return _hyperssl.load(root)


class _GenerativeClassifier(ClassifierMixin, BaseEstimator):
    """What the three classifiers share; ``_model`` names the model."""

    _model = None

    def __init__(
        self,
        *,
        epochs=None,
        hidden=None,
        latent=None,
        learning_rate=None,
        batch_size=None,
        seed=0,
        settings=None,
        verbose=False,
    ):
        self.epochs = epochs
        self.hidden = hidden
        self.latent = latent
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.seed = seed
        self.settings = settings
        self.verbose = verbose

    def _model_settings(self):
        """Settings of this class's own parameters, by their names in config.toml."""
        return {}

    def _all_settings(self):
        settings = _settings(
            [
                ("model", self._model),
                ("train.epochs", self.epochs),
                ("train.learning_rate", self.learning_rate),
                ("train.batch_size", self.batch_size),
                ("train.seed", self.seed),
            ]
        )
        settings.update(self._model_settings())
        settings.update(self.settings or {})
        return settings

    def _check_X(self, X, reset):
        X = check_array(X, dtype=np.float32, order="C")
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )
        return X

    def fit(self, X, y):
        """Fits on every row of ``X``; rows whose ``y`` is -1 are unlabelled."""
        X = self._check_X(X, reset=True)
        y = column_or_1d(y, warn=True)
        if len(y) != X.shape[0]:
            raise ValueError(f"{len(y)} labels for {X.shape[0]} rows")
        if X.shape[0] < 2:
            raise ValueError(f"n_samples = {X.shape[0]}: fitting needs at least 2 rows")
        unlabelled = (y == UNLABELLED) if y.dtype.kind in "iuf" else np.zeros(len(y), bool)
        if unlabelled.all():
            raise ValueError("every row is unlabelled (y == -1): fitting needs labelled rows")
        check_classification_targets(y[~unlabelled])
        self.classes_ = np.unique(y[~unlabelled])
        labels = np.zeros(len(y), np.uint32)
        labels[~unlabelled] = np.searchsorted(self.classes_, y[~unlabelled]) + 1
        self.model_ = _hyperssl.fit_rows(
            X, labels, "rows", self._all_settings(), bool(self.verbose)
        )
        return self

    def predict_proba(self, X):
        """Class probabilities of every row, columns in the order of ``classes_``."""
        check_is_fitted(self)
        _, probabilities = self.model_.predict_rows(self._check_X(X, reset=False))
        return probabilities

    def predict(self, X):
        check_is_fitted(self)
        classes, _ = self.model_.predict_rows(self._check_X(X, reset=False))
        return self.classes_[classes]

    def __getstate__(self):
        state = self.__dict__.copy()
        if "model_" in state:
            state["model_"] = _model_files(state["model_"])
        return state

    def __setstate__(self, state):
        if "model_" in state:
            state["model_"] = _model_from_files(state["model_"])
        self.__dict__.update(state)


class _M1Features(TransformerMixin):
    """``transform``: the features of the M1 of an M1 or M1+M2 classifier."""

    def transform(self, X):
        """M1's features of every row: the means of q(z|x)."""
        check_is_fitted(self)
        return self.model_.m1_features_rows(self._check_X(X, reset=False))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The models compute in float32, whatever the input.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class M2Classifier(_GenerativeClassifier):
    """M2: p(x|y,z) with q(z|x,y) and q(y|x); unlabelled rows sum the bound over every class and
    q(y|x) classifies. The defaults are the library's ``ExperimentConfig::rows()``: the settings
    of the README's "M2 and M1+M2 on Indian Pines" table.

    Parameters besides those below are settings of a run's config.toml, given by name in
    ``settings`` (for example ``{"m2.likelihood": "gaussianband"}``).

    epochs, learning_rate, batch_size, seed: training (``train.*``).
    hidden: units of the one hidden layer of each network (``m2.hidden_*``).
    latent: dimensions of z (``m2.latent``).
    alpha: weight of the classification term (``alpha``).
    classifier_noise: noise on q(y|x)'s labelled inputs, in standard deviations
    (``classifier_noise``).
    unlabelled_weight: weight of the unlabelled bound; 0 trains q(y|x) on the labels alone
    (``unlabelled_weight``).
    verbose: a progress bar on stderr (epochs, bound, validation accuracy).
    """

    _model = "m2"

    def __init__(
        self,
        *,
        epochs=None,
        hidden=None,
        latent=None,
        learning_rate=None,
        batch_size=None,
        alpha=None,
        classifier_noise=None,
        unlabelled_weight=None,
        seed=0,
        settings=None,
        verbose=False,
    ):
        super().__init__(
            epochs=epochs,
            hidden=hidden,
            latent=latent,
            learning_rate=learning_rate,
            batch_size=batch_size,
            seed=seed,
            settings=settings,
            verbose=verbose,
        )
        self.alpha = alpha
        self.classifier_noise = classifier_noise
        self.unlabelled_weight = unlabelled_weight

    def _model_settings(self):
        return _settings(
            _m2_layers(self.hidden)
            + [
                ("m2.latent", self.latent),
                ("alpha", self.alpha),
                ("classifier_noise", self.classifier_noise),
                ("unlabelled_weight", self.unlabelled_weight),
            ]
        )


class M1Classifier(_M1Features, _GenerativeClassifier):
    """M1: a VAE learns features from every row, labelled or not; a classifier (``"svm"``, an RBF
    SVM with C and gamma chosen by cross-validation, or ``"logreg"``) is fitted on the features
    of the labelled rows. ``transform`` gives the features (means of q(z|x)).

    hidden, latent: the VAE's hidden layer and features (``m1.hidden``, ``m1.latent``); the other
    parameters as for :class:`M2Classifier`.
    """

    _model = "m1"

    def __init__(
        self,
        *,
        epochs=None,
        hidden=None,
        latent=None,
        learning_rate=None,
        batch_size=None,
        classifier="svm",
        seed=0,
        settings=None,
        verbose=False,
    ):
        super().__init__(
            epochs=epochs,
            hidden=hidden,
            latent=latent,
            learning_rate=learning_rate,
            batch_size=batch_size,
            seed=seed,
            settings=settings,
            verbose=verbose,
        )
        self.classifier = classifier

    def _model_settings(self):
        return _settings(
            [
                ("m1.hidden", _layers(self.hidden)),
                ("m1.latent", self.latent),
                ("classifier", self.classifier),
            ]
        )


class M1M2Classifier(_M1Features, _GenerativeClassifier):
    """M1+M2: M2 trained on the features of an M1 trained first on every row (the paper's best
    model on MNIST). ``transform`` gives M1's features.

    hidden, latent: of both models; m1_epochs: M1's epochs (default ``epochs``); the other
    parameters as for :class:`M2Classifier`.
    """

    _model = "m1m2"

    def __init__(
        self,
        *,
        epochs=None,
        m1_epochs=None,
        hidden=None,
        latent=None,
        learning_rate=None,
        batch_size=None,
        alpha=None,
        seed=0,
        settings=None,
        verbose=False,
    ):
        super().__init__(
            epochs=epochs,
            hidden=hidden,
            latent=latent,
            learning_rate=learning_rate,
            batch_size=batch_size,
            seed=seed,
            settings=settings,
            verbose=verbose,
        )
        self.m1_epochs = m1_epochs
        self.alpha = alpha

    def _model_settings(self):
        return _settings(
            [
                ("m1_epochs", self.m1_epochs),
                ("m1.hidden", _layers(self.hidden)),
                ("m1.latent", self.latent),
                ("alpha", self.alpha),
            ]
            + _m2_layers(self.hidden)
        )
