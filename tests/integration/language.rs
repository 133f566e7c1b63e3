//! Letters in the recipient's language: the `language` column picks the template, the subject,
//! the demands, the facts and the date format; a language without a template falls back to the
//! default one, and `check` says who falls back and what is missing.

use crate::pty::{Guided, CTRL_C, DOWN, ENTER, SPACE, UP};
use crate::util::{self, Sandbox};

const CAMPAIGN: &str = r#"[campaign]
id = "lang-test"

[statement]
title = "A test statement"
organisation = "Testing Rights Watch"
summary = "A short summary for tests."
date = "May 2026"
source = "A statement written for the test suite"

[[facts]]
id = "one_fact"
text = "English fact with 42."
[facts.translations]
fr = "Fait en français avec 42."
es = "Hecho en español con 42."

[[demands]]
id = "everyone"
text = "English demand for everyone."
groups = ["test"]
[demands.translations]
fr = "Demande en français pour tous."
es = "Petición en español para todos."

[[demands]]
id = "boss_only"
text = "English demand for bosses."
groups = ["test"]
roles = ["boss"]
[demands.translations]
fr = "Demande en français pour les patrons."
es = "Petición en español para los jefes."

[groups.test]
label = "Test recipients"
description = "People the test suite writes to."
subject = "Letter to {{organization}}"
required = ["name", "email", "organization", "salutation"]
target_by = ["language"]
[groups.test.subjects]
fr = "Lettre à {{organization}}"
es = "Carta a {{organization}}"
"#;

const EN: &str = "{{salutation}},\n\nEN body, {{date}}. {{fact.one_fact}}\n\n{{#each demands}}\n- {{this.text}}\n{{/each}}\n\nYours sincerely,\n";
const FR: &str = "{{salutation}},\n\nCorps FR, le {{date}}. {{fact.one_fact}}\n\n{{#each demands}}\n- {{this.text}}\n{{/each}}\n\nVeuillez agréer, {{salutation}}, l'expression de ma haute considération.\n";
const ES: &str = "{{salutation}}:\n\nCuerpo ES, {{date}}. {{#each facts}}{{this.text}}{{/each}}\n\n{{#each demands}}\n- {{this.text}}\n{{/each}}\n\nAtentamente,\n";

const CSV: &str = "name,email,organization,role,language,salutation
Anne English,anne@one.example,Org One,boss,en,Dear Minister
François Français,francois@two.example,Org Deux,boss,fr,Excellence
Sofía Española,sofia@three.example,Org Tres,,es-MX,Excelentísima Señora Ministra
Dieter Deutsch,dieter@four.example,Org Vier,,de,Sehr geehrter Herr Minister
Nadia None,nadia@five.example,Org Five,,,Dear Director
";

fn sandbox() -> Sandbox {
    let sb = Sandbox::empty();
    sb.write("campaign.toml", CAMPAIGN);
    sb.write("templates/test.md.hbs", EN);
    sb.write("templates/test.fr.md.hbs", FR);
    sb.write("templates/test.es.md.hbs", ES);
    sb.write("recipients/test.csv", CSV);
    sb
}

/// (Subject, text part, Content-Language) of the letter rendered for `address`.
fn letter_for(sb: &Sandbox, out: &str, address: &str) -> (String, String, String) {
    for name in sb.files(out).into_iter().filter(|f| f.ends_with(".eml")) {
        let msg = util::parse_mail(&sb.read_bytes(&format!("{out}/{name}")));
        if util::first_addr(msg.to()).1 == address {
            let (text, html) = util::alternative_parts(&msg);
            let lang = msg
                .header_raw("Content-Language")
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            assert!(
                html.contains(&format!("<html lang=\"{lang}\">")),
                "{address}: html lang"
            );
            return (msg.subject().unwrap_or("").to_string(), text, lang);
        }
    }
    panic!("no letter to {address} in {out}");
}

#[test]
fn language_column_picks_template_subject_demands_facts_and_date() {
    let sb = sandbox();
    sb.render("test", "eml", "out")
        .run()
        .success()
        .stdout_has("wrote 5 e-mail files");

    let (subject, text, lang) = letter_for(&sb, "out", "francois@two.example");
    assert_eq!(subject, "Lettre à Org Deux");
    assert_eq!(lang, "fr");
    for want in [
        "Excellence,",
        "Corps FR, le 27 novembre 2026.",
        "Fait en français avec 42.",
        "- Demande en français pour tous.",
        "- Demande en français pour les patrons.",
        "haute considération",
    ] {
        assert!(text.contains(want), "French letter lacks `{want}`:\n{text}");
    }
    assert!(!text.contains("English"), "French letter:\n{text}");

    // A regional tag gets the letter of its language; `{{#each facts}}` is translated too.
    let (subject, text, lang) = letter_for(&sb, "out", "sofia@three.example");
    assert_eq!(subject, "Carta a Org Tres");
    assert_eq!(lang, "es");
    for want in [
        "Excelentísima Señora Ministra:",
        "Cuerpo ES, 27 de noviembre de 2026.",
        "Hecho en español con 42.",
        "- Petición en español para todos.",
    ] {
        assert!(
            text.contains(want),
            "Spanish letter lacks `{want}`:\n{text}"
        );
    }
    assert!(!text.contains("jefes"), "no role, no boss demand:\n{text}");
    assert!(!text.contains("English"), "Spanish letter:\n{text}");

    for (address, salutation) in [
        ("anne@one.example", "Dear Minister,"),
        ("nadia@five.example", "Dear Director,"),
        ("dieter@four.example", "Sehr geehrter Herr Minister,"),
    ] {
        let (subject, text, lang) = letter_for(&sb, "out", address);
        assert!(subject.starts_with("Letter to "), "{address}: {subject}");
        assert_eq!(lang, "en", "{address}");
        assert!(text.starts_with(salutation), "{address}:\n{text}");
        assert!(text.contains("EN body, 27 November 2026. English fact with 42."));
        assert!(text.contains("- English demand for everyone."));
        assert!(!text.contains("français") && !text.contains("español"));
    }
}

#[test]
fn language_filter_and_preview_show_the_translated_letter() {
    let sb = sandbox();
    sb.cmd()
        .args(["preview", "-g", "test", "--where", "language=fr"])
        .run()
        .success()
        .stdout_has("Subject: Lettre à Org Deux")
        .stdout_has("- Demande en français pour tous.");
}

#[test]
fn check_lists_recipients_falling_back_to_the_default_template() {
    let sb = sandbox();
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stderr_has("warning: recipients/test.csv: column `language`: 1 recipient of group `test` asks for language `de`, which has no template, and gets the default `en` letter: line 5 (Dieter Deutsch)")
        .stderr_has("help: add templates/test.de.md.hbs to write to them in `de`")
        .stderr_lacks("`es-mx`")
        .stderr_lacks("`fr`")
        // Also one for each of the three templates, none of which uses {{personal_note}}.
        .stdout_has("0 errors, 5 warnings");
    sb.cmd().args(["check", "--strict"]).run().code(1);
}

#[test]
fn groups_shows_the_languages_of_each_group() {
    let sb = sandbox();
    sb.cmd()
        .arg("groups")
        .run()
        .success()
        .stdout_has("languages: English (en, default), Spanish (es), French (fr)");
}

#[test]
fn a_demand_or_fact_missing_a_template_language_is_an_error() {
    let sb = sandbox();
    sb.write(
        "campaign.toml",
        CAMPAIGN
            .replace("es = \"Petición en español para los jefes.\"\n", "")
            .replace("es = \"Hecho en español con 42.\"\n", ""),
    );
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has("error: campaign.toml: fact `one_fact` has no `es` text, which templates/test.es.md.hbs needs")
        .stderr_has("error: campaign.toml: demand `boss_only` has no `es` text, which templates/test.es.md.hbs needs")
        .stderr_has("help: add `es = \"...\"` under [demands.translations] of each, or remove the `es` template")
        .stderr_lacks("`fr` text");
    // The same problem stops `render`: no letter goes out half in one language, half in another.
    sb.render("test", "eml", "out")
        .arg("--where")
        .arg("language=en")
        .run()
        .code(1)
        .stderr_has("demand `boss_only` has no `es` text");
    sb.assert_nothing_written("out");
}

#[test]
fn a_fact_no_template_uses_needs_no_translation() {
    let sb = sandbox();
    sb.write(
        "campaign.toml",
        CAMPAIGN.replace(
            "[[demands]]\nid = \"everyone\"",
            "[[facts]]\nid = \"english_only\"\ntext = \"Only in English.\"\n\n[[demands]]\nid = \"everyone\"",
        ),
    );
    // The Spanish template loops over every fact, the French one names only `one_fact`.
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has("fact `english_only` has no `es` text")
        .stderr_lacks("has no `fr` text");
}

#[test]
fn a_template_language_without_a_subject_is_an_error() {
    let sb = sandbox();
    sb.write(
        "campaign.toml",
        CAMPAIGN.replace("fr = \"Lettre à {{organization}}\"\n", ""),
    );
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has("error: campaign.toml: key `groups.test.subjects`: group `test` has a template in `fr` but no subject in `fr`")
        .stderr_has("help: add `fr = \"...\"` under [groups.test.subjects]");
}

#[test]
fn a_value_that_is_not_a_language_tag_is_an_error() {
    let sb = sandbox();
    sb.write("recipients/test.csv", CSV.replace(",de,", ",German!,"));
    sb.render("test", "eml", "out")
        .run()
        .code(1)
        .stderr_has(
            "error: recipients/test.csv:5: column `language`: `German!` is not a language tag",
        )
        .stderr_has("help: write a BCP 47 tag such as en, fr, es or pt-BR");
    sb.assert_nothing_written("out");

    let sb = sandbox();
    sb.write(
        "campaign.toml",
        CAMPAIGN.replace(
            "[demands.translations]\nfr =",
            "[demands.translations]\n\"fr FR\" =",
        ),
    );
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has("`fr FR` in translations of demand `everyone` is not a language tag");
}

#[test]
fn the_default_language_is_set_in_campaign_toml() {
    // A campaign written in French: its default template and `text`s are French, `fr` rows
    // get them without a warning, and the date is French.
    let sb = Sandbox::empty();
    let toml = CAMPAIGN
        .replace(
            "id = \"lang-test\"",
            "id = \"lang-test\"\nlanguage = \"fr\"",
        )
        .replace(
            "[groups.test.subjects]\nfr = \"Lettre à {{organization}}\"\n",
            "[groups.test.subjects]\n",
        );
    sb.write("campaign.toml", toml);
    sb.write("templates/test.md.hbs", FR);
    sb.write("templates/test.es.md.hbs", ES);
    sb.write(
        "recipients/test.csv",
        "name,email,organization,salutation,language,role\nA,a@x.example,Org,Excellence,fr-BE,boss\n",
    );
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stderr_lacks("falls back")
        .stderr_lacks("has no template");
    sb.render("test", "eml", "out").run().success();
    let (_, text, lang) = letter_for(&sb, "out", "a@x.example");
    assert_eq!(lang, "fr");
    assert!(text.contains("le 27 novembre 2026"), "{text}");
}

#[test]
fn without_a_language_column_letters_are_in_the_default_language() {
    let sb = Sandbox::campaign();
    sb.render("test", "eml", "out").run().success();
    for name in sb.files("out") {
        let msg = util::parse_mail(&sb.read_bytes(&format!("out/{name}")));
        assert_eq!(
            msg.header_raw("Content-Language").map(str::trim),
            Some("en")
        );
    }
    sb.cmd()
        .arg("groups")
        .run()
        .success()
        .stdout_has("languages: English (en, default)\n");
}

#[test]
fn check_warns_about_languages_marked_as_needing_review() {
    let sb = sandbox();
    sb.write(
        "campaign.toml",
        CAMPAIGN.replace(
            "id = \"lang-test\"",
            "id = \"lang-test\"\nneeds_review = [\"es\", \"ru\"]",
        ),
    );
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stderr_has("warning: campaign.toml: key `campaign.needs_review`: the `es` letters of group `test` (templates/test.es.md.hbs) are marked as needing review by a native speaker")
        .stderr_has("help: have a native speaker check the template and the `es` texts")
        .stderr_lacks("`fr` letters")
        .stderr_lacks("`ru` letters");
    sb.cmd().args(["check", "--strict"]).run().code(1);
}

/// The test campaign with `{{personal_note}}` at the end of every language's letter.
fn with_notes() -> Sandbox {
    let sb = sandbox();
    for (file, text) in [("test", EN), ("test.fr", FR), ("test.es", ES)] {
        sb.write(
            &format!("templates/{file}.md.hbs"),
            format!("{text}\n{{{{personal_note}}}}\n"),
        );
    }
    sb.write("all.md", "A paragraph for every letter.");
    sb.write("fr.md", "Un paragraphe pour les lettres en français.");
    sb
}

#[test]
fn note_per_language_goes_only_into_letters_in_that_language() {
    let sb = with_notes();
    sb.render("test", "eml", "out")
        .args(["--note", "fr=fr.md", "--note", "all.md"])
        .run()
        .success();
    let (_, text, _) = letter_for(&sb, "out", "francois@two.example");
    assert!(
        text.contains("Un paragraphe pour les lettres en français."),
        "{text}"
    );
    assert!(!text.contains("every letter"), "{text}");
    for address in ["anne@one.example", "sofia@three.example"] {
        let (_, text, _) = letter_for(&sb, "out", address);
        assert!(
            text.contains("A paragraph for every letter."),
            "{address}: {text}"
        );
        assert!(!text.contains("paragraphe"), "{address}: {text}");
    }

    // Without a paragraph for every letter, the other languages get none.
    sb.render("test", "eml", "fr-only")
        .args(["--note", "FR=fr.md"])
        .run()
        .success();
    let (_, text, _) = letter_for(&sb, "fr-only", "anne@one.example");
    assert!(!text.contains("paragraph"), "{text}");
    let (_, text, _) = letter_for(&sb, "fr-only", "francois@two.example");
    assert!(text.contains("Un paragraphe"), "{text}");
}

#[test]
fn a_note_for_a_language_without_letters_or_given_twice_is_refused() {
    let sb = with_notes();
    sb.render("test", "eml", "out")
        .args(["--note", "it=fr.md"])
        .run()
        .failure()
        .stderr_has(
            "a personal paragraph is given for `it`, but no letter of group `test` is in `it`",
        )
        .stderr_has("en (default), es, fr");
    sb.assert_nothing_written("out");
    sb.render("test", "eml", "out")
        .args(["--note", "fr=fr.md", "--note", "fr=all.md"])
        .run()
        .code(2)
        .stderr_has("--note fr=FILE is given twice");
    sb.assert_nothing_written("out");
}

/// Letters in three languages: the guided run asks for a paragraph per language (one skipped),
/// offers a letter per language in the preview, and names each file in the command line.
#[test]
fn the_guided_run_asks_for_the_paragraph_per_language() {
    let sb = with_notes();
    let mut g = Guided::start_without_editor(&sb, &[]);
    g.see("languages: English (default), Spanish, French");
    g.see("Who in this group?").keys(ENTER); // all
    g.sign_as_ada();
    g.see("Your letters are in 3 languages: English (3 letters), Spanish (1 letter), French (1 letter)");
    g.see("A personal paragraph for the 3 letters in English?")
        .keys(ENTER);
    g.see("Type your paragraph")
        .line("I write from Lyon.")
        .keys(ENTER);
    // Another language's paragraph is offered, never the default.
    g.see("A personal paragraph for the 1 letter in Spanish?")
        .see("Use my English paragraph (I write from Lyon.)")
        .keys(DOWN)
        .keys(ENTER); // none
    g.see("A personal paragraph for the 1 letter in French?")
        .keys(ENTER);
    g.see("Type your paragraph")
        .line("J'écris de Lyon.")
        .keys(ENTER);
    g.see("The first of 3 letters in English")
        .see("I write from Lyon.")
        .see("Show a letter in Spanish (1 letter)")
        .see("Show a letter in French (1 letter)")
        .keys(DOWN)
        .keys(DOWN)
        .keys(ENTER);
    g.see("The first of 1 letter in French")
        .see("Lettre à Org Deux")
        .see("J'écris de Lyon.");
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(ENTER);
    g.see("Folder to write them to").line("out");
    g.see("your English personal paragraph is in out/personal-note.en.md");
    g.see("--note en=out/personal-note.en.md --note fr=out/personal-note.fr.md");
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    let (_, text, _) = letter_for(&sb, "out", "francois@two.example");
    assert!(
        text.contains("J'écris de Lyon.") && !text.contains("I write"),
        "{text}"
    );
    let (_, text, _) = letter_for(&sb, "out", "sofia@three.example");
    assert!(!text.contains("Lyon"), "{text}");
    let (_, text, _) = letter_for(&sb, "out", "anne@one.example");
    assert!(
        text.contains("I write from Lyon.") && !text.contains("J'écris"),
        "{text}"
    );
}

/// A paragraph written when the letters were all in English is offered again for the English
/// letters only, after going back to choose letters in more languages.
#[test]
fn going_back_keeps_a_paragraph_with_its_language() {
    let sb = with_notes();
    let mut g = Guided::start_without_editor(&sb, &[]);
    g.see("Who in this group?").keys(UP).keys(ENTER); // choose by language
    g.see("language: space ticks")
        .keys(DOWN)
        .keys(SPACE)
        .keys(ENTER); // en
    g.sign_as_ada();
    g.see("Add a personal paragraph?").keys(ENTER);
    g.see("Type your paragraph")
        .line("I write from Lyon.")
        .keys(ENTER);
    g.see("Is this the letter you want to send?")
        .keys(DOWN)
        .keys(ENTER); // go back
    g.see("Who in this group?").keys(UP).keys(ENTER); // all
    for question in [
        "Your name",
        "Your e-mail",
        "Your city",
        "Your country",
        "Your organisation",
    ] {
        g.see(question).keys(ENTER);
    }
    g.see("A personal paragraph for the 3 letters in English?")
        .see("Keep the paragraph I wrote (I write from Lyon.)")
        .keys(ENTER);
    g.see("A personal paragraph for the 1 letter in Spanish?");
    let from = g.seen.len();
    g.see("No personal paragraph").keys(CTRL_C);
    g.see("cancelled");
    assert!(!g.seen[from..].contains("Keep"), "{}", &g.seen[from..]);
    assert_eq!(g.exit_code(), 130, "{}", g.seen);
}

/// Writing prompts are asked for each language's paragraph in that language (its translation,
/// else as written), and the answers become that language's paragraph only.
#[test]
fn prompts_are_asked_in_the_language_of_each_paragraph() {
    let sb = with_notes();
    let prompts = "\n[[groups.test.prompts]]\nask = \"Why does this matter to you?\"\n\
                   [groups.test.prompts.translations.fr]\nask = \"Pourquoi est-ce important pour vous ?\"\n";
    sb.write("campaign.toml", sb.read("campaign.toml") + prompts);
    let mut g = Guided::start_without_editor(&sb, &[]);
    g.see("Who in this group?").keys(ENTER); // all
    g.sign_as_ada();
    g.see("(1/1) Why does this matter to you?")
        .line("I live in Lyon.");
    g.see("A personal paragraph for the 3 letters in English?")
        .see("Use the paragraph from my answers (I live in Lyon.)")
        .keys(ENTER);
    // Spanish has no translation: the question as written; skipped, so nothing is drafted.
    g.see("(1/1) Why does this matter to you?").keys(ENTER);
    g.see("A personal paragraph for the 1 letter in Spanish?")
        .see("Use my English paragraph")
        .keys(DOWN)
        .keys(ENTER); // none
    g.see("(1/1) Pourquoi est-ce important pour vous ?")
        .line("J'habite à Lyon.");
    g.see("A personal paragraph for the 1 letter in French?")
        .see("Use the paragraph from my answers (J'habite à Lyon.)")
        .keys(ENTER);
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(ENTER);
    g.see("Folder to write them to").line("out");
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    let (_, text, _) = letter_for(&sb, "out", "francois@two.example");
    assert!(
        text.contains("J'habite à Lyon.") && !text.contains("I live"),
        "{text}"
    );
    let (_, text, _) = letter_for(&sb, "out", "sofia@three.example");
    assert!(!text.contains("Lyon"), "{text}");
    let (_, text, _) = letter_for(&sb, "out", "anne@one.example");
    assert!(text.contains("I live in Lyon."), "{text}");
}
