//! Letters written to files: one writer per format, all-or-nothing through a staging directory,
//! and print-ready PDFs.

pub mod encode;
pub mod outbox;
pub mod page;
pub mod pdf;

pub use encode::{Encoded, Encoder};
pub use outbox::{Outbox, Summary};
pub use page::PageInfo;
