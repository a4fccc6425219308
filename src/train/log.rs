//! The training log: one CSV row per evaluation, with the first users' columns first so their
//! plotting scripts keep working.

use crate::error::{Error, Result};
use std::path::Path;

pub const HEADER: &str =
    "Step,TimeElapsed,LowerboundMinibatch,LowerboundValid,NumStepNotImproving,Reconstruction,KL,ValidAccuracy,Epoch,LearningRate,Event";

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogRow {
    pub step: u64,
    #[serde(with = "nan_as_null")]
    pub time_elapsed: f64,
    #[serde(with = "nan_as_null")]
    pub bound_minibatch: f64,
    #[serde(with = "nan_as_null")]
    pub bound_valid: f64,
    pub not_improving: usize,
    #[serde(with = "nan_as_null")]
    pub reconstruction: f64,
    #[serde(with = "nan_as_null")]
    pub kl: f64,
    /// Validation accuracy where the model classifies (M2), NaN otherwise.
    #[serde(with = "nan_as_null")]
    pub valid_accuracy: f64,
    pub epoch: usize,
    pub learning_rate: f64,
    /// Something that happened at this row (a divergence recovery), empty otherwise.
    pub event: String,
}

/// JSON has no NaN: missing values are written as null and read back as NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

fn num(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v:.6}")
    }
}

impl LogRow {
    /// The row's fields in the order of [`HEADER`].
    fn fields(&self) -> [String; 11] {
        [
            self.step.to_string(),
            format!("{:.3}", self.time_elapsed),
            num(self.bound_minibatch),
            num(self.bound_valid),
            self.not_improving.to_string(),
            num(self.reconstruction),
            num(self.kl),
            num(self.valid_accuracy),
            self.epoch.to_string(),
            format!("{:e}", self.learning_rate),
            self.event.clone(),
        ]
    }
}

/// Renders the whole log (header and rows) as CSV text. The csv crate quotes a field that
/// needs it (an event such as "restored epoch 3, learning rate halved"), so every row has the
/// header's 11 fields for any CSV reader.
pub fn to_csv(rows: &[LogRow]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing into memory cannot fail.
    w.write_record(HEADER.split(',')).expect("in memory");
    for r in rows {
        w.write_record(r.fields()).expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("the fields are text")
}

/// Reads a log written by [`to_csv`]; used by the plots.
pub fn read_csv(path: &Path) -> Result<Vec<LogRow>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_path(path).map_err(|e| Error::bad(path, format!("cannot read the training log: {e}")))?;
    let header = reader.headers().map_err(|e| Error::bad(path, format!("cannot read the training log: {e}")))?;
    if header.iter().collect::<Vec<_>>() != HEADER.split(',').collect::<Vec<_>>() {
        return Err(Error::bad(path, "not a hyperssl training log (unexpected header)"));
    }
    let f = |s: &str| if s.is_empty() { Ok(f64::NAN) } else { s.parse::<f64>() };
    reader
        .records()
        .enumerate()
        .map(|(i, record)| {
            let bad = || Error::bad(path, format!("line {}: malformed row", i + 2));
            let c = record.map_err(|_| bad())?;
            // Logs written before the event field was quoted split an event at its commas.
            if c.len() < 11 {
                return Err(bad());
            }
            let event = c.iter().skip(10).collect::<Vec<_>>().join(",");
            Ok(LogRow {
                step: c[0].parse().map_err(|_| bad())?,
                time_elapsed: f(&c[1]).map_err(|_| bad())?,
                bound_minibatch: f(&c[2]).map_err(|_| bad())?,
                bound_valid: f(&c[3]).map_err(|_| bad())?,
                not_improving: c[4].parse().map_err(|_| bad())?,
                reconstruction: f(&c[5]).map_err(|_| bad())?,
                kl: f(&c[6]).map_err(|_| bad())?,
                valid_accuracy: f(&c[7]).map_err(|_| bad())?,
                epoch: c[8].parse().map_err(|_| bad())?,
                learning_rate: f(&c[9]).map_err(|_| bad())?,
                event,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip() {
        let row = LogRow {
            step: 120,
            time_elapsed: 1.5,
            bound_minibatch: -10.25,
            bound_valid: -11.5,
            not_improving: 2,
            reconstruction: -5.0,
            kl: 5.25,
            valid_accuracy: f64::NAN,
            epoch: 3,
            learning_rate: 3e-4,
            event: String::new(),
        };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.csv");
        std::fs::write(&p, to_csv(std::slice::from_ref(&row))).unwrap();
        let back = read_csv(&p).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].step, 120);
        assert_eq!(back[0].bound_valid, -11.5);
        assert!(back[0].valid_accuracy.is_nan());
        assert!(to_csv(&[row]).starts_with("Step,TimeElapsed,LowerboundMinibatch,LowerboundValid,NumStepNotImproving"));
    }

    #[test]
    fn an_event_with_a_comma_is_one_quoted_field_and_reads_back() {
        let row = |event: &str| LogRow {
            step: 7,
            time_elapsed: 0.25,
            bound_minibatch: -1.0,
            bound_valid: f64::NAN,
            not_improving: 0,
            reconstruction: -2.0,
            kl: 1.0,
            valid_accuracy: 0.5,
            epoch: 1,
            learning_rate: 5e-4,
            event: event.to_string(),
        };
        let event = "restored epoch 3, learning rate halved";
        let text = to_csv(&[row(event), row("")]);
        let line = text.lines().nth(1).unwrap();
        assert!(line.ends_with(",\"restored epoch 3, learning rate halved\""), "{line}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.csv");
        std::fs::write(&p, &text).unwrap();
        let back = read_csv(&p).unwrap();
        assert_eq!((back[0].event.as_str(), back[1].event.as_str()), (event, ""));
        // A log from before the quoting still reads, its event whole.
        let old = format!("{HEADER}\n7,0.250,-1.000000,,0,-2.000000,1.000000,0.500000,1,5e-4,{event}\n");
        std::fs::write(&p, old).unwrap();
        assert_eq!(read_csv(&p).unwrap()[0].event, event);
    }
}
