//! RBF-kernel support vector machine, multi-class by one-vs-one voting (as libsvm), each binary
//! machine trained by SMO with libsvm's second-order working-set selection (Fan, Chen and Lin,
//! JMLR 2005). Labelled sets are small, so the whole squared-distance matrix of the training
//! samples is kept in memory (4 n^2 bytes) and every kernel matrix is read from it.
//!
//! Features are standardized inside; gamma acts on the standardized features. C and gamma are
//! chosen by stratified k-fold CV over a grid, in parallel over (fold, gamma); for each gamma the
//! C values are solved in increasing order, each starting from the previous solution.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::array::argmax;
use super::classifier::{
    rows_of, LabelledRows, Classifier, ClassifierKind, FitReport, Hyperparameters,
    Standardizer,
};
use super::cv::{best_score, class_counts, fold_count, grid_scores, stratified_k_fold, Fold};
use super::platt::Platt;
use crate::error::{Error, Result};

/// Most training samples accepted (the distance matrix takes 4 n^2 bytes: 1.6 GB here).
pub const MAX_TRAIN: usize = 20_000;
/// C used when CV is impossible (a class with a single training sample).
pub const DEFAULT_C: f64 = 10.0;
/// Stopping tolerance on the maximal KKT violation, libsvm's default.
const KKT_TOL: f64 = 1e-3;
/// Stand-in for a non-positive curvature in the working-set selection.
const TAU: f64 = 1e-12;

/// Hyperparameter grid. gamma = scale / (total variance of the standardized features), i.e.
/// scale / dim when no feature is constant, so scale 1 is libsvm's and scikit-learn's "scale".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SvmGrid {
    /// Increasing.
    pub c: Vec<f64>,
    /// Increasing.
    pub gamma_scale: Vec<f64>,
}

impl Default for SvmGrid {
    fn default() -> Self {
        SvmGrid {
            c: vec![1e-1, 1e0, 1e1, 1e2, 1e3, 1e4],
            gamma_scale: (-7..=3).map(|e| 2f64.powi(e)).collect(),
        }
    }
}

/// One binary machine of the one-vs-one ensemble: positive decision values vote for
/// `positive`, others for `negative`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PairMachine {
    pub positive: usize,
    pub negative: usize,
    /// Rows of the model's support vectors used by this machine.
    pub support: Vec<usize>,
    /// alpha_i * y_i for each of them.
    pub coef: Vec<f64>,
    pub rho: f64,
    /// Probability of `positive` given the decision value, fitted on cross-validated decision
    /// values of the machine's own training pixels. A model saved without it keeps the
    /// uncalibrated sigmoid.
    #[serde(default)]
    pub platt: Platt,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Svm {
    standardizer: Standardizer,
    n_classes: usize,
    c: f64,
    gamma: f64,
    /// Standardized support vectors, `n_support x dim` row-major.
    support_vectors: Vec<f32>,
    pairs: Vec<PairMachine>,
    /// Binary machines whose SMO hit the iteration cap before the KKT tolerance.
    unconverged: usize,
}

impl Svm {
    /// Fits with given C and gamma (gamma on standardized features).
    pub fn fit(rows: LabelledRows, c: f64, gamma: f64) -> Result<Svm> {
        check_svm_training_set(rows)?;
        let LabelledRows { x, dim, y, n_classes } = rows;
        check_hyperparameters(c, gamma)?;
        let standardizer = Standardizer::fit(x, dim);
        let z = standardizer.transform(x);
        let distances = SquaredDistances::new(&z, dim);
        Ok(Self::fit_prepared(standardizer, LabelledRows::new(&z, dim, y, n_classes), &distances, c, gamma))
    }

    /// Fits on rows already standardized by `standardizer`, with their squared distances.
    fn fit_prepared(standardizer: Standardizer, standardized: LabelledRows, distances: &SquaredDistances, c: f64, gamma: f64) -> Svm {
        let LabelledRows { x: z, dim, y, n_classes } = standardized;
        let all: Vec<usize> = (0..y.len()).collect();
        // (positive class, negative class, members, their signs, dual solution, sigmoid) per machine.
        type Solved = (usize, usize, Vec<usize>, Vec<f64>, Binary, Platt);
        let solved: Vec<Solved> = class_pairs(y, n_classes)
            .into_par_iter()
            .map(|(a, b)| {
                let (members, signs) = pair_members(&all, y, a, b);
                let solution = solve_pair(distances, &members, &signs, gamma, &[c])
                    .pop()
                    .unwrap_or_else(|| Binary::empty(members.len()));
                let platt = calibrate_pair(distances, &members, &signs, gamma, c);
                (a, b, members, signs, solution, platt)
            })
            .collect();
        // Gather the support vectors of all machines into one table.
        let mut row_of = vec![usize::MAX; y.len()];
        let mut support_vectors = Vec::new();
        let mut pairs = Vec::with_capacity(solved.len());
        let mut unconverged = 0;
        for (positive, negative, members, signs, solution, platt) in solved {
            unconverged += usize::from(!solution.converged);
            let mut support = Vec::new();
            let mut coef = Vec::new();
            for ((&i, &sign), &alpha) in members.iter().zip(&signs).zip(&solution.alpha) {
                if alpha == 0.0 {
                    continue;
                }
                if row_of[i] == usize::MAX {
                    row_of[i] = support_vectors.len() / dim;
                    support_vectors.extend_from_slice(&z[i * dim..(i + 1) * dim]);
                }
                support.push(row_of[i]);
                coef.push(alpha * sign);
            }
            pairs.push(PairMachine {
                positive,
                negative,
                support,
                coef,
                rho: solution.rho,
                platt,
            });
        }
        Svm {
            standardizer,
            n_classes,
            c,
            gamma,
            support_vectors,
            pairs,
            unconverged,
        }
    }

    pub fn c(&self) -> f64 {
        self.c
    }

    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    pub fn n_support(&self) -> usize {
        self.support_vectors.len() / self.standardizer.dim().max(1)
    }

    pub fn pairs(&self) -> &[PairMachine] {
        &self.pairs
    }

    /// Binary machines that stopped at the iteration cap.
    pub fn unconverged(&self) -> usize {
        self.unconverged
    }

    /// Decision values `n x pairs().len()` row-major, in the order of `pairs()`.
    pub fn decision_values(&self, x: &[f32]) -> Vec<f64> {
        let dim = self.standardizer.dim();
        rows_of(x, dim);
        let z = self.standardizer.transform(x);
        let n_pairs = self.pairs.len();
        let mut out = vec![0f64; z.len() / dim * n_pairs];
        if n_pairs == 0 {
            return out;
        }
        out.par_chunks_mut(n_pairs)
            .zip(z.par_chunks(dim))
            .for_each(|(dec, row)| {
                let kernel: Vec<f64> = self
                    .support_vectors
                    .chunks_exact(dim)
                    .map(|sv| (-self.gamma * squared_distance(row, sv)).exp())
                    .collect();
                for (d, pair) in dec.iter_mut().zip(&self.pairs) {
                    *d = pair
                        .support
                        .iter()
                        .zip(&pair.coef)
                        .map(|(&s, &c)| c * kernel[s])
                        .sum::<f64>()
                        - pair.rho;
                }
            });
        out
    }

    fn votes(&self, decisions: &[f64]) -> Vec<usize> {
        let mut votes = vec![0usize; self.n_classes];
        for (pair, &d) in self.pairs.iter().zip(decisions) {
            votes[if d > 0.0 {
                pair.positive
            } else {
                pair.negative
            }] += 1;
        }
        votes
    }
}

impl Classifier for Svm {
    /// Pairwise probabilities (Platt sigmoids of the decision values) coupled into class
    /// probabilities by Wu, Lin and Weng's second method (libsvm's); classes without training
    /// samples get 0. `predict` is the vote, which may disagree with the
    /// largest probability.
    fn predict_proba(&self, x: &[f32]) -> Vec<f32> {
        let k = self.n_classes;
        let decisions = self.decision_values(x);
        let n_pairs = self.pairs.len().max(1);
        let present: Vec<usize> = {
            let mut p: Vec<usize> = self
                .pairs
                .iter()
                .flat_map(|m| [m.positive, m.negative])
                .collect();
            p.sort_unstable();
            p.dedup();
            p
        };
        let mut slot = vec![usize::MAX; k];
        for (s, &c) in present.iter().enumerate() {
            slot[c] = s;
        }
        let mut out = vec![0f32; decisions.len() / n_pairs * k];
        out.par_chunks_mut(k)
            .zip(decisions.par_chunks(n_pairs))
            .for_each(|(proba, dec)| {
                let m = present.len();
                let mut r = vec![vec![0.0; m]; m];
                for (pair, &d) in self.pairs.iter().zip(dec) {
                    let p = pair.platt.probability(d).clamp(1e-7, 1.0 - 1e-7);
                    let (i, j) = (slot[pair.positive], slot[pair.negative]);
                    r[i][j] = p;
                    r[j][i] = 1.0 - p;
                }
                for (&c, p) in present.iter().zip(couple_pairwise(&r)) {
                    proba[c] = p as f32;
                }
            });
        out
    }

    fn predict(&self, x: &[f32]) -> Vec<usize> {
        let n_pairs = self.pairs.len().max(1);
        self.decision_values(x)
            .chunks(n_pairs)
            .map(|dec| argmax(&self.votes(dec)))
            .collect()
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    fn dim(&self) -> usize {
        self.standardizer.dim()
    }
}

/// Chooses C and gamma from the default grid by stratified k-fold CV and refits on everything.
pub fn select_and_fit(rows: LabelledRows, seed: u64) -> Result<(Svm, FitReport)> {
    select_and_fit_with_grid(rows, seed, &SvmGrid::default())
}

/// As `select_and_fit`, over a given grid. The features are standardized once with statistics
/// of all training samples (no labels are involved). Grid points are scored by mean fold
/// accuracy; ties go to the smaller C, then the smaller gamma.
pub fn select_and_fit_with_grid(rows: LabelledRows, seed: u64, grid: &SvmGrid) -> Result<(Svm, FitReport)> {
    let n = check_svm_training_set(rows)?;
    let LabelledRows { x, dim, y, n_classes } = rows;
    check_grid(grid)?;
    let standardizer = Standardizer::fit(x, dim);
    let z = standardizer.transform(x);
    let distances = SquaredDistances::new(&z, dim);
    let gamma_unit = unit_gamma(&z, dim);
    let Some(k) = fold_count(y, n_classes) else {
        let (c, gamma) = (DEFAULT_C, gamma_unit);
        let model = Svm::fit_prepared(standardizer, LabelledRows::new(&z, dim, y, n_classes), &distances, c, gamma);
        let note = format!(
            "a class has a single training sample, so no CV: used the defaults C = {c}, gamma = {gamma:.3e} (1 / total variance)"
        );
        let report = FitReport::without_cv(
            ClassifierKind::Svm,
            Hyperparameters::Svm { c, gamma },
            n,
            note,
        );
        return Ok(with_convergence_note(model, report));
    };
    let folds = stratified_k_fold(y, n_classes, k, seed);
    let gammas: Vec<f64> = grid.gamma_scale.iter().map(|s| s * gamma_unit).collect();
    let tasks: Vec<(usize, usize)> = (0..folds.len())
        .flat_map(|f| (0..gammas.len()).map(move |g| (f, g)))
        .collect();
    let problem = CvProblem { distances: &distances, y, n_classes };
    // accuracy[task][c]
    let accuracy: Vec<Vec<f64>> = tasks
        .par_iter()
        .map(|&(f, g)| fold_accuracies(&problem, &folds[f], gammas[g], &grid.c))
        .collect();
    // C-major, so that ties go to the smaller C, then the smaller gamma.
    let points: Vec<Hyperparameters> = grid
        .c
        .iter()
        .flat_map(|&c| gammas.iter().map(move |&gamma| Hyperparameters::Svm { c, gamma }))
        .collect();
    let ng = gammas.len();
    let scores = grid_scores(&points, folds.len(), |p, f| accuracy[f * ng + p % ng][p / ng]);
    let best = best_score(&scores).ok_or_else(|| Error::invalid("empty SVM grid"))?;
    let Hyperparameters::Svm { c, gamma } = scores[best].hyperparameters else {
        return Err(Error::invalid("SVM grid holds other hyperparameters"));
    };
    let model = Svm::fit_prepared(standardizer, LabelledRows::new(&z, dim, y, n_classes), &distances, c, gamma);
    let report = FitReport::from_cv(ClassifierKind::Svm, scores, best, k, n);
    Ok(with_convergence_note(model, report))
}

fn with_convergence_note(model: Svm, mut report: FitReport) -> (Svm, FitReport) {
    if model.unconverged > 0 {
        report.add_note(format!(
            "{} of {} binary machines stopped at the SMO iteration cap",
            model.unconverged,
            model.pairs.len()
        ));
    }
    (model, report)
}

/// What every fold of a cross-validation shares: the squared distances between all training
/// samples and their classes.
struct CvProblem<'a> {
    distances: &'a SquaredDistances,
    y: &'a [usize],
    n_classes: usize,
}

/// Accuracy on one held-out fold for each C, at one gamma.
fn fold_accuracies(problem: &CvProblem, fold: &Fold, gamma: f64, cs: &[f64]) -> Vec<f64> {
    let CvProblem { distances, y, n_classes } = *problem;
    let n_test = fold.test.len();
    // votes[c][test sample][class]
    let mut votes = vec![vec![vec![0u32; n_classes]; n_test]; cs.len()];
    for (a, b) in class_pairs(
        &fold.train.iter().map(|&i| y[i]).collect::<Vec<_>>(),
        n_classes,
    ) {
        let (members, signs) = pair_members(&fold.train, y, a, b);
        let solutions = solve_pair(distances, &members, &signs, gamma, cs);
        for (t, &test) in fold.test.iter().enumerate() {
            let kernel: Vec<f64> = members
                .iter()
                .map(|&i| (-gamma * distances.get(test, i)).exp())
                .collect();
            for (ci, solution) in solutions.iter().enumerate() {
                let d = solution
                    .alpha
                    .iter()
                    .zip(&signs)
                    .zip(&kernel)
                    .filter(|((a, _), _)| **a != 0.0)
                    .map(|((a, s), k)| a * s * k)
                    .sum::<f64>()
                    - solution.rho;
                votes[ci][t][if d > 0.0 { a } else { b }] += 1;
            }
        }
    }
    votes
        .iter()
        .map(|per_c| {
            let correct = per_c
                .iter()
                .zip(&fold.test)
                .filter(|(v, &i)| argmax(v) == y[i])
                .count();
            correct as f64 / n_test.max(1) as f64
        })
        .collect()
}

/// Pairs (a, b), a < b, of classes that have samples.
fn class_pairs(y: &[usize], n_classes: usize) -> Vec<(usize, usize)> {
    let present: Vec<usize> = class_counts(y, n_classes)
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(c, _)| c)
        .collect();
    let mut pairs = Vec::new();
    for (i, &a) in present.iter().enumerate() {
        for &b in &present[i + 1..] {
            pairs.push((a, b));
        }
    }
    pairs
}

/// The samples of `candidates` in class a (+1) or b (-1).
fn pair_members(candidates: &[usize], y: &[usize], a: usize, b: usize) -> (Vec<usize>, Vec<f64>) {
    candidates
        .iter()
        .filter_map(|&i| match y[i] {
            c if c == a => Some((i, 1.0)),
            c if c == b => Some((i, -1.0)),
            _ => None,
        })
        .unzip()
}

/// Platt's sigmoid for one machine, fitted on decision values from a k-fold cross-validation
/// over its members (k = 5, or the size of its smaller class): each class is dealt to the folds
/// in turn, so every training part holds both. With fewer than 2 members of a class the
/// uncalibrated sigmoid stays.
fn calibrate_pair(distances: &SquaredDistances, members: &[usize], signs: &[f64], gamma: f64, c: f64) -> Platt {
    let n_pos = signs.iter().filter(|&&s| s > 0.0).count();
    let k = 5.min(n_pos).min(members.len() - n_pos);
    if k < 2 {
        return Platt::default();
    }
    let mut seen = [0usize; 2];
    let fold: Vec<usize> = signs
        .iter()
        .map(|&s| {
            let class = usize::from(s < 0.0);
            seen[class] += 1;
            (seen[class] - 1) % k
        })
        .collect();
    let mut decisions = vec![0f64; members.len()];
    for f in 0..k {
        let (train, test): (Vec<usize>, Vec<usize>) = (0..members.len()).partition(|&i| fold[i] != f);
        let train_members: Vec<usize> = train.iter().map(|&i| members[i]).collect();
        let train_signs: Vec<f64> = train.iter().map(|&i| signs[i]).collect();
        let Some(solution) = solve_pair(distances, &train_members, &train_signs, gamma, &[c]).pop() else {
            continue;
        };
        for &t in &test {
            decisions[t] = solution
                .alpha
                .iter()
                .zip(&train_signs)
                .zip(&train_members)
                .filter(|((a, _), _)| **a != 0.0)
                .map(|((a, s), &j)| a * s * (-gamma * distances.get(members[t], j)).exp())
                .sum::<f64>()
                - solution.rho;
        }
    }
    let positive: Vec<bool> = signs.iter().map(|&s| s > 0.0).collect();
    Platt::fit(&decisions, &positive)
}

/// Solves the binary machine on `members` for each C (increasing), warm-starting each from the
/// previous solution (feasible, since alpha <= C_old <= C_new and y'alpha = 0 still hold).
fn solve_pair(
    distances: &SquaredDistances,
    members: &[usize],
    signs: &[f64],
    gamma: f64,
    cs: &[f64],
) -> Vec<Binary> {
    let m = members.len();
    let mut kernel = vec![0f64; m * m];
    for (r, &i) in members.iter().enumerate() {
        for (c, &j) in members.iter().enumerate() {
            kernel[r * m + c] = (-gamma * distances.get(i, j)).exp();
        }
    }
    let mut out: Vec<Binary> = Vec::with_capacity(cs.len());
    for &c in cs {
        let warm = out.last().map(|b| b.alpha.as_slice());
        out.push(solve_binary(&kernel, signs, c, warm));
    }
    out
}

/// Squared Euclidean distances between all training samples, `n x n` f32.
struct SquaredDistances {
    n: usize,
    d: Vec<f32>,
}

impl SquaredDistances {
    fn new(z: &[f32], dim: usize) -> Self {
        let n = z.len() / dim;
        let mut d = vec![0f32; n * n];
        d.par_chunks_mut(n.max(1))
            .zip(z.par_chunks(dim))
            .for_each(|(out, a)| {
                for (o, b) in out.iter_mut().zip(z.chunks_exact(dim)) {
                    *o = squared_distance(a, b) as f32;
                }
            });
        SquaredDistances { n, d }
    }

    fn get(&self, i: usize, j: usize) -> f64 {
        self.d[i * self.n + j] as f64
    }
}

fn squared_distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&u, &v)| ((u - v) as f64) * ((u - v) as f64))
        .sum()
}

/// 1 / (sum of the feature variances) of standardized data: 1 / dim unless some features are
/// constant. With it, gamma * |a - b|^2 is about 2 for two typical samples.
fn unit_gamma(z: &[f32], dim: usize) -> f64 {
    let n = (z.len() / dim).max(1) as f64;
    let total: f64 = z.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / n;
    if total > 0.0 {
        1.0 / total
    } else {
        1.0 / dim as f64
    }
}

/// The dual solution of one binary C-SVC.
#[derive(Debug, Clone)]
struct Binary {
    alpha: Vec<f64>,
    rho: f64,
    converged: bool,
}

impl Binary {
    fn empty(m: usize) -> Self {
        Binary {
            alpha: vec![0.0; m],
            rho: 0.0,
            converged: true,
        }
    }
}

/// SMO for min 1/2 a'Qa - e'a, 0 <= a_i <= c, y'a = 0, Q_ij = y_i y_j K_ij, with libsvm's WSS2
/// working-set selection, its two-variable update and its rho. `kernel` is `m x m` row-major,
/// `y` holds +1 / -1, `warm` a feasible starting point.
fn solve_binary(kernel: &[f64], y: &[f64], c: f64, warm: Option<&[f64]>) -> Binary {
    let mut smo = Smo::new(kernel, y, c, warm);
    let max_iterations = (100 * y.len()).max(1_000_000);
    let mut converged = false;
    for _ in 0..max_iterations {
        let Some((i, j)) = smo.working_set() else {
            converged = true;
            break;
        };
        smo.step(i, j);
    }
    let rho = smo.rho();
    Binary { alpha: smo.alpha, rho, converged }
}

/// The state of one SMO solve: the multipliers and the gradient of the dual, Q alpha - e.
struct Smo<'a> {
    kernel: &'a [f64],
    y: &'a [f64],
    c: f64,
    alpha: Vec<f64>,
    grad: Vec<f64>,
}

impl<'a> Smo<'a> {
    fn new(kernel: &'a [f64], y: &'a [f64], c: f64, warm: Option<&[f64]>) -> Self {
        let m = y.len();
        let alpha: Vec<f64> = match warm {
            Some(a) => a.to_vec(),
            None => vec![0.0; m],
        };
        let mut smo = Smo { kernel, y, c, alpha, grad: vec![-1.0; m] };
        for i in 0..m {
            if smo.alpha[i] != 0.0 {
                for t in 0..m {
                    smo.grad[t] += smo.alpha[i] * y[i] * y[t] * smo.k(i, t);
                }
            }
        }
        smo
    }

    fn k(&self, i: usize, j: usize) -> f64 {
        self.kernel[i * self.y.len() + j]
    }

    fn at_upper(&self, t: usize) -> bool {
        self.alpha[t] >= self.c
    }

    fn at_lower(&self, t: usize) -> bool {
        self.alpha[t] <= 0.0
    }

    /// May alpha_t move so that y_t alpha_t grows (I_up) / shrinks (I_low)?
    fn in_up(&self, t: usize) -> bool {
        if self.y[t] > 0.0 { !self.at_upper(t) } else { !self.at_lower(t) }
    }

    fn in_low(&self, t: usize) -> bool {
        if self.y[t] > 0.0 { !self.at_lower(t) } else { !self.at_upper(t) }
    }

    /// `quad` with libsvm's floor for a kernel that is not strictly positive definite.
    fn floored(quad: f64) -> f64 {
        if quad > 0.0 { quad } else { TAU }
    }

    /// WSS2: i the maximal violating index in I_up, j in I_low the largest second-order
    /// decrease of the objective with i; `None` once the KKT conditions hold within KKT_TOL.
    fn working_set(&self) -> Option<(usize, usize)> {
        let m = self.y.len();
        let mut g_max = f64::NEG_INFINITY;
        let mut i_sel = None;
        for t in 0..m {
            if self.in_up(t) && -self.y[t] * self.grad[t] >= g_max {
                g_max = -self.y[t] * self.grad[t];
                i_sel = Some(t);
            }
        }
        let i = i_sel?;
        let mut g_max2 = f64::NEG_INFINITY;
        let mut j_sel = None;
        let mut best_decrease = f64::INFINITY;
        for t in (0..m).filter(|&t| self.in_low(t)) {
            let yg = self.y[t] * self.grad[t];
            g_max2 = g_max2.max(yg);
            let grad_diff = g_max + yg;
            if grad_diff > 0.0 {
                let quad = self.k(i, i) + self.k(t, t) - 2.0 * self.k(i, t);
                let decrease = -(grad_diff * grad_diff) / Self::floored(quad);
                if decrease <= best_decrease {
                    best_decrease = decrease;
                    j_sel = Some(t);
                }
            }
        }
        let j = j_sel?;
        if g_max + g_max2 < KKT_TOL {
            None
        } else {
            Some((i, j))
        }
    }

    /// The analytic two-variable update of alpha_i and alpha_j, clipped to the box, and the
    /// gradient updated with it.
    fn step(&mut self, i: usize, j: usize) {
        let (c, y) = (self.c, self.y);
        let (old_i, old_j) = (self.alpha[i], self.alpha[j]);
        let quad = Self::floored(self.k(i, i) + self.k(j, j) - 2.0 * self.k(i, j));
        let (grad, alpha) = (&self.grad, &mut self.alpha);
        if y[i] != y[j] {
            let delta = (-grad[i] - grad[j]) / quad;
            let diff = alpha[i] - alpha[j];
            alpha[i] += delta;
            alpha[j] += delta;
            if diff > 0.0 {
                if alpha[j] < 0.0 {
                    alpha[j] = 0.0;
                    alpha[i] = diff;
                }
            } else if alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = -diff;
            }
            if diff > 0.0 {
                if alpha[i] > c {
                    alpha[i] = c;
                    alpha[j] = c - diff;
                }
            } else if alpha[j] > c {
                alpha[j] = c;
                alpha[i] = c + diff;
            }
        } else {
            let delta = (grad[i] - grad[j]) / quad;
            let sum = alpha[i] + alpha[j];
            alpha[i] -= delta;
            alpha[j] += delta;
            if sum > c {
                if alpha[i] > c {
                    alpha[i] = c;
                    alpha[j] = sum - c;
                }
            } else if alpha[j] < 0.0 {
                alpha[j] = 0.0;
                alpha[i] = sum;
            }
            if sum > c {
                if alpha[j] > c {
                    alpha[j] = c;
                    alpha[i] = sum - c;
                }
            } else if alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = sum;
            }
        }
        let (d_i, d_j) = (self.alpha[i] - old_i, self.alpha[j] - old_j);
        for t in 0..y.len() {
            self.grad[t] += y[t] * (y[i] * self.k(i, t) * d_i + y[j] * self.k(j, t) * d_j);
        }
    }

    /// rho: the mean of y_i grad_i over free variables, else the middle of the feasible range.
    fn rho(&self) -> f64 {
        let (mut upper, mut lower) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut free_sum, mut free_count) = (0.0, 0usize);
        for t in 0..self.y.len() {
            let yg = self.y[t] * self.grad[t];
            // Whether y_t grad_t bounds rho from above (else from below).
            let bounds_above = if self.at_upper(t) {
                self.y[t] < 0.0
            } else if self.at_lower(t) {
                self.y[t] > 0.0
            } else {
                free_sum += yg;
                free_count += 1;
                continue;
            };
            if bounds_above {
                upper = upper.min(yg);
            } else {
                lower = lower.max(yg);
            }
        }
        if free_count > 0 {
            free_sum / free_count as f64
        } else if upper.is_finite() && lower.is_finite() {
            (upper + lower) / 2.0
        } else {
            0.0
        }
    }
}

/// Class probabilities from pairwise ones, r[i][j] = P(i | i or j): Wu, Lin and Weng (JMLR 2004),
/// method 2, as in libsvm.
fn couple_pairwise(r: &[Vec<f64>]) -> Vec<f64> {
    let k = r.len();
    if k == 0 {
        return Vec::new();
    }
    let mut q = vec![vec![0.0; k]; k];
    for t in 0..k {
        for j in 0..k {
            if j != t {
                q[t][t] += r[j][t] * r[j][t];
                q[t][j] = -r[j][t] * r[t][j];
            }
        }
    }
    let mut p = vec![1.0 / k as f64; k];
    let mut qp = vec![0.0; k];
    let eps = 0.005 / k as f64;
    for _ in 0..k.max(100) {
        let mut p_qp = 0.0;
        for t in 0..k {
            qp[t] = (0..k).map(|j| q[t][j] * p[j]).sum();
            p_qp += p[t] * qp[t];
        }
        let max_error = qp.iter().map(|v| (v - p_qp).abs()).fold(0.0, f64::max);
        if max_error < eps {
            break;
        }
        for t in 0..k {
            let diff = (-qp[t] + p_qp) / q[t][t];
            p[t] += diff;
            p_qp = (p_qp + diff * (diff * q[t][t] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t][j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}

fn check_svm_training_set(rows: LabelledRows) -> Result<usize> {
    let n = rows.check()?;
    if n > MAX_TRAIN {
        return Err(Error::invalid(format!(
            "the SVM keeps all {n}^2 kernel distances in memory and accepts at most {MAX_TRAIN} training samples"
        )));
    }
    Ok(n)
}

fn check_hyperparameters(c: f64, gamma: f64) -> Result<()> {
    if !(c.is_finite() && c > 0.0) {
        return Err(Error::invalid(format!("SVM C must be positive, got {c}")));
    }
    if !(gamma.is_finite() && gamma > 0.0) {
        return Err(Error::invalid(format!(
            "SVM gamma must be positive, got {gamma}"
        )));
    }
    Ok(())
}

fn check_grid(grid: &SvmGrid) -> Result<()> {
    let increasing = |v: &[f64]| !v.is_empty() && v.windows(2).all(|w| w[0] < w[1]);
    if !increasing(&grid.c) || !increasing(&grid.gamma_scale) {
        return Err(Error::invalid(
            "SVM grid: C and gamma values must be non-empty and increasing",
        ));
    }
    for &c in &grid.c {
        check_hyperparameters(c, 1.0)?;
    }
    for &g in &grid.gamma_scale {
        check_hyperparameters(1.0, g)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::cv::blobs;
    use super::super::logreg::LogReg;
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn accuracy(predicted: &[usize], truth: &[usize]) -> f64 {
        predicted.iter().zip(truth).filter(|(p, t)| p == t).count() as f64 / truth.len() as f64
    }

    fn rbf_kernel(points: &[[f64; 2]], gamma: f64) -> Vec<f64> {
        let mut k = Vec::new();
        for a in points {
            for b in points {
                let d = (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
                k.push((-gamma * d).exp());
            }
        }
        k
    }

    #[test]
    fn two_points_match_the_closed_form() {
        // Points (0,0) -> +1 and (2,0) -> -1, gamma = 1/4: K12 = e^-1 =: k. The constraint
        // y'a = 0 forces a1 = a2 = a, the dual is a^2 (1 - k) - 2a, minimal at a = 1 / (1 - k),
        // and both gradients Q a - e vanish, so rho = 0: f(x1) = 1, f(x2) = -1 (both on the
        // margin, as KKT requires for free variables) and f = 0 at the midpoint.
        let gamma = 0.25;
        let kernel = rbf_kernel(&[[0.0, 0.0], [2.0, 0.0]], gamma);
        let k12 = (-1f64).exp();
        let solution = solve_binary(&kernel, &[1.0, -1.0], 100.0, None);
        assert!(solution.converged);
        let a = 1.0 / (1.0 - k12);
        assert!(
            (solution.alpha[0] - a).abs() < 1e-9 && (solution.alpha[1] - a).abs() < 1e-9,
            "{solution:?}"
        );
        assert!(solution.rho.abs() < 1e-9);
        // With C below 1 / (1 - k) both variables sit at the bound C, rho is still 0.
        let bounded = solve_binary(&kernel, &[1.0, -1.0], 0.5, None);
        assert_eq!(bounded.alpha, vec![0.5, 0.5]);
        assert!(bounded.rho.abs() < 1e-12);

        // The same through the full pipeline (standardization maps the points to -1 and +1 on
        // the first feature and the constant second feature to 0, so the distance is still 2).
        let x = [0.0f32, 7.0, 2.0, 7.0];
        let model = Svm::fit(LabelledRows::new(&x, 2, &[0, 1], 2), 100.0, gamma).unwrap();
        let dec = model.decision_values(&[0.0, 7.0, 2.0, 7.0, 1.0, 7.0]);
        assert!(
            (dec[0] - 1.0).abs() < 1e-6 && (dec[1] + 1.0).abs() < 1e-6 && dec[2].abs() < 1e-6,
            "{dec:?}"
        );
        assert_eq!(
            model.predict(&[0.9, 7.0, 1.1, 7.0, -5.0, 0.0, 9.0, 100.0]),
            vec![0, 1, 0, 1]
        );
        assert_eq!(model.n_support(), 2);
    }

    #[test]
    fn smo_solution_satisfies_kkt() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let points: Vec<[f64; 2]> = (0..40)
            .map(|_| [rng.random::<f64>() * 4.0, rng.random::<f64>() * 4.0])
            .collect();
        // Overlapping classes, so some variables end at the bound.
        let y: Vec<f64> = points
            .iter()
            .map(|p| {
                if p[0] + p[1] + rng.random::<f64>() * 2.0 > 5.0 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect();
        let kernel = rbf_kernel(&points, 0.5);
        let c = 5.0;
        let s = solve_binary(&kernel, &y, c, None);
        assert!(s.converged);
        assert!(
            s.alpha
                .iter()
                .zip(&y)
                .map(|(a, y)| a * y)
                .sum::<f64>()
                .abs()
                < 1e-9
        );
        let m = y.len();
        let mut n_free = 0;
        let mut n_bound = 0;
        for i in 0..m {
            let a = s.alpha[i];
            assert!((0.0..=c).contains(&a));
            let f: f64 = (0..m)
                .map(|j| s.alpha[j] * y[j] * kernel[j * m + i])
                .sum::<f64>()
                - s.rho;
            let margin = y[i] * f;
            let tol = 2e-3;
            if a == 0.0 {
                assert!(margin >= 1.0 - tol, "alpha 0 inside margin: {margin}");
            } else if a == c {
                n_bound += 1;
                assert!(margin <= 1.0 + tol, "alpha C outside margin: {margin}");
            } else {
                n_free += 1;
                assert!(
                    (margin - 1.0).abs() <= tol,
                    "free alpha off margin: {margin}"
                );
            }
        }
        assert!(n_free > 0 && n_bound > 0, "free {n_free}, bound {n_bound}");

        // Warm start from a smaller C reaches the same solution.
        let small = solve_binary(&kernel, &y, 0.5, None);
        let warm = solve_binary(&kernel, &y, c, Some(&small.alpha));
        let objective = |a: &[f64]| {
            let mut v = -a.iter().sum::<f64>();
            for i in 0..m {
                for j in 0..m {
                    v += 0.5 * a[i] * a[j] * y[i] * y[j] * kernel[i * m + j];
                }
            }
            v
        };
        assert!(
            (objective(&warm.alpha) - objective(&s.alpha)).abs() < 1e-3 * objective(&s.alpha).abs()
        );
        assert!((warm.rho - s.rho).abs() < 1e-2);
    }

    fn xor_data(seed: u64) -> (Vec<f32>, Vec<usize>) {
        let (x, quadrant) = blobs(
            &[&[2.0, 2.0], &[-2.0, -2.0], &[2.0, -2.0], &[-2.0, 2.0]],
            0.4,
            15,
            seed,
        );
        (x, quadrant.iter().map(|&q| q / 2).collect())
    }

    #[test]
    fn xor_is_fit_by_rbf_but_not_by_a_linear_model() {
        let (x, y) = xor_data(1);
        let linear = LogReg::fit(LabelledRows::new(&x, 2, &y, 2), 1e-4).unwrap();
        assert!(accuracy(&linear.predict(&x), &y) < 0.8);
        let (model, report) = select_and_fit(LabelledRows::new(&x, 2, &y, 2), 3).unwrap();
        assert_eq!(accuracy(&model.predict(&x), &y), 1.0, "{report}");
        let (x_test, y_test) = xor_data(2);
        assert!(accuracy(&model.predict(&x_test), &y_test) > 0.95);
    }

    #[test]
    fn two_blobs_are_split_between_them() {
        let (x, y) = blobs(&[&[0.0, 0.0, 0.0], &[6.0, 6.0, 0.0]], 0.7, 20, 5);
        let (model, report) = select_and_fit(LabelledRows::new(&x, 3, &y, 2), 1).unwrap();
        assert_eq!(report.folds, 5);
        assert_eq!(report.grid.len(), 66);
        // Decision values are positive (class 0) around the first centre and beyond it.
        let probes = [
            0.0f32, 0.0, 0.0, -1.0, -1.0, 0.5, 2.0, 2.0, 0.0, 4.0, 4.0, 0.0, 6.0, 6.0, 0.0, 7.0,
            7.0, -0.5,
        ];
        let dec = model.decision_values(&probes);
        assert!(
            dec[..3].iter().all(|&d| d > 0.0) && dec[3..].iter().all(|&d| d < 0.0),
            "{dec:?}"
        );
        assert_eq!(model.predict(&probes), vec![0, 0, 0, 1, 1, 1]);
        let (x_test, y_test) = blobs(&[&[0.0, 0.0, 0.0], &[6.0, 6.0, 0.0]], 0.7, 50, 6);
        assert_eq!(accuracy(&model.predict(&x_test), &y_test), 1.0);
    }

    #[test]
    fn three_blobs_and_an_empty_class() {
        let centres: [&[f32]; 3] = [&[0.0, 0.0], &[4.0, 0.0], &[2.0, 3.5]];
        let (x, y) = blobs(&centres, 0.6, 12, 7);
        // Class 3 has no training samples: it gets no machine, no votes and probability 0.
        let (model, report) = select_and_fit(LabelledRows::new(&x, 2, &y, 4), 2).unwrap();
        assert_eq!(model.pairs().len(), 3);
        assert!(report.cv_accuracy.unwrap() > 0.9, "{report}");
        let (x_test, y_test) = blobs(&centres, 0.6, 40, 8);
        let predicted = model.predict(&x_test);
        assert!(accuracy(&predicted, &y_test) > 0.95);
        let proba = model.predict_proba(&x_test);
        assert_eq!(proba.len(), y_test.len() * 4);
        for row in proba.chunks(4) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            assert_eq!(row[3], 0.0);
        }
        let centre_proba = model.predict_proba(&[0.0, 0.0, 4.0, 0.0, 2.0, 3.5]);
        for (c, row) in centre_proba.chunks(4).enumerate() {
            assert_eq!(argmax(row), c, "{row:?}");
        }
    }

    #[test]
    fn calibrated_probabilities_are_confident_where_the_classes_are_apart() {
        // Far-apart blobs: a pair's held-out decision values separate the classes, so Platt's
        // sigmoid is steep; the plain sigmoid of a decision value near the margin (|d| ~ 1)
        // would give about 0.73.
        let (x, y) = blobs(&[&[0.0, 0.0, 0.0], &[6.0, 6.0, 0.0]], 0.7, 20, 5);
        let model = Svm::fit(LabelledRows::new(&x, 3, &y, 2), 1.0, 0.5).unwrap();
        let pair = &model.pairs()[0];
        assert!(pair.platt.a < -1.0, "{:?}", pair.platt);
        let proba = model.predict_proba(&[0.0, 0.0, 0.0, 6.0, 6.0, 0.0]);
        assert!(proba[0] > 0.9 && proba[3] > 0.9, "{proba:?}");
        // Overlapping blobs: less sure than that at a point between them.
        let (x, y) = blobs(&[&[0.0, 0.0], &[1.0, 0.0]], 1.0, 20, 7);
        let model = Svm::fit(LabelledRows::new(&x, 2, &y, 2), 1.0, 0.5).unwrap();
        let between = model.predict_proba(&[0.5, 0.0]);
        assert!(between[0] > 0.2 && between[0] < 0.8, "{between:?}");
    }

    #[test]
    fn a_model_saved_before_calibration_reads_with_the_plain_sigmoid() {
        let (x, y) = blobs(&[&[0.0, 0.0], &[3.0, 0.0]], 1.0, 10, 9);
        let model = Svm::fit(LabelledRows::new(&x, 2, &y, 2), 1.0, 0.5).unwrap();
        let mut json: serde_json::Value = serde_json::to_value(&model).unwrap();
        for pair in json["pairs"].as_array_mut().unwrap() {
            pair.as_object_mut().unwrap().remove("platt");
        }
        let back: Svm = serde_json::from_value(json).unwrap();
        assert_eq!(back.pairs()[0].platt, Platt::default());
        assert_eq!(back.predict(&x), model.predict(&x));
    }

    #[test]
    fn serde_round_trip_keeps_predictions() {
        let (x, y) = blobs(&[&[0.0, 0.0], &[3.0, 0.0], &[0.0, 3.0]], 1.0, 10, 9);
        let (model, _) = select_and_fit(LabelledRows::new(&x, 2, &y, 3), 0).unwrap();
        let json = serde_json::to_string(&model).unwrap();
        let back: Svm = serde_json::from_str(&json).unwrap();
        let (probe, _) = blobs(&[&[1.0, 1.0]], 2.0, 200, 10);
        assert_eq!(back.predict(&probe), model.predict(&probe));
        for (a, b) in back
            .decision_values(&probe)
            .iter()
            .zip(model.decision_values(&probe))
        {
            assert!((a - b).abs() < 1e-9);
        }
        let fitted = super::super::classifier::FittedClassifier::Svm(model);
        let json = serde_json::to_string(&fitted).unwrap();
        let back: super::super::classifier::FittedClassifier = serde_json::from_str(&json).unwrap();
        assert_eq!(back.predict(&probe), fitted.predict(&probe));
        assert_eq!(back.kind(), ClassifierKind::Svm);
    }

    #[test]
    fn pairwise_coupling_recovers_consistent_probabilities() {
        let p = [0.5, 0.3, 0.2];
        let r: Vec<Vec<f64>> = (0..3)
            .map(|i| (0..3).map(|j| p[i] / (p[i] + p[j])).collect())
            .collect();
        let q = couple_pairwise(&r);
        for (a, b) in q.iter().zip(p) {
            assert!((a - b).abs() < 1e-2, "{q:?}");
        }
    }

    #[test]
    fn single_sample_class_falls_back_to_defaults() {
        let (mut x, mut y) = blobs(&[&[0.0, 0.0], &[3.0, 3.0]], 0.5, 6, 5);
        x.extend_from_slice(&[10.0, -10.0]);
        y.push(2);
        let (model, report) = select_and_fit(LabelledRows::new(&x, 2, &y, 3), 0).unwrap();
        assert_eq!(report.folds, 0);
        assert!(report.note.unwrap().contains("single training sample"));
        assert_eq!(model.c(), DEFAULT_C);
        assert_eq!(model.predict(&[10.0, -10.0]), vec![2]);
    }

    #[test]
    fn bad_input_is_an_error() {
        let x = [0.0f32, 1.0, 2.0, 3.0];
        assert!(Svm::fit(LabelledRows::new(&x, 1, &[0, 0, 1, 1], 2), 0.0, 1.0).is_err());
        assert!(Svm::fit(LabelledRows::new(&x, 1, &[0, 0, 1, 1], 2), 1.0, f64::NAN).is_err());
        assert!(Svm::fit(LabelledRows::new(&x, 1, &[0, 0, 1], 2), 1.0, 1.0).is_err());
        let big = vec![0.0f32; MAX_TRAIN + 1];
        let labels: Vec<usize> = (0..=MAX_TRAIN).map(|i| i % 2).collect();
        assert!(select_and_fit(LabelledRows::new(&big, 1, &labels, 2), 0).is_err());
        let bad_grid = SvmGrid {
            c: vec![10.0, 1.0],
            gamma_scale: vec![1.0],
        };
        assert!(select_and_fit_with_grid(LabelledRows::new(&x, 1, &[0, 0, 1, 1], 2), 0, &bad_grid).is_err());
    }
}
