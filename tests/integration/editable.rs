//! The campaign decides what varies: paragraphs a template marks `{{#editable "id"}}` are the
//! volunteer's to rewrite (`--edit`, the guided run), while facts and demands stay as the
//! campaign wrote them; the versions count as the volunteer's words and are compared across
//! volunteers like their paragraph.

use crate::mail_server::MailServer;
use crate::pty::{Guided, DOWN, ENTER};
use crate::util::{alternative_parts, parse_mail, Sandbox, CAMPAIGN_TOML, DATE_EPOCH};

/// The test template with its closing paragraph marked as editable, and no personal paragraph.
const TEMPLATE: &str = "Dear {{name}},

I write to {{organization}}. {{fact.one_fact}}

{{#each demands}}
- {{this.text}}
{{/each}}

{{#editable \"reply\"}}
I look forward to a reply from {{organization}} within the month.
{{/editable}}

Yours sincerely,

{{signer.name}}
";

const ORIGINAL: &str = "I look forward to a reply from Corp One within the month.";
const MINE: &str = "Please answer me before the council meets: I vote in Lyon and my neighbours ask me about this.";

fn sandbox() -> Sandbox {
    let sb = Sandbox::campaign();
    sb.write("templates/test.md.hbs", TEMPLATE);
    sb.write("mine.md", format!("{MINE}\n"));
    sb
}

/// The text part of the letter in `out` whose file name has `who`.
fn letter(sb: &Sandbox, out: &str, who: &str) -> String {
    let files = sb.files(out);
    let name = files.iter().find(|f| f.contains(who)).expect("a letter");
    let msg = parse_mail(&sb.read_bytes(&format!("{out}/{name}")));
    alternative_parts(&msg).0
}

#[test]
fn an_edit_replaces_its_paragraph_and_nothing_else() {
    let sb = sandbox();
    sb.render("test", "eml", "plain").run().success();
    sb.render("test", "eml", "edited")
        .args(["--edit", "reply=mine.md"])
        .run()
        .success();
    let (plain, edited) = (
        letter(&sb, "plain", "alice"),
        letter(&sb, "edited", "alice"),
    );
    assert!(plain.contains(ORIGINAL), "{plain}");
    assert!(
        edited.contains(MINE) && !edited.contains("look forward"),
        "{edited}"
    );
    // Everything but the paragraph is as the campaign wrote it, the space around it too.
    assert_eq!(edited.replace(MINE, ORIGINAL), plain);
    for kept in [
        "Fact number one, with a figure of 42.",
        "- Demand meant for bosses only.",
    ] {
        assert!(edited.contains(kept), "{edited}");
    }
    // An empty file keeps the campaign's paragraph.
    sb.write("empty.md", "\n");
    sb.render("test", "eml", "empty")
        .args(["--edit", "reply=empty.md"])
        .run()
        .success();
    assert_eq!(letter(&sb, "empty", "alice"), plain);
}

#[test]
fn an_unknown_or_malformed_edit_is_refused_before_anything_is_written() {
    let sb = sandbox();
    sb.render("test", "eml", "out")
        .args(["--edit", "why=mine.md"])
        .run()
        .code(2)
        .stderr_has("error: group `test` has no editable paragraph `why`")
        .stderr_has("help: the editable paragraphs are: reply");
    sb.render("test", "eml", "out")
        .args(["--edit", "fr:reply=mine.md"])
        .run()
        .code(2)
        .stderr_has(
            "a version of a paragraph is given for `fr`, but no letter of group `test` is in `fr`",
        );
    sb.render("test", "eml", "out")
        .args(["--edit", "mine.md"])
        .run()
        .code(2)
        .stderr_has("--edit `mine.md` names no file")
        .stderr_has("--edit reply=my-reply.md");
    sb.render("test", "eml", "out")
        .args(["--edit", "reply=mine.md", "--edit", "reply=mine.md"])
        .run()
        .code(2)
        .stderr_has("--edit reply=FILE is given twice");
    sb.write("bad.md", "Fine.\nNot \u{1b}[31mfine.\n");
    sb.render("test", "eml", "out")
        .args(["--edit", "reply=bad.md"])
        .run()
        .code(1)
        .stderr_has("bad.md:2:5: contains the control character U+001B");
    sb.write("long.md", "word ".repeat(700));
    sb.render("test", "eml", "out")
        .args(["--edit", "reply=long.md"])
        .run()
        .code(1)
        .stderr_has("long.md: the paragraph is 3499 characters long; at most 3000");
    sb.assert_nothing_written("out");
}

/// The original paragraph's words are the campaign's, so only the words a version adds count.
#[test]
fn an_edit_raises_the_share_of_own_words_by_its_new_words_only() {
    let sb = sandbox();
    let share = |extra: &[&str]| {
        let done = sb.cmd().args(["preview", "-g", "test"]).args(extra);
        let said = done.signer().run().success().stderr();
        let percent = said
            .trim()
            .strip_prefix("own words: ")
            .and_then(|s| s.strip_suffix('%'));
        percent
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{said}"))
    };
    assert_eq!(share(&[]), 0);
    assert!(share(&["--edit", "reply=mine.md"]) >= 20);
    sb.write(
        "reworded.md",
        "Within the month, I look forward to a reply from Corp One.",
    );
    assert_eq!(share(&["--edit", "reply=reworded.md"]), 0);
}

/// Two volunteers who paste the same version of a paragraph trip the identical-letter guard,
/// as they would with the same personal paragraph.
#[test]
fn the_same_edit_from_two_volunteers_is_warned_about() {
    let sb = sandbox();
    let server = MailServer::start();
    let vic = "vic@volunteers.example";
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
        .args(["--yes", "--journal", "vic.jsonl", "--edit", "reply=mine.md"])
        .args(["--where", "email=alice@corp-one.example"])
        .args(["--signer-name", "Vic", "--signer-email", vic])
        .run()
        .success();
    let sent = parse_mail(&server.received()[0].data);
    assert!(alternative_parts(&sent).0.contains("I vote in Lyon"));
    sb.cmd()
        .args(["export", "--out", "vic.ledger", "--journal", "vic.jsonl"])
        .args(["--signer-email", vic])
        .run()
        .success();
    assert!(!sb.read("vic.ledger").contains("Lyon"));
    sb.render("test", "eml", "out")
        .args(["--edit", "reply=mine.md", "--ledger", "vic.ledger"])
        .run()
        .success()
        .stderr_has("warning: the personal text of the letter to Alice Boss <alice@corp-one.example> is near-identical");
    sb.render("test", "eml", "own")
        .args(["--ledger", "vic.ledger"])
        .run()
        .success()
        .stderr_lacks("near-identical");
}

#[test]
fn check_warns_about_templates_with_no_place_for_the_volunteers_words() {
    let sb = sandbox();
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stderr_lacks("own words");
    sb.write("templates/test.md.hbs", "Dear {{name}},\n\nPlease act.\n");
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stderr_has("warning: templates/test.md.hbs: the letters of group `test` have no place for the volunteer's own words: templates/test.md.hbs does not use {{personal_note}} and has no editable paragraph")
        .stderr_has("{{#editable \"why\"}}...{{/editable}}");
    // Prompts fill the personal paragraph, which an editable paragraph does not stand in for.
    let prompts = "\n[[groups.test.prompts]]\nask = \"Why?\"\n";
    sb.write("campaign.toml", format!("{CAMPAIGN_TOML}{prompts}"));
    sb.write("templates/test.md.hbs", TEMPLATE);
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stderr_has("the answers to the prompts of group `test` become the volunteer's paragraph, but templates/test.md.hbs does not use {{personal_note}}");
}

#[test]
fn check_names_duplicate_ids_and_paragraphs_missing_from_a_translation() {
    let sb = sandbox();
    let twice = TEMPLATE.replace(
        "Yours sincerely,",
        "{{#editable \"reply\"}}Yours,{{/editable}}",
    );
    sb.write("templates/test.md.hbs", &twice);
    sb.cmd().arg("check").run().code(1).stderr_has(
        "templates/test.md.hbs:13:1: the editable id `reply` is used twice in this template",
    );

    sb.write("templates/test.md.hbs", TEMPLATE);
    let toml = CAMPAIGN_TOML.replace(
        "[groups.test]\n",
        "[groups.test]\nsubjects = { fr = \"Lettre\" }\n",
    );
    let toml = toml.replace(
        "text = \"Fact number one, with a figure of 42.\"",
        "text = \"Fact number one, with a figure of 42.\"\ntranslations = { fr = \"Fait un.\" }",
    );
    let toml = toml.replace(
        "groups = [\"test\"]\n",
        "groups = [\"test\"]\ntranslations = { fr = \"Demande.\" }\n",
    );
    sb.write("campaign.toml", toml);
    sb.write(
        "templates/test.fr.md.hbs",
        "Madame, Monsieur,\n\n{{fact.one_fact}}\n\n{{personal_note}}\n",
    );
    sb.write(
        "recipients/test.csv",
        "name,email,organization,country,role,language\n\
         Alice Boss,alice@corp-one.example,Corp One,France,boss,fr\n\
         Bob Staff,bob@corp-two.example,Corp Two,Japan,staff,en\n",
    );
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stderr_has("warning: templates/test.fr.md.hbs: the editable paragraph `reply` of templates/test.md.hbs is not in its translation templates/test.fr.md.hbs");
}

/// The bundled letters let volunteers rewrite their closing request, the same paragraph in
/// every language, and keep the campaign's facts and demands whatever is rewritten.
#[test]
fn the_bundled_letters_offer_their_closing_request_in_each_language() {
    let sb = Sandbox::empty();
    sb.write(
        "fr.md",
        "Je vous demande une réponse écrite, que je partagerai avec mon association à Lyon.",
    );
    sb.render("governments", "txt", "out")
        .args([
            "--where",
            "country=France,Spain",
            "--edit",
            "fr:reply=fr.md",
        ])
        .run()
        .success();
    let letters: Vec<String> = sb
        .files("out")
        .iter()
        .map(|f| sb.read(&format!("out/{f}")))
        .collect();
    let french = letters
        .iter()
        .find(|l| l.contains("Je vous écris"))
        .expect("a French letter");
    let spanish = letters
        .iter()
        .find(|l| l.contains("Le escribo"))
        .expect("a Spanish letter");
    assert!(
        french.contains("mon association à Lyon") && !french.contains("Je vous saurais gré"),
        "{french}"
    );
    assert!(french.contains("Imposer des sanctions ciblées"), "{french}");
    assert!(
        spanish.contains("Le agradecería una respuesta") && !spanish.contains("Lyon"),
        "{spanish}"
    );
    sb.cmd()
        .args(["check"])
        .run()
        .success()
        .stderr_lacks("editable")
        .stderr_lacks("no place for the volunteer's own words");
}

/// The guided run shows the paragraph as it reads in the first letter and asks once whether
/// to keep or rewrite it; the version goes into every letter and into the command line.
#[test]
fn the_guided_run_offers_the_editable_paragraph_for_rewriting() {
    let sb = sandbox();
    let mut g = Guided::start_without_editor(&sb, &[]);
    g.see("Who in this group?").keys(ENTER); // all
    g.sign_as_ada();
    // The template has no `{{personal_note}}`: no paragraph is asked for.
    g.see("These letters have no place for a personal paragraph.");
    g.see("The campaign lets you rewrite one paragraph of the letter in your own words");
    g.see("The paragraph \"reply\", as it reads in the letter to Alice Boss:")
        .see(ORIGINAL)
        .see("It is not the same in every letter; your version goes into all 3 letters as you write it, so leave out what is particular to one.");
    g.see("keep it or rewrite it?").keys(DOWN).keys(ENTER); // rewrite it here
    g.see("Type your paragraph").line(MINE).keys(ENTER);
    g.see("exactly as it will go out").see("I vote in Lyon");
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(ENTER);
    g.see("Folder to write them to").line("out");
    g.see("your version of the paragraph `reply` is in out/edit-reply.md");
    g.see("--edit reply=out/edit-reply.md");
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    for who in ["alice", "bob", "carol"] {
        let text = letter(&sb, "out", who);
        assert!(
            text.contains(MINE) && !text.contains("look forward"),
            "{text}"
        );
    }
    // The printed command writes the same letters.
    sb.cmd()
        .env("SOURCE_DATE_EPOCH", DATE_EPOCH)
        .args([
            "render", "--group", "test", "--format", "eml", "--out", "again",
        ])
        .args([
            "--signer-name",
            "Ada Volunteer",
            "--signer-email",
            "ada@example.org",
        ])
        .args(["--edit", "reply=out/edit-reply.md"])
        .run()
        .success();
    for f in sb.files("out").iter().filter(|f| f.ends_with(".eml")) {
        assert_eq!(
            sb.read_bytes(&format!("out/{f}")),
            sb.read_bytes(&format!("again/{f}"))
        );
    }
}

/// In the volunteer's editor, a paragraph that is the same in every letter is rewritten from
/// its text as it reads.
#[test]
fn the_guided_run_rewrites_a_paragraph_in_the_volunteers_editor() {
    let sb = sandbox();
    sb.write(
        "templates/test.md.hbs",
        TEMPLATE.replace("from {{organization}} ", ""),
    );
    sb.write(
        "bin/editor",
        "#!/bin/sh\nsed -i 's/within the month/before the council votes in May/' \"$1\"\n",
    );
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(sb.join("bin/editor"), mode).unwrap();
    let mut g = Guided::start(&sb, &[]);
    g.see("Who in this group?").keys(ENTER);
    g.sign_as_ada();
    g.see("These letters have no place for a personal paragraph.");
    g.see("I look forward to a reply within the month.");
    g.see("Rewrite it in my editor")
        .keys(DOWN)
        .keys(DOWN)
        .keys(ENTER);
    g.see("I look forward to a reply before the council votes in May.");
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(ENTER);
    g.see("Folder to write them to").line("out");
    g.see("--edit reply=out/edit-reply.md");
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    assert_eq!(
        sb.read("out/edit-reply.md"),
        "I look forward to a reply before the council votes in May."
    );
    assert!(!g.seen.contains("It is not the same"), "{}", g.seen);
}
