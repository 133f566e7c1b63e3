//! How the layers below ask and report on this process's terminal: `send`'s confirmation, a
//! password typed without echo, and the progress bar, through the `send::Terminal` and
//! `send::Progress` traits. Without a terminal nothing is asked: a question becomes a clear error.

use std::io::IsTerminal;

use dialoguer::console::Term;
use dialoguer::theme::ColorfulTheme;
use dialoguer::Confirm;

use crate::error::{Diag, Error, Result};
use crate::plural;
use crate::send;

/// How `send` asks and reports on this process's terminal, or without one.
pub struct Console;

impl send::Terminal for Console {
    fn can_ask(&self) -> bool {
        can_ask()
    }

    fn confirm(&self, letters: u64) -> Result<bool> {
        confirm_send(letters)
    }

    fn secret(&self, prompt: &str) -> Result<String> {
        ask_secret(prompt)
    }

    fn progress(&self, total: u64) -> Box<dyn send::Progress> {
        send_progress(total)
    }
}

/// Whether someone is at a terminal to ask: standard input to answer on, standard error to ask on.
pub fn can_ask() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// `send`'s last question before the first letter leaves. Without a terminal it refuses
/// rather than guess.
pub fn confirm_send(count: u64) -> Result<bool> {
    if !can_ask() {
        return Err(Error::Usage(
            Diag::new("not sending without confirmation, and there is no terminal to ask on")
                .hint("check the summary above (or run with --dry-run), then pass --yes"),
        ));
    }
    let answer = Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(format!("Send {}?", plural(count, "letter")))
        .default(false)
        .interact_opt();
    match answer {
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
pub fn ask_secret(prompt: &str) -> Result<String> {
    if !can_ask() {
        return Err(Error::Usage(
            Diag::new("a password is needed and there is no terminal to ask on").hint(
                "set LETTERDRIVE_SMTP_PASSWORD or pass --password-command \"pass show mail\"",
            ),
        ));
    }
    dialoguer::Password::with_theme(&ColorfulTheme::default())
        .with_prompt(prompt)
        .report(false)
        .interact()
        .map_err(|dialoguer::Error::IO(e)| Error::io("the terminal", e))
}

/// How `send` shows its progress: a bar with rate and ETA on a terminal, and the usual log lines
/// on standard output otherwise. A redirected standard output keeps the lines, so a log file
/// gets them even when standard error is a terminal.
pub fn send_progress(total: u64) -> Box<dyn crate::send::Progress> {
    if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() {
        Box::new(Bar::new(total))
    } else {
        Box::new(crate::send::LogLines::new(std::io::stdout()))
    }
}

/// The progress bar on standard error. Letters that did not simply go (retries, refusals) are
/// printed above it, so the bar never hides trouble.
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(total: u64) -> Bar {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        let style = indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} letters  {per_sec}  elapsed {elapsed}  ETA {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> ");
        bar.set_style(style);
        // At 20 letters a minute the bar would otherwise sit still between letters.
        bar.enable_steady_tick(std::time::Duration::from_secs(1));
        Bar(bar)
    }
}

impl crate::send::Progress for Bar {
    fn step(&self, step: crate::send::Step, line: &str) {
        use crate::send::Step;
        match step {
            Step::Sent => self.0.inc(1),
            Step::Failed | Step::Deferred | Step::Uncertain | Step::Stopped => {
                self.0.println(line);
                self.0.inc(1);
            }
            Step::Retry => self.0.println(line),
        }
    }

    fn finish(&self) {
        // The final state stays on screen: how many went, and how long it took.
        self.0.abandon();
    }
}
