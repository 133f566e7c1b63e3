//! How the layers below ask and report on this process's terminal: `send`'s confirmation, a
//! password typed without echo, and the progress bar, through the `send::Terminal` and
//! `send::Progress` traits. Without a terminal nothing is asked: a question becomes a clear error.

use std::io::IsTerminal;
use std::time::Duration;

use dialoguer::console::Term;
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Password};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::cli::usage;
use crate::error::{Error, Result};
use crate::plural;
use crate::send::{self, Step};

/// Whether someone is at a terminal to ask: standard input to answer on, standard error to ask on.
pub fn can_ask() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// A yes/no question: `y` or `n`, then Enter (Enter alone takes `default`). Enter is needed so
/// that a key typed after the answer stays with this question instead of answering the next
/// one. `None` is Esc (or `q`) then Enter: the volunteer wants out.
pub fn yes_no(prompt: &str, default: bool) -> dialoguer::Result<Option<bool>> {
    Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(prompt)
        .default(default)
        .wait_for_newline(true)
        .interact_opt()
}

/// How `send` asks and reports on this process's terminal, or without one.
pub struct Console;

impl send::Terminal for Console {
    fn can_ask(&self) -> bool {
        can_ask()
    }

    /// `send`'s last question before the first letter leaves. Without a terminal it refuses
    /// rather than guess.
    fn confirm(&self, letters: u64) -> Result<bool> {
        if !can_ask() {
            return Err(usage(
                "not sending without confirmation, and there is no terminal to ask on",
                "check the summary above (or run with --dry-run), then pass --yes",
            ));
        }
        match yes_no(&format!("Send {}?", plural(letters, "letter")), false) {
            Ok(answer) => Ok(answer == Some(true)),
            // Ctrl-C at the question: a no.
            Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                let _ = Term::stderr().show_cursor();
                Ok(false)
            }
            Err(dialoguer::Error::IO(e)) => Err(Error::io("the terminal", e)),
        }
    }

    /// A password typed without echo. It is returned to the caller and nowhere else: not drawn,
    /// not logged.
    fn secret(&self, prompt: &str) -> Result<String> {
        if !can_ask() {
            return Err(usage(
                "a password is needed and there is no terminal to ask on",
                "set LETTERDRIVE_SMTP_PASSWORD or pass --password-command \"pass show mail\"",
            ));
        }
        Password::with_theme(&ColorfulTheme::default())
            .with_prompt(prompt)
            .report(false)
            .interact()
            .map_err(|dialoguer::Error::IO(e)| Error::io("the terminal", e))
    }

    /// A bar with how many went and about how long the rest take on a terminal, and the usual
    /// log lines on standard output otherwise. A redirected standard output keeps the lines, so
    /// a log file gets them even when standard error is a terminal.
    fn progress(&self, total: u64, interval: Option<Duration>) -> Box<dyn send::Progress> {
        if !(std::io::stdout().is_terminal() && std::io::stderr().is_terminal()) {
            return Box::new(send::LogLines::new(std::io::stdout()));
        }
        // Plain figures: "12 of 17 sent, about 40s left", not a rate per second.
        let template = "{bar:30} {pos} of {len} sent{left}";
        let style = ProgressStyle::with_template(template)
            .expect("a valid template")
            .with_key(
                "left",
                move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let (done, total) = (state.pos(), state.len().unwrap_or(0));
                    // No estimate before the first letter, none needed after the last.
                    if done > 0 && done < total {
                        // The rate sets the pace; the measured one counts when slower.
                        let paced = interval.unwrap_or_default() * (total - done) as u32;
                        let left = send::human(state.eta().max(paced));
                        let _ = write!(w, ", about {left} left");
                    }
                },
            );
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(style.progress_chars("=> "));
        // At 20 letters a minute the bar would otherwise sit still between letters.
        bar.enable_steady_tick(Duration::from_secs(1));
        Box::new(Bar(bar))
    }
}

/// The progress bar on standard error. Letters that did not simply go (retries, refusals) are
/// printed above it, so the bar never hides trouble.
struct Bar(ProgressBar);

impl send::Progress for Bar {
    fn step(&self, step: Step, line: &str) {
        if step != Step::Sent {
            self.0.println(line);
        }
        // A retry is not an outcome: the letter is tried again.
        if step != Step::Retry {
            self.0.inc(1);
        }
    }

    fn finish(&self) {
        // The final state stays on screen: how many went, and how long it took.
        self.0.abandon();
    }
}
