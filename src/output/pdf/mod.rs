//! Print-ready letters: a Markdown letter laid out on A4 or US Letter (sender, date, recipient
//! block in the window of a DL envelope, subject, body, page numbers) and written as PDF with its
//! font embedded, so it prints the same on any machine.
//!
//! - `layout` measures and wraps the text and sets it on pages: a `Layout` is lines at positions.
//! - `font` maps text to the glyphs of the font and keeps the set a document shows, from which
//!   the embedded subset and its ToUnicode map (so text extracts) are made.
//! - `writer` writes a `Layout` as PDF objects with pdf-writer. The whole-campaign file
//!   (`--one-file`) is streamed a letter at a time, so its memory does not grow with the letters
//!   beyond one offset per object and one id per page.

mod font;
mod layout;
mod writer;

pub use font::{missing_glyph, BUNDLED_BOLD, BUNDLED_FONT};
pub use layout::{layout, Head, Layout, Paper, Style};
pub use writer::{single, Document};
