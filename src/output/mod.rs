//! Letters written to files: one writer per format, all-or-nothing through a staging directory,
//! and print-ready PDFs.

pub mod outbox;
pub mod pdf;
