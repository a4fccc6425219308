"""hyperssl beside a tuned SVM on a scene in .mat files, 10 labelled pixels per class, seeds 0-2:
`M2Classifier` on the spectra, `fit_scene` (the default model) and an RBF SVM on standardised
spectra with C and gamma by 3-fold CV, on the same draws. Needs scipy to read the files.

    python python/examples/compare_svm.py SalinasA_corrected.mat SalinasA_gt.mat
"""
import sys
import time

import numpy as np
import scipy.io
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import hyperssl


def only_variable(path):
    arrays = [v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")]
    if len(arrays) != 1:
        sys.exit(f"{path}: expected one variable, found {len(arrays)}")
    return arrays[0]


cube = only_variable(sys.argv[1]).astype(np.float32)
truth = only_variable(sys.argv[2]).astype(np.int64)
X, y_true = cube.reshape(-1, cube.shape[2]), truth.ravel()
for seed in range(3):
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(y_true == c), 10, replace=False) for c in np.unique(y_true[y_true > 0])])
    test = np.setdiff1d(np.flatnonzero(y_true > 0), train)
    y = np.full(len(y_true), -1)
    y[train] = y_true[train]
    start = time.time()
    m2 = hyperssl.M2Classifier(seed=seed).fit(X, y)
    oa_m2, t_m2 = np.mean(m2.predict(X[test]) == y_true[test]), time.time() - start
    grid = {"svc__C": 10.0 ** np.arange(-1, 5), "svc__gamma": 10.0 ** np.arange(-4, 1)}
    svm = GridSearchCV(make_pipeline(StandardScaler(), SVC()), grid, cv=3).fit(X[train], y_true[train])
    oa_svm = np.mean(svm.predict(X[test]) == y_true[test])
    start = time.time()
    class_map, _ = hyperssl.fit_scene(cube, np.maximum(y, 0).reshape(truth.shape), seed=seed).predict(cube)
    oa_scene, t_scene = np.mean(class_map.ravel()[test] == y_true[test]), time.time() - start
    print(f"seed {seed}: M2Classifier {oa_m2:.4f} ({t_m2:.0f} s), CV SVM {oa_svm:.4f}, fit_scene {oa_scene:.4f} ({t_scene:.0f} s)")
