"""The Python package: estimators, scenes, files shared with the command line, errors."""

import os
import pickle
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import hyperssl

REPO = Path(__file__).resolve().parents[2]

# Small models: the tests check behaviour, not accuracy (but for the Indian Pines test).
TINY = dict(epochs=20, hidden=16, latent=4, learning_rate=1e-2, batch_size=32)


def two_clouds(per=100, labelled=4, seed=0):
    """Two clouds of 4-band spectra, classes 3 and 7; `labelled` rows of each keep their label,
    the others are -1."""
    rng = np.random.default_rng(seed)
    truth = np.where(np.arange(2 * per) % 2 == 0, 3, 7)
    slope = np.where(truth == 3, 40.0, -40.0)[:, None]
    X = 1000.0 + slope * np.arange(4)[None, :] + rng.normal(0, 10, (2 * per, 4))
    y = np.where(np.arange(2 * per) < 2 * labelled, truth, -1)
    return X.astype(np.float32), y, truth


def cli():
    """The hyperssl binary (HYPERSSL_BIN, or the release build of this repository)."""
    path = os.environ.get("HYPERSSL_BIN") or str(REPO / "target" / "release" / "hyperssl")
    if not os.path.exists(path):
        if os.environ.get("CI"):
            pytest.fail(f"{path} not found: build it with cargo build --release")
        pytest.skip(f"{path} not found: build it with cargo build --release")
    return path


def small_scene(tmp_path):
    """A 24 x 24 scene of 8 bands in three vertical stripes, a third of the pixels labelled; written
    as .npy files too."""
    rng = np.random.default_rng(1)
    cls = (np.arange(24) // 8)[None, :].repeat(24, axis=0)
    cube = 1000.0 + 100.0 * cls[:, :, None] * np.arange(8)[None, None, :] + rng.normal(0, 5, (24, 24, 8))
    rows, cols = np.indices((24, 24))
    labels = np.where((rows + cols) % 3 == 0, cls + 1, 0).astype(np.uint8)
    np.save(tmp_path / "scene.npy", cube.astype(np.float32))
    np.save(tmp_path / "gt.npy", labels)
    return cube.astype(np.float32), labels


SCENE_TINY = dict(epochs=3, batch_size=64, m2__latent=2, labelled_batch=16, spatial__components=4)
SCENE_TINY_SETTINGS = {"m2.hidden_classifier": [8], "m2.hidden_encoder": [8], "m2.hidden_decoder": [8]}


def test_the_default_model_beats_the_raw_spectra_svm_on_indian_pines_at_ten_labels_per_class():
    cube, truth, names = hyperssl.indian_pines()
    assert cube.shape == (145, 145, 200) and len(names) == 16
    rng = np.random.default_rng(0)
    train = np.zeros(truth.shape, bool)
    for c in np.unique(truth[truth > 0]):
        where = np.flatnonzero(truth.ravel() == c)
        train.ravel()[rng.choice(where, 10, replace=False)] = True
    test = (truth > 0) & ~train
    labels = np.where(train, truth, 0)

    model = hyperssl.fit_scene(cube, labels)
    class_map, probabilities = model.predict(cube)
    assert class_map.shape == (145, 145) and probabilities.shape == (145, 145, 16)
    assert list(model.classes_) == list(range(1, 17))
    oa_model = np.mean(class_map[test] == truth[test])

    X = cube.reshape(-1, 200)
    svm = GridSearchCV(
        make_pipeline(StandardScaler(), SVC()),
        {"svc__C": 10.0 ** np.arange(-1, 5), "svc__gamma": 10.0 ** np.arange(-4, 1)},
        cv=3,
    ).fit(X[train.ravel()], truth.ravel()[train.ravel()])
    oa_svm = np.mean(svm.predict(X[test.ravel()]) == truth.ravel()[test.ravel()])
    print(f"OA: hyperssl default {oa_model:.4f}, raw-spectra SVM {oa_svm:.4f}")
    assert oa_model > oa_svm


def test_unlabelled_rows_are_minus_one_and_never_a_class():
    X, y, truth = two_clouds()
    est = hyperssl.M2Classifier(**TINY, classifier_noise=0.0).fit(X, y)
    assert list(est.classes_) == [3, 7]
    predicted = est.predict(X)
    assert set(predicted) <= {3, 7}
    assert np.mean(predicted[8:] == truth[8:]) > 0.95
    proba = est.predict_proba(X)
    assert proba.shape == (200, 2) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert est.score(X[8:], truth[8:]) > 0.95
    # Labels of any kind, all labelled.
    names = np.where(truth == 3, "quartz", "calcite")
    est = hyperssl.M2Classifier(**TINY, classifier_noise=0.0).fit(X, names)
    assert set(est.predict(X)) <= {"quartz", "calcite"}
    with pytest.raises(ValueError, match="unlabelled"):
        hyperssl.M2Classifier(**TINY).fit(X, np.full(200, -1))


@pytest.mark.parametrize("cls", [hyperssl.M1Classifier, hyperssl.M2Classifier, hyperssl.M1M2Classifier])
def test_every_estimator_pickles_and_predicts_the_same(cls):
    X, y, _ = two_clouds(per=40)
    est = cls(epochs=4, hidden=8, latent=2).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    if hasattr(est, "transform"):
        assert est.transform(X).shape == (80, 2)


def test_a_scene_model_saves_and_loads(tmp_path):
    cube, labels = small_scene(tmp_path)
    model = hyperssl.fit_scene(cube, labels, settings=SCENE_TINY_SETTINGS, **SCENE_TINY)
    model.save(tmp_path / "model")
    loaded = hyperssl.load(tmp_path / "model")
    a, b = model.predict(cube), loaded.predict(cube)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert loaded.class_names == model.class_names
    with pytest.raises(OSError, match="already holds a run"):
        model.save(tmp_path / "model")


def test_python_and_the_command_line_train_the_same_model_and_read_each_others_runs(tmp_path):
    binary = cli()
    cube, labels = small_scene(tmp_path)
    # The command line draws 10 training pixels a class and takes every pixel as unlabelled data;
    # Python fits on those same pixels' labels with the same settings.
    config = hyperssl.config_toml(
        settings=dict(SCENE_TINY_SETTINGS, **{"split.unlabelled": "AllPixels"}),
        **SCENE_TINY,
    )
    (tmp_path / "config.toml").write_text(config)
    run = tmp_path / "cli-run"
    subprocess.run(
        [binary, "train", str(tmp_path / "scene.npy"), "--labels", str(tmp_path / "gt.npy"),
         "--config", str(tmp_path / "config.toml"), "--per-class", "10", "--run", str(run)],
        check=True, capture_output=True,
    )
    cli_map = np.load(run / "class_map.npy")

    # The run folder read from Python predicts the command line's map.
    loaded = hyperssl.load(run)
    np.testing.assert_array_equal(loaded.predict(cube)[0], cli_map)

    import json
    train = json.loads((run / "split.json").read_text())["train"]
    chosen = np.zeros(labels.size, np.uint8)
    chosen[train] = labels.ravel()[train]
    settings = dict(SCENE_TINY_SETTINGS, **{"split.unlabelled": "AllPixels"})
    model = hyperssl.fit_scene(cube, chosen.reshape(labels.shape), settings=settings, **SCENE_TINY)
    np.testing.assert_array_equal(model.predict(cube)[0], cli_map)

    # And a model saved from Python is what `hyperssl predict` applies.
    model.save(tmp_path / "py-model")
    out = tmp_path / "predicted"
    subprocess.run(
        [binary, "predict", "--run", str(tmp_path / "py-model"), str(tmp_path / "scene.npy"), "--out", str(out)],
        check=True, capture_output=True,
    )
    np.testing.assert_array_equal(np.load(out / "class_map.npy"), cli_map)


def test_the_classifier_alone_fits_a_scene_as_the_command_line_does(tmp_path):
    binary = cli()
    cube, labels = small_scene(tmp_path)
    run = tmp_path / "cli-run"
    subprocess.run(
        [binary, "train", str(tmp_path / "scene.npy"), "--labels", str(tmp_path / "gt.npy"),
         "--model", "classifier", "--classifier", "logreg", "--per-class", "10", "--run", str(run)],
        check=True, capture_output=True,
    )
    cli_map = np.load(run / "class_map.npy")
    import json
    train = json.loads((run / "split.json").read_text())["train"]
    chosen = np.zeros(labels.size, np.uint8)
    chosen[train] = labels.ravel()[train]
    model = hyperssl.fit_scene(cube, chosen.reshape(labels.shape), model="classifier", classifier="logreg")
    class_map, probabilities = model.predict(cube)
    np.testing.assert_array_equal(class_map, cli_map)
    assert probabilities.shape == (24, 24, 3) and np.allclose(probabilities.sum(axis=2), 1, atol=1e-5)
    # The command line's run read from Python: the probabilities its map was decided from are
    # those whose entropy the run's uncertainty map shows; the classifier's own are not
    # (propagation weighs them).
    loaded = hyperssl.load(run)
    (_, own), (_, decided) = loaded.predict(cube), loaded.predict(cube, probabilities="map")
    entropy = lambda p: -(p * np.log(np.clip(p, 1e-30, None))).sum(axis=2) / np.log(p.shape[2])
    uncertainty = np.load(run / "uncertainty.npy")
    np.testing.assert_allclose(entropy(decided), uncertainty, atol=1e-5)
    assert not np.allclose(entropy(own), uncertainty, atol=1e-3)
    with pytest.raises(ValueError, match="probabilities must be one of"):
        model.predict(cube, probabilities="propagated")
    model.save(tmp_path / "py-model")
    np.testing.assert_array_equal(hyperssl.load(tmp_path / "py-model").predict(cube)[0], cli_map)
    assert (tmp_path / "py-model" / "classifier.json").exists()


def test_bad_input_raises_the_exception_python_expects(tmp_path):
    X, y, _ = two_clouds(per=20)
    with pytest.raises(ValueError, match="unknown setting"):
        hyperssl.M2Classifier(epochs=2, settings={"m2.no_such_thing": 1}).fit(X, y)
    with pytest.raises(ValueError, match="train.epochs"):
        hyperssl.M2Classifier(epochs=0).fit(X, y)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError):
        hyperssl.M2Classifier(epochs=2).fit(bad, y)
    est = hyperssl.M2Classifier(epochs=2, hidden=8).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :3])
    with pytest.raises(OSError, match="no config.toml"):
        hyperssl.load(tmp_path)
    with pytest.raises(OSError):
        hyperssl.load(tmp_path / "missing")
    cube, labels = small_scene(tmp_path)
    with pytest.raises(ValueError, match="labels of shape"):
        hyperssl.fit_scene(cube, labels[:10], epochs=1)
    with pytest.raises(ValueError, match="negative"):
        hyperssl.fit_scene(cube, labels.astype(int) - 1, epochs=1)
    with pytest.raises(ValueError, match="spatial"):
        hyperssl.M2Classifier(epochs=1, settings={"input": "spatial"}).fit(X, y)


def test_ctrl_c_stops_training_with_keyboard_interrupt():
    import signal
    import sys
    import time

    script = (
        # Ctrl-C raises KeyboardInterrupt, as in an interactive session, also when the tests
        # run in a background job, whose children inherit SIGINT ignored.
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "import numpy as np, hyperssl, time\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(20000, 50)).astype(np.float32)\n"
        "y = np.where(np.arange(20000) < 40, np.arange(20000) % 2, -1)\n"
        "print('fitting', flush=True)\n"
        "start = time.time()\n"
        "try:\n"
        "    hyperssl.M2Classifier(epochs=1000).fit(X, y)\n"
        "except KeyboardInterrupt as e:\n"
        "    print(f'interrupted after {time.time() - start:.1f} s: {e}', flush=True)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "fitting"
    time.sleep(2)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0
    # Left alone the fit runs for about 50 s (early stopping ends it near epoch 260) and prints
    # nothing: it stopped at the interrupt, within seconds of it.
    assert "interrupted after" in out, out
    assert float(out.split("interrupted after")[1].split(" s")[0]) < 20, out
    assert float(out.split("interrupted after ")[1].split(" s")[0]) < 30, out


def test_verbose_draws_progress_on_stderr(capfd):
    X, y, _ = two_clouds(per=30)
    hyperssl.M2Classifier(epochs=4, hidden=8, verbose=True).fit(X, y)
    err = capfd.readouterr().err
    assert "epoch 2/4" in err and "epoch 4/4" in err and "[" in err
    hyperssl.M2Classifier(epochs=4, hidden=8).fit(X, y)
    assert capfd.readouterr().err == ""
