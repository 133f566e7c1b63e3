//! `send` and `status` against a real SMTP server speaking SMTP over TCP on 127.0.0.1, started
//! by each test (mailin-embedded) and told to answer 451 or 550 where a test needs it. Nothing
//! is ever sent anywhere else: the refusal tests fail before any connection is made.

use std::net::TcpListener;

use crate::mail_server::MailServer;
use crate::util::{parse_mail, Sandbox};

pub const ALICE: &str = "alice@corp-one.example";
pub const BOB: &str = "bob@corp-two.example";
pub const CAROL: &str = "carol@corp-three.example";
/// The test campaign's journal, in the data directory the harness gives the binary.
pub const JOURNAL: &str = "data/letterdrive/journals/test-campaign.jsonl";

pub fn send(sb: &Sandbox, server: &MailServer) -> crate::util::Cmd {
    send_to(sb, &server.url())
}

/// `send` of the test group to URL with no rate limit and short retry delays, signed.
pub fn send_to(sb: &Sandbox, url: &str) -> crate::util::Cmd {
    sb.cmd()
        .args([
            "send",
            "--group",
            "test",
            "--smtp",
            url,
            "--rate",
            "unlimited",
        ])
        .env("LETTERDRIVE_RETRY_DELAY_MS", "10")
        .signer()
}

fn journal_statuses(sb: &Sandbox, email: &str) -> Vec<String> {
    sb.read(JOURNAL)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("journal line is JSON"))
        .filter(|v| v["email"] == email)
        .map(|v| v["status"].as_str().unwrap().to_string())
        .collect()
}

/// `letterdrive status --group test`: sent, failed, uncertain, pending (replies and bounces,
/// which follow, are `replies`' business).
pub fn status(sb: &Sandbox) -> Vec<u64> {
    let out = sb
        .cmd()
        .args(["status", "--group", "test"])
        .run()
        .success()
        .stdout_has("group")
        .stdout();
    let line = out
        .lines()
        .find(|l| l.starts_with("test "))
        .unwrap_or_else(|| panic!("no line for group `test`:\n{out}"));
    line.split_whitespace()
        .skip(1)
        .take(4)
        .map(|n| n.parse().unwrap())
        .collect()
}

#[test]
fn send_delivers_every_letter_once_and_a_rerun_sends_nothing() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    let done = send(&sb, &server).arg("--yes").run().success();
    let out = done.stdout();
    assert!(out.contains("3 letters of group `test`"), "{out}");
    assert!(out.contains("3 letters sent"), "{out}");

    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
    for r in server.received() {
        let mail = parse_mail(&r.data);
        let to = mail.to().and_then(|a| a.first()).unwrap();
        assert_eq!(to.address().unwrap(), r.to[0]);
        let from = mail.from().and_then(|a| a.first()).unwrap();
        assert_eq!(from.address().unwrap(), crate::util::SIGNER_EMAIL);
        assert!(mail.subject().unwrap().starts_with("Letter to Corp "));
        let id = mail.message_id().unwrap();
        assert!(id.starts_with("test-campaign.test."), "{id}");
        assert!(mail.body_text(0).unwrap().contains("Yours sincerely"));
    }
    for email in [ALICE, BOB, CAROL] {
        assert_eq!(journal_statuses(&sb, email), ["queued", "attempt", "sent"]);
    }
    let line: serde_json::Value =
        serde_json::from_str(sb.read(JOURNAL).lines().last().unwrap()).unwrap();
    assert_eq!(line["campaign"], "test-campaign");
    assert_eq!(line["group"], "test");
    assert!(line["message_id"]
        .as_str()
        .unwrap()
        .starts_with("<test-campaign.test."));
    assert!(line["reply"].as_str().unwrap().starts_with("250"));

    send(&sb, &server)
        .arg("--yes")
        .run()
        .success()
        .stdout_has("0 to send, 3 already sent")
        .stdout_has("nothing to send");
    assert_eq!(server.received().len(), 3);

    assert_eq!(status(&sb), [3, 0, 0, 0]);
}

#[test]
fn a_refused_recipient_is_recorded_and_the_others_go_through() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    server.answer_rcpt(BOB, &[(550, "5.1.1 no such mailbox")]);
    send(&sb, &server)
        .args(["--yes", "--failed-csv", "failed.csv"])
        .run()
        .code(4)
        .stdout_has("2 letters sent, 1 failed")
        .stderr_has("error: `bob@corp-two.example`: the server refused the letter:")
        .stderr_has("550");
    assert_eq!(server.recipients(), [ALICE, CAROL]);
    assert_eq!(journal_statuses(&sb, BOB), ["queued", "attempt", "failed"]);
    let csv = sb.read("failed.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "name,email,organization,country,role,smtp_reply");
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with("Bob Staff,bob@corp-two.example,Corp Two,Japan,staff,"));
    assert!(lines[1].contains("no such mailbox"), "{csv}");
    assert_eq!(status(&sb), [2, 1, 0, 0]);
}

/// A letter refused for good stays refused: later runs skip it (and say so), `status` lists it
/// with the server's reply, and only `--retry-failed` sends it again.
#[test]
fn a_refused_letter_is_skipped_on_later_runs_unless_asked() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    server.answer_rcpt(BOB, &[(550, "5.1.1 no such mailbox")]);
    send(&sb, &server).arg("--yes").run().code(4);
    assert_eq!(server.recipients(), [ALICE, CAROL]);
    send(&sb, &server)
        .arg("--yes")
        .run()
        .code(4)
        .stdout_has("0 to send, 2 already sent, 0 uncertain")
        .stdout_has("1 letter refused for good by the server in an earlier run; they are skipped")
        .stdout_has("nothing to send");
    assert_eq!(server.recipients(), [ALICE, CAROL]);
    sb.cmd()
        .args(["status", "--group", "test"])
        .run()
        .success()
        .stdout_has(
            "failed:    test: bob@corp-two.example (permanent error (550): 5.1.1 no such mailbox)",
        );
    assert_eq!(status(&sb), [2, 1, 0, 0]);
    send(&sb, &server)
        .args(["--yes", "--retry-failed"])
        .run()
        .success()
        .stdout_has("1 to send, 2 already sent")
        .stdout_has("1 letter sent");
    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
    assert_eq!(status(&sb), [3, 0, 0, 0]);
}

#[test]
fn a_temporary_error_is_retried() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    server.answer_rcpt(ALICE, &[(451, "4.7.1 try again later")]);
    send(&sb, &server)
        .arg("--yes")
        .run()
        .success()
        .stdout_has("retry    alice@corp-one.example")
        .stdout_has("3 letters sent");
    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
    assert_eq!(
        journal_statuses(&sb, ALICE),
        ["queued", "attempt", "deferred", "attempt", "sent"]
    );
}

#[test]
fn a_lasting_temporary_error_is_deferred_within_the_retry_budget() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    server.answer_rcpt(ALICE, &[(451, "later"), (451, "later"), (451, "later")]);
    send(&sb, &server)
        .args(["--yes", "--retries", "2"])
        .run()
        .code(4)
        .stdout_has("deferred alice@corp-one.example")
        .stdout_has("2 letters sent, 1 deferred");
    assert_eq!(server.recipients(), [BOB, CAROL]);
    // The rerun tries the deferred letter again, and only it.
    send(&sb, &server)
        .arg("--yes")
        .run()
        .success()
        .stdout_has("1 letter sent");
    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
}

#[test]
fn plaintext_to_another_host_is_refused() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["send", "-g", "test", "--yes", "--smtp", "smtp://mail.example.org:25?tls=none"])
        .signer()
        .run()
        .code(2)
        .stderr_has("error: `mail.example.org` is not this machine: letters would cross the network unencrypted")
        .stderr_has("--insecure");
    assert!(!sb.exists(JOURNAL));
}

#[test]
fn a_password_is_never_sent_without_tls_off_loopback() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args([
            "send",
            "-g",
            "test",
            "--yes",
            "--insecure",
            "--smtp",
            "smtp://ada@mail.example.org:25?tls=none",
        ])
        .env("LETTERDRIVE_SMTP_PASSWORD", "hunter2-secret")
        .signer()
        .run()
        .code(2)
        .stderr_has("error: refusing to send your password to `mail.example.org` without TLS")
        .stderr_lacks("hunter2-secret")
        .stdout_lacks("hunter2-secret");
    sb.cmd()
        .args([
            "send",
            "-g",
            "test",
            "--smtp",
            "smtp://ada:pw@mail.example.org",
        ])
        .signer()
        .run()
        .code(2)
        .stderr_has("error: the SMTP URL holds a password");
}

#[test]
fn dry_run_sends_nothing() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    send(&sb, &server)
        .arg("--dry-run")
        .run()
        .success()
        .stdout_has("3 to send")
        .stdout_has("server:  smtp://127.0.0.1:")
        .stdout_has("rate:    unlimited")
        .stdout_has("dry run: nothing was sent");
    assert!(server.received().is_empty());
    assert!(!sb.exists(JOURNAL));
}

#[test]
fn a_bad_row_stops_the_run_before_any_letter_leaves() {
    let sb = Sandbox::campaign();
    sb.write(
        crate::util::CSV_FILE,
        format!(
            "{}Dan Bad,not an address,Corp Four,Chile,\n",
            crate::util::CSV
        ),
    );
    let server = MailServer::start();
    send(&sb, &server)
        .arg("--yes")
        .run()
        .code(1)
        .stderr_has("is not a valid e-mail address");
    assert!(server.received().is_empty());
    assert!(!sb.exists(JOURNAL));
}

#[test]
fn an_uncertain_letter_is_skipped_unless_asked_for() {
    let sb = Sandbox::campaign();
    sb.write(
        JOURNAL,
        format!(
            "{{\"campaign\":\"test-campaign\",\"group\":\"test\",\"email\":\"{BOB}\",\"message_id\":\"<x>\",\"status\":\"attempt\",\"time\":\"2026-11-27T12:00:00Z\"}}\n"
        ),
    );
    let server = MailServer::start();
    send(&sb, &server)
        .arg("--yes")
        .run()
        .code(4)
        .stdout_has("2 to send, 0 already sent, 1 uncertain")
        .stderr_has("warning: `bob@corp-two.example`: uncertain");
    assert_eq!(server.recipients(), [ALICE, CAROL]);
    assert_eq!(status(&sb), [2, 0, 1, 0]);
    sb.cmd()
        .args(["status"])
        .run()
        .success()
        .stdout_has("uncertain: test: bob@corp-two.example");

    send(&sb, &server)
        .args(["--yes", "--resend-uncertain"])
        .run()
        .success()
        .stdout_has("1 letter sent");
    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
}

#[test]
fn without_a_terminal_or_yes_nothing_is_sent() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    send(&sb, &server)
        .run()
        .code(2)
        .stdout_has("3 to send")
        .stderr_has("error: not sending without confirmation, and there is no terminal to ask on")
        .stderr_has("--yes");
    assert!(server.received().is_empty());
}

#[test]
fn max_and_limit_bound_a_run() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    send(&sb, &server)
        .args(["--yes", "--max", "2"])
        .run()
        .success()
        .stdout_has("--max:   1 left for a later run")
        .stdout_has("2 letters sent, 1 left by --max");
    assert_eq!(server.received().len(), 2);
    send(&sb, &server)
        .args(["--yes", "--where", "country=Germany"])
        .run()
        .success();
    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
}

#[test]
fn a_dead_server_stops_the_run_quickly() {
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sb = Sandbox::campaign();
    sb.cmd()
        .args([
            "send",
            "-g",
            "test",
            "--yes",
            "--rate",
            "unlimited",
            "--connections",
            "1",
            "--retries",
            "1",
        ])
        .args(["--smtp", &format!("smtp://127.0.0.1:{port}")])
        .env("LETTERDRIVE_RETRY_DELAY_MS", "10")
        .signer()
        .run()
        .code(4)
        .stderr_has("error: the run stopped:");
    // The first letter was tried twice. The others were queued behind it unless the run had
    // already stopped, and are then recorded as never sent (the unit tests in send.rs pin that).
    assert_eq!(
        journal_statuses(&sb, ALICE),
        ["queued", "attempt", "deferred", "attempt", "deferred"]
    );
    let bob = journal_statuses(&sb, BOB);
    assert!(bob.is_empty() || bob == ["queued", "deferred"], "{bob:?}");
    let carol = journal_statuses(&sb, CAROL);
    assert!(
        carol.is_empty() || carol == ["queued", "deferred"],
        "{carol:?}"
    );
    assert_eq!(status(&sb), [0, 0, 0, 3]);
}

#[test]
fn send_needs_a_server_and_a_sane_rate() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["send", "-g", "test", "--yes"])
        .signer()
        .run()
        .code(2)
        .stderr_has("error: which mail server? --smtp is missing");
    sb.cmd()
        .args(["send", "-g", "test", "--dry-run", "--rate", "lots"])
        .signer()
        .run()
        .code(2)
        .stderr_has("error: --rate `lots` is not a rate");
}

#[test]
fn starttls_and_login() {
    let sb = Sandbox::campaign();
    let server = MailServer::start_tls("ada", "s3cret-pw");
    let url = format!("smtp://ada@127.0.0.1:{}?tls=required", server.port);
    let done = send_to(&sb, &url)
        .arg("--yes")
        .args(["--connections", "1", "--ca-file"])
        .arg(server.ca_file())
        .env("LETTERDRIVE_SMTP_PASSWORD", "s3cret-pw")
        .run()
        .success()
        .stdout_has("STARTTLS required")
        .stdout_has("3 letters sent")
        .stdout_lacks("retry")
        .stdout_lacks("s3cret-pw")
        .stderr_lacks("s3cret-pw");
    drop(done);
    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
    // One connection, one login, three letters.
    assert_eq!(server.logins(), ["ada"]);
    assert!(!sb.read(JOURNAL).contains("s3cret-pw"));
}

#[test]
fn a_wrong_password_stops_the_run_and_is_never_shown() {
    let sb = Sandbox::campaign();
    let server = MailServer::start_tls("ada", "s3cret-pw");
    let url = format!("smtps://ada@127.0.0.1:{}", server.port);
    // Implicit TLS against a STARTTLS server fails in the handshake: nothing is sent.
    send_to(&sb, &url)
        .arg("--yes")
        .arg("--ca-file")
        .arg(server.ca_file())
        .args(["--password-command", "printf 'wrong-pw\\n'"])
        .run()
        .code(4)
        .stderr_has("error: the run stopped:");
    let url = format!("smtp://ada@127.0.0.1:{}?tls=required", server.port);
    send_to(&sb, &url)
        .arg("--yes")
        .arg("--ca-file")
        .arg(server.ca_file())
        .args(["--password-command", "printf 'wrong-pw\\n'"])
        .run()
        .code(4)
        .stderr_has("error: the run stopped:")
        .stderr_has("535")
        .stdout_lacks("wrong-pw")
        .stderr_lacks("wrong-pw");
    assert!(server.received().is_empty());
    assert!(server.logins().is_empty());
    assert!(!sb.read(JOURNAL).contains("wrong-pw"));
    assert_eq!(status(&sb), [0, 0, 0, 3]);
}

#[test]
fn starttls_is_never_silently_dropped() {
    let sb = Sandbox::campaign();
    // This server offers no STARTTLS.
    let server = MailServer::start();
    let url = format!("smtp://127.0.0.1:{}?tls=required", server.port);
    send_to(&sb, &url)
        .arg("--yes")
        .run()
        .code(4)
        .stderr_has("error: the run stopped:");
    assert!(server.received().is_empty());
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused() {
    let sb = Sandbox::campaign();
    let server = MailServer::start_tls("ada", "s3cret-pw");
    let url = format!("smtp://ada@127.0.0.1:{}?tls=required", server.port);
    send_to(&sb, &url)
        .arg("--yes")
        .env("LETTERDRIVE_SMTP_PASSWORD", "s3cret-pw")
        .run()
        .code(4)
        .stderr_has(
            "error: the run stopped: network error: invalid peer certificate: UnknownIssuer",
        )
        .stderr_has("--ca-file")
        .stdout_lacks("retry");
    assert!(server.received().is_empty());
    assert!(server.logins().is_empty());
}

#[test]
fn a_server_that_closes_the_connection_mid_run() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    // 421: the server says goodbye and closes the connection in the middle of the run.
    server.answer_rcpt(BOB, &[(421, "4.3.2 shutting down")]);
    send(&sb, &server)
        .arg("--yes")
        .run()
        .success()
        .stdout_has("retry    bob@corp-two.example")
        .stdout_has("3 letters sent");
    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
}

#[test]
fn a_server_that_never_greets_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts connections and holds them open without a word.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    let sb = Sandbox::campaign();
    let started = std::time::Instant::now();
    sb.cmd()
        .args(["send", "-g", "test", "--yes", "--rate", "unlimited"])
        .args(["--timeout", "1", "--retries", "1"])
        .args(["--smtp", &format!("smtp://127.0.0.1:{port}")])
        .env("LETTERDRIVE_RETRY_DELAY_MS", "10")
        .signer()
        .run()
        .code(4)
        .stderr_has("error: the run stopped:");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(status(&sb), [0, 0, 0, 3]);
}

/// Ctrl-C while `send` waits on a server that never answers: the run stops as a cancelled run
/// and leaves nothing of the campaign it unpacked from a zip.
#[cfg(unix)]
#[test]
fn an_interrupted_send_leaves_no_unpacked_campaign() {
    use std::time::Duration;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (connected, waiting) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
            let _ = connected.send(());
        }
    });
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["pack", "--out", "given/campaign.zip"])
        .run()
        .success();
    let tmp = tempfile::tempdir().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_letterdrive"))
        .current_dir(sb.path())
        .args(["--campaign", "given/campaign.zip", "send", "-g", "test"])
        .args(["--yes", "--rate", "unlimited", "--timeout", "60"])
        .args(["--smtp", &format!("smtp://127.0.0.1:{port}")])
        .args(["--signer-name", "Sam", "--signer-email", "sam@signers.org"])
        .env("TMPDIR", tmp.path())
        // As the harness does: never the real home, config or data directory.
        .env("HOME", sb.join("home"))
        .env("XDG_CONFIG_HOME", sb.join("config"))
        .env("XDG_DATA_HOME", sb.join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let waited = waiting.recv_timeout(Duration::from_secs(60));
    waited.expect("send connects to the server");
    let unpacked = std::fs::read_dir(tmp.path()).unwrap().count();
    assert_eq!(unpacked, 1, "the campaign is unpacked while in use");
    // SAFETY: a plain system call to the child started above.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn killed_mid_run_and_resumed_every_letter_arrives_once_or_is_reported_uncertain() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    // Bob's letter is with the server, which has not answered yet.
    let mut child = start_stalled_on_bob(&sb, &server);
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    assert_eq!(journal_statuses(&sb, ALICE), ["queued", "attempt", "sent"]);
    assert_eq!(journal_statuses(&sb, BOB), ["queued", "attempt"]);
    // Carol's letter is queued behind Bob's while his is with the server (unless the machine was
    // too busy to render it in time), and never handed over: on the same boot of the machine, the
    // rerun knows it did not go.
    let carol = journal_statuses(&sb, CAROL);
    assert!(carol.is_empty() || carol == ["queued"], "{carol:?}");
    server.shared.lock().unwrap().stall = None;

    send(&sb, &server)
        .arg("--yes")
        .run()
        .code(4)
        .stdout_has("1 to send, 1 already sent, 1 uncertain")
        .stderr_has("warning: `bob@corp-two.example`: uncertain");
    // Exactly one letter each: Bob's arrived before the kill and was not sent again.
    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
    assert_eq!(status(&sb), [2, 0, 1, 0]);
}

#[test]
fn test_to_sends_the_first_letter_to_the_volunteer_only() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    send(&sb, &server)
        .args(["--test-to", "sam@signers.org"])
        .run()
        .success()
        .stdout_has("sent the letter for `alice@corp-one.example` to `sam@signers.org`");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, ["sam@signers.org"]);
    let mail = parse_mail(&received[0].data);
    assert_eq!(mail.subject(), Some("Letter to Corp One"));
    assert!(mail.body_text(0).unwrap().contains("Dear Alice Boss"));
    assert!(!sb.exists(JOURNAL));
}

#[test]
fn several_connections_send_each_letter_once() {
    let sb = Sandbox::campaign();
    let mut csv = String::from("name,email,organization,country,role\n");
    for i in 0..40 {
        csv.push_str(&format!("P{i},p{i}@corp{i}.example,Corp {i},France,boss\n"));
    }
    sb.write(crate::util::CSV_FILE, &csv);
    let server = MailServer::start_tls("ada", "s3cret-pw");
    server.answer_rcpt("p7@corp7.example", &[(451, "later")]);
    server.answer_rcpt("p9@corp9.example", &[(550, "no such user")]);
    let url = format!("smtp://ada@127.0.0.1:{}?tls=required", server.port);
    sb.cmd()
        .args(["send", "-g", "test", "--yes", "--rate", "unlimited"])
        .args(["--connections", "3", "--smtp", &url, "--ca-file"])
        .arg(server.ca_file())
        .env("LETTERDRIVE_SMTP_PASSWORD", "s3cret-pw")
        .env("LETTERDRIVE_RETRY_DELAY_MS", "10")
        .signer()
        .run()
        .code(4)
        .stdout_has("39 letters sent, 1 failed");
    let mut expected: Vec<String> = (0..40)
        .filter(|i| *i != 9)
        .map(|i| format!("p{i}@corp{i}.example"))
        .collect();
    expected.sort();
    assert_eq!(server.recipients(), expected);
    // One login per connection: three connections, and lettre drops a connection after a
    // refusal (two here), so at most five logins for forty letters.
    let logins = server.logins().len();
    assert!((1..=5).contains(&logins), "{logins} logins");
    assert_eq!(status(&sb), [39, 1, 0, 0]);
}

/// Starts `send` of the test group as a child process, with the server holding its reply to
/// Bob's letter, and returns once that letter is with the server.
fn start_stalled_on_bob(sb: &Sandbox, server: &MailServer) -> std::process::Child {
    start_stalled_on_bob_with(sb, server, &[])
}

/// [`start_stalled_on_bob`], with `extra` arguments to `send`.
fn start_stalled_on_bob_with(
    sb: &Sandbox,
    server: &MailServer,
    extra: &[&str],
) -> std::process::Child {
    server.shared.lock().unwrap().stall = Some(BOB.to_string());
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_letterdrive"))
        .current_dir(sb.path())
        .args(["send", "-g", "test", "--yes", "--rate", "unlimited"])
        .args(extra)
        .args(["--connections", "1", "--smtp", &server.url()])
        .args(["--signer-name", crate::util::SIGNER_NAME])
        .args(["--signer-email", crate::util::SIGNER_EMAIL])
        .args(["--date", crate::util::DATE])
        .env_clear()
        .envs(std::env::vars().filter(|(k, _)| !k.starts_with("LETTERDRIVE_")))
        // As the harness does: never the real home, config or data directory.
        .env("HOME", sb.join("home"))
        .env("XDG_CONFIG_HOME", sb.join("config"))
        .env("XDG_DATA_HOME", sb.join("data"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start letterdrive");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !server.recipients().contains(&BOB.to_string()) {
        assert!(
            std::time::Instant::now() < deadline,
            "Bob's letter never arrived"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child
}

#[test]
fn a_second_run_with_the_same_journal_is_refused_while_the_first_sends() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    let mut first = start_stalled_on_bob(&sb, &server);
    let second = send(&sb, &server)
        .arg("--yes")
        .run()
        .code(5)
        .stderr_has("another letterdrive run is sending with this journal")
        .stderr_has("test-campaign.jsonl");
    drop(second);
    // A dry run only reads the journal, so it may look meanwhile.
    send(&sb, &server).arg("--dry-run").run().success();
    first.kill().expect("SIGKILL");
    first.wait().unwrap();
    // The lock went with the process; the rerun sends Carol's letter, the one not yet sent.
    send(&sb, &server)
        .arg("--yes")
        .run()
        .code(4)
        .stdout_has("1 to send, 1 already sent, 1 uncertain");
    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
}

/// A link to the journal of a running send is the same journal: the second run is refused, with
/// the exit code of a run that waits for another, and sends nothing.
#[cfg(unix)]
#[test]
fn a_second_run_through_a_link_to_the_journal_is_refused() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    let mut first = start_stalled_on_bob_with(&sb, &server, &["--journal", "j/journal.jsonl"]);
    std::os::unix::fs::symlink("j/journal.jsonl", sb.join("link.jsonl")).unwrap();
    send(&sb, &server)
        .args(["--yes", "--journal", "link.jsonl"])
        .run()
        .code(5)
        .stderr_has("link.jsonl: another letterdrive run is sending with this journal");
    first.kill().expect("SIGKILL");
    first.wait().unwrap();
    assert_eq!(server.recipients(), [ALICE, BOB]);
}

/// The server takes the whole letter and never answers: it may have accepted it, so it is not
/// sent again, in this run or the next, until the volunteer says so.
#[test]
fn a_letter_whose_verdict_never_comes_is_uncertain_and_not_sent_again() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    server.shared.lock().unwrap().stall = Some(BOB.to_string());
    send(&sb, &server)
        .args(["--yes", "--connections", "1", "--timeout", "3"])
        .run()
        .code(4)
        .stdout_has("uncertain bob@corp-two.example")
        .stdout_has("2 letters sent, 1 uncertain (no reply from the server; not resent)")
        .stderr_has("warning: `bob@corp-two.example`: the letter went, but the server never said whether it took it");
    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
    assert_eq!(
        journal_statuses(&sb, BOB),
        ["queued", "attempt", "uncertain"]
    );
    assert_eq!(status(&sb), [2, 0, 1, 0]);
    send(&sb, &server)
        .arg("--yes")
        .run()
        .code(4)
        .stdout_has("0 to send, 2 already sent, 1 uncertain");
    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
}
