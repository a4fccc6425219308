"""hyperssl beside scikit-learn on Indian Pines with 10 labelled pixels per class (seed 0).
`python python/examples/indian_pines.py` after `pip install .`"""
import numpy as np
from sklearn.svm import SVC

import hyperssl

cube, truth, names = hyperssl.indian_pines()
X, y_true = cube.reshape(-1, cube.shape[2]), truth.ravel()
rng = np.random.default_rng(0)
train = np.concatenate([rng.choice(np.flatnonzero(y_true == c), 10, replace=False) for c in range(1, 17)])
test = np.setdiff1d(np.flatnonzero(y_true > 0), train)
y = np.full(len(y_true), -1)
y[train] = y_true[train]  # -1: unlabelled

m2 = hyperssl.M2Classifier().fit(X, y)  # every pixel's spectrum, 160 labels
print(f"M2 on spectra:          {m2.score(X[test], y_true[test]):.4f}")
svm = SVC().fit(X[train], y_true[train])  # scikit-learn: the 160 labelled spectra
print(f"SVC on spectra:         {svm.score(X[test], y_true[test]):.4f}")

model = hyperssl.fit_scene(cube, np.maximum(y, 0).reshape(truth.shape))  # the default model
class_map, probabilities = model.predict(cube)
print(f"fit_scene (the default): {np.mean(class_map.ravel()[test] == y_true[test]):.4f}")

fast = hyperssl.fit_scene(cube, np.maximum(y, 0).reshape(truth.shape), model="classifier", classifier="logreg")
class_map, probabilities = fast.predict(cube)
print(f"fit_scene, logistic regression alone: {np.mean(class_map.ravel()[test] == y_true[test]):.4f}")
