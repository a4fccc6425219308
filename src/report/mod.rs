//! Maps, plots and the run report.
