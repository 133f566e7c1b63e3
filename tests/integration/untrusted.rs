//! A campaign may come from someone else: it reads no file outside its folder, and what it holds
//! (control characters, look-alike encoded words, addresses that differ only in spelling, very
//! long values) never reaches a header, a terminal or a second letter to one mailbox.

use crate::util::{Sandbox, CAMPAIGN_TOML, CSV_FILE, TEMPLATE_FILE};

/// A secret beside the campaign, which no letter may contain.
const SECRET: &str = "the volunteer's private words";

fn with_outside_secret() -> (Sandbox, String) {
    let sb = Sandbox::campaign();
    sb.write("outside/secret.md.hbs", SECRET);
    sb.write("outside/secret.csv", crate::util::CSV);
    let campaign = sb.join("campaign");
    std::fs::create_dir(&campaign).unwrap();
    for rel in ["campaign.toml", TEMPLATE_FILE, CSV_FILE] {
        let to = campaign.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::rename(sb.join(rel), to).unwrap();
    }
    let abs = sb.join("outside/secret.md.hbs").display().to_string();
    (sb, abs)
}

fn set_group_key(sb: &Sandbox, line: &str) {
    let toml = CAMPAIGN_TOML.replace("[groups.test]\n", &format!("[groups.test]\n{line}\n"));
    sb.write("campaign/campaign.toml", toml);
}

#[test]
fn a_template_or_recipients_outside_the_campaign_is_refused() {
    let (sb, abs) = with_outside_secret();
    let cases = [
        ("template = \"../outside/secret.md.hbs\"", "template"),
        (&format!("template = \"{abs}\"")[..], "template"),
        ("recipients = \"../outside/secret.csv\"", "recipients"),
    ];
    for (line, key) in cases {
        set_group_key(&sb, line);
        for cmd in [&["check"][..], &["preview", "-g", "test"]] {
            sb.cmd()
                .args(["--campaign", "campaign"])
                .args(cmd)
                .run()
                .code(1)
                .stderr_has("campaign/campaign.toml:")
                .stderr_has(&format!("key `groups.test.{key}`: `"))
                .stderr_has("is outside the campaign folder")
                .stdout_lacks(SECRET);
        }
    }
}

#[cfg(unix)]
#[test]
fn a_link_out_of_the_campaign_is_refused() {
    let (sb, _) = with_outside_secret();
    let template = sb.join("campaign").join(TEMPLATE_FILE);
    std::fs::remove_file(&template).unwrap();
    std::os::unix::fs::symlink(sb.join("outside/secret.md.hbs"), &template).unwrap();
    sb.cmd()
        .args(["--campaign", "campaign", "check"])
        .run()
        .code(1)
        .stderr_has("key `groups.test.template`: `templates/test.md.hbs` is outside the campaign folder (it leads to `")
        .stdout_lacks(SECRET);
    let out = sb.join("letters").display().to_string();
    sb.render("test", "eml", &out)
        .args(["--campaign", "campaign"])
        .run()
        .code(1);
    sb.assert_nothing_written("letters");

    // A link that stays inside the campaign is fine.
    std::fs::remove_file(&template).unwrap();
    std::fs::write(
        sb.join("campaign/templates/real.md.hbs"),
        crate::util::TEMPLATE,
    )
    .unwrap();
    std::os::unix::fs::symlink("real.md.hbs", &template).unwrap();
    sb.cmd()
        .args(["--campaign", "campaign", "check"])
        .run()
        .success();
}

const HEADER: &str = "name,email,organization,country,role\n";

/// ESC (which can hide text on a terminal), NUL, BEL, VT, FF and C1 controls such as CSI, in
/// any column, stop `check`, `preview` and `render`, naming file, line and column.
#[test]
fn control_characters_in_a_recipient_field_are_refused() {
    for (bad, code) in [
        ("\u{1b}[8m", "U+001B"),
        ("\u{0}", "U+0000"),
        ("\u{7}", "U+0007"),
        ("\u{b}", "U+000B"),
        ("\u{c}", "U+000C"),
        ("\u{9b}", "U+009B"),
    ] {
        let sb = Sandbox::campaign();
        sb.write(
            CSV_FILE,
            format!(
                "{HEADER}Alice,alice@corp-one.example,Corp One,France,boss\n\
                 \"Bob\nStaff\",bob@corp-two.example,Corp{bad} Two,Japan,staff\n"
            ),
        );
        let message = format!(
            "recipients/test.csv:3: column `organization`: contains the control character {code}"
        );
        sb.cmd().arg("check").run().code(1).stderr_has(&message);
        sb.cmd()
            .args(["preview", "-g", "test", "--row", "2"])
            .run()
            .code(1)
            .stderr_has(&message)
            .stdout_lacks(bad);
        sb.render("test", "html", "out")
            .run()
            .code(1)
            .stderr_has(&message);
        sb.assert_nothing_written("out");
    }
    // A tab is text.
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        format!("{HEADER}Alice,alice@corp-one.example,\"Corp\tOne\",France,boss\n"),
    );
    sb.cmd().arg("check").run().success();
}

#[test]
fn control_characters_in_a_header_row_or_template_are_refused() {
    let sb = Sandbox::campaign();
    sb.write(TEMPLATE_FILE, "Dear {{name}},\n\nwe \u{1b}[8mhide this.\n");
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has("templates/test.md.hbs:3:4: contains the control character U+001B");
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        crate::util::CSV.replace("role\n", "role,x\u{7}y\n"),
    );
    sb.cmd().arg("check").run().code(1).stderr_has(
        "recipients/test.csv:1: column 6 of the header row contains the control character U+0007",
    );
}

#[test]
fn control_characters_in_campaign_toml_are_refused_where_they_are() {
    let sb = Sandbox::campaign();
    let toml = CAMPAIGN_TOML.replace(
        "summary = \"A short summary for tests.\"",
        "summary = \"A short \\u001b[8mhidden summary.\"",
    );
    let line = toml.lines().position(|l| l.starts_with("summary")).unwrap() + 1;
    sb.write("campaign.toml", toml);
    sb.cmd().arg("check").run().code(1).stderr_has(&format!(
        "campaign.toml:{line}:11: key `statement.summary`: contains the control character U+001B"
    ));
    let toml = CAMPAIGN_TOML.replace("[groups.test]\n", "[groups.test]\nlabel = \"x\\by\"\n");
    let toml = toml.replace("label = \"Test recipients\"\n", "");
    sb.write("campaign.toml", toml);
    sb.cmd()
        .args(["groups"])
        .run()
        .code(1)
        .stderr_has("key `groups.test.label`: contains the control character U+0008");
}

#[test]
fn control_characters_in_the_note_or_signer_are_refused() {
    let sb = Sandbox::campaign();
    sb.write("note.md", "A first line.\nThen a bell\u{7} and NUL\u{0}.\n");
    sb.render("test", "eml", "out")
        .args(["--note", "note.md"])
        .run()
        .code(1)
        .stderr_has("note.md:2:12: contains the control character U+0007");
    sb.assert_nothing_written("out");
    sb.cmd()
        .args([
            "render",
            "-g",
            "test",
            "-o",
            "out",
            "--signer-email",
            "s@x.example",
        ])
        .args(["--signer-name", "Sam\u{1b}[8m"])
        .run()
        .code(2)
        .stderr_has("--signer-name contains the control character U+001B");
    sb.assert_nothing_written("out");
}

/// Text that looks like an RFC 2047 encoded word is encoded itself, so that a mail program shows
/// it as written, not the text it would decode to.
#[test]
fn text_that_looks_encoded_is_shown_as_written() {
    let sb = Sandbox::campaign();
    // "Bcc: evil@x.example" and "a letter to the Bcc:", encoded.
    let name = "=?utf-8?b?QmNjOiBldmlsQHguZXhhbXBsZQ==?=";
    let org = "=?utf-8?q?a_letter_to_the_Bcc:?=";
    sb.write(
        CSV_FILE,
        format!("{HEADER}{name},alice@corp-one.example,{org},France,boss\n"),
    );
    sb.render("test", "eml", "out").run().success();
    let file = sb.files("out").remove(0);
    let bytes = sb.read_bytes(&format!("out/{file}"));
    let mail = crate::util::parse_mail(&bytes);
    assert_eq!(
        crate::util::first_addr(mail.to()),
        (name.to_string(), "alice@corp-one.example".to_string())
    );
    assert_eq!(mail.subject(), Some(&format!("Letter to {org}")[..]));
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(name) && !text.contains(org), "{text}");
}

/// One mailbox spelt two ways (composed or decomposed accents, a Unicode or punycode domain) is
/// a duplicate: it would get two letters.
#[test]
fn duplicates_are_found_after_unicode_and_idna_normalisation() {
    for (first, second) in [
        ("jos\u{e9}@corp.example", "jose\u{301}@corp.example"),
        ("a@b\u{fc}cher.example", "a@xn--bcher-kva.example"),
    ] {
        let sb = Sandbox::campaign();
        sb.write(
            CSV_FILE,
            format!(
                "{HEADER}One,{first},Corp One,France,boss\nTwo,{second},Corp Two,Japan,staff\n"
            ),
        );
        sb.render("test", "eml", "out")
            .run()
            .code(1)
            .stderr_has(&format!(
                "recipients/test.csv:3: column `email`: duplicate recipient `{second}`, already on line 2"
            ));
        sb.assert_nothing_written("out");
    }
}

/// A value too long for a mail header stops the run with where it is and the limit.
#[test]
fn values_too_long_for_a_header_are_refused() {
    let sb = Sandbox::campaign();
    let long_name = "a".repeat(990);
    let long_org = "Corp ".repeat(80);
    sb.write(
        CSV_FILE,
        format!(
            "{HEADER}{long_name},alice@corp-one.example,Corp One,France,boss\n\
             Bob,bob@corp-two.example,{long_org},Japan,staff\n"
        ),
    );
    sb.render("test", "eml", "out")
        .run()
        .code(1)
        .stderr_has("recipients/test.csv:2: column `name`: the value is 990 characters long; a mail header holds at most 200")
        .stderr_has("recipients/test.csv:3: the subject of this letter is 409 characters long; a mail header holds at most 300");
    sb.assert_nothing_written("out");
    sb.write(CSV_FILE, crate::util::CSV);
    sb.cmd()
        .args([
            "render",
            "-g",
            "test",
            "-o",
            "out",
            "--signer-email",
            "s@x.example",
        ])
        .args(["--signer-name", &long_name])
        .run()
        .code(2)
        .stderr_has("--signer-name is 990 characters long; a mail header holds at most 200");
    let toml = CAMPAIGN_TOML.replace(
        "id = \"test-campaign\"",
        &format!("id = \"{}\"", "c".repeat(65)),
    );
    sb.write("campaign.toml", toml);
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has("must be lowercase letters, digits and dashes, at most 64");
}

/// A template past the size or nesting limits is refused at once, before Handlebars' parser
/// (whose time grows with the square of what it reads at once) reads it; so is one that cannot
/// be read in parts.
#[test]
fn templates_past_the_size_or_nesting_limits_are_refused() {
    let sb = Sandbox::campaign();
    let paragraph = "A paragraph for {{name}}, of some length, as letters have.\n\n";
    let big = format!("{}{}", crate::util::TEMPLATE, paragraph.repeat(20_000));
    sb.write(TEMPLATE_FILE, &big);
    sb.cmd().arg("check").run().code(1).stderr_has(&format!(
        "templates/test.md.hbs: the template is {} bytes long; at most 1048576 are allowed",
        big.len()
    ));
    // Line 13, "Yours sincerely,", is the last line that starts with text.
    let uncut = format!("{}{}", crate::util::TEMPLATE, "{{name}}\n".repeat(10_000));
    sb.write(TEMPLATE_FILE, &uncut);
    sb.cmd().arg("check").run().code(1).stderr_has(
        "templates/test.md.hbs:13: from here on, the template runs for more than 65536 bytes",
    );
    let nested = format!(
        "Dear {{{{name}}}},\n{}x{}",
        "{{#if name}}\n".repeat(17),
        "{{/if}}".repeat(17)
    );
    sb.write(TEMPLATE_FILE, &nested);
    sb.render("test", "eml", "out")
        .run()
        .code(1)
        .stderr_has("templates/test.md.hbs:18: blocks are nested more than 16 deep here");
    sb.assert_nothing_written("out");
    // Sixteen deep is fine.
    let nested = format!(
        "Dear {{{{name}}}},\n{}x{}",
        "{{#if name}}\n".repeat(16),
        "{{/if}}".repeat(16)
    );
    sb.write(TEMPLATE_FILE, &nested);
    sb.cmd()
        .args(["preview", "-g", "test"])
        .run()
        .success()
        .stdout_has("Dear Alice Boss,");
}

/// Writing prompts are checked like every other text of campaign.toml: control characters,
/// empty questions, lengths, language tags; and shares of own words are percentages.
#[test]
fn bad_prompts_and_shares_are_errors_with_their_place() {
    let sb = Sandbox::campaign();
    let long = "x".repeat(301);
    let cases = [
        ("[[groups.test.prompts]]\nask = \"Why?\\u001b[2J\"", "U+001B"),
        ("[[groups.test.prompts]]\nask = \" \"", "asks nothing"),
        (
            &format!("[[groups.test.prompts]]\nask = \"Why?\"\nhint = \"{long}\"")[..],
            "301 characters long",
        ),
        (
            "[[groups.test.prompts]]\nask = \"Why?\"\n[groups.test.prompts.translations.french]\nask = \"Pourquoi ?\"",
            "`french` in translations of a prompt of group `test` is not a language tag",
        ),
        ("[groups.test.prompts]\nask = \"Why?\"", "expected a sequence"),
        ("min_own_words = 150", "is a percentage: at most 100"),
    ];
    for (extra, said) in cases {
        let toml = CAMPAIGN_TOML.to_string() + extra + "\n";
        sb.write("campaign.toml", toml);
        sb.cmd()
            .arg("check")
            .run()
            .code(1)
            .stderr_has("campaign.toml")
            .stderr_has(said);
    }
}

/// A long template is read in pieces, which must not show: every paragraph is in its letter in
/// order, an editable paragraph far into it takes the volunteer's version, and a mistake far into
/// it is named on its own line.
#[test]
fn a_long_template_reads_as_one() {
    let sb = Sandbox::campaign();
    let mut long = String::from("Dear {{name}},\n\n");
    for i in 0..6000 {
        long += &format!("Paragraph {i} for {{{{name}}}}, of the length a paragraph has.\n\n");
    }
    long += "{{#editable \"late\"}}\nA late paragraph for {{name}}.\n{{/editable}}\n\nYours,\n";
    assert!(long.len() > 300_000);
    sb.write(TEMPLATE_FILE, &long);
    sb.write("mine.md", "My own late words.");
    sb.render("test", "txt", "out")
        .args(["--edit", "late=mine.md"])
        .run()
        .success();
    let letter = sb.files("out").into_iter().find(|f| f.contains("alice"));
    let letter = sb.read(&format!("out/{}", letter.expect("Alice's letter")));
    let mut at = 0;
    for i in 0..6000 {
        let paragraph = format!("Paragraph {i} for Alice Boss, of the length");
        at += letter[at..].find(&paragraph).expect(&paragraph);
    }
    assert!(letter[at..].contains("My own late words."));
    assert!(!letter.contains("A late paragraph"));

    let lines = long.lines().count();
    sb.write(TEMPLATE_FILE, format!("{long}Then {{{{nmae}}}}.\n"));
    sb.render("test", "eml", "out2")
        .run()
        .code(1)
        .stderr_has(&format!("templates/test.md.hbs:{}:", lines + 1))
        .stderr_has("did you mean `{{name}}`?");
    sb.assert_nothing_written("out2");
}
