//! Reading the layout of a disc from a drive (see the crate docs).
