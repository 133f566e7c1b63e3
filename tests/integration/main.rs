//! End-to-end tests: one binary that runs the real `letterdrive` in temp directories and checks
//! exit codes, messages and the files it writes.

mod util;

mod aiosmtpd;
mod bundled;
mod cli;
mod errors;
mod language;
mod ledger;
mod mail_server;
mod oauth2;
mod own_words;
mod pdf;
mod pty;
mod render;
mod safety;
mod send;
mod send_profile;
mod send_terminal;
mod targeting;
mod untrusted;
mod volunteer;
mod wizard;
