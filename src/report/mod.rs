//! Maps, plots, reports.
