//! The SVM, its Platt sigmoids and logistic regression against scikit-learn on a fixed fixture:
//! tests/reference/sklearn_reference.json, written by tests/reference/sklearn_reference.py (whose
//! docstring says which conventions are matched and how).

use std::path::Path;

use hyperssl::eval::logreg::LogReg;
use hyperssl::eval::svm::Svm;
use hyperssl::eval::{Classifier, LabelledRows};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    dim: usize,
    n_classes: usize,
    x: Vec<f64>,
    y: Vec<usize>,
    eval_x: Vec<f64>,
    svm: Vec<SvmCase>,
    logreg: Vec<LogRegCase>,
}

#[derive(Deserialize)]
struct SvmCase {
    c: f64,
    gamma: f64,
    pairs: Vec<(usize, usize)>,
    decision_values: Vec<f64>,
    predictions: Vec<usize>,
    libsvm_sigmoids: Vec<(f64, f64)>,
    libsvm_probabilities: Vec<f64>,
    sigmoids_on_our_folds: Vec<(f64, f64)>,
    probabilities_on_our_folds: Vec<f64>,
}

#[derive(Deserialize)]
struct LogRegCase {
    lambda: f64,
    centred_logits: Vec<f64>,
    probabilities: Vec<f64>,
    predictions: Vec<usize>,
    probabilities_penalty_doubled: Vec<f64>,
}

fn reference() -> Reference {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/sklearn_reference.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("reference JSON")
}

fn f32s(v: &[f64]) -> Vec<f32> {
    // The fixture was rounded to f32 before the reference was computed: exact.
    v.iter().map(|&x| x as f32).collect()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    let diff = max_abs_diff(got, want);
    assert!(diff <= tol, "{what}: largest difference {diff:.3e} above {tol:.0e}");
}

// Both solvers run SMO from alpha = 0 with the same second-order working-set selection and stop
// when the largest KKT violation falls below libsvm's 1e-3, so they take the same steps and
// agree to rounding (3e-7 on this fixture; our kernel reads f32 squared distances). Rounding
// could still change one step near the end, and either stopping point is then within about the
// stopping tolerance of the other: 1e-3 is allowed. A wrong C, gamma, standardization or sign
// moves decision values by orders more.
const DECISION_TOL: f64 = 1e-3;

#[test]
fn svm_decision_values_and_votes_match_libsvm() {
    let r = reference();
    let x = f32s(&r.x);
    let eval_x = f32s(&r.eval_x);
    for case in &r.svm {
        let svm = Svm::fit(LabelledRows::new(&x, r.dim, &r.y, r.n_classes), case.c, case.gamma).unwrap();
        assert_eq!(svm.unconverged(), 0);
        let pairs: Vec<(usize, usize)> = svm.pairs().iter().map(|p| (p.positive, p.negative)).collect();
        assert_eq!(pairs, case.pairs, "one-vs-one pair order");
        let got = svm.decision_values(&eval_x);
        assert_close(&format!("C {} gamma {} decision values", case.c, case.gamma), &got, &case.decision_values, DECISION_TOL);
        // Votes agree wherever no decision value is within the tolerance of zero.
        let n_pairs = case.pairs.len();
        for (i, (p, want)) in svm.predict(&eval_x).iter().zip(&case.predictions).enumerate() {
            let row = &case.decision_values[i * n_pairs..(i + 1) * n_pairs];
            if row.iter().all(|d| d.abs() > DECISION_TOL) {
                assert_eq!(p, want, "C {} gamma {} row {i}", case.c, case.gamma);
            }
        }
    }
}

/// The fitted SVM with its pairwise sigmoids replaced, through its saved form.
fn with_sigmoids(svm: &Svm, sigmoids: &[(f64, f64)]) -> Svm {
    let mut value = serde_json::to_value(svm).unwrap();
    let pairs = value["pairs"].as_array_mut().unwrap();
    assert_eq!(pairs.len(), sigmoids.len());
    for (pair, &(a, b)) in pairs.iter_mut().zip(sigmoids) {
        pair["platt"] = serde_json::json!({ "a": a, "b": b });
    }
    serde_json::from_value(value).unwrap()
}

fn probabilities(model: &impl Classifier, x: &[f32]) -> Vec<f64> {
    model.predict_proba(x).iter().map(|&p| p as f64).collect()
}

#[test]
fn svm_pairwise_coupling_matches_libsvm_given_its_sigmoids() {
    // libsvm fits its sigmoids on randomly drawn folds and ours on folds dealt in turn, so the
    // sigmoids themselves differ (by up to 0.25 in probability here) and are not compared.
    // With libsvm's sigmoids put in our model, what is left to differ is the coupling of
    // pairwise probabilities (Wu, Lin and Weng's method 2, the same iteration and stopping rule
    // in both) and the decision values. A sigmoid's slope |A| p (1 - p) is below 1 here
    // (|A| < 4), so decision values within DECISION_TOL give probabilities within it too.
    let r = reference();
    let x = f32s(&r.x);
    let eval_x = f32s(&r.eval_x);
    for case in &r.svm {
        let svm = Svm::fit(LabelledRows::new(&x, r.dim, &r.y, r.n_classes), case.c, case.gamma).unwrap();
        let libsvm = with_sigmoids(&svm, &case.libsvm_sigmoids);
        let got = probabilities(&libsvm, &eval_x);
        assert_close(&format!("C {} gamma {} coupled probabilities", case.c, case.gamma), &got, &case.libsvm_probabilities, DECISION_TOL);
    }
}

#[test]
fn platt_sigmoids_match_scikit_learn_on_our_folds() {
    // The reference refits each pair's binary SVC on our folds and fits Platt's sigmoid to
    // those decision values with scikit-learn's implementation: L-BFGS-B stopped at a projected
    // gradient of 1e-6 or a relative change of 64 machine epsilons, ours Newton steps to a
    // gradient of 1e-5. On this flat loss (about 28 values a pair) the two stopping points give
    // A and B within 4e-4 of each other, probabilities within 1e-4; 2e-3 and 1e-3 are allowed.
    // The decision values fitted on agree to 3e-7 (see DECISION_TOL). Sigmoids fitted on
    // libsvm's random folds instead differ in A by up to 2.3 on this fixture.
    let r = reference();
    let x = f32s(&r.x);
    let eval_x = f32s(&r.eval_x);
    for case in &r.svm {
        let svm = Svm::fit(LabelledRows::new(&x, r.dim, &r.y, r.n_classes), case.c, case.gamma).unwrap();
        for (pair, &(a, b)) in svm.pairs().iter().zip(&case.sigmoids_on_our_folds) {
            let (got_a, got_b) = (pair.platt.a, pair.platt.b);
            assert!(
                (got_a - a).abs() < 2e-3 && (got_b - b).abs() < 2e-3,
                "C {} gamma {} pair ({}, {}): (A, B) = ({got_a}, {got_b}), scikit-learn ({a}, {b})",
                case.c,
                case.gamma,
                pair.positive,
                pair.negative
            );
        }
        let got = probabilities(&svm, &eval_x);
        assert_close(&format!("C {} gamma {} probabilities", case.c, case.gamma), &got, &case.probabilities_on_our_folds, 1e-3);
    }
}

#[test]
fn logistic_regression_matches_scikit_learn() {
    // scikit-learn ran to a gradient of 1e-10; ours stops at 1e-4 (the largest component of the
    // mean loss's gradient, scikit-learn's default tol). The loss is lambda-strongly convex in W,
    // so that leaves our solution up to about 1e-4 / lambda = 1e-2 from the optimum along the
    // flattest direction at lambda = 1e-2; the fixture shows 3e-3 on centred logits and 6e-4
    // on probabilities. 1e-2 and 2e-3 are allowed; that the optimum itself is scikit-learn's is
    // checked in logreg.rs with the optimizer run to 1e-9. The test also checks that a penalty
    // twice as strong (a slip between C and lambda, or a sum for a mean) would be caught.
    let r = reference();
    let x = f32s(&r.x);
    let eval_x = f32s(&r.eval_x);
    let k = r.n_classes;
    for case in &r.logreg {
        let model = LogReg::fit(LabelledRows::new(&x, r.dim, &r.y, k), case.lambda).unwrap();
        assert!(model.convergence().converged);
        let logits = model.decision_function(&eval_x);
        let centred: Vec<f64> = logits
            .chunks(k)
            .flat_map(|row| {
                let mean = row.iter().sum::<f64>() / k as f64;
                row.iter().map(move |l| l - mean)
            })
            .collect();
        let what = format!("lambda {}", case.lambda);
        assert_close(&format!("{what} centred logits"), &centred, &case.centred_logits, 1e-2);
        let proba = probabilities(&model, &eval_x);
        let tol = 2e-3;
        assert_close(&format!("{what} probabilities"), &proba, &case.probabilities, tol);
        let doubled = max_abs_diff(&proba, &case.probabilities_penalty_doubled);
        assert!(doubled > 10.0 * tol, "{what}: a doubled penalty moves the probabilities by only {doubled:.1e}");
        assert_eq!(model.predict(&eval_x), case.predictions, "{what}");
    }
}
