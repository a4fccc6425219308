//! The one trait every fitted model answers to: classes and class probabilities of rows of
//! spectra, as arrays.

use ndarray::{Array1, Array2, ArrayView2};

use super::trained::Trained;
use crate::data::array::row_major;
use crate::error::{Error, Result};
use crate::models::backend::Backend;

/// A fitted model that classifies rows of spectra (`n x bands`).
pub trait Predictor {
    /// The stored label value of each class, in the order of [`Predictor::predict_proba`]'s
    /// columns.
    fn classes(&self) -> &[u32];

    /// Class probabilities of every row, `n x classes`; each row sums to 1.
    fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>>;

    /// The label value of every row: the class of highest probability (for M1's SVM, its
    /// one-against-one vote).
    fn predict(&self, x: ArrayView2<f32>) -> Result<Array1<u32>>;
}

impl<B: Backend> Trained<B> {
    fn classify_array(&self, x: ArrayView2<f32>) -> Result<(Vec<usize>, Vec<f32>)> {
        if x.ncols() != self.scaler.bands() {
            return Err(Error::invalid(format!("rows of {} bands for a model of {} bands", x.ncols(), self.scaler.bands())));
        }
        self.predict_rows(&row_major(x))
    }
}

impl<B: Backend> Predictor for Trained<B> {
    fn classes(&self) -> &[u32] {
        &self.classes.values
    }

    fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        let (_, p) = self.classify_array(x.view())?;
        Ok(Array2::from_shape_vec((x.nrows(), self.classes.values.len()), p).expect("one probability per row and class"))
    }

    fn predict(&self, x: ArrayView2<f32>) -> Result<Array1<u32>> {
        let (c, _) = self.classify_array(x)?;
        Ok(Array1::from(self.label_values(&c)))
    }
}
