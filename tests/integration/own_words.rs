//! The volunteer's own voice: how much of each letter is their own words, shown by `preview`,
//! `render` and `send`, and the campaign's minimum, which `--strict` enforces.

use crate::mail_server::MailServer;
use crate::send::send;
use crate::util::{Sandbox, CAMPAIGN_TOML};

/// A paragraph of words the test campaign does not use.
const NOTE: &str = "My sister lives near Kashgar and has not heard from her friends since spring.";

/// The test campaign asking for `min` percent of own words.
fn with_minimum(min: u8) -> Sandbox {
    let sb = Sandbox::campaign();
    let toml = CAMPAIGN_TOML.replace(
        "id = \"test-campaign\"",
        &format!("id = \"test-campaign\"\nmin_own_words = {min}"),
    );
    sb.write("campaign.toml", toml);
    sb.write("note.md", NOTE);
    sb
}

#[test]
fn preview_shows_the_share_of_own_words_with_and_without_a_note() {
    let sb = with_minimum(10);
    let preview = || sb.cmd().args(["preview", "-g", "test"]).signer();
    // The template, the facts, the demands, the row and the signer: no word is the volunteer's.
    preview()
        .run()
        .success()
        .stderr_has("own words: 0% (min 10%)")
        .stderr_has("warning: this letter has fewer of your own words");
    let done = preview().args(["--note", "note.md"]).run().success();
    let done = done.stdout_has("has not heard from her friends");
    let done = done.stderr_lacks("warning");
    let said = done.stderr();
    let percent: u64 = said
        .trim()
        .strip_prefix("own words: ")
        .and_then(|s| s.strip_suffix("% (min 10%)"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!((10..=60).contains(&percent), "{said}");
}

/// Words of the note that the campaign also uses are not counted as the volunteer's: copying
/// the campaign's text into the paragraph adds nothing.
#[test]
fn a_note_that_repeats_the_campaign_adds_no_own_words() {
    let sb = with_minimum(1);
    sb.write(
        "copied.md",
        "Fact number one, with a figure of 42. Demand meant for every recipient.",
    );
    sb.cmd()
        .args(["preview", "-g", "test", "--note", "copied.md"])
        .signer()
        .run()
        .success()
        .stderr_has("own words: 0% (min 1%)");
}

#[test]
fn render_warns_below_the_minimum_and_refuses_with_strict() {
    let sb = with_minimum(10);
    sb.render("test", "eml", "out")
        .run()
        .success()
        .stdout_has("wrote 3 e-mail files")
        .stdout_has("own words: 0% of each letter (min 10%)")
        .stdout_has("warning: 3 of 3 letters have fewer of your own words than the campaign asks (min_own_words = 10%)");
    assert_eq!(sb.files("out").len(), 3);

    sb.render("test", "eml", "strict")
        .arg("--strict")
        .run()
        .code(1)
        .stderr_has("3 of 3 letters have fewer of your own words")
        .stderr_has("--strict refuses them, so nothing was written");
    sb.assert_nothing_written("strict");

    let done = sb.render("test", "eml", "noted");
    let done = done.args(["--strict", "--note", "note.md"]).run().success();
    done.stdout_has("own words: ")
        .stdout_lacks("fewer of your own words");
    assert_eq!(sb.files("noted").len(), 3);
}

/// A group's own minimum wins over the campaign's.
#[test]
fn a_group_minimum_overrides_the_campaign_one() {
    let sb = with_minimum(10);
    let toml = sb
        .read("campaign.toml")
        .replace("[groups.test]\n", "[groups.test]\nmin_own_words = 0\n");
    sb.write("campaign.toml", toml);
    sb.render("test", "eml", "out")
        .arg("--strict")
        .run()
        .success()
        .stdout_has("own words: 0% of each letter (min 0%)")
        .stdout_lacks("fewer of your own words");
}

#[test]
fn send_shows_own_words_in_its_summary_and_refuses_with_strict() {
    let sb = with_minimum(10);
    let server = MailServer::start();
    send(&sb, &server)
        .arg("--dry-run")
        .run()
        .success()
        .stdout_has("own words: 0% of each letter (min 10%)")
        .stdout_has("warning: 3 of 3 letters have fewer of your own words");
    send(&sb, &server)
        .args(["--strict", "--yes"])
        .run()
        .code(1)
        .stderr_has("--strict refuses them, so nothing was sent");
    assert!(server.received().is_empty());

    send(&sb, &server)
        .args(["--strict", "--yes", "--note", "note.md"])
        .run()
        .success()
        .stdout_lacks("fewer of your own words");
    assert_eq!(server.received().len(), 3);
}

/// A template with no place for the volunteer's paragraph makes every letter a form letter.
#[test]
fn check_warns_about_a_group_without_a_personal_paragraph() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stderr_lacks("personal_note");
    sb.write(
        "templates/test.md.hbs",
        "Dear {{name}},\n\nPlease act.\n\n{{signer.name}}\n",
    );
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stderr_has("warning: templates/test.md.hbs")
        .stderr_has("the letters of group `test` have no place for the volunteer's own words")
        .stderr_has("does not use {{personal_note}}");
    sb.cmd().args(["check", "--strict"]).run().code(1);
}

const VIC: &str = "vic@volunteers.example";
/// A paragraph a campaign might circulate for volunteers to paste.
pub const PASTED: &str = "Please publish the report now: the families of the detained deserve to know where they are held and why.";

/// Another volunteer, Vic, sends a letter with `note` to Alice and exports a ledger.
pub fn vic_sent(sb: &Sandbox, note: &str) {
    let server = MailServer::start();
    sb.write("vic.md", note);
    sb.cmd()
        .args([
            "send",
            "--group",
            "test",
            "--smtp",
            &server.url(),
            "--rate",
            "unlimited",
        ])
        .args(["--yes", "--journal", "vic.jsonl", "--note", "vic.md"])
        .args(["--where", "email=alice@corp-one.example"])
        .args(["--signer-name", "Vic", "--signer-email", VIC])
        .run()
        .success();
    sb.cmd()
        .args(["export", "--out", "vic.ledger", "--journal", "vic.jsonl"])
        .args(["--signer-email", VIC])
        .run()
        .success();
    let ledger = sb.read("vic.ledger");
    // Hashes of the paragraph's shingles, never its words.
    assert!(ledger.contains("\"personal\":[\""), "{ledger}");
    assert!(
        !ledger.contains("publish") && !ledger.contains("Ghulja"),
        "{ledger}"
    );
}

#[test]
fn a_paragraph_two_volunteers_paste_is_warned_about_before_it_goes() {
    let sb = Sandbox::campaign();
    vic_sent(&sb, PASTED);
    sb.write("mine.md", PASTED);
    sb.render("test", "eml", "out")
        .args(["--note", "mine.md", "--ledger", "vic.ledger"])
        .run()
        .success()
        .stderr_has("warning: the personal text of the letter to Alice Boss <alice@corp-one.example> is near-identical to the letter another volunteer already wrote to this recipient")
        .stderr_lacks("bob@corp-two.example");
    assert_eq!(sb.files("out").len(), 3);

    let server = MailServer::start();
    send(&sb, &server)
        .args(["--dry-run", "--note", "mine.md", "--ledger", "vic.ledger"])
        .run()
        .success()
        .stdout_has("warning: the personal text of the letter to Alice Boss")
        .stdout_has("dry run: nothing was sent");
}

#[test]
fn volunteers_who_write_their_own_paragraphs_are_not_warned() {
    let sb = Sandbox::campaign();
    vic_sent(
        &sb,
        "I taught in Ghulja for two years, and my students' parents vanished one by one.",
    );
    sb.write("mine.md", PASTED);
    sb.render("test", "eml", "out")
        .args(["--note", "mine.md", "--ledger", "vic.ledger"])
        .run()
        .success()
        .stderr_lacks("near-identical");
    // Nor is a volunteer about their own earlier letters.
    sb.cmd()
        .args([
            "render",
            "-g",
            "test",
            "-o",
            "again",
            "--date",
            "2026-11-27",
        ])
        .args(["--note", "vic.md", "--ledger", "vic.ledger"])
        .args(["--signer-name", "Vic", "--signer-email", VIC])
        .run()
        .success()
        .stderr_lacks("near-identical");
}

#[test]
fn a_similarity_outside_0_to_1_is_an_error() {
    let sb = Sandbox::campaign();
    let toml = CAMPAIGN_TOML.replace(
        "id = \"test-campaign\"",
        "id = \"test-campaign\"\nsimilarity = 1.5",
    );
    sb.write("campaign.toml", toml);
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has("campaign.toml:3: key `campaign.similarity`: `similarity` is 1.5");
}

#[test]
fn a_ledger_that_cannot_be_read_stops_render_and_send_before_anything() {
    let sb = Sandbox::campaign();
    sb.render("test", "eml", "out")
        .args(["--ledger", "nope.ledger"])
        .run()
        .failure()
        .stderr_has("nope.ledger");
    sb.assert_nothing_written("out");
    let server = MailServer::start();
    send(&sb, &server)
        .args(["--yes", "--ledger", "nope.ledger"])
        .run()
        .failure()
        .stderr_has("nope.ledger");
    assert!(server.received().is_empty());
}
