//! End-to-end tests: one binary that runs the real `letterdrive` in temp directories and checks
//! exit codes, messages and the files it writes.

mod util;

mod aiosmtpd;
mod browser;
mod bundled;
mod cli;
mod docs;
mod editable;
mod errors;
mod language;
mod ledger;
mod mail_server;
mod oauth2;
mod own_words;
mod pack;
mod pdf;
mod pty;
mod release;
mod render;
mod replies;
mod safety;
mod send;
mod send_profile;
mod send_terminal;
mod spreadsheet;
mod targeting;
mod untrusted;
mod volunteer;
mod wizard;
