//! `--oauth2-token-command`: when the command runs, what it may print, and when a token is refused
//! before any server is asked. The XOAUTH2 login itself needs a server that speaks it, which the
//! mailin-embedded server does not (it knows only AUTH PLAIN and LOGIN), so those tests are in
//! `aiosmtpd.rs`, against aiosmtpd. The server here is only somewhere letters could go, to show
//! that none did.

use crate::mail_server::MailServer;
use crate::send::{send_to, JOURNAL};
use crate::util::Sandbox;

/// A token is only ever sent for a user, so the URL names one.
fn url(server: &MailServer) -> String {
    format!("smtp://ada%40example.org@127.0.0.1:{}", server.port)
}

#[test]
fn the_token_command_runs_only_when_letters_are_about_to_go() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    send_to(&sb, &url(&server))
        .arg("--dry-run")
        .args([
            "--oauth2-token-command",
            "touch token-command-ran; printf tok",
        ])
        .run()
        .success()
        .stdout_has("dry run: nothing was sent");
    assert!(!sb.exists("token-command-ran"));
    assert!(server.received().is_empty());
}

#[test]
fn a_failing_or_empty_token_command_is_reported_by_name() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    send_to(&sb, &url(&server))
        .args(["--yes", "--oauth2-token-command", "echo oops >&2; exit 3"])
        .run()
        .code(2)
        .stderr_has("error: --oauth2-token-command failed (exit status: 3)")
        .stderr_has("it must print the OAuth2 access token");
    send_to(&sb, &url(&server))
        .args(["--yes", "--oauth2-token-command", "printf '\\n'"])
        .run()
        .code(2)
        .stderr_has("error: --oauth2-token-command printed an empty OAuth2 access token");
    assert!(server.received().is_empty());
    assert!(!sb.exists(JOURNAL));
}

#[test]
fn a_token_is_never_sent_without_tls_off_loopback() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["send", "-g", "test", "--yes", "--insecure"])
        .args(["--smtp", "smtp://ada@mail.example.org:25?tls=none"])
        .args([
            "--oauth2-token-command",
            "touch token-command-ran; printf tok",
        ])
        .signer()
        .run()
        .code(2)
        .stderr_has("error: refusing to send your OAuth2 token to `mail.example.org` without TLS");
    assert!(!sb.exists("token-command-ran"));
    sb.cmd()
        .args(["send", "-g", "test", "--yes"])
        .args(["--smtp", "smtps://mail.example.org"])
        .args(["--oauth2-token-command", "printf tok"])
        .signer()
        .run()
        .code(2)
        .stderr_has("error: an OAuth2 token is given but the SMTP URL names no user");
}

#[test]
fn a_token_and_a_password_together_are_refused() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["send", "-g", "test", "--dry-run"])
        .args(["--smtp", "smtps://ada@mail.example.org"])
        .args(["--oauth2-token-command", "printf tok"])
        .env("LETTERDRIVE_SMTP_PASSWORD", "hunter2-secret")
        .signer()
        .run()
        .code(2)
        .stderr_has(
            "error: --oauth2-token-command and LETTERDRIVE_SMTP_PASSWORD both give a way to log in",
        )
        .stderr_lacks("hunter2-secret");
    sb.cmd()
        .args(["send", "-g", "test", "--dry-run"])
        .args(["--smtp", "smtps://ada@mail.example.org"])
        .args(["--oauth2-token-command", "printf tok"])
        .args(["--password-command", "printf pw"])
        .signer()
        .run()
        .code(2)
        .stderr_has("--password-command")
        .stderr_has("cannot be used with");
}
