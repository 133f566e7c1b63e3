//! The mailto: page in a real browser: headless Chromium, driven over its DevTools protocol on a
//! pipe (`--remote-debugging-pipe`: JSON messages, each ended by a NUL byte, read from file
//! descriptor 3 and written to 4). Clicks are real input events, so the page's buttons act as they
//! do for a volunteer. Without Chromium the test says why it skipped (on Debian: `apt-get install
//! chromium`; `.ci/run` installs it where it can).

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::util::Sandbox;

/// The browser to test with: `LETTERDRIVE_TEST_CHROMIUM`, else the first on the `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LETTERDRIVE_TEST_CHROMIUM") {
        return Some(path.into());
    }
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs)
        .flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// A running headless Chromium and the one page it shows.
struct Browser {
    child: Child,
    commands: std::io::PipeWriter,
    replies: BufReader<std::io::PipeReader>,
    next_id: u64,
    /// Events read while waiting for a reply, for `wait_for`.
    events: Vec<Value>,
    /// The page's session.
    session: Option<String>,
}

impl Browser {
    /// Starts `chromium` with `profile` as its user data directory and opens `page` in it. An
    /// `xdg-open` that does nothing comes first on its `PATH`, so a `mailto:` link opens no
    /// mail program.
    fn open(chromium: &Path, profile: &Path, page: &Path) -> Browser {
        let (from_us, commands_fd) = std::io::pipe().unwrap();
        let (replies, to_us) = std::io::pipe().unwrap();
        let stub = profile.with_extension("bin");
        std::fs::create_dir_all(&stub).unwrap();
        let xdg_open = stub.join("xdg-open");
        std::fs::write(&xdg_open, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(
            &xdg_open,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let path = std::env::join_paths(
            std::iter::once(stub).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
        )
        .unwrap();
        let mut cmd = Command::new(chromium);
        cmd.args(["--headless", "--remote-debugging-pipe", "--no-first-run"])
            .args([
                "--no-default-browser-check",
                "--disable-gpu",
                "--disable-dev-shm-usage",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .env("PATH", path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: libc::geteuid has no preconditions. Chromium's sandbox refuses to run as root.
        if unsafe { libc::geteuid() } == 0 {
            cmd.arg("--no-sandbox");
        }
        let (read, write) = (from_us.as_raw_fd(), to_us.as_raw_fd());
        // SAFETY: runs in the child between fork and exec and only makes system calls, which are
        // async-signal-safe. The copies above 9 keep 3 and 4 free whatever the pipes' numbers.
        unsafe {
            cmd.pre_exec(move || {
                let (r, w) = (
                    libc::fcntl(read, libc::F_DUPFD, 10),
                    libc::fcntl(write, libc::F_DUPFD, 10),
                );
                if r < 0 || w < 0 || libc::dup2(r, 3) < 0 || libc::dup2(w, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start chromium");
        drop((from_us, to_us));
        let mut browser = Browser {
            child,
            commands: commands_fd,
            replies: BufReader::new(replies),
            next_id: 0,
            events: Vec::new(),
            session: None,
        };
        browser.show(page);
        browser
    }

    /// Sends a command (to the page once there is one) and returns its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).expect("chromium reads");
        loop {
            let reply = self.read();
            if reply["id"] == json!(id) {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
            self.events.push(reply);
        }
    }

    fn read(&mut self) -> Value {
        let mut bytes = Vec::new();
        self.replies.read_until(0, &mut bytes).unwrap();
        assert_eq!(bytes.pop(), Some(0), "chromium closed its pipe");
        serde_json::from_slice(&bytes).unwrap()
    }

    /// Waits for the event `method`.
    fn wait_for(&mut self, method: &str) {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
            self.events.remove(i);
            return;
        }
        while self.read()["method"] != method {}
    }

    /// Opens `page` in a new tab, lets it use the clipboard, and waits for it to load.
    fn show(&mut self, page: &Path) {
        let grant = json!({ "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"] });
        self.call("Browser.grantPermissions", grant);
        let target = self.call("Target.createTarget", json!({ "url": "about:blank" }));
        let attach = json!({ "targetId": target["targetId"], "flatten": true });
        let session = self.call("Target.attachToTarget", attach)["sessionId"].clone();
        self.session = Some(session.as_str().unwrap().to_string());
        self.call("Page.enable", json!({}));
        // The clipboard API works only in a focused page.
        self.call(
            "Emulation.setFocusEmulationEnabled",
            json!({ "enabled": true }),
        );
        let url = format!("file://{}", page.display());
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for("Page.loadEventFired");
    }

    /// The value of a JavaScript expression, a promise awaited.
    fn eval(&mut self, expression: &str) -> Value {
        let params =
            json!({ "expression": expression, "awaitPromise": true, "returnByValue": true });
        let result = self.call("Runtime.evaluate", params);
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Clicks the middle of the element `selector` as a volunteer would, scrolled into view.
    fn click(&mut self, selector: &str) {
        let at = self.eval(&format!(
            "(() => {{ const e = document.querySelector({selector:?}); e.scrollIntoView({{ block: 'center' }}); \
             const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        for kind in ["mousePressed", "mouseReleased"] {
            let event =
                json!({ "type": kind, "x": at[0], "y": at[1], "button": "left", "clickCount": 1 });
            self.call("Input.dispatchMouseEvent", event);
        }
    }

    /// The text of the element `selector` once it has any.
    fn text_once_set(&mut self, selector: &str) -> String {
        let value = self.eval(&format!(
            "new Promise(done => {{ const e = document.querySelector({selector:?}); \
             if (e.textContent) return done(e.textContent); \
             new MutationObserver(() => done(e.textContent)).observe(e, {{ childList: true, characterData: true, subtree: true }}); }})"
        ));
        value.as_str().unwrap().to_string()
    }

    fn clipboard(&mut self) -> String {
        let text = self.eval("navigator.clipboard.readText()");
        text.as_str().unwrap().to_string()
    }

    /// Closes the browser the way a volunteer closes it, so it keeps what the page stored.
    fn close(mut self) {
        self.session = None;
        self.call("Browser.close", json!({}));
        self.child.wait().unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed test leaves no browser running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of a letter as `render --format txt` writes it: the text after the headers.
fn txt_body(sb: &Sandbox, file: &str) -> String {
    let text = sb.read(&format!("txt/{file}"));
    text.split_once("\n\n").unwrap().1.to_string()
}

#[test]
fn the_mailto_page_copies_letters_opens_short_links_and_keeps_ticks() {
    let Some(chromium) = chromium() else {
        // Written past the test harness's capture, so a run shows why this test did nothing.
        let _ = writeln!(
            std::io::stderr(),
            "browser test skipped: no chromium on the PATH (on Debian: apt-get install chromium; \
             or set LETTERDRIVE_TEST_CHROMIUM to a Chromium binary)"
        );
        return;
    };
    let sb = Sandbox::empty();
    sb.render("governments", "html", "page").run().success();
    sb.render("governments", "txt", "txt").run().success();
    let txt = sb.files("txt");
    let page = sb.join("page/governments.html");
    let profile = sb.join("profile");

    let mut browser = Browser::open(&chromium, &profile, &page);
    // Every letter of the bundled campaign is too long for a whole link: each link is short and
    // copies the letter first.
    let lengths = browser
        .eval("[...document.querySelectorAll('a[href^=\"mailto:\"]')].map(a => a.href.length)");
    let lengths: Vec<u64> = serde_json::from_value(lengths).unwrap();
    assert_eq!(lengths.len(), 17);
    assert!(lengths.iter().all(|&n| n < 2000), "{lengths:?}");
    let copy_first = browser.eval("document.querySelectorAll('a[data-copy-first]').length");
    assert_eq!(copy_first, json!(17));
    assert_eq!(browser.text_once_set("#progress"), "0 of 17 marked sent");

    // "Copy letter" puts the first letter on the clipboard, as the txt output has it.
    browser.click("#letter-1 button.copy");
    let status = browser.text_once_set("#letter-1 .status");
    assert!(status.starts_with("Copied."), "{status}");
    assert_eq!(browser.clipboard(), txt_body(&sb, &txt[0]));

    // The second letter's short link copies its letter before it opens.
    browser.click("#letter-2 a.send");
    let status = browser.text_once_set("#letter-2 .status");
    assert!(status.starts_with("The letter is copied"), "{status}");
    assert_eq!(browser.clipboard(), txt_body(&sb, &txt[1]));

    // Two letters ticked as sent.
    browser.click("#letter-1 input.sent");
    browser.click("#letter-3 input.sent");
    let progress = browser.eval("document.querySelector('#progress').textContent");
    assert_eq!(progress, json!("2 of 17 marked sent"));
    browser.close();

    // Another day, the same browser: the ticks are still there, in the index too.
    let mut browser = Browser::open(&chromium, &profile, &page);
    assert_eq!(browser.text_once_set("#progress"), "2 of 17 marked sent");
    let ticked = browser.eval(
        "[...document.querySelectorAll('input.sent')].flatMap((b, i) => b.checked ? [i + 1] : [])",
    );
    assert_eq!(ticked, json!([1, 3]));
    let index = browser
        .eval("[...document.querySelectorAll('nav li.done a')].map(a => a.getAttribute('href'))");
    assert_eq!(index, json!(["#letter-1", "#letter-3"]));

    // "Save my ticks" writes the ticked letters to a file (caught here before it is saved),
    // which `mark-sent --from` records.
    browser.eval(
        "URL.createObjectURL = b => { window.savedTicks = b; return 'blob:ticks'; }; \
         HTMLAnchorElement.prototype.click = function () { window.savedAs = this.download; }; true",
    );
    browser.click("button.export");
    let ticks = browser.eval("window.savedTicks.text()");
    assert_eq!(
        browser.eval("window.savedAs"),
        json!("letterdrive-sent-governments.json")
    );
    sb.write("ticks.json", ticks.as_str().unwrap());
    sb.cmd()
        .args(["mark-sent", "-g", "governments", "--from", "ticks.json"])
        .signer()
        .run()
        .success()
        .stdout_has("marked 2 letters as sent by mailto");

    // A browser without the asynchronous clipboard copies by selecting a hidden text area.
    browser.eval(
        "window.realClipboard = navigator.clipboard; \
         Object.defineProperty(navigator, 'clipboard', { value: undefined }); true",
    );
    browser.click("#letter-4 button.copy");
    let status = browser.text_once_set("#letter-4 .status");
    assert!(status.starts_with("Copied."), "{status}");
    let copied = browser.eval("window.realClipboard.readText()");
    assert_eq!(copied.as_str().unwrap(), txt_body(&sb, &txt[3]));
    browser.close();
}
