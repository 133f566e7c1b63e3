//! End-to-end tests: one binary that runs the real `letterdrive` in temp directories and checks
//! exit codes, messages and the files it writes.

mod util;

mod aiosmtpd;
mod bundled;
mod cli;
mod errors;
mod language;
mod pdf;
mod render;
mod safety;
mod send;
mod targeting;
mod wizard;
