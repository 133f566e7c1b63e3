//! Running the real binary in a pseudo-terminal, typing into it the way a person would (arrow
//! keys, space, enter, text, Ctrl-C), with its own HOME and config directory so the real
//! profile is never touched.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession;
use expectrl::{Eof, Expect, Session};

use crate::util::{Sandbox, DATE_EPOCH};

pub const DOWN: &str = "\x1b[B";
pub const UP: &str = "\x1b[A";
pub const SPACE: &str = " ";
pub const ENTER: &str = "\r";
pub const CTRL_C: &str = "\x03";
pub const CTRL_D: &str = "\x04";

/// The real binary in a pseudo-terminal, with what it printed kept for failure messages.
pub struct Guided {
    session: OsSession,
    pub seen: String,
    /// Keys pressed and lines typed, and when the run started: what a volunteer's run costs.
    presses: usize,
    started: std::time::Instant,
}

impl Guided {
    /// With `$EDITOR` set to the sandbox's `bin/editor`.
    pub fn start(sb: &Sandbox, args: &[&str]) -> Guided {
        let mut cmd = command(sb, args);
        cmd.env("EDITOR", sb.join("bin/editor"));
        Guided::spawn(cmd)
    }

    /// With `$TMPDIR` set to `tmp`, to see what a run leaves in the temporary directory.
    pub fn start_with_tmpdir(sb: &Sandbox, args: &[&str], tmp: &Path) -> Guided {
        let mut cmd = command(sb, args);
        cmd.env("EDITOR", sb.join("bin/editor")).env("TMPDIR", tmp);
        Guided::spawn(cmd)
    }

    /// With neither `$EDITOR` nor `$VISUAL` set, as on a fresh account.
    pub fn start_without_editor(sb: &Sandbox, args: &[&str]) -> Guided {
        let mut cmd = command(sb, args);
        cmd.env_remove("EDITOR");
        Guided::spawn(cmd)
    }

    fn spawn(cmd: Command) -> Guided {
        let mut session = Session::spawn(cmd).expect("start letterdrive in a pseudo-terminal");
        session
            .get_process_mut()
            .set_window_size(200, 60)
            .expect("set the terminal size");
        // A watchdog, not a timing assertion: a hung prompt fails the test instead of the suite.
        session.set_expect_timeout(Some(Duration::from_secs(20)));
        Guided {
            session,
            seen: String::new(),
            presses: 0,
            started: std::time::Instant::now(),
        }
    }

    /// Wait until the program has printed `text`.
    pub fn see(&mut self, text: &str) -> &mut Guided {
        match self.session.expect(text) {
            Ok(found) => {
                self.seen.push_str(&String::from_utf8_lossy(found.before()));
                for m in found.matches() {
                    self.seen.push_str(&String::from_utf8_lossy(m));
                }
                self
            }
            Err(e) => panic!(
                "waiting for {text:?}: {e}\n--- the terminal so far ---\n{}",
                self.seen
            ),
        }
    }

    /// Press keys or type text; a short pause lets each key land at its own question.
    pub fn keys(&mut self, keys: &str) -> &mut Guided {
        self.session.send(keys).expect("type into the terminal");
        self.presses += 1;
        std::thread::sleep(Duration::from_millis(60));
        self
    }

    pub fn line(&mut self, text: &str) -> &mut Guided {
        self.keys(text).keys(ENTER)
    }

    /// The signer's questions of a first run: Ada's name and address, and nothing else.
    pub fn sign_as_ada(&mut self) -> &mut Guided {
        self.see("Your name").line("Ada Volunteer");
        self.see("Your e-mail address").line("ada@example.org");
        for question in ["Your city", "Your country", "Your organisation"] {
            self.see(question).keys(ENTER);
        }
        self
    }

    /// What the run took, for a measurement (never an assertion): the questions answered (each
    /// marked done with ✔), the keys pressed or lines typed, and the time.
    pub fn effort(&self) -> String {
        let answered = self.seen.matches('✔').count();
        let secs = self.started.elapsed().as_secs_f64();
        format!(
            "{answered} questions answered with {} key presses or typed lines, in {secs:.1} s",
            self.presses
        )
    }

    /// Read to the end and return the exit code.
    pub fn exit_code(&mut self) -> i32 {
        match self.session.expect(Eof) {
            Ok(found) => self.seen.push_str(&String::from_utf8_lossy(found.before())),
            Err(e) => panic!(
                "waiting for the end: {e}\n--- the terminal so far ---\n{}",
                self.seen
            ),
        }
        match self
            .session
            .get_process()
            .wait()
            .expect("wait for letterdrive")
        {
            WaitStatus::Exited(_, code) => code,
            other => panic!(
                "letterdrive did not exit normally: {other:?}\n{}",
                self.seen
            ),
        }
    }
}

/// The real binary in `sb`, with its own HOME and config directory and none of the caller's
/// letterdrive settings.
fn command(sb: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_letterdrive"));
    cmd.current_dir(sb.path()).args(args);
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("LETTERDRIVE_") || k == "VISUAL" || k == "CLICOLOR_FORCE" {
            cmd.env_remove(&key);
        }
    }
    cmd.env("HOME", sb.join("home"))
        .env("XDG_CONFIG_HOME", config_home(sb))
        .env("XDG_DATA_HOME", sb.join("data"))
        .env("TERM", "xterm")
        .env("CLICOLOR", "0")
        .env("SOURCE_DATE_EPOCH", DATE_EPOCH);
    cmd
}

pub fn config_home(sb: &Sandbox) -> PathBuf {
    sb.join("config")
}
