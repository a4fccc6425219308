//! Label maps: 0 is unlabelled, every other stored value is a class. Stored values need not be
//! 1..K (Salinas uses 1, 10, 11, ...; drill cores use 1-99 and >100), so they are mapped to dense
//! indices 0..K and back.

use crate::error::{Error, Result};

/// A per-pixel label map with dense class indices.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LabelMap {
    pub height: usize,
    pub width: usize,
    /// Per pixel: `None` for unlabelled, else the dense class index in `0..n_classes()`.
    pub classes: Vec<Option<u16>>,
    /// Stored (file) value of each dense class, ascending.
    pub values: Vec<u32>,
    /// Human-readable class names, one per dense class (the stored value when none is known).
    pub names: Vec<String>,
}

impl LabelMap {
    /// Builds a map from stored values (0 = unlabelled). Negative or non-integer values are
    /// rejected by the caller's conversion; this only sees u32.
    pub fn from_values(height: usize, width: usize, stored: &[u32]) -> Result<Self> {
        if stored.len() != height * width {
            return Err(Error::invalid(format!(
                "label map has {} values, expected {height} x {width} = {}",
                stored.len(),
                height * width
            )));
        }
        let mut values: Vec<u32> = stored.iter().copied().filter(|&v| v != 0).collect();
        values.sort_unstable();
        values.dedup();
        if values.len() > u16::MAX as usize {
            return Err(Error::invalid(format!("{} distinct classes is too many", values.len())));
        }
        let classes = stored
            .iter()
            .map(|&v| if v == 0 { None } else { values.binary_search(&v).ok().map(|i| i as u16) })
            .collect();
        let names = values.iter().map(|v| format!("class {v}")).collect();
        Ok(LabelMap { height, width, classes, values, names })
    }

    /// Replaces the default names; `names[i]` names stored value `i + 1` (the usual layout of a
    /// class-name list where 0 is the background).
    pub fn name_by_stored_value(&mut self, names: &[String]) {
        for (k, v) in self.values.iter().enumerate() {
            if let Some(n) = (*v as usize).checked_sub(1).and_then(|i| names.get(i)) {
                self.names[k] = n.clone();
            }
        }
    }

    pub fn n_classes(&self) -> usize {
        self.values.len()
    }

    /// Stored value of dense class `k` (the inverse mapping).
    pub fn stored_value(&self, k: usize) -> u32 {
        self.values[k]
    }

    /// Stored values for every pixel (0 = unlabelled): the inverse of [`LabelMap::from_values`].
    pub fn to_values(&self) -> Vec<u32> {
        self.classes.iter().map(|c| c.and_then(|k| self.values.get(k as usize).copied()).unwrap_or(0)).collect()
    }

    /// Number of labelled pixels per dense class.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.n_classes()];
        // A hand-built map may hold an index past the class list: skip it rather than panic.
        for k in self.classes.iter().flatten() {
            if let Some(c) = counts.get_mut(*k as usize) {
                *c += 1;
            }
        }
        counts
    }

    pub fn n_labelled(&self) -> usize {
        self.classes.iter().filter(|c| c.is_some()).count()
    }

    /// Indices (row-major pixel numbers) of the labelled pixels of each class.
    pub fn pixels_by_class(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.n_classes()];
        for (i, c) in self.classes.iter().enumerate() {
            if let Some(list) = c.and_then(|k| out.get_mut(k as usize)) {
                list.push(i);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_values_map_to_dense_and_back() {
        let stored = [0, 1, 10, 11, 10, 0];
        let m = LabelMap::from_values(2, 3, &stored).unwrap();
        assert_eq!(m.values, vec![1, 10, 11]);
        assert_eq!(m.classes, vec![None, Some(0), Some(1), Some(2), Some(1), None]);
        assert_eq!(m.counts(), vec![1, 2, 1]);
        assert_eq!(m.to_values(), stored.to_vec());
        assert_eq!(m.n_labelled(), 4);
    }

    #[test]
    fn wrong_size_is_an_error() {
        assert!(LabelMap::from_values(2, 2, &[0, 1, 2]).is_err());
    }
}
