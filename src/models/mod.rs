//! Models: distributions, M1, M2, stacked M1+M2.
