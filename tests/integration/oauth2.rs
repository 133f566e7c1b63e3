//! `--oauth2-token-command`: XOAUTH2 against a real SMTP conversation over TCP on 127.0.0.1.
//! mailin-embedded knows only AUTH PLAIN and LOGIN (its parser rejects any other mechanism, so
//! no handler can accept XOAUTH2); the small server here speaks just enough SMTP for lettre:
//! EHLO, AUTH XOAUTH2, MAIL, RCPT, DATA, NOOP, RSET, QUIT. It has no TLS, which letterdrive
//! allows for a token only because the server is this machine.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use crate::send::{send_to, JOURNAL};
use crate::util::Sandbox;

const TOKEN: &str = "ya29.token-for-tests-only";

#[derive(Default)]
struct Seen {
    logins: Vec<String>,
    /// Every AUTH attempt that was refused.
    refused: u32,
    recipients: Vec<String>,
}

struct OAuthServer {
    port: u16,
    seen: Arc<Mutex<Seen>>,
}

impl OAuthServer {
    fn start(user: &'static str, token: &'static str) -> OAuthServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let seen = shared.clone();
                std::thread::spawn(move || {
                    let _ = session(conn, user, token, &seen);
                });
            }
        });
        OAuthServer { port, seen }
    }

    fn url(&self) -> String {
        format!("smtp://ada%40example.org@127.0.0.1:{}", self.port)
    }
}

fn session(conn: TcpStream, user: &str, token: &str, seen: &Mutex<Seen>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut w = conn;
    let expected = format!("user={user}\x01auth=Bearer {token}\x01\x01");
    let mut authed = false;
    let mut rcpts = Vec::new();
    w.write_all(b"220 oauth.test.localhost ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-oauth.test.localhost\r\n250 AUTH XOAUTH2\r\n"
        } else if let Some(b64) = upper.strip_prefix("AUTH XOAUTH2 ").map(|_| &cmd[13..]) {
            let mut s = seen.lock().unwrap();
            if base64_decode(b64.trim()) == expected.as_bytes() {
                authed = true;
                s.logins.push(user.to_string());
                b"235 2.7.0 Accepted\r\n"
            } else {
                s.refused += 1;
                b"535 5.7.8 Username and Password not accepted\r\n"
            }
        } else if upper.starts_with("MAIL FROM:") {
            rcpts.clear();
            if authed {
                b"250 OK\r\n"
            } else {
                b"530 5.7.0 Authentication required\r\n"
            }
        } else if upper.starts_with("RCPT TO:") {
            let addr = cmd[8..].trim().trim_start_matches('<');
            rcpts.push(addr[..addr.find('>').unwrap_or(addr.len())].to_string());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            w.write_all(b"354 go ahead\r\n")?;
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
            }
            seen.lock().unwrap().recipients.append(&mut rcpts);
            b"250 2.0.0 queued\r\n"
        } else if upper == "QUIT" {
            w.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else if upper == "NOOP" || upper == "RSET" {
            b"250 OK\r\n"
        } else {
            b"502 5.5.2 not implemented\r\n"
        };
        w.write_all(reply)?;
    }
}

/// Standard base64 with padding, which is all an AUTH line carries.
fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else {
            return Vec::new();
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn token_command() -> String {
    // A helper's usual output: the token, a newline, and something else after it.
    format!("printf '{TOKEN}\\nexpires in 3599s\\n'")
}

#[test]
fn xoauth2_logs_in_with_the_token_and_never_shows_it() {
    let sb = Sandbox::campaign();
    let server = OAuthServer::start("ada@example.org", TOKEN);
    let done = send_to(&sb, &server.url())
        .args(["--yes", "--connections", "1"])
        .args(["--oauth2-token-command", &token_command()])
        .run()
        .success()
        .stdout_has(
            "login:   ada@example.org, OAuth2 token (XOAUTH2) — from --oauth2-token-command",
        )
        .stdout_has("3 letters sent")
        .stdout_lacks(TOKEN)
        .stderr_lacks(TOKEN);
    drop(done);
    let seen = server.seen.lock().unwrap();
    // One connection, one login, three letters.
    assert_eq!(seen.logins, ["ada@example.org"]);
    assert_eq!(seen.recipients.len(), 3);
    assert!(!sb.read(JOURNAL).contains(TOKEN));
}

#[test]
fn a_refused_token_stops_the_run_without_showing_it() {
    let sb = Sandbox::campaign();
    let server = OAuthServer::start("ada@example.org", TOKEN);
    send_to(&sb, &server.url())
        .args(["--yes", "--connections", "1"])
        .args(["--oauth2-token-command", "printf 'ya29.expired-token\\n'"])
        .run()
        .code(4)
        .stderr_has("error: the run stopped:")
        .stderr_has("535")
        .stdout_lacks("ya29.expired-token")
        .stderr_lacks("ya29.expired-token");
    let seen = server.seen.lock().unwrap();
    assert!(seen.logins.is_empty() && seen.recipients.is_empty());
    assert_eq!(seen.refused, 1);
    assert!(!sb.read(JOURNAL).contains("ya29"));
}

#[test]
fn the_token_command_runs_only_when_letters_are_about_to_go() {
    let sb = Sandbox::campaign();
    let server = OAuthServer::start("ada@example.org", TOKEN);
    send_to(&sb, &server.url())
        .arg("--dry-run")
        .args([
            "--oauth2-token-command",
            "touch token-command-ran; printf tok",
        ])
        .run()
        .success()
        .stdout_has("dry run: nothing was sent");
    assert!(!sb.exists("token-command-ran"));
}

#[test]
fn a_failing_or_empty_token_command_is_reported_by_name() {
    let sb = Sandbox::campaign();
    let server = OAuthServer::start("ada@example.org", TOKEN);
    send_to(&sb, &server.url())
        .args(["--yes", "--oauth2-token-command", "echo oops >&2; exit 3"])
        .run()
        .code(2)
        .stderr_has("error: --oauth2-token-command failed (exit status: 3)")
        .stderr_has("it must print the OAuth2 access token");
    send_to(&sb, &server.url())
        .args(["--yes", "--oauth2-token-command", "printf '\\n'"])
        .run()
        .code(2)
        .stderr_has("error: --oauth2-token-command printed an empty OAuth2 access token");
    assert!(server.seen.lock().unwrap().recipients.is_empty());
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
