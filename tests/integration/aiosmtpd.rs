//! `send` end to end against a second, independent SMTP server: Python's aiosmtpd on 127.0.0.1,
//! so the delivery check does not rest on one server's reading of SMTP (the other send tests use
//! mailin-embedded). Opt-in, because it needs Python: `.ci/run` installs aiosmtpd into a venv and
//! runs it with
//!
//! ```sh
//! LETTERDRIVE_TEST_AIOSMTPD=/path/to/venv/bin/python \
//!     cargo test --locked --test integration aiosmtpd:: -- --ignored
//! ```

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::util::{parse_mail, Sandbox};

const PYTHON_VAR: &str = "LETTERDRIVE_TEST_AIOSMTPD";

/// Binds port 0 itself and names the port in a file, so no other process can take the port
/// between choosing it and listening on it. Each message is one JSON line: envelope and bytes.
const SERVER: &str = r#"
import asyncio, json, os, signal, sys
from aiosmtpd.smtp import SMTP

log, ready = sys.argv[1], sys.argv[2]

class Record:
    async def handle_DATA(self, server, session, envelope):
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"to": envelope.rcpt_tos,
                                "data": envelope.content.decode("utf-8")}) + "\n")
        return "250 OK recorded"

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
server = loop.run_until_complete(
    loop.create_server(lambda: SMTP(Record()), host="127.0.0.1", port=0))
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
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("server.py");
        std::fs::write(&script, SERVER).unwrap();
        let ready = dir.path().join("port");
        let mut child = Command::new(python)
            .arg(&script)
            .arg(dir.path().join("messages.jsonl"))
            .arg(&ready)
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

    /// Every message received so far: its envelope recipients and its bytes.
    fn messages(&self) -> Vec<(Vec<String>, String)> {
        let log = self.dir.path().join("messages.jsonl");
        let text = std::fs::read_to_string(log).unwrap_or_default();
        text.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let to = v["to"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect();
                (to, v["data"].as_str().unwrap().to_string())
            })
            .collect()
    }
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
}
