//! `replies`: the volunteer's mail, in the shapes real servers and clients write it (fixtures in
//! tests/fixtures/replies), becomes replies, auto-replies and bounces of the campaign's letters,
//! each recorded once, and reaches `status`, `export` and `report`.

use crate::util::{repo_file, Sandbox, CSV, CSV_FILE, SIGNER_EMAIL};

/// The letters file beside the sandbox's journal.
const LETTERS: &str = "data/letterdrive/journals/test-campaign.letters.jsonl";

/// Three more recipients, so that each fixture answers a letter of its own.
fn sandbox() -> Sandbox {
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        format!(
            "{CSV}Dan Desk,dan@corp-four.example,Corp Four,Finland,staff\n\
             Erin Head,erin@corp-five.example,Corp Five,Chile,boss\n\
             Fay Office,fay@corp-six.example,Corp Six,Senegal,staff\n"
        ),
    );
    sb
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = repo_file("tests/fixtures/replies");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The fixtures as a folder of .eml files.
fn eml_dir(sb: &Sandbox, dir: &str) {
    for (name, bytes) in fixtures() {
        sb.write(&format!("{dir}/{name}"), bytes);
    }
}

fn replies(sb: &Sandbox, how: &str, path: &str) -> crate::util::Done {
    sb.cmd().args(["replies", how, path]).signer().run()
}

/// The records of the letters file as (email, state, answer id, status code, time).
fn records(sb: &Sandbox) -> Vec<[String; 5]> {
    let mut all: Vec<[String; 5]> = sb
        .read(LETTERS)
        .lines()
        .map(|l| {
            let r: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
            assert_eq!((s("channel"), s("group")), ("email".into(), "test".into()));
            [
                s("email"),
                s("state"),
                s("answer_id"),
                s("status_code"),
                s("time"),
            ]
        })
        .collect();
    all.sort();
    all
}

fn states(sb: &Sandbox) -> Vec<(String, String)> {
    let r = records(sb).into_iter().map(|[e, s, ..]| (e, s));
    r.collect()
}

#[test]
fn every_shape_of_answer_is_recorded_once() {
    let sb = sandbox();
    eml_dir(&sb, "mail");
    replies(&sb, "--eml", "mail")
        .success()
        .stdout_has("read 12 messages from mail, looking for answers to 6 letters")
        .stdout_has("recorded 4 replies, 3 auto-replies and 2 bounces in ")
        .stdout_has("  test: carol@corp-three.example (5.1.1)\n")
        .stdout_has("  test: erin@corp-five.example (5.4.1)\n");
    let pair = |e: &str, s: &str| (e.to_string(), s.to_string());
    assert_eq!(
        states(&sb),
        [
            // Gmail's reply, and an out-of-office notice known by X-Autoreply and its subject.
            pair("alice@corp-one.example", "auto-replied"),
            pair("alice@corp-one.example", "replied"),
            // Outlook's reply, and Exchange's automatic reply (Auto-Submitted).
            pair("bob@corp-two.example", "auto-replied"),
            pair("bob@corp-two.example", "replied"),
            // Postfix's bounce; the read receipt and the delay warning are neither.
            pair("carol@corp-three.example", "bounced"),
            // Thunderbird's reply, and a Sieve vacation notice known only by its headers.
            pair("dan@corp-four.example", "auto-replied"),
            pair("dan@corp-four.example", "replied"),
            // Exchange's bounce, though it carries In-Reply-To as a reply would.
            pair("erin@corp-five.example", "bounced"),
            // No In-Reply-To, an encoded subject with three prefixes and odd case.
            pair("fay@corp-six.example", "replied"),
        ]
    );
    let all = records(&sb);
    let carol = all.iter().find(|r| r[0].starts_with("carol")).unwrap();
    assert_eq!(
        carol[2..],
        [
            "<20261127120009.4N1xYz2Kq3z9rWl@mail.signers.org>".to_string(),
            "5.1.1".into(),
            "2026-11-27T12:00:09Z".into()
        ],
        "the DSN's own Message-ID, status code and date"
    );
    let fay = all.iter().find(|r| r[0].starts_with("fay")).unwrap();
    assert_eq!(fay[4], "2026-12-02T07:03:09Z");

    let before = sb.read(LETTERS);
    replies(&sb, "--eml", "mail")
        .success()
        .stdout_has("recorded nothing new")
        .stdout_has("9 answers already recorded");
    assert_eq!(sb.read(LETTERS), before, "a second run adds nothing");
}

#[test]
fn an_mbox_and_a_maildir_give_the_same_answers() {
    let sb = sandbox();
    eml_dir(&sb, "mail");
    replies(&sb, "--eml", "mail").success();
    let from_eml = records(&sb);
    std::fs::remove_file(sb.join(LETTERS)).unwrap();

    let mut mbox = Vec::new();
    for (i, (_, bytes)) in fixtures().into_iter().enumerate() {
        mbox.extend_from_slice(b"From MAILER-DAEMON Fri Nov 27 13:00:09 2026\n");
        // A body line starting `From ` is quoted in an mbox; the reader unquotes it.
        let text = String::from_utf8(bytes).unwrap();
        mbox.extend_from_slice(text.replace("\nFrom: Sam", "\n>From: Sam").as_bytes());
        mbox.extend_from_slice(if i % 2 == 0 { b"\n" } else { b"\r\n" });
    }
    sb.write("Inbox.mbox", &mbox);
    replies(&sb, "--mbox", "Inbox.mbox")
        .success()
        .stdout_has("read 12 messages from Inbox.mbox");
    assert_eq!(records(&sb), from_eml);
    std::fs::remove_file(sb.join(LETTERS)).unwrap();

    for (i, (name, bytes)) in fixtures().into_iter().enumerate() {
        let sub = if i % 2 == 0 { "cur" } else { "new" };
        sb.write(
            &format!("Maildir/{sub}/1795780800.{i}.host:2,S-{name}"),
            bytes,
        );
    }
    sb.write("Maildir/tmp/.keep", "");
    replies(&sb, "--maildir", "Maildir")
        .success()
        .stdout_has("read 12 messages from Maildir");
    assert_eq!(records(&sb), from_eml);
}

#[test]
fn answers_reach_status_export_and_the_report() {
    let sb = sandbox();
    eml_dir(&sb, "mail");
    replies(&sb, "--eml", "mail").success();
    sb.cmd()
        .arg("status")
        .run()
        .success()
        .stdout_has("replied  bounced")
        .stdout_has("bounced:   test: carol@corp-three.example (5.1.1)")
        .stdout_has("bounced:   test: erin@corp-five.example (5.4.1)")
        .stdout_has("3 auto-replies (out of office and the like) are not counted as replies");
    let status = sb.cmd().arg("status").run().stdout();
    let row = status.lines().find(|l| l.starts_with("test ")).unwrap();
    let counts: Vec<&str> = row.split_whitespace().skip(1).collect();
    assert_eq!(counts, ["0", "0", "0", "6", "4", "2"], "{status}");

    sb.cmd()
        .args([
            "export",
            "--out",
            "l.ledger",
            "--signer-email",
            SIGNER_EMAIL,
        ])
        .run()
        .success()
        .stdout_has("wrote 9 events");
    let ledger = sb.read("l.ledger");
    assert!(!ledger.contains("carol@"), "no address in a ledger");
    assert!(ledger.contains("\"status_code\":\"5.1.1\""));
    sb.cmd()
        .args(["report", "l.ledger", "--out", "r"])
        .run()
        .success();
    let csv = sb.read("r/coverage.csv");
    let row = |name: &str| {
        let line = csv.lines().find(|l| l.contains(name)).unwrap();
        line.split(',').skip(2).collect::<Vec<_>>().join(",")
    };
    // letters, volunteers, replies, bounces, drafted, failed, uncertain, rate, auto, codes
    assert_eq!(row("Alice Boss"), "0,0,1,0,0,0,0,,1,");
    assert_eq!(row("Carol Other"), "0,0,0,1,0,0,0,,0,5.1.1");
    let page = sb.read("r/report.html");
    let bounced = &page[page.find("Bounced: fix these addresses").unwrap()..];
    assert!(
        bounced.contains("<td>carol@corp-three.example</td>"),
        "{bounced}"
    );
    assert!(bounced.contains("<td>5.4.1</td>"), "{bounced}");
    assert!(!bounced.contains("alice@"), "{bounced}");
}

#[test]
fn unreadable_mail_is_named_and_nothing_recorded_is_lost() {
    let sb = sandbox();
    eml_dir(&sb, "mail");
    replies(&sb, "--eml", "mail").success();
    let before = sb.read(LETTERS);

    sb.write("notes.mbox", "Dear diary,\nFrom today on...\n");
    replies(&sb, "--mbox", "notes.mbox")
        .code(1)
        .stderr_has("notes.mbox:1: this is not an mbox file")
        .stderr_has("--eml DIR");
    replies(&sb, "--maildir", "mail")
        .code(1)
        .stderr_has("no folder mail/cur")
        .stderr_has("holding `cur` and `new`");
    replies(&sb, "--mbox", "missing.mbox")
        .code(3)
        .stderr_has("missing.mbox");
    assert_eq!(sb.read(LETTERS), before);

    sb.write("more/broken.eml", [0u8, 159, 146, 150, 0, 0]);
    sb.write("more/ok.eml", fixtures()[0].1.clone());
    replies(&sb, "--eml", "more")
        .success()
        .stderr_has("more/broken.eml: not a mail message, skipped")
        .stdout_has("read 2 messages from more (1 not mail, skipped)");
    assert_eq!(sb.read(LETTERS), before);

    sb.cmd()
        .arg("replies")
        .signer()
        .run()
        .code(2)
        .stderr_has("--mbox");
}
