//! `send` end to end against a second, independent SMTP server: Python's aiosmtpd on 127.0.0.1,
//! so the delivery check does not rest on one server's reading of SMTP (the other send tests use
//! mailin-embedded). It checks that every letter arrives once and a rerun sends nothing, and the
//! XOAUTH2 login of `--oauth2-token-command`: mailin-embedded knows only AUTH PLAIN and LOGIN,
//! while aiosmtpd takes any mechanism a handler implements, so the token is checked by a real
//! server and not by one of our own. Opt-in, because it needs Python: `.ci/run` installs
//! aiosmtpd into a venv and runs these tests with
//!
//! ```sh
//! LETTERDRIVE_TEST_AIOSMTPD=/path/to/venv/bin/python \
//!     cargo test --locked --test integration aiosmtpd:: -- --ignored
//! ```

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::send::{send_to, JOURNAL};
use crate::util::{parse_mail, Sandbox};

const PYTHON_VAR: &str = "LETTERDRIVE_TEST_AIOSMTPD";
const USER: &str = "ada@example.org";
const TOKEN: &str = "ya29.token-for-tests-only";

/// Binds port 0 itself and names the port in a file, so no other process can take the port
/// between choosing it and listening on it. The log has one JSON line per event: a message
/// (envelope, bytes, who had logged in, from which client port), a login, or a refused AUTH.
/// XOAUTH2 accepts one user and token, given after the two paths; without them it accepts none.
/// With HANG_UP=1 in its environment it closes each connection right after accepting a message,
/// as a server that limits messages per connection may. With PIPELINING=1 it offers RFC 2920
/// pipelining (aiosmtpd reads commands in order from its buffer, which is all pipelining asks of
/// a server, but does not offer it). REFUSE maps an address to the replies its RCPT gets, one per
/// try, before it is accepted; with LENIENT=1 a refused recipient is kept in the envelope all the
/// same, so the server answers DATA with 354 as a careless server might. Each MAIL is logged with how many bytes of later commands were
/// already waiting: more than none only when the client did not wait for the reply.
const SERVER: &str = r#"
import asyncio, base64, binascii, json, os, signal, sys
from aiosmtpd.smtp import SMTP, AuthResult, MISSING

log, ready = sys.argv[1], sys.argv[2]
account = sys.argv[3:5]
hang_up = os.environ.get("HANG_UP") == "1"
pipelining = os.environ.get("PIPELINING") == "1"
refuse = json.loads(os.environ.get("REFUSE") or "{}")
lenient = os.environ.get("LENIENT") == "1"

def record(event):
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps(event) + "\n")

class Record:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        record({"mail": address, "waiting": len(server._reader._buffer)})
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        replies = refuse.get(address)
        if replies:
            if lenient:
                envelope.rcpt_tos.append(address)
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        record({"to": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8"),
                "login": session.auth_data,
                "client_port": session.peer[1]})
        if hang_up:
            # Runs after the reply below is written: the client sees 250, then the close.
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 OK recorded"

    # aiosmtpd offers AUTH XOAUTH2 because the handler has this method. The initial response
    # (RFC 4954) is how lettre sends it; the challenge covers a client that waits for one.
    async def auth_XOAUTH2(self, server, args):
        if len(args) == 2:
            try:
                blob = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                blob = b""
        else:
            blob = await server.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False)
        if account and blob == f"user={account[0]}\x01auth=Bearer {account[1]}\x01\x01".encode():
            record({"login": account[0], "client_port": server.session.peer[1]})
            return AuthResult(success=True, auth_data=account[0])
        record({"refused": server.session.peer[1]})
        return AuthResult(success=False, handled=False)

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
# No TLS here: letterdrive sends a token in plaintext only to this machine, which this is. The
# built-in PLAIN and LOGIN have no account to accept, so they are not offered.
server = loop.run_until_complete(
    loop.create_server(
        lambda: SMTP(Record(), auth_require_tls=False,
                     auth_exclude_mechanism=["LOGIN", "PLAIN"]),
        host="127.0.0.1", port=0))
loop.add_signal_handler(signal.SIGTERM, loop.stop)
with open(ready + ".tmp", "w") as f:
    f.write(str(server.sockets[0].getsockname()[1]))
os.rename(ready + ".tmp", ready)
loop.run_forever()
"#;

/// aiosmtpd as a child process; killed by its PID when the test ends, pass or fail.
struct Aiosmtpd {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Aiosmtpd {
    fn start(python: &Path) -> Aiosmtpd {
        Self::start_with(python, None, &[])
    }

    /// A server whose AUTH XOAUTH2 accepts this user with this token, and nothing else.
    fn start_xoauth2(python: &Path, user: &str, token: &str) -> Aiosmtpd {
        Self::start_with(python, Some((user, token)), &[])
    }

    /// A server that closes every connection as soon as it has accepted a message on it.
    fn start_hanging_up(python: &Path) -> Aiosmtpd {
        Self::start_with(python, None, &[("HANG_UP", "1")])
    }

    /// `env`: the switches the script reads (see `SERVER`).
    fn start_with(python: &Path, account: Option<(&str, &str)>, env: &[(&str, &str)]) -> Aiosmtpd {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("server.py");
        std::fs::write(&script, SERVER).unwrap();
        let ready = dir.path().join("port");
        let mut child = Command::new(python)
            .arg(&script)
            .arg(dir.path().join("messages.jsonl"))
            .arg(&ready)
            .args(account.iter().flat_map(|(user, token)| [user, token]))
            .env_remove("HANG_UP")
            .env_remove("PIPELINING")
            .env_remove("REFUSE")
            .env_remove("LENIENT")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        // A bound on start-up, not a speed check: a server that never listens fails the test
        // instead of hanging it.
        let until = Instant::now() + Duration::from_secs(60);
        let port = loop {
            if let Ok(port) = std::fs::read_to_string(&ready) {
                break port.trim().parse().expect("a port number");
            }
            let exited = child.try_wait().unwrap();
            if exited.is_some() || Instant::now() > until {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "aiosmtpd did not start ({exited:?}); is aiosmtpd installed for {}?\n{}",
                    python.display(),
                    std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Aiosmtpd { child, port, dir }
    }

    /// Every event logged so far, in order.
    fn events(&self) -> Vec<serde_json::Value> {
        let log = self.dir.path().join("messages.jsonl");
        let text = std::fs::read_to_string(log).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// For every MAIL command, how many bytes of later commands had arrived with it.
    fn waiting_at_mail(&self) -> Vec<u64> {
        self.events()
            .iter()
            .filter_map(|v| v.get("waiting")?.as_u64())
            .collect()
    }

    /// The envelope recipients of every message received so far, sorted.
    fn envelopes(&self) -> Vec<String> {
        let mut to: Vec<String> = self
            .received()
            .into_iter()
            .map(|m| m.to.join(","))
            .collect();
        to.sort();
        to
    }

    /// Every message received so far: its envelope recipients and its bytes.
    fn messages(&self) -> Vec<(Vec<String>, String)> {
        self.received()
            .into_iter()
            .map(|m| (m.to, m.data))
            .collect()
    }

    fn received(&self) -> Vec<Received> {
        self.events()
            .iter()
            .filter(|v| v.get("to").is_some())
            .map(|v| Received {
                to: v["to"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
                data: v["data"].as_str().unwrap().to_string(),
                login: v["login"].as_str().map(str::to_string),
                client_port: v["client_port"].as_u64().unwrap(),
            })
            .collect()
    }

    /// Every accepted AUTH: the user, and the client port of the connection it was on.
    fn logins(&self) -> Vec<(String, u64)> {
        self.events()
            .iter()
            .filter(|v| v.get("to").is_none())
            .filter_map(|v| Some((v["login"].as_str()?.to_string(), v["client_port"].as_u64()?)))
            .collect()
    }

    /// How many AUTH attempts were refused.
    fn refused(&self) -> usize {
        self.events()
            .iter()
            .filter(|v| v.get("refused").is_some())
            .count()
    }
}

/// One message as the server received it.
struct Received {
    to: Vec<String>,
    data: String,
    /// The user logged in on the connection it came over, if any.
    login: Option<String>,
    client_port: u64,
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> PathBuf {
    std::env::var_os(PYTHON_VAR).map(PathBuf::from).unwrap_or_else(|| {
        panic!("set {PYTHON_VAR} to a Python that has aiosmtpd (python3 -m venv v && v/bin/pip install aiosmtpd)")
    })
}

#[test]
#[ignore = "needs Python with aiosmtpd: LETTERDRIVE_TEST_AIOSMTPD=/path/to/python (see .ci/run)"]
fn send_to_aiosmtpd_delivers_every_letter_once_and_a_rerun_sends_nothing() {
    let server = Aiosmtpd::start(&python());
    let sb = Sandbox::campaign();
    let url = format!("smtp://127.0.0.1:{}", server.port);
    let send = || {
        sb.cmd()
            .args(["send", "--group", "test", "--smtp", &url])
            .args(["--rate", "unlimited", "--yes"])
            .signer()
    };
    send().run().success().stdout_has("3 letters sent");

    let mut got = server.messages();
    assert_eq!(got.len(), 3, "{got:?}");
    got.sort();
    let envelope: Vec<String> = got.iter().map(|(to, _)| to.join(",")).collect();
    assert_eq!(
        envelope,
        [
            "alice@corp-one.example",
            "bob@corp-two.example",
            "carol@corp-three.example"
        ]
    );
    for (to, data) in &got {
        let mail = parse_mail(data.as_bytes());
        let header_to = mail.to().and_then(|a| a.first()).unwrap();
        assert_eq!(header_to.address().unwrap(), to[0]);
        assert!(mail.subject().unwrap().starts_with("Letter to Corp "));
        assert!(mail.body_text(0).unwrap().contains("Yours sincerely"));
    }

    send()
        .run()
        .success()
        .stdout_has("0 to send, 3 already sent")
        .stdout_has("nothing to send");
    assert_eq!(server.messages().len(), 3);
    // Every command waited for the reply to the one before it.
    assert_eq!(server.waiting_at_mail(), [0, 0, 0]);
}

/// A server that offers pipelining (RFC 2920) still gets MAIL, RCPT and DATA one at a time:
/// letterdrive sends each stage and waits for its reply, so a refusal is known at the stage it
/// came from, and handled as one: recorded, retried or reported, with the connection in step.
#[test]
#[ignore = "needs Python with aiosmtpd: LETTERDRIVE_TEST_AIOSMTPD=/path/to/python (see .ci/run)"]
fn envelopes_with_refusals_deliver_the_rest_once_a_stage_at_a_time() {
    let refuse = r#"{"bob@corp-two.example": ["550 5.1.1 no such user"],
                    "carol@corp-three.example": ["451 4.3.0 try again later"]}"#;
    let server = Aiosmtpd::start_with(&python(), None, &[("PIPELINING", "1"), ("REFUSE", refuse)]);
    let sb = Sandbox::campaign();
    send_to(&sb, &format!("smtp://127.0.0.1:{}", server.port))
        .args(["--yes", "--connections", "1"])
        .run()
        .code(4)
        .stdout_has("failed   bob@corp-two.example")
        .stdout_has("no such user")
        .stdout_has("retry    carol@corp-three.example")
        .stdout_has("2 letters sent");
    let to = server.envelopes();
    assert_eq!(to, ["alice@corp-one.example", "carol@corp-three.example"]);
    for m in server.received() {
        let mail = parse_mail(m.data.as_bytes());
        assert!(mail.body_text(0).unwrap().contains("Yours sincerely"));
    }
    // Alice, Bob refused, Carol refused, Carol again: no MAIL came with a later command behind
    // it.
    assert_eq!(server.waiting_at_mail(), [0, 0, 0, 0]);
}

/// letterdrive reuses a connection that has just carried a message without testing it first
/// (`src/send/connection.rs` tests it only after a second idle); when the server has closed it
/// meanwhile, the next letter fails on it before it is handed over, and is retried on a new
/// connection.
#[test]
#[ignore = "needs Python with aiosmtpd: LETTERDRIVE_TEST_AIOSMTPD=/path/to/python (see .ci/run)"]
fn a_server_that_hangs_up_after_each_message_still_gets_every_letter_once() {
    let server = Aiosmtpd::start_hanging_up(&python());
    let sb = Sandbox::campaign();
    send_to(&sb, &format!("smtp://127.0.0.1:{}", server.port))
        .args(["--yes", "--connections", "1"])
        .run()
        .success()
        .stdout_has("retry    bob@corp-two.example")
        .stdout_has("retry    carol@corp-three.example")
        .stdout_has("3 letters sent");
    let to = server.envelopes();
    assert_eq!(
        to,
        [
            "alice@corp-one.example",
            "bob@corp-two.example",
            "carol@corp-three.example"
        ]
    );
    // Each on a connection of its own: the server closed every one after its message.
    let mut ports: Vec<u64> = server.received().iter().map(|m| m.client_port).collect();
    ports.dedup();
    assert_eq!(ports.len(), 3);
}

fn xoauth2_url(server: &Aiosmtpd) -> String {
    format!("smtp://ada%40example.org@127.0.0.1:{}", server.port)
}

fn token_command() -> String {
    // A helper's usual output: the token, a newline, and something else after it.
    format!("printf '{TOKEN}\\nexpires in 3599s\\n'")
}

#[test]
#[ignore = "needs Python with aiosmtpd: LETTERDRIVE_TEST_AIOSMTPD=/path/to/python (see .ci/run)"]
fn xoauth2_logs_in_with_the_token_and_never_shows_it() {
    let server = Aiosmtpd::start_xoauth2(&python(), USER, TOKEN);
    let sb = Sandbox::campaign();
    let done = send_to(&sb, &xoauth2_url(&server))
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
    // One connection, one login, three letters.
    let logins = server.logins();
    let users: Vec<&str> = logins.iter().map(|(user, _)| user.as_str()).collect();
    assert_eq!(users, [USER]);
    let received = server.received();
    assert_eq!(received.len(), 3);
    for letter in &received {
        assert_eq!(letter.login.as_deref(), Some(USER));
        assert_eq!(letter.client_port, logins[0].1);
    }
    assert_eq!(server.refused(), 0);
    assert!(!sb.read(JOURNAL).contains(TOKEN));
}

#[test]
#[ignore = "needs Python with aiosmtpd: LETTERDRIVE_TEST_AIOSMTPD=/path/to/python (see .ci/run)"]
fn a_refused_token_stops_the_run_without_showing_it() {
    let server = Aiosmtpd::start_xoauth2(&python(), USER, TOKEN);
    let sb = Sandbox::campaign();
    send_to(&sb, &xoauth2_url(&server))
        .args(["--yes", "--connections", "1"])
        .args(["--oauth2-token-command", "printf 'ya29.expired-token\\n'"])
        .run()
        .code(4)
        .stderr_has("error: the run stopped:")
        .stderr_has("535")
        .stdout_lacks("ya29.expired-token")
        .stderr_lacks("ya29.expired-token");
    assert!(server.logins().is_empty() && server.received().is_empty());
    assert_eq!(server.refused(), 1);
    assert!(!sb.read(JOURNAL).contains("ya29"));
}

/// A careless server that would answer DATA with 354 after refusing the only recipient, and then
/// deliver an empty message if the data were ended: letterdrive never sends DATA after a refused
/// recipient, so the letter is recorded as refused, nothing reaches Bob, and the other letters go
/// through.
#[test]
#[ignore = "needs Python with aiosmtpd: LETTERDRIVE_TEST_AIOSMTPD=/path/to/python (see .ci/run)"]
fn data_accepted_after_a_refused_recipient_is_abandoned_not_ended() {
    let refuse = r#"{"bob@corp-two.example": ["550 5.1.1 no such user"]}"#;
    let server = Aiosmtpd::start_with(
        &python(),
        None,
        &[("PIPELINING", "1"), ("REFUSE", refuse), ("LENIENT", "1")],
    );
    let sb = Sandbox::campaign();
    send_to(&sb, &format!("smtp://127.0.0.1:{}", server.port))
        .args(["--yes", "--connections", "1"])
        .run()
        .code(4)
        .stdout_has("failed   bob@corp-two.example")
        .stdout_has("2 letters sent, 1 failed");
    let to = server.envelopes();
    // Nothing at all reached Bob, not even an empty message.
    assert_eq!(to, ["alice@corp-one.example", "carol@corp-three.example"]);
    assert_eq!(server.waiting_at_mail().len(), 3);
}
