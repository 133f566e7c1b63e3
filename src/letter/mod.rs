//! One letter and the run that makes them: a recipient row rendered by Handlebars (strict), its
//! Markdown made safe HTML by pulldown-cmark, and both built into a MIME message by lettre. `run`
//! streams a group's rows through that on worker threads; `check` finds every problem first.

pub mod check;
pub mod editable;
pub mod locale;
pub mod markdown;
pub mod message;
pub mod own;
pub mod pieces;
pub mod postal;
pub mod render;
pub mod run;
pub mod syntax;
pub mod translation;
