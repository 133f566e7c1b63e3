//! What keeps a volunteer who is not a programmer safe: one send journal per campaign wherever
//! they run from, targets that match nothing, placeholder addresses, the saved signer, and what
//! to do next.

use crate::mail_server::MailServer;
use crate::util::Sandbox;

/// The bundled campaign's journal in the data directory the harness gives the binary.
const BUNDLED_JOURNAL: &str = "data/letterdrive/journals/xinjiang-2022.jsonl";

fn send_bundled(sb: &Sandbox, dir: &str, url: &str) -> crate::util::Cmd {
    sb.cmd()
        .in_dir(sb, dir)
        .args(["send", "-g", "ohchr", "--smtp", url, "--rate", "unlimited"])
        .signer()
}

#[test]
fn letters_sent_from_one_folder_are_sent_in_another() {
    let sb = Sandbox::empty();
    let server = MailServer::start();
    send_bundled(&sb, "a", &server.url())
        .arg("--yes")
        .run()
        .success()
        .stdout_has("1 letter sent")
        .stdout_has(&format!("journal: {}", sb.join(BUNDLED_JOURNAL).display()));
    assert!(sb.exists(BUNDLED_JOURNAL));
    assert!(!sb.exists("a/.letterdrive"));

    let status = sb
        .cmd()
        .in_dir(&sb, "b")
        .args(["status", "-g", "ohchr"])
        .run();
    let out = status.success().stdout();
    assert!(
        out.contains(&format!("journal: {}", sb.join(BUNDLED_JOURNAL).display())),
        "{out}"
    );
    let line = out.lines().find(|l| l.starts_with("ohchr")).unwrap();
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["ohchr", "1", "0", "0", "0", "0", "0"]
    );
    send_bundled(&sb, "b", &server.url())
        .arg("--dry-run")
        .run()
        .success()
        .stdout_has("0 to send, 1 already sent");
    assert_eq!(server.received().len(), 1);
}

#[test]
fn a_journal_beside_the_campaign_from_an_earlier_version_is_still_read() {
    let sb = Sandbox::campaign();
    let record = "{\"campaign\":\"test-campaign\",\"group\":\"test\",\"email\":\"alice@corp-one.example\",\"message_id\":\"<x>\",\"status\":\"sent\",\"time\":\"2026-11-27T12:00:00Z\"}\n";
    sb.write(".letterdrive/journal.jsonl", record);
    let server = MailServer::start();
    crate::send::send(&sb, &server)
        .arg("--yes")
        .run()
        .success()
        .stdout_has("2 to send, 1 already sent")
        .stdout_has("journal: .letterdrive/journal.jsonl")
        .stderr_has("earlier version kept beside the campaign");
    assert_eq!(server.recipients(), [crate::send::BOB, crate::send::CAROL]);
    assert!(!sb.exists(crate::send::JOURNAL));
    // `--journal` still wins.
    sb.cmd()
        .args(["status", "-g", "test", "--journal", "other.jsonl"])
        .run()
        .success()
        .stdout_has("journal: other.jsonl")
        .stderr_lacks("earlier version");
}

#[test]
fn a_target_that_matches_nothing_is_an_error_and_keeps_earlier_output() {
    let sb = Sandbox::empty();
    sb.render("governments", "html", "letters")
        .args(["--where", "country=United Kingdom"])
        .run()
        .success();
    let page = sb.read("letters/governments.html");
    let uk = "--where \"country=United Kingdom\"?";
    sb.render("governments", "html", "letters")
        .args(["--where", "country=UK"])
        .run()
        .code(2)
        .stderr_has("--where country=UK matches no recipient of group `governments`")
        .stderr_has(uk)
        .stderr_has("France (1)")
        .stdout_lacks("wrote");
    assert_eq!(sb.read("letters/governments.html"), page);
    assert_eq!(sb.files("letters"), ["governments.html"]);
    sb.cmd()
        .args(["preview", "-g", "governments", "--where", "country=UK"])
        .run()
        .code(2)
        .stderr_has(uk);
    sb.cmd()
        .args([
            "send",
            "-g",
            "governments",
            "--where",
            "country=UK",
            "--dry-run",
        ])
        .signer()
        .run()
        .code(2)
        .stderr_has(uk)
        .stdout_lacks("letters of group");
    // Two conditions that each match but not together: the values left by the others.
    sb.cmd()
        .args(["preview", "-g", "governments", "--where", "region=Europe"])
        .args(["--where", "role=china"])
        .run()
        .code(2)
        .stderr_has("with the other --where conditions")
        .stderr_has("`region` has: Asia-Pacific (1)");
}

#[test]
fn placeholder_addresses_are_said_by_render_the_page_and_send() {
    let sb = Sandbox::campaign();
    let said = "3 of 3 addresses are placeholders on reserved example domains";
    sb.render("test", "html", "page")
        .run()
        .success()
        .stdout_has(&format!("warning: {said}"));
    let page = sb.read("page/test.html");
    assert!(
        page.contains(&format!(
            "<p class=\"placeholders\" role=\"alert\"><strong>Warning:</strong> {said}"
        )),
        "{page}"
    );
    assert_eq!(
        page.matches("<p class=\"placeholder\">").count(),
        3,
        "{page}"
    );
    // A server on this machine may receive them.
    let server = MailServer::start();
    crate::send::send(&sb, &server)
        .arg("--yes")
        .run()
        .success()
        .stdout_has(&format!("  warning: {said}"));
    assert_eq!(server.received().len(), 3);

    // Real addresses: nothing is said.
    sb.write(
        crate::util::CSV_FILE,
        crate::util::CSV.replace(".example", ".org"),
    );
    sb.render("test", "html", "real")
        .run()
        .success()
        .stdout_lacks("placeholder");
    assert!(!sb.read("real/test.html").contains("class=\"placeholder"));
}

#[test]
fn placeholder_addresses_never_go_to_a_server_elsewhere() {
    let sb = Sandbox::campaign();
    // Refused before any connection: `.invalid` names no host at all.
    for extra in [&["--yes"][..], &["--dry-run"]] {
        crate::send::send_to(&sb, "smtps://mail.example.invalid")
            .args(extra)
            .run()
            .code(2)
            .stderr_has("not sending through mail.example.invalid, a server not on this machine: 3 of 3 addresses are placeholders")
            .stdout_lacks("letters sent")
            .stdout_lacks("dry run");
    }
    assert!(!sb.exists(crate::send::JOURNAL));
}

#[test]
fn render_and_send_sign_with_the_saved_profile_when_no_signer_is_given() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    // The harness points XDG_CONFIG_HOME at `config` in the sandbox.
    let profile = "config/letterdrive/profile.toml";
    sb.write(
        profile,
        format!("name = \"Ada Saved\"\nemail = \"ada@volunteers.org\"\ncity = \"Lyon\"\n\n[smtp]\nurl = \"{}\"\n", server.url()),
    );
    let said = format!(
        "signer: Ada Saved <ada@volunteers.org>, from the saved profile {}",
        sb.join(profile).display()
    );
    sb.cmd()
        .args([
            "render",
            "-g",
            "test",
            "-f",
            "txt",
            "-o",
            "out",
            "--date",
            crate::util::DATE,
        ])
        .run()
        .success()
        .stdout_has(&said);
    let letter = sb.read("out/test-000001-alice-boss.txt");
    assert!(
        letter.starts_with("From: Ada Saved <ada@volunteers.org>"),
        "{letter}"
    );
    sb.cmd()
        .args(["send", "-g", "test", "--rate", "unlimited", "--yes"])
        .run()
        .success()
        .stdout_has(&said)
        .stdout_has("from:    Ada Saved <ada@volunteers.org>");
    assert_eq!(server.received().len(), 3);
    // A signer flag means the profile's signer is not used.
    sb.cmd()
        .args([
            "render",
            "-g",
            "test",
            "-f",
            "txt",
            "-o",
            "out2",
            "--signer-name",
            "Flag",
        ])
        .run()
        .code(2)
        .stdout_lacks("signer:")
        .stderr_has("missing --signer-email");
}

#[test]
fn render_ends_with_what_to_do_next_and_the_absolute_path() {
    let sb = Sandbox::campaign();
    let at = |rel: &str| sb.join(rel).canonicalize().unwrap().display().to_string();
    let done = sb.render("test", "html", "page").run().success();
    let page = at("page/test.html");
    done.stdout_has(&format!("next: open {page} in your browser"));
    let done = sb.render("test", "mbox", "box").run().success();
    let mbox = at("box/test.mbox");
    done.stdout_has(&format!("next: import {mbox} into your mail program"));
    let done = sb.render("test", "eml", "mails").run().success();
    let mails = at("mails");
    done.stdout_has(&format!(
        "next: open the files in {mails} with your mail program"
    ));
}

#[test]
fn providers_are_listed_and_one_names_the_server_login_and_daily_limit() {
    let sb = Sandbox::campaign();
    let out = sb.cmd().arg("providers").run().success().stdout();
    for id in [
        "gmail",
        "outlook",
        "microsoft365",
        "yahoo",
        "icloud",
        "fastmail",
        "proton-bridge",
        "gmx",
        "zoho",
        "mailbox-org",
        "posteo",
    ] {
        assert!(
            out.contains(&format!("\n{id}  ")) || out.starts_with(&format!("{id}  ")),
            "{id}:\n{out}"
        );
    }
    assert!(
        out.contains("smtp.gmail.com:465 (TLS), 500 a day (the default --max)"),
        "{out}"
    );
    // A dry run, and placeholder addresses a server elsewhere never gets: nothing connects.
    sb.cmd()
        .args(["send", "-g", "test", "--provider", "Gmail", "--dry-run"])
        .signer()
        .env("LETTERDRIVE_SMTP_PASSWORD", "not-a-password")
        .run()
        .code(2)
        .stdout_has("provider: Gmail; it takes an app password")
        .stdout_has("provider: at most 500 letters a run")
        .stdout_has("server:  smtps://sam@signers.org@smtp.gmail.com:465 (TLS) — from --provider")
        .stdout_has("login:   sam@signers.org")
        .stderr_has("not sending through smtp.gmail.com");
    sb.cmd()
        .args(["send", "-g", "test", "--provider", "aol", "--dry-run"])
        .signer()
        .run()
        .code(2)
        .stderr_has("unknown mail provider `aol`")
        .stderr_has("gmail, outlook");
}
