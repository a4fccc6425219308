//! A scene's class map from a classifier's output: the labelled pixels' classes propagated over
//! the scene's graph ([`super::propagation`]), then the graph cut ([`super::mrf`]), each when
//! its configuration has it on.

use super::mrf::{self, MrfConfig};
use super::propagation::{spread, weigh, PropagationConfig, Seeds};
use crate::data::array::argmax_rows;

/// A classifier's output over a `height x width` scene and the model inputs it came from.
pub struct SceneOutput<'a> {
    /// The classifier's own class of every pixel (an SVM's votes need not be the argmax of its
    /// probabilities).
    pub classes: &'a [usize],
    /// Class probabilities, `n_pixels x k`, row-major.
    pub probs: &'a [f32],
    pub k: usize,
    pub height: usize,
    pub width: usize,
    /// Model inputs, `n_pixels x dim`, row-major: the space of the propagation's graph.
    pub inputs: &'a [f32],
    pub dim: usize,
}

/// The regularisations of a class map, in the order they apply.
pub struct Regularisers<'a> {
    pub propagation: &'a PropagationConfig,
    pub mrf: &'a MrfConfig,
}

/// A scene's class map and the class probabilities it was decided from.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassMap {
    /// The class of every pixel.
    pub classes: Vec<usize>,
    /// The classifier's probabilities weighed by label propagation, `n_pixels x k`, where
    /// propagation ran; `None` where the map was decided from the classifier's own.
    pub propagated: Option<Vec<f32>>,
}

impl ClassMap {
    /// The probabilities the map was decided from: the propagated ones where propagation ran,
    /// else `classifier`'s own (which the graph cut reads as they are).
    pub fn probabilities<'a>(&'a self, classifier: &'a [f32]) -> &'a [f32] {
        self.propagated.as_deref().unwrap_or(classifier)
    }
}

/// The class of every pixel after the regularisers that are on, with the probabilities that
/// decided it; the classifier's classes when none is (or propagation has no labelled pixels to
/// spread and the cut is off).
pub fn regularised_map(out: &SceneOutput, seeds: &Seeds, with: &Regularisers) -> ClassMap {
    if !with.propagation.is_on() || seeds.is_empty() {
        let map = mrf::ProbabilityMap { probs: out.probs, k: out.k, height: out.height, width: out.width };
        return ClassMap { classes: mrf::class_map(out.classes.to_vec(), map, with.mrf), propagated: None };
    }
    map_from_reach(out, &spread(out.inputs, out.dim, seeds, out.k, with.propagation), with.mrf)
}

/// [`regularised_map`] with propagation on, from what its spread over the scene's graph let
/// reach each pixel (`n_pixels x k`, [`spread`]'s output): the spread depends on the graph and
/// the seeds alone, so the classifiers of one scene and seeds can share it.
pub fn map_from_reach(out: &SceneOutput, reached: &[f32], mrf: &MrfConfig) -> ClassMap {
    let probs = weigh(out.probs, out.k, reached);
    let classes = if mrf.is_on() { mrf::regularise(&probs, out.k, out.height, out.width, mrf) } else { argmax_rows(&probs, out.k) };
    ClassMap { classes, propagated: Some(probs) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2 x 4 scene: two columns of pixels alike in their inputs on each side; the classifier
    /// leans to class 1 everywhere, more so on the right.
    fn scene() -> (Vec<usize>, Vec<f32>, Vec<f32>) {
        let probs: Vec<f32> = [0.45f32, 0.45, 0.2, 0.2, 0.45, 0.45, 0.2, 0.2].iter().flat_map(|&p0| [p0, 1.0 - p0]).collect();
        let inputs: Vec<f32> = [0.0f32, 0.1, 5.0, 5.1, 0.05, 0.15, 5.05, 5.15].to_vec();
        (vec![1; 8], probs, inputs)
    }

    /// One labelled example in each column pair of [`scene`], and a propagation over two
    /// neighbours that reaches every pixel.
    fn labelled() -> (Seeds, PropagationConfig) {
        (Seeds { inputs: vec![0.07, 5.07], classes: vec![0, 1] }, PropagationConfig { neighbours: 2, max_candidates: 100, ..Default::default() })
    }

    #[test]
    fn a_labelled_example_turns_the_pixels_like_it_and_no_others() {
        let (classes, probs, inputs) = scene();
        let out = SceneOutput { classes: &classes, probs: &probs, k: 2, height: 2, width: 4, inputs: &inputs, dim: 1 };
        let (seeds, propagation) = labelled();
        let off = MrfConfig::off();
        let map = regularised_map(&out, &seeds, &Regularisers { propagation: &propagation, mrf: &off });
        assert_eq!(map.classes, vec![0, 0, 1, 1, 0, 0, 1, 1]);
        // Without propagation (or without labelled examples) the classifier's classes stand.
        let none = PropagationConfig::off();
        assert_eq!(regularised_map(&out, &seeds, &Regularisers { propagation: &none, mrf: &off }).classes, classes);
        assert_eq!(regularised_map(&out, &Seeds::default(), &Regularisers { propagation: &propagation, mrf: &off }).classes, classes);
    }

    #[test]
    fn the_map_comes_with_the_probabilities_that_decided_it() {
        let (classes, probs, inputs) = scene();
        let out = SceneOutput { classes: &classes, probs: &probs, k: 2, height: 2, width: 4, inputs: &inputs, dim: 1 };
        let (seeds, propagation) = labelled();
        let off = MrfConfig::off();
        let map = regularised_map(&out, &seeds, &Regularisers { propagation: &propagation, mrf: &off });
        let decided = map.probabilities(&probs);
        // Each pixel's most probable class is its class on the map, though the classifier put
        // class 1 first everywhere; each row is a distribution.
        assert_eq!(argmax_rows(decided, 2), map.classes);
        assert_ne!(argmax_rows(&probs, 2), map.classes);
        for row in decided.chunks_exact(2) {
            assert!((row[0] + row[1] - 1.0).abs() < 1e-6 && row.iter().all(|&p| p >= 0.0), "{row:?}");
        }
        // Where nothing was propagated (the graph cut alone), the map's are the classifier's.
        let cut = MrfConfig { weight: 1.0, sweeps: 3 };
        let none = PropagationConfig::off();
        let cut_only = regularised_map(&out, &seeds, &Regularisers { propagation: &none, mrf: &cut });
        assert_eq!((cut_only.propagated.as_deref(), cut_only.probabilities(&probs)), (None, &probs[..]));
    }
}
