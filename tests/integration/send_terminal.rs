//! `send` on a terminal (a pseudo-terminal, as in the guided-run tests): the y/N question, the
//! hidden password prompt, the progress bar; and without one, the plain log lines.

use std::time::Duration;

use crate::mail_server::MailServer;
use crate::pty::{Guided, ENTER};
use crate::send::{send, JOURNAL};
use crate::util::{Sandbox, DATE, SIGNER_EMAIL, SIGNER_NAME};

/// `send` of the test group to URL, unthrottled, signed, with `extra` flags.
fn send_on_terminal(sb: &Sandbox, url: &str, extra: &[&str]) -> Guided {
    let mut args = vec![
        "send",
        "-g",
        "test",
        "--smtp",
        url,
        "--rate",
        "unlimited",
        "--signer-name",
        SIGNER_NAME,
        "--signer-email",
        SIGNER_EMAIL,
        "--date",
        DATE,
    ];
    args.extend_from_slice(extra);
    Guided::start(sb, &args)
}

#[test]
fn answering_no_sends_nothing() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    let mut g = send_on_terminal(&sb, &server.url(), &[]);
    g.see("3 to send")
        .see("Send 3 letters?")
        .see("(y/n)")
        // A key alone answers nothing: the volunteer can change their mind until Enter.
        .keys("y")
        .keys("n")
        .keys(ENTER);
    g.see("nothing was sent");
    assert_eq!(g.exit_code(), 4, "{}", g.seen);
    assert!(server.received().is_empty());
    assert!(!sb.exists(JOURNAL));
}

#[test]
fn the_password_is_asked_hidden_once_the_volunteer_says_send() {
    let sb = Sandbox::campaign();
    let server = MailServer::start_tls("ada", "s3cret-pw");
    let url = format!("smtp://ada@127.0.0.1:{}?tls=required", server.port);
    let ca = server.ca_file().to_str().unwrap().to_string();
    let mut g = send_on_terminal(&sb, &url, &["--ca-file", &ca, "--connections", "1"]);
    g.see("login:   ada, password, asked before the first letter goes");
    // Asked only after the summary and the confirmation.
    g.see("Send 3 letters?").line("y");
    g.see("Password for ada at 127.0.0.1");
    // The prompt is drawn just before echo is turned off (and pending input flushed): a key
    // typed in between would be echoed or lost.
    std::thread::sleep(Duration::from_millis(300));
    g.line("s3cret-pw");
    // The progress bar's final state stays on screen.
    g.see("3 of 3 sent");
    g.see("3 letters sent");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    assert!(!g.seen.contains("s3cret-pw"), "{}", g.seen);
    assert_eq!(server.logins(), ["ada"]);
    assert_eq!(server.recipients().len(), 3);
    assert!(!sb.read(JOURNAL).contains("s3cret-pw"));
}

#[test]
fn yes_on_a_terminal_draws_the_bar_and_prints_trouble_above_it() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    server.answer_rcpt("bob@corp-two.example", &[(550, "5.1.1 no such mailbox")]);
    let mut g = send_on_terminal(&sb, &server.url(), &["--yes", "--connections", "1"]);
    g.see("failed   bob@corp-two.example").see("550");
    g.see("3 of 3 sent");
    g.see("2 letters sent, 1 failed");
    assert_eq!(g.exit_code(), 4, "{}", g.seen);
    // On a terminal the bar replaces the line per letter sent.
    assert!(!g.seen.contains("sent     alice"), "{}", g.seen);
}

#[test]
fn without_a_terminal_each_letter_is_a_log_line() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    let done = send(&sb, &server).arg("--yes").run().success();
    let out = done.stdout();
    for email in [
        "alice@corp-one.example",
        "bob@corp-two.example",
        "carol@corp-three.example",
    ] {
        assert!(out.contains(&format!("sent     {email} (250")), "{out}");
    }
    // No bar, no escape codes in a log.
    assert!(!out.contains("letters  ") && !out.contains('\x1b'), "{out}");
    assert!(!done.stderr().contains('\x1b'), "{}", done.stderr());
}

#[test]
fn a_user_without_a_password_and_no_terminal_is_told_what_to_do() {
    let sb = Sandbox::campaign();
    let server = MailServer::start_tls("ada", "s3cret-pw");
    let url = format!("smtp://ada@127.0.0.1:{}?tls=required", server.port);
    crate::send::send_to(&sb, &url)
        .arg("--yes")
        .run()
        .code(2)
        .stderr_has("error: the SMTP URL names user `ada` but no password is given, and there is no terminal to ask on")
        .stderr_has("LETTERDRIVE_SMTP_PASSWORD");
    assert!(server.received().is_empty());
}

#[test]
fn the_bar_says_how_many_went_and_about_how_long_is_left_in_plain_figures() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    // Two seconds between letters, so the bar (redrawn every second) is seen between them.
    let mut g = Guided::start(
        &sb,
        &[
            "send",
            "-g",
            "test",
            "--smtp",
            &server.url(),
            "--rate",
            "30/min",
            "--yes",
            "--signer-name",
            SIGNER_NAME,
            "--signer-email",
            SIGNER_EMAIL,
            "--date",
            DATE,
        ],
    );
    g.see("1 of 3 sent, about ").see(" left");
    g.see("3 of 3 sent");
    g.see("3 letters sent");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    assert!(!g.seen.contains("/s"), "{}", g.seen);
}
