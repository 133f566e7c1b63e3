//! The command line itself: help, finding the campaign, `init`, `groups`, `preview`, and who signs.

use crate::util::{self, Sandbox, CSV_FILE, SIGNER_EMAIL, SIGNER_NAME};

// --- help and usage -------------------------------------------------------------------------

#[test]
fn help_works_for_every_subcommand() {
    let sb = Sandbox::empty();
    for sub in ["groups", "check", "preview", "render", "init"] {
        sb.cmd()
            .args([sub, "--help"])
            .run()
            .success()
            .stdout_has(&format!("Usage: letterdrive {sub}"));
    }
    sb.cmd()
        .args(["help", "render"])
        .run()
        .success()
        .stdout_has("--signer-name");
}

#[test]
fn top_level_help_lists_subcommands_and_version_prints() {
    let sb = Sandbox::empty();
    let done = sb.cmd().arg("--help").run().success();
    let out = done.stdout();
    for sub in ["groups", "check", "preview", "render", "init"] {
        assert!(out.contains(sub), "--help lacks `{sub}`:\n{out}");
    }
    sb.cmd()
        .arg("--version")
        .run()
        .success()
        .stdout_has("letterdrive ");
}

#[test]
fn no_subcommand_exits_2_with_a_hint() {
    let sb = Sandbox::empty();
    sb.cmd()
        .run()
        .code(2)
        .stderr_has("error: no command given")
        .stderr_has("help: try `letterdrive groups`")
        .stderr_has("letterdrive --help");
}

#[test]
fn unknown_subcommand_and_unknown_flag_exit_2() {
    let sb = Sandbox::empty();
    sb.cmd()
        .arg("sned")
        .run()
        .code(2)
        .stderr_has("unrecognized subcommand 'sned'");
    sb.cmd()
        .args(["render", "-g", "test", "-o", "out", "--colour"])
        .run()
        .code(2)
        .stderr_has("--colour");
    sb.assert_nothing_written("out");
}

#[test]
fn render_format_must_be_a_known_one() {
    let sb = Sandbox::campaign();
    sb.render("test", "docx", "out")
        .run()
        .code(2)
        .stderr_has("invalid value 'docx'")
        .stderr_has("eml");
    sb.assert_nothing_written("out");
}

// --- finding the campaign -------------------------------------------------------------------

#[test]
fn campaign_flag_points_at_a_directory_elsewhere() {
    let campaign = Sandbox::campaign();
    let elsewhere = Sandbox::empty();
    let dir = campaign.path().to_str().unwrap().to_string();
    elsewhere
        .cmd()
        .args(["--campaign", &dir, "groups"])
        .run()
        .success()
        .stdout_has("A test statement")
        .stdout_has("test  Test recipients  (3 recipients)")
        .stdout_has("target by: country, role");
    // a global flag: also accepted after the subcommand
    elsewhere
        .cmd()
        .args(["check", "--campaign", &dir])
        .run()
        .success()
        .stdout_has("test: 3 recipients, 3 demands");
}

#[test]
fn campaign_env_var_is_read() {
    let campaign = Sandbox::campaign();
    let elsewhere = Sandbox::empty();
    elsewhere
        .cmd()
        .env("LETTERDRIVE_CAMPAIGN", campaign.path())
        .arg("groups")
        .run()
        .success()
        .stdout_has("(3 recipients)");
}

#[test]
fn current_directory_with_campaign_toml_is_used() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .arg("groups")
        .run()
        .success()
        .stdout_has("campaign `test-campaign` (current directory)");
}

#[test]
fn campaign_flag_on_a_directory_without_campaign_toml_exits_2() {
    let sb = Sandbox::empty();
    sb.write("notacampaign/readme.txt", "hi");
    sb.cmd()
        .args(["--campaign", "notacampaign", "groups"])
        .run()
        .code(2)
        .stderr_has("`notacampaign` is not a campaign: it has no campaign.toml")
        .stderr_has("help: point --campaign at a directory made by `letterdrive init DIR`");
}

// --- init -----------------------------------------------------------------------------------

#[test]
fn init_writes_the_bundled_campaign_and_it_checks() {
    let sb = Sandbox::empty();
    sb.cmd()
        .args(["init", "mine"])
        .run()
        .success()
        .stdout_has("wrote the bundled campaign")
        .stdout_has("mine");
    assert_eq!(
        sb.read("mine/campaign.toml"),
        std::fs::read_to_string(util::repo_file("campaign.toml")).unwrap()
    );
    for group in ["ohchr", "governments", "companies"] {
        assert!(
            sb.exists(&format!("mine/templates/{group}.md.hbs")),
            "{group} template"
        );
        assert!(
            sb.exists(&format!("mine/recipients/{group}.csv")),
            "{group} csv"
        );
    }
    sb.cmd()
        .args(["--campaign", "mine", "check"])
        .run()
        .success()
        .stdout_has("checking campaign `xinjiang-2022` (mine)")
        .stdout_has("0 errors")
        .stderr_has("mine/recipients/");
}

#[test]
fn init_into_an_existing_empty_directory_works() {
    let sb = Sandbox::empty();
    std::fs::create_dir(sb.join("empty")).unwrap();
    sb.cmd().args(["init", "empty"]).run().success();
    assert!(sb.exists("empty/campaign.toml"));
}

#[test]
fn init_refuses_a_non_empty_directory_and_overwrites_nothing() {
    let sb = Sandbox::empty();
    sb.write("mine/campaign.toml", "# my own work\n");
    sb.cmd()
        .args(["init", "mine"])
        .run()
        .code(2)
        .stderr_has("`mine` already exists and is not empty; nothing was written")
        .stderr_has("help: choose a new directory name")
        .stderr_has("or add --force to replace the campaign in it");
    assert_eq!(sb.files("mine"), vec!["campaign.toml"]);
    assert_eq!(sb.read("mine/campaign.toml"), "# my own work\n");

    sb.write("afile", "data");
    sb.cmd().args(["init", "afile"]).run().failure();
    assert_eq!(sb.read("afile"), "data");
}

#[test]
fn init_blank_writes_a_short_skeleton_that_checks_and_renders() {
    let sb = Sandbox::empty();
    sb.cmd()
        .args(["init", "mine", "--blank"])
        .run()
        .success()
        .stdout_has("wrote a blank campaign (3 files) to mine");
    assert_eq!(sb.files("mine/templates"), vec!["councillors.md.hbs"]);
    assert_eq!(sb.files("mine/recipients"), vec!["councillors.csv"]);
    let template = sb.read("mine/templates/councillors.md.hbs");
    for feature in [
        "{{ward}}",
        "{{fact.trees}}",
        "{{#each demands}}",
        "{{#if (eq position \"undecided\")}}",
        "{{personal_note}}",
        "{{#editable \"reply\"}}",
        "{{!--",
    ] {
        assert!(template.contains(feature), "template lacks `{feature}`");
    }
    let csv = sb.read("mine/recipients/councillors.csv");
    assert_eq!(csv.lines().count(), 4, "a header and three rows:\n{csv}");
    assert_eq!(csv.matches("@example.org").count(), 3);
    assert!(sb.read("mine/campaign.toml").contains("\n# "), "commented");
    sb.cmd()
        .args(["--campaign", "mine", "check"])
        .run()
        .success()
        .stdout_has("checking campaign `street-trees` (mine)")
        .stdout_has("0 errors")
        .stderr_lacks("error:");

    sb.write("note.md", "I walk under these trees every day.");
    sb.render("councillors", "txt", "out")
        .args(["--campaign", "mine", "--note", "note.md"])
        .run()
        .success()
        .stdout_has("wrote 3 text files");
    let letters: Vec<String> = sb
        .files("out")
        .iter()
        .map(|f| sb.read(&format!("out/{f}")))
        .collect();
    let undecided = "not yet decided how to vote";
    assert_eq!(letters.iter().filter(|l| l.contains(undecided)).count(), 1);
    for letter in &letters {
        assert!(letter.contains("fell 120 mature street trees"), "{letter}");
        assert!(
            letter.contains("- Vote against the felling plan"),
            "{letter}"
        );
        assert!(
            letter.contains("I walk under these trees every day."),
            "{letter}"
        );
        assert!(
            letter.contains("\n\nDear ") && !letter.contains("never reaches a letter"),
            "the comment stays out:\n{letter}"
        );
    }
}

#[test]
fn init_force_replaces_a_campaign_without_leaving_files_of_its_old_groups() {
    let sb = Sandbox::empty();
    sb.cmd().args(["init", "mine"]).run().success();
    sb.write("mine/notes.txt", "my notes");
    sb.write("mine/.letterdrive/journal.jsonl", "{}\n");
    sb.cmd()
        .args(["init", "mine", "--blank"])
        .run()
        .code(2)
        .stderr_has("`mine` already exists and is not empty; nothing was written")
        .stderr_has("--force");
    assert!(
        sb.exists("mine/templates/ohchr.md.hbs"),
        "refused: nothing changed"
    );

    sb.cmd()
        .args(["init", "mine", "--blank", "--force"])
        .run()
        .success()
        .stdout_has("wrote a blank campaign");
    assert_eq!(sb.files("mine/templates"), vec!["councillors.md.hbs"]);
    assert_eq!(sb.files("mine/recipients"), vec!["councillors.csv"]);
    assert_eq!(sb.read("mine/notes.txt"), "my notes");
    assert_eq!(sb.read("mine/.letterdrive/journal.jsonl"), "{}\n");
    let left: Vec<String> = sb
        .files("mine")
        .into_iter()
        .filter(|f| f.starts_with(".letterdrive-init"))
        .collect();
    assert!(left.is_empty(), "staging left behind: {left:?}");
    sb.cmd()
        .args(["--campaign", "mine", "check"])
        .run()
        .success()
        .stdout_has("campaign `street-trees`")
        .stdout_has("councillors: 3 recipients")
        .stdout_lacks("ohchr");

    // And back: the bundled campaign over the blank one leaves no `councillors` files.
    sb.cmd().args(["init", "mine", "--force"]).run().success();
    assert!(!sb.exists("mine/templates/councillors.md.hbs"));
    assert!(!sb.exists("mine/recipients/councillors.csv"));
    sb.cmd()
        .args(["--campaign", "mine", "check"])
        .run()
        .success();
}

// --- groups ---------------------------------------------------------------------------------

#[test]
fn groups_on_a_campaign_with_an_unreadable_csv_still_lists_the_group() {
    let sb = Sandbox::campaign();
    sb.write(CSV_FILE, "");
    sb.cmd()
        .arg("groups")
        .run()
        .success()
        .stdout_has("unreadable recipients (run `letterdrive check`)");
}

// --- preview --------------------------------------------------------------------------------

#[test]
fn preview_shows_the_first_row_by_default() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["preview", "-g", "test"])
        .run()
        .success()
        .stdout_has("To: Alice Boss <alice@corp-one.example>")
        .stdout_has("Subject: Letter to Corp One")
        .stdout_has("Message-ID: <")
        .stdout_has("Dear Alice Boss,")
        .stdout_has("- Demand meant for bosses only.");
}

#[test]
fn preview_row_n_shows_that_recipient() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["preview", "-g", "test", "--row", "2"])
        .run()
        .success()
        .stdout_has("To: Bob Staff <bob@corp-two.example>")
        .stdout_has("Dear Bob Staff,")
        .stdout_has("- Demand meant for staff only.")
        .stdout_lacks("bosses only");
}

#[test]
fn preview_row_counts_after_where() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args([
            "preview",
            "-g",
            "test",
            "--where",
            "country=germany",
            "--row",
            "1",
        ])
        .run()
        .success()
        .stdout_has("Dear Carol Other,");
}

#[test]
fn preview_to_address_is_case_insensitive() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["preview", "-g", "test", "--to", "CAROL@Corp-Three.example"])
        .run()
        .success()
        .stdout_has("To: Carol Other <carol@corp-three.example>")
        .stdout_has("- Demand meant for every recipient.")
        .stdout_lacks("bosses only")
        .stdout_lacks("staff only");
}

#[test]
fn preview_raw_prints_an_rfc5322_message() {
    let sb = Sandbox::campaign();
    let done = sb
        .cmd()
        .args(["preview", "-g", "test", "--row", "3", "--raw"])
        .signer()
        .run()
        .success();
    let raw = done.stdout();
    assert!(raw.contains("\r\n"), "RFC 5322 lines end in CRLF");
    assert!(raw.contains("MIME-Version: 1.0"));
    let msg = util::parse_mail(raw.as_bytes());
    assert_eq!(
        util::first_addr(msg.from()),
        (SIGNER_NAME.into(), SIGNER_EMAIL.into())
    );
    assert_eq!(
        util::first_addr(msg.to()),
        ("Carol Other".into(), "carol@corp-three.example".into())
    );
    assert_eq!(msg.subject(), Some("Letter to Corp Three"));
    assert!(msg.message_id().is_some());
    let (text, html) = util::alternative_parts(&msg);
    assert!(text.contains("Dear Carol Other,"));
    assert!(html.contains("<li>Demand meant for every recipient.</li>"));
}

#[test]
fn preview_row_out_of_range_exits_2() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["preview", "-g", "test", "--row", "9"])
        .run()
        .code(2)
        .stderr_has("recipients/test.csv: there is no row 9: only 3 recipients in group `test`")
        .stderr_has("help: see the recipients with `letterdrive groups`");
    sb.cmd()
        .args(["preview", "-g", "test", "--row", "0"])
        .run()
        .code(2)
        .stderr_has("--row counts from 1")
        .stderr_has("help: use --row 1");
}

#[test]
fn preview_unknown_address_exits_2() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["preview", "-g", "test", "--to", "nobody@corp.example"])
        .run()
        .code(2)
        .stderr_has("no recipient with address `nobody@corp.example` in group `test`")
        .stderr_has("help:");
}

#[test]
fn preview_row_and_to_conflict() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["preview", "-g", "test", "--row", "1", "--to", "a@b.org"])
        .run()
        .code(2)
        .stderr_has("cannot be used with");
}

// --- signer ---------------------------------------------------------------------------------

#[test]
fn render_without_signer_exits_2_with_a_hint() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["render", "-g", "test", "-o", "out"])
        .run()
        .code(2)
        .stderr_has("who signs these letters? missing --signer-name and --signer-email")
        .stderr_has("help: pass --signer-name \"Your Name\" --signer-email you@your-domain");
    sb.assert_nothing_written("out");
    sb.cmd()
        .args(["render", "-g", "test", "-o", "out", "--signer-name", "Sam"])
        .run()
        .code(2)
        .stderr_has("missing --signer-email")
        .stderr_lacks("--signer-name and");
    sb.assert_nothing_written("out");
}

#[test]
fn missing_signer_hint_only_suggests_what_exists() {
    // The hint offers "run `letterdrive` for the guided run", but `letterdrive` without a
    // subcommand only says "no command given": the hint sends the user into a dead end.
    let sb = Sandbox::campaign();
    let done = sb
        .cmd()
        .args(["render", "-g", "test", "-o", "out"])
        .run()
        .code(2);
    let bare = sb.cmd().run();
    if bare.stderr().contains("no command given") {
        assert!(
            !done.stderr().contains("guided run"),
            "hint points at a guided run that does not exist:\n{}",
            done.stderr()
        );
    }
}

#[test]
fn invalid_signer_email_exits_2() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["render", "-g", "test", "-o", "out"])
        .args(["--signer-name", "Sam", "--signer-email", "sam-at-home"])
        .run()
        .code(2)
        .stderr_has("signer e-mail `sam-at-home` is not a valid e-mail address")
        .stderr_has("help: pass --signer-email you@your-domain");
    sb.assert_nothing_written("out");
}

#[test]
fn signer_from_environment_variables() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["render", "-g", "test", "-o", "out", "--date", util::DATE])
        .env("LETTERDRIVE_SIGNER_NAME", "Envy Signer")
        .env("LETTERDRIVE_SIGNER_EMAIL", "envy@signers.org")
        .run()
        .success();
    let msg = util::parse_mail(&sb.read_bytes("out/test-000001-alice-boss.eml"));
    assert_eq!(
        util::first_addr(msg.from()),
        ("Envy Signer".into(), "envy@signers.org".into())
    );
    let (text, _) = util::alternative_parts(&msg);
    assert!(text.contains("Envy Signer"), "signature from env:\n{text}");

    // the flag wins over the variable
    sb.cmd()
        .args(["render", "-g", "test", "-o", "out2"])
        .signer()
        .env("LETTERDRIVE_SIGNER_NAME", "Envy Signer")
        .run()
        .success();
    let msg = util::parse_mail(&sb.read_bytes("out2/test-000001-alice-boss.eml"));
    assert_eq!(util::first_addr(msg.from()).0, SIGNER_NAME);
}

#[test]
fn signer_name_alone_from_env_with_email_flag() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["preview", "-g", "test", "--signer-email", SIGNER_EMAIL])
        .env("LETTERDRIVE_SIGNER_NAME", "Zoë Envname")
        .run()
        .success()
        .stdout_has("Zoë Envname");
}

#[test]
fn note_file_appears_in_the_letter() {
    let sb = Sandbox::campaign();
    sb.write(
        "note.md",
        "I visited the region in 2019 and *saw* it myself.\n",
    );
    sb.render("test", "eml", "out")
        .args(["--note", "note.md"])
        .run()
        .success();
    for name in sb.files("out") {
        let msg = util::parse_mail(&sb.read_bytes(&format!("out/{name}")));
        let (text, html) = util::alternative_parts(&msg);
        assert!(
            text.contains("I visited the region in 2019 and *saw* it myself."),
            "{name}:\n{text}"
        );
        assert!(html.contains("<em>saw</em>"), "{name}:\n{html}");
    }
    sb.cmd()
        .args(["preview", "-g", "test", "--note", "note.md"])
        .run()
        .success()
        .stdout_has("I visited the region in 2019");
}

#[test]
fn missing_note_file_is_reported_with_its_path() {
    let sb = Sandbox::campaign();
    sb.render("test", "eml", "out")
        .args(["--note", "no-such-note.md"])
        .run()
        .code(3)
        .stderr_has("no-such-note.md");
    sb.assert_nothing_written("out");
}

#[test]
fn note_that_is_not_utf8_is_refused() {
    let sb = Sandbox::campaign();
    sb.write("note.md", b"caf\xe9 au lait\n");
    sb.render("test", "eml", "out")
        .args(["--note", "note.md"])
        .run()
        .code(1)
        .stderr_has("note.md: the personal note is not valid UTF-8")
        .stderr_has("help: save the note with UTF-8 encoding");
    sb.assert_nothing_written("out");
}

#[test]
fn bad_date_and_bad_source_date_epoch_exit_2() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["render", "-g", "test", "-o", "out"])
        .args(["--signer-name", "Sam", "--signer-email", SIGNER_EMAIL])
        .args(["--date", "next tuesday"])
        .run()
        .code(2)
        .stderr_has("--date `next tuesday` is not a date")
        .stderr_has("help: write it as YYYY-MM-DD");
    sb.assert_nothing_written("out");
    sb.cmd()
        .args(["render", "-g", "test", "-o", "out"])
        .args(["--signer-name", "Sam", "--signer-email", SIGNER_EMAIL])
        .env("SOURCE_DATE_EPOCH", "soon")
        .run()
        .code(2)
        .stderr_has("SOURCE_DATE_EPOCH `soon` is not a number of seconds");
    sb.assert_nothing_written("out");
}

// --- completions, man, --help ----------------------------------------------------------------

/// Runs `program args` with `script` as a file, if the program is installed; `None` when not.
fn syntax_check(program: &str, args: &[&str], script: &str) -> Option<std::process::Output> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("script");
    std::fs::write(&file, script).unwrap();
    std::process::Command::new(program)
        .args(args)
        .arg(&file)
        .output()
        .ok()
}

#[test]
fn completions_for_each_shell_are_complete_and_parse() {
    let sb = Sandbox::empty();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let done = sb.cmd().args(["completions", shell]).run().success();
        let script = done.stdout();
        for word in ["letterdrive", "render", "send", "signer-name", "blank"] {
            assert!(script.contains(word), "{shell} completion lacks `{word}`");
        }
        let checked = match shell {
            "bash" => syntax_check("bash", &["-n"], &script),
            "zsh" => syntax_check("zsh", &["-n"], &script),
            "fish" => syntax_check("fish", &["--no-execute"], &script),
            _ => None,
        };
        if shell == "bash" {
            assert!(
                checked.is_some(),
                "bash is needed to check the bash completion"
            );
        }
        if let Some(out) = checked {
            assert!(
                out.status.success(),
                "{shell} rejects its completion: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    sb.cmd().args(["completions", "tcsh"]).run().code(2);
}

#[test]
fn man_prints_a_page_groff_reads_and_writes_one_per_command() {
    let sb = Sandbox::empty();
    let done = sb.cmd().arg("man").run().success();
    let page = done.stdout();
    assert!(page.contains(".TH letterdrive 1"), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "no {section}");
    }
    assert!(page.contains("letterdrive\\-send(1)"));
    // groff is part of man-db's system; where it is installed, it reads the page without a warning.
    if let Some(out) = syntax_check("groff", &["-man", "-Tutf8", "-ww", "-z"], &page) {
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "groff: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    sb.cmd()
        .args(["man", "--out", "pages"])
        .run()
        .success()
        .stdout_has("wrote the manual pages to pages");
    let pages = sb.files("pages");
    for command in ["", "-send", "-render", "-init", "-completions", "-man"] {
        let name = format!("letterdrive{command}.1");
        assert!(pages.contains(&name), "{name} in {pages:?}");
    }
    assert!(sb
        .read("pages/letterdrive-send.1")
        .contains(".SH \"MAIL SERVER\""));
}

#[test]
fn every_command_help_has_examples_and_send_groups_its_options() {
    let sb = Sandbox::empty();
    let commands = [
        "groups",
        "check",
        "preview",
        "render",
        "init",
        "send",
        "status",
        "wizard",
        "completions",
        "man",
    ];
    for command in commands {
        let done = sb.cmd().args([command, "--help"]).run().success();
        let help = done.stdout();
        let examples = help
            .split("\nExamples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("`{command} --help` has no examples:\n{help}"));
        assert!(
            examples
                .lines()
                .any(|l| l.trim_start().starts_with("letterdrive ")),
            "{command}: {examples}"
        );
    }
    let done = sb.cmd().args(["send", "--help"]).run().success();
    let help = done.stdout();
    let headings = [
        "Choosing recipients:",
        "Mail server:",
        "Pace and retries:",
        "This run:",
        "Signing:",
    ];
    let at: Vec<usize> = headings
        .iter()
        .map(|h| {
            help.find(&format!("\n{h}\n"))
                .unwrap_or_else(|| panic!("no `{h}`:\n{help}"))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "headings in order:\n{help}"
    );
    let section = |h: &str| {
        help.split(&format!("\n{h}\n"))
            .nth(1)
            .unwrap()
            .split("\n\n")
            .next()
            .unwrap()
            .to_string()
    };
    assert!(section("Mail server:").contains("--smtp <URL>"));
    assert!(section("Pace and retries:").contains("--rate <N/PERIOD>"));
    assert!(section("This run:").contains("--dry-run"));
}
