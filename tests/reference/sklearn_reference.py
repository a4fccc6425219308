"""Reference values from scikit-learn for tests/sklearn_reference.rs.

Writes sklearn_reference.json beside this script: a small fixed fixture (3 classes, 4 features,
generated from a fixed seed) and what scikit-learn's SVC (libsvm) and LogisticRegression give on
it with settings that match hyperssl's conventions. The Rust test reads only the JSON.

    python3 -m venv bench/.venv && bench/.venv/bin/pip install numpy scikit-learn
    bench/.venv/bin/python tests/reference/sklearn_reference.py

Conventions matched (see src/eval/svm.rs, platt.rs, logreg.rs and classifier.rs):

* Both classifiers standardize the features inside with the population standard deviation
  (ddof = 0), in f32. The script does the same in float32 arithmetic and gives scikit-learn the
  standardized rows, so both see the same numbers and gamma acts on the same scale.
* SVM: RBF kernel exp(-gamma |a - b|^2), one-vs-one over class pairs (a, b), a < b, a positive
  decision value voting for a: libsvm's own decision values (decision_function_shape="ovo" with
  more than two classes). libsvm's stopping tolerance 1e-3 as ours; shrinking off, since ours does
  not shrink.
* Platt: P(a | d) = 1 / (1 + exp(A d + B)), fitted on cross-validated decision values. libsvm
  draws its 5 folds at random, ours deals each class to k = min(5, smaller class) folds in
  turn; the script rebuilds our folds with binary SVCs and fits the sigmoid with scikit-learn's
  Platt fit (_sigmoid_calibration: the same smoothed targets, minimised by L-BFGS-B).
* Logistic regression: ours minimises mean cross-entropy + lambda / 2 |W|^2 with the bias not
  penalized, multinomial; scikit-learn's lbfgs minimises the same with C = 1 / (lambda n).
"""

import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.calibration import _sigmoid_calibration
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = 3
DIM = 4
PER_CLASS = 14
TEST_ROWS = 12
SVM_SETTINGS = [(1.0, 0.25), (10.0, 1.0)]
LAMBDAS = [1e-1, 1e-2]


def fixture():
    """Overlapping Gaussian blobs in 4-D with unequal feature scales, rounded to f32."""
    rng = np.random.default_rng(20240521)
    centres = rng.normal(0.0, 1.2, size=(CLASSES, DIM))
    scales = np.array([1.0, 3.0, 0.5, 10.0])
    offsets = np.array([0.0, 5.0, -2.0, 100.0])
    y = np.repeat(np.arange(CLASSES), PER_CLASS)
    rng.shuffle(y)
    x = (centres[y] + rng.normal(0.0, 1.0, size=(len(y), DIM))) * scales + offsets
    test_y = rng.integers(0, CLASSES, size=TEST_ROWS)
    test = (centres[test_y] + rng.normal(0.0, 1.3, size=(TEST_ROWS, DIM))) * scales + offsets
    return x.astype(np.float32), y, test.astype(np.float32)


def standardizer(x):
    """Our Standardizer: f64 mean and population std of the f32 values, stored as f32."""
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=0)
    std = np.sqrt(((x64 - mean) ** 2).mean(axis=0))
    mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
    return lambda rows: ((rows - mean32) / std32).astype(np.float32).astype(np.float64)


def our_platt_folds(signs):
    """calibrate_pair's folds: each class dealt to k folds in turn, k = min(5, smaller class)."""
    n_pos = int((signs > 0).sum())
    k = min(5, n_pos, len(signs) - n_pos)
    seen = [0, 0]
    folds = []
    for s in signs:
        c = 0 if s > 0 else 1
        folds.append(seen[c] % k)
        seen[c] += 1
    return np.array(folds), k


def svc(c, gamma, **kw):
    return SVC(kernel="rbf", C=c, gamma=gamma, tol=1e-3, shrinking=False, cache_size=100, **kw)


def platt_on_our_folds(z, y, c, gamma):
    """(A, B) per class pair (a, b), a < b, fitted on decision values from our CV folds."""
    sigmoids = []
    for a in range(CLASSES):
        for b in range(a + 1, CLASSES):
            members = np.flatnonzero((y == a) | (y == b))
            signs = np.where(y[members] == a, 1.0, -1.0)
            folds, k = our_platt_folds(signs)
            decisions = np.zeros(len(members))
            for f in range(k):
                train, test = folds != f, folds == f
                # Binary: a positive value means the label +1, that is class a, as ours.
                machine = svc(c, gamma).fit(z[members[train]], signs[train])
                decisions[test] = machine.decision_function(z[members[test]])
            A, B = _sigmoid_calibration(decisions, (signs > 0).astype(float))
            sigmoids.append([float(A), float(B)])
    return sigmoids


def main():
    # SVC(probability=True) and probA_ / probB_ are deprecated from scikit-learn 1.9 and go in
    # 1.11: this script needs a version before that.
    warnings.filterwarnings("ignore", category=FutureWarning)
    x, y, test = fixture()
    standardize = standardizer(x)
    z, z_test = standardize(x), standardize(test)
    rows = np.vstack([z, z_test])
    out = {
        "generated_by": f"tests/reference/sklearn_reference.py, scikit-learn {sklearn.__version__}, numpy {np.__version__}",
        "dim": DIM,
        "n_classes": CLASSES,
        "x": x.astype(np.float64).ravel().tolist(),
        "y": y.tolist(),
        # Rows the fitted models are evaluated on: the training rows, then unseen ones.
        "eval_x": np.vstack([x, test]).astype(np.float64).ravel().tolist(),
        "svm": [],
        "logreg": [],
    }
    for c, gamma in SVM_SETTINGS:
        model = svc(c, gamma, probability=True, random_state=0, decision_function_shape="ovo")
        model.fit(z, y)
        decisions = model.decision_function(rows)
        # libsvm's convention checked here rather than assumed: the vote of the ovo values is
        # the prediction (ties aside).
        votes = np.zeros((len(rows), CLASSES), dtype=int)
        pairs = [(a, b) for a in range(CLASSES) for b in range(a + 1, CLASSES)]
        for p, (a, b) in enumerate(pairs):
            votes[np.arange(len(rows)), np.where(decisions[:, p] > 0, a, b)] += 1
        assert (votes.argmax(axis=1) == model.predict(rows)).all()
        libsvm_sigmoids = np.column_stack([model.probA_, model.probB_]).tolist()
        libsvm_proba = model.predict_proba(rows)
        ours = platt_on_our_folds(z, y, c, gamma)
        # libsvm's coupling of pairwise probabilities, with the sigmoids fitted on our folds.
        model._probA = np.array([s[0] for s in ours])
        model._probB = np.array([s[1] for s in ours])
        proba_our_folds = model.predict_proba(rows)
        out["svm"].append({
            "c": c,
            "gamma": gamma,
            "pairs": pairs,
            "decision_values": decisions.ravel().tolist(),
            "predictions": model.predict(rows).tolist(),
            "n_support": int(model.support_.size),
            "libsvm_sigmoids": libsvm_sigmoids,
            "libsvm_probabilities": libsvm_proba.ravel().tolist(),
            "sigmoids_on_our_folds": ours,
            "probabilities_on_our_folds": proba_our_folds.ravel().tolist(),
        })
    n = len(y)
    for lam in LAMBDAS:
        def fit(lam):
            return LogisticRegression(C=1.0 / (lam * n), tol=1e-10, max_iter=100_000).fit(z, y)
        model = fit(lam)
        logits = model.decision_function(rows)
        out["logreg"].append({
            "lambda": lam,
            # Logits are defined up to a constant per row (the bias is not penalized).
            "centred_logits": (logits - logits.mean(axis=1, keepdims=True)).ravel().tolist(),
            "probabilities": model.predict_proba(rows).ravel().tolist(),
            "predictions": model.predict(rows).tolist(),
            # What a penalty twice as strong gives: how far a convention error would move us.
            "probabilities_penalty_doubled": fit(2 * lam).predict_proba(rows).ravel().tolist(),
        })
    with open(os.path.join(HERE, "sklearn_reference.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
