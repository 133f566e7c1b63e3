//! `export` and `report`: two volunteers' journals become ledgers, and the ledgers one report,
//! whatever the order they are read in, without an address in the ledgers.

use crate::mail_server::MailServer;
use crate::send::{send, ALICE, BOB, CAROL};
use crate::util::{Sandbox, SIGNER_EMAIL, SIGNER_NAME};

const OTHER_VOLUNTEER: &str = "vic@volunteers.example";

/// Two volunteers' ledgers: the test signer wrote to Alice and Bob, another volunteer to Alice.
fn two_ledgers(sb: &Sandbox) {
    let server = MailServer::start();
    send(sb, &server)
        .args(["--yes", "--journal", "a.jsonl", "--where"])
        .arg(format!("email={ALICE},{BOB}"))
        .run()
        .success();
    let url = server.url();
    sb.cmd()
        .args([
            "send",
            "--group",
            "test",
            "--smtp",
            &url,
            "--rate",
            "unlimited",
            "--yes",
        ])
        .args(["--journal", "b.jsonl", "--where"])
        .arg(format!("email={ALICE}"))
        .args(["--signer-name", "Vic", "--signer-email", OTHER_VOLUNTEER])
        .run()
        .success();
    sb.cmd()
        .args(["export", "--out", "a.ledger", "--journal", "a.jsonl"])
        .args(["--signer-email", SIGNER_EMAIL])
        .run()
        .success()
        .stdout_has("wrote 2 events to a.ledger");
    sb.cmd()
        .args(["export", "--out", "b.ledger", "--journal", "b.jsonl"])
        .args(["--signer-email", OTHER_VOLUNTEER])
        .run()
        .success()
        .stdout_has("wrote 1 event to b.ledger");
}

fn report(sb: &Sandbox, ledgers: &[&str], out: &str) -> String {
    sb.cmd()
        .arg("report")
        .args(ledgers)
        .args(["--out", out, "--suggest", "1"])
        .run()
        .success()
        .stdout()
}

#[test]
fn ledgers_merge_into_coverage_fewest_letters_first() {
    let sb = Sandbox::campaign();
    two_ledgers(&sb);
    let out = report(&sb, &["a.ledger", "b.ledger"], "report");
    assert!(
        out.contains("3 events from 2 ledgers: 3 letters sent to 3 targets"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "letterdrive send --group test --where email={CAROL}"
        )),
        "{out}"
    );
    let csv = sb.read("report/coverage.csv");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "group,name,letters,volunteers,replies,bounces,drafted,failed,uncertain,response_rate,auto_replies,bounce_codes"
    );
    assert_eq!(rows[1], "test,Carol Other,0,0,0,0,0,0,0,,0,");
    assert_eq!(rows[2], "test,Bob Staff,1,1,0,0,0,0,0,0%,0,");
    assert_eq!(rows[3], "test,Alice Boss,2,2,0,0,0,0,0,0%,0,");
    let page = sb.read("report/report.html");
    assert!(page.contains("<meta name=\"viewport\""), "made for phones");
    assert_eq!(
        page.matches("<svg").count(),
        2,
        "a chart per group and per day"
    );
    assert!(page.contains("Carol Other"));
}

#[test]
fn the_order_and_repetition_of_ledgers_change_nothing() {
    let sb = Sandbox::campaign();
    two_ledgers(&sb);
    report(&sb, &["a.ledger", "b.ledger"], "ab");
    report(&sb, &["b.ledger", "a.ledger"], "ba");
    report(
        &sb,
        &["a.ledger", "a.ledger", "b.ledger", "b.ledger"],
        "aabb",
    );
    for file in ["coverage.csv", "report.html"] {
        let ab = sb.read(&format!("ab/{file}"));
        assert_eq!(ab, sb.read(&format!("ba/{file}")), "{file}");
        assert_eq!(ab, sb.read(&format!("aabb/{file}")), "{file}");
    }
}

#[test]
fn a_ledger_names_nobody_unless_asked() {
    let sb = Sandbox::campaign();
    two_ledgers(&sb);
    for ledger in ["a.ledger", "b.ledger"] {
        let text = sb.read(ledger);
        // The Message-IDs carry the signer's domain, as every mail does; no address goes in.
        for secret in [
            ALICE,
            BOB,
            SIGNER_EMAIL,
            OTHER_VOLUNTEER,
            SIGNER_NAME,
            "corp-",
            "sam@",
        ] {
            assert!(!text.contains(secret), "{ledger} holds `{secret}`:\n{text}");
        }
    }
    sb.cmd()
        .args([
            "export",
            "--out",
            "named.ledger",
            "--journal",
            "a.jsonl",
            "--with-names",
        ])
        .args(["--signer-email", SIGNER_EMAIL, "--signer-name", SIGNER_NAME])
        .run()
        .success();
    let named = sb.read("named.ledger");
    assert!(named.contains(SIGNER_NAME));
    assert!(!named.contains(SIGNER_EMAIL) && !named.contains(ALICE));
}

#[test]
fn a_torn_line_is_skipped_and_another_campaigns_ledger_refused() {
    let sb = Sandbox::campaign();
    two_ledgers(&sb);
    let mut torn = sb.read("a.ledger");
    torn.push_str("{\"campaign\":\"test-campaign\",\"gro");
    sb.write("torn.ledger", &torn);
    sb.cmd()
        .args(["report", "torn.ledger", "--out", "r"])
        .run()
        .success()
        .stderr_has("torn.ledger:3: not a ledger event (cut short)")
        .stdout_has("2 events from 1 ledger");

    let foreign = sb
        .read("b.ledger")
        .replace("test-campaign", "other-campaign");
    sb.write("foreign.ledger", foreign);
    sb.cmd()
        .args(["report", "a.ledger", "foreign.ledger", "--out", "f"])
        .run()
        .code(1)
        .stderr_has("foreign.ledger:1: this ledger is of campaign `other-campaign`");
    assert!(
        !sb.exists("f/report.html"),
        "nothing written for a refused merge"
    );
}

#[test]
fn names_from_the_lists_are_text_in_the_page_and_the_spreadsheet() {
    let sb = Sandbox::campaign();
    let csv = crate::util::CSV.replace(
        "Carol Other",
        "=HYPERLINK(\"\"x\"\") <script>alert(1)</script>",
    );
    sb.write(
        crate::util::CSV_FILE,
        csv.replace(",Corp Three", ",\"Corp Three\""),
    );
    two_ledgers(&sb);
    report(&sb, &["a.ledger", "b.ledger"], "r");
    let page = sb.read("r/report.html");
    assert!(!page.contains("<script"), "{page}");
    assert!(page.contains("&lt;script&gt;"));
    let csv = sb.read("r/coverage.csv");
    assert!(
        csv.contains("\"'=HYPERLINK("),
        "a formula is quoted as text:\n{csv}"
    );
}

#[test]
fn export_without_a_volunteer_says_what_to_pass() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["export", "--out", "x.ledger"])
        .run()
        .code(2)
        .stderr_has("--signer-email");
    assert!(!sb.exists("x.ledger"));
}

/// The letters file beside the sandbox's journal.
const LETTERS: &str = "data/letterdrive/journals/test-campaign.letters.jsonl";

fn records(sb: &Sandbox) -> Vec<serde_json::Value> {
    sb.read(LETTERS)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a record is JSON"))
        .collect()
}

#[test]
fn render_records_each_letter_and_mark_sent_the_ones_posted() {
    let sb = Sandbox::campaign();
    sb.render("test", "eml", "out").run().success();
    let drafted = records(&sb);
    assert_eq!(drafted.len(), 3);
    assert_eq!(drafted[0]["state"], "drafted");
    assert_eq!(drafted[0]["channel"], "eml");
    assert_eq!(drafted[0]["email"], ALICE);
    let file = drafted[0]["file"].as_str().unwrap();
    assert!(sb.exists(&format!("out/{file}")), "{file} was written");
    let id = drafted[0]["message_id"].as_str().unwrap();
    assert!(
        sb.read(&format!("out/{file}")).contains(id),
        "the file's Message-ID is recorded"
    );

    sb.cmd()
        .args(["mark-sent", "-g", "test", "--via", "post", "--where"])
        .arg(format!("email={BOB}"))
        .signer()
        .run()
        .success()
        .stdout_has("marked 1 letter as sent by post");
    let all = records(&sb);
    assert_eq!(all.len(), 4);
    assert_eq!(
        (&all[3]["state"], &all[3]["channel"]),
        (&"sent".into(), &"post".into())
    );

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
        .stdout_has("wrote 4 events");
    let out = report(&sb, &["l.ledger"], "r");
    assert!(out.contains("1 letter sent to 3 targets"), "{out}");
    let csv = sb.read("r/coverage.csv");
    assert!(csv.contains("test,Bob Staff,1,1,0,0,1,0,0,0%"), "{csv}");
}

/// A letter marked as sent by hand is sent: `send` does not send it again, and `status` counts
/// it, though the send journal holds only what `send` did.
#[test]
fn a_letter_marked_sent_by_hand_is_not_sent_again() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["mark-sent", "-g", "test", "--via", "mailto", "--where"])
        .arg(format!("email={BOB}"))
        .signer()
        .run()
        .success();
    // sent, failed, uncertain, pending, replied, bounced
    let status = || {
        let done = sb.cmd().args(["status", "-g", "test"]).run().success();
        let out = done.stdout();
        let row = out.lines().find(|l| l.starts_with("test "));
        row.map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    assert_eq!(status().as_deref(), Some("test 1 0 0 2 0 0"));
    let server = MailServer::start();
    send(&sb, &server)
        .arg("--yes")
        .run()
        .success()
        .stdout_has("2 to send, 1 already sent");
    assert_eq!(server.recipients(), [ALICE, CAROL]);
    assert_eq!(status().as_deref(), Some("test 3 0 0 0 0 0"));
}

#[test]
fn a_render_that_fails_records_nothing() {
    let sb = Sandbox::campaign();
    sb.write(
        crate::util::CSV_FILE,
        format!("{}Dan,not-an-address,Corp,France,\n", crate::util::CSV),
    );
    sb.render("test", "eml", "out").run().code(1);
    assert!(!sb.exists(LETTERS) || records(&sb).is_empty());
    let journals = "data/letterdrive/journals";
    let left = if sb.exists(journals) {
        sb.files(journals)
    } else {
        vec![]
    };
    assert!(
        left.iter().all(|f| f.ends_with(".letters.jsonl")),
        "{left:?}"
    );
}

#[test]
fn mark_sent_from_the_pages_ticks_records_only_the_ticked_letters() {
    let sb = Sandbox::campaign();
    let ticks = serde_json::json!({
        "campaign": "test-campaign", "group": "test",
        "sent": [ALICE.to_uppercase(), CAROL, "nobody@elsewhere.example"],
    });
    sb.write("ticks.json", ticks.to_string());
    sb.cmd()
        .args(["mark-sent", "-g", "test", "--from", "ticks.json"])
        .signer()
        .run()
        .success()
        .stdout_has("marked 2 letters as sent by mailto")
        .stderr_has("1 address ticked on the page not among the targeted recipients, left out: nobody@elsewhere.example");
    let marked: Vec<_> = records(&sb)
        .iter()
        .map(|r| r["email"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(marked, [ALICE, CAROL]);

    let other = serde_json::json!({"campaign": "test-campaign", "group": "other", "sent": []});
    sb.write("other.json", other.to_string());
    sb.cmd()
        .args(["mark-sent", "-g", "test", "--from", "other.json"])
        .signer()
        .run()
        .code(2)
        .stderr_has("group `other`");
    sb.write("bad.json", "{\"campaign\": ");
    sb.cmd()
        .args(["mark-sent", "-g", "test", "--from", "bad.json"])
        .signer()
        .run()
        .code(1)
        .stderr_has("bad.json:1: not a file of ticks from the mailto page");
    assert_eq!(records(&sb).len(), 2, "nothing more recorded");
}
