//! Letters written to files: one writer per format, all-or-nothing through a staging directory,
//! and print-ready PDFs.

pub mod encode;
pub mod outbox;
pub mod page;
pub mod pdf;

pub use encode::{Encoded, Encoder};
pub use outbox::{Outbox, Summary};
pub use page::PageInfo;

/// What a run writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One plain-text file per letter: headers, then the Markdown body.
    Txt,
    /// One RFC 5322 message per letter, ready to open in a mail client.
    Eml,
    /// Every letter in one mbox file (mboxrd).
    Mbox,
    /// One HTML page with a card and a mailto: link per recipient.
    Html,
    /// One print-ready PDF per letter, or one for all.
    Pdf,
}
