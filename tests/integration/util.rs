//! The test harness: a fresh temp directory per test, a builder that runs the real binary in it
//! with a clean environment, and helpers to read what it wrote (including parsed mail).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::assert::Assert;
use mail_parser::{Message, MessageParser, MimeHeaders};
use predicates::prelude::PredicateBooleanExt;
use tempfile::TempDir;

/// The signer every rendering test uses.
pub const SIGNER_NAME: &str = "Sam Signer";
pub const SIGNER_EMAIL: &str = "sam@signers.org";
/// A fixed date, so output does not depend on the clock.
pub const DATE: &str = "2026-11-27";
/// 2026-11-27T12:00:00Z, what `--date 2026-11-27` means.
pub const DATE_EPOCH: &str = "1795780800";

/// Environment variables the binary reads; every run starts without them.
const ENV_VARS: &[&str] = &[
    "LETTERDRIVE_CAMPAIGN",
    "LETTERDRIVE_SIGNER_NAME",
    "LETTERDRIVE_SIGNER_EMAIL",
    "LETTERDRIVE_SIGNER_CITY",
    "LETTERDRIVE_SIGNER_COUNTRY",
    "LETTERDRIVE_SIGNER_ORGANISATION",
    "SOURCE_DATE_EPOCH",
];

pub const CAMPAIGN_TOML: &str = r#"[campaign]
id = "test-campaign"

[statement]
title = "A test statement"
organisation = "Testing Rights Watch"
summary = "A short summary for tests."
date = "May 2026"
source = "A statement written for the test suite"

[[facts]]
id = "one_fact"
text = "Fact number one, with a figure of 42."

[[demands]]
id = "everyone"
text = "Demand meant for every recipient."
groups = ["test"]

[[demands]]
id = "boss_only"
text = "Demand meant for bosses only."
groups = ["test"]
roles = ["boss"]

[[demands]]
id = "staff_only"
text = "Demand meant for staff only."
groups = ["test"]
roles = ["staff"]

[groups.test]
label = "Test recipients"
description = "People the test suite writes to."
subject = "Letter to {{organization}}"
required = ["name", "email", "organization", "country"]
target_by = ["country", "role"]
"#;

pub const TEMPLATE: &str = "Dear {{name}},

I write to {{organization}}. {{fact.one_fact}}

{{#each demands}}
- {{this.text}}
{{/each}}

{{#if personal_note}}
{{personal_note}}

{{/if}}
Yours sincerely,

{{signer.name}}
";

pub const CSV: &str = "name,email,organization,country,role
Alice Boss,alice@corp-one.example,Corp One,France,boss
Bob Staff,bob@corp-two.example,Corp Two,Japan,staff
Carol Other,carol@corp-three.example,Corp Three,Germany,
";

pub const CSV_FILE: &str = "recipients/test.csv";
pub const TEMPLATE_FILE: &str = "templates/test.md.hbs";

/// A temp directory the binary runs in. Dropped (and deleted) at the end of the test.
pub struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    /// An empty directory: the binary falls back to its bundled campaign.
    pub fn empty() -> Sandbox {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("letterdrive-test-")
                .tempdir()
                .expect("create temp dir"),
        }
    }

    /// A directory holding the small test campaign (group `test`, three recipients).
    pub fn campaign() -> Sandbox {
        let sb = Sandbox::empty();
        sb.write("campaign.toml", CAMPAIGN_TOML);
        sb.write(TEMPLATE_FILE, TEMPLATE);
        sb.write(CSV_FILE, CSV);
        sb
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Write a file (creating parent directories), replacing what was there.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Sandbox {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent dir");
        }
        fs::write(&path, contents).expect("write test file");
        self
    }

    pub fn read(&self, rel: &str) -> String {
        let path = self.join(rel);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    pub fn read_bytes(&self, rel: &str) -> Vec<u8> {
        let path = self.join(rel);
        fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.join(rel).exists()
    }

    /// Sorted file names directly inside `rel` (hidden ones included).
    pub fn files(&self, rel: &str) -> Vec<String> {
        let path = self.join(rel);
        let mut names: Vec<String> = fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("list {}: {e}", path.display()))
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    /// A command running the real binary with the sandbox as current directory.
    pub fn cmd(&self) -> Cmd {
        self.cmd_from(std::process::Command::new(env!(
            "CARGO_BIN_EXE_letterdrive"
        )))
    }

    /// `cmd`, with the operating system refusing to let a file of the run grow past `bytes` (a
    /// disk that fills up): such a write fails with EFBIG.
    #[cfg(unix)]
    pub fn cmd_with_file_size_limit(&self, bytes: u64) -> Cmd {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_letterdrive"));
        // SAFETY: runs in the child between fork and exec and only makes two system calls, which
        // are async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: bytes as libc::rlim_t,
                    rlim_max: bytes as libc::rlim_t,
                };
                // Ignored, SIGXFSZ no longer kills the process at the limit; the write fails.
                if libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR
                    || libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        self.cmd_from(cmd)
    }

    fn cmd_from(&self, cmd: std::process::Command) -> Cmd {
        let mut cmd = assert_cmd::Command::from_std(cmd);
        cmd.current_dir(self.path());
        // A watchdog, not a timing assumption: every run takes milliseconds, and a hung binary
        // should fail its test instead of stalling the whole suite.
        cmd.timeout(std::time::Duration::from_secs(120));
        for var in ENV_VARS {
            cmd.env_remove(var);
        }
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("LETTERDRIVE_") {
                cmd.env_remove(key);
            }
        }
        // `send` reads the profile from the config directory and keeps its journal in the data
        // directory: never the real ones.
        cmd.env("HOME", self.join("home"));
        cmd.env("XDG_CONFIG_HOME", self.join("config"));
        cmd.env("XDG_DATA_HOME", self.join("data"));
        Cmd {
            cmd,
            args: Vec::new(),
        }
    }

    /// Shorthand: `render -g GROUP -f FORMAT -o OUT` with the test signer and date.
    pub fn render(&self, group: &str, format: &str, out: &str) -> Cmd {
        self.cmd()
            .args(["render", "-g", group, "-f", format, "-o", out])
            .signer()
    }

    /// A failed run must leave nothing behind: no `out`, no staging directory.
    pub fn assert_nothing_written(&self, out: &str) {
        assert!(
            !self.exists(out),
            "`{out}` was created by a failed run: {:?}",
            self.files(out)
        );
        self.assert_no_staging(".");
    }

    /// No `.letterdrive-staging-*` directory left in `rel`.
    pub fn assert_no_staging(&self, rel: &str) {
        let left: Vec<String> = self
            .files(rel)
            .into_iter()
            .filter(|n| n.starts_with(".letterdrive-staging-"))
            .collect();
        assert!(
            left.is_empty(),
            "staging directories left in {rel}: {left:?}"
        );
    }
}

pub struct Cmd {
    cmd: assert_cmd::Command,
    args: Vec<OsString>,
}

impl Cmd {
    pub fn arg(mut self, arg: impl Into<OsString>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Run in `rel` inside the sandbox (created if missing) instead of its top.
    pub fn in_dir(mut self, sb: &Sandbox, rel: &str) -> Cmd {
        fs::create_dir_all(sb.join(rel)).expect("create working dir");
        self.cmd.current_dir(sb.join(rel));
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Cmd {
        self.cmd.env(key, value);
        self
    }

    /// `--signer-name`, `--signer-email` and a fixed `--date`.
    pub fn signer(self) -> Cmd {
        self.args([
            "--signer-name",
            SIGNER_NAME,
            "--signer-email",
            SIGNER_EMAIL,
            "--date",
            DATE,
        ])
    }

    /// Run it. Whatever the outcome, the binary must not panic.
    pub fn run(mut self) -> Done {
        let assert = self.cmd.args(&self.args).assert();
        let done = Done { assert };
        let stderr = done.stderr();
        assert!(
            !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
            "letterdrive {:?} panicked:\n{stderr}",
            self.args
        );
        done
    }
}

/// The outcome of one run, with chainable checks.
pub struct Done {
    assert: Assert,
}

impl Done {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.assert.get_output().stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.assert.get_output().stderr).into_owned()
    }

    pub fn code(self, code: i32) -> Done {
        Done {
            assert: self.assert.code(code),
        }
    }

    pub fn success(self) -> Done {
        self.code(0)
    }

    pub fn failure(self) -> Done {
        Done {
            assert: self.assert.failure(),
        }
    }

    pub fn stdout_has(self, needle: &str) -> Done {
        Done {
            assert: self
                .assert
                .stdout(predicates::str::contains(needle.to_string())),
        }
    }

    pub fn stdout_lacks(self, needle: &str) -> Done {
        Done {
            assert: self
                .assert
                .stdout(predicates::str::contains(needle.to_string()).not()),
        }
    }

    pub fn stderr_has(self, needle: &str) -> Done {
        Done {
            assert: self
                .assert
                .stderr(predicates::str::contains(needle.to_string())),
        }
    }

    pub fn stderr_lacks(self, needle: &str) -> Done {
        Done {
            assert: self
                .assert
                .stderr(predicates::str::contains(needle.to_string()).not()),
        }
    }

    pub fn stderr_empty(self) -> Done {
        Done {
            assert: self.assert.stderr(predicates::str::is_empty()),
        }
    }
}

/// Parse one RFC 5322 message; panics with the text when it is not one.
pub fn parse_mail(bytes: &[u8]) -> Message<'static> {
    MessageParser::default()
        .parse(bytes)
        .unwrap_or_else(|| panic!("not a mail message:\n{}", String::from_utf8_lossy(bytes)))
        .into_owned()
}

/// Split an mboxrd file into its messages: a line starting with `From ` begins a message, and
/// one `>` is taken off every `>…From ` line.
pub fn split_mbox(mbox: &str) -> Vec<String> {
    let mut messages: Vec<String> = Vec::new();
    for line in mbox.split_inclusive('\n') {
        if line.starts_with("From ") {
            messages.push(String::new());
            continue;
        }
        let current = messages
            .last_mut()
            .unwrap_or_else(|| panic!("mbox does not start with a From line:\n{mbox}"));
        let gts = line.bytes().take_while(|&b| b == b'>').count();
        if gts > 0 && line[gts..].starts_with("From ") {
            current.push_str(&line[1..]);
        } else {
            current.push_str(line);
        }
    }
    messages
}

/// The parts of a parsed message, checked to be multipart/alternative with exactly one
/// text/plain and one text/html part: (text, html).
pub fn alternative_parts(msg: &Message) -> (String, String) {
    let root = msg.root_part();
    assert!(
        root.is_content_type("multipart", "alternative"),
        "root part is {:?}, not multipart/alternative",
        root.content_type()
    );
    let plain: Vec<&str> = msg
        .parts
        .iter()
        .filter(|p| p.is_content_type("text", "plain"))
        .filter_map(|p| p.text_contents())
        .collect();
    let html: Vec<&str> = msg
        .parts
        .iter()
        .filter(|p| p.is_content_type("text", "html"))
        .filter_map(|p| p.text_contents())
        .collect();
    assert_eq!(plain.len(), 1, "expected one text/plain part");
    assert_eq!(html.len(), 1, "expected one text/html part");
    (plain[0].to_string(), html[0].to_string())
}

/// The first address of a header as (display name, address).
pub fn first_addr(addr: Option<&mail_parser::Address>) -> (String, String) {
    let a = addr.and_then(|a| a.first()).expect("address header");
    (
        a.name().unwrap_or("").to_string(),
        a.address().unwrap_or("").to_string(),
    )
}

/// Undo the HTML escaping of text, for comparing with the Markdown source.
pub fn unescape_html(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Every real tag in an HTML page: the text between a `<` and the next `>`. Escaped text
/// (`&lt;img&gt;`) holds no `<`, so it never shows up here.
pub fn tags(html: &str) -> Vec<&str> {
    html.split('<')
        .skip(1)
        .map(|rest| &rest[..rest.find('>').unwrap_or(rest.len())])
        .collect()
}

/// Every `href="..."` value of a real tag, HTML-unescaped.
pub fn hrefs(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .filter_map(|tag| tag.split_once(" href=\""))
        .map(|(_, rest)| unescape_html(&rest[..rest.find('"').expect("closing quote")]))
        .collect()
}

/// Where the repository (and so the bundled campaign's source) lives.
pub fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The line (1-based) of the first line of `text` containing `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in text"))
        + 1
}
