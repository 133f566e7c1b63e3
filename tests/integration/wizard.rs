//! The guided run, driven through a pseudo-terminal the way a person would: arrow keys, space,
//! enter, typed text, Ctrl-C (see pty.rs).

use std::path::PathBuf;

use crate::mail_server::MailServer;
use crate::pty::{config_home, Guided, CTRL_C, CTRL_D, DOWN, ENTER, SPACE, UP};
use crate::send::{ALICE, BOB, CAROL};
use crate::util::{alternative_parts, first_addr, parse_mail, Sandbox, DATE_EPOCH};

/// A second group, so the group question has a choice to make.
const OTHER_GROUP: &str = r#"
[groups.other]
label = "Other people"
description = "A second group, for the group question."
subject = "Hello {{name}}"
"#;

/// The test campaign plus a second group, and an editor that writes a paragraph.
fn campaign() -> Sandbox {
    let sb = Sandbox::campaign();
    let toml = sb.read("campaign.toml") + OTHER_GROUP;
    sb.write("campaign.toml", toml);
    sb.write(
        "templates/other.md.hbs",
        "Dear {{name}},\n\n{{personal_note}}\n\n{{signer.name}}\n",
    );
    sb.write(
        "recipients/other.csv",
        "name,email\nDora Other,dora@other.example\n",
    );
    sb.write(
        "bin/editor",
        "#!/bin/sh\nprintf 'I met Uyghur students in Lyon.\\n\\nTheir families are missing.\\n' > \"$1\"\n",
    );
    make_executable(&sb.join("bin/editor"));
    sb
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn default_profile(sb: &Sandbox) -> PathBuf {
    config_home(sb).join("letterdrive").join("profile.toml")
}

/// Everything directly in the sandbox, so a test can tell that nothing was added.
fn listing(sb: &Sandbox) -> Vec<String> {
    sb.files(".")
}

#[test]
fn guided_run_writes_eml_files_and_prints_the_same_command() {
    let sb = campaign();
    let mut g = Guided::start(&sb, &[]);
    // Each group is shown with the languages its letters are written in.
    g.see("languages: English (default)");
    g.see("Which group do you want to write to?").keys(ENTER);
    // No profile yet, so no "your own country": all, or choose.
    g.see("Who in this group?").keys(DOWN).keys(ENTER);
    // country: France, Germany, Japan — tick France and Japan.
    g.see("country: space ticks")
        .keys(SPACE)
        .keys(DOWN)
        .keys(DOWN)
        .keys(SPACE)
        .keys(ENTER);
    g.see("role: space ticks").keys(ENTER);
    g.see("2 recipients chosen");
    g.see("Your name").line("Ada Volunteer");
    g.see("Your e-mail address").line("ada@example.org");
    g.see("Your city").line("Lyon");
    g.see("Your country").line("France");
    g.see("Your organisation").keys(ENTER);
    g.see("Add a personal paragraph?").keys(DOWN).keys(ENTER); // in the editor
    g.see("exactly as it will go out")
        .see("To: Alice Boss <alice@corp-one.example>")
        .see("I met Uyghur students in Lyon.")
        .see("Is this the letter you want to send?")
        .keys(ENTER);
    g.see("How do you want your letters?").keys(ENTER); // .eml
    g.see("Folder to write them to").line("out");
    g.see("wrote 2 e-mail files (.eml) to out");
    g.see("your personal paragraph is in out/personal-note.md");
    let command = "letterdrive render --group test --where country=France,Japan --format eml \
                   --out out --signer-name 'Ada Volunteer' --signer-email ada@example.org \
                   --signer-city Lyon --signer-country France --note out/personal-note.md";
    g.see(command);
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    // A first-time volunteer's run, measured (shown with --nocapture).
    eprintln!("first-time guided run: {}", g.effort());

    let mut files = sb.files("out");
    files.retain(|f| f.ends_with(".eml"));
    assert_eq!(
        files,
        ["test-000001-alice-boss.eml", "test-000002-bob-staff.eml"]
    );
    let msg = parse_mail(&sb.read_bytes("out/test-000001-alice-boss.eml"));
    assert_eq!(
        first_addr(msg.from()),
        ("Ada Volunteer".into(), "ada@example.org".into())
    );
    let (text, _html) = alternative_parts(&msg);
    assert!(text.contains("I met Uyghur students in Lyon."), "{text}");
    assert!(text.contains("Their families are missing."), "{text}");
    assert!(text.contains("Ada Volunteer"), "{text}");
    assert!(!default_profile(&sb).exists(), "the profile was declined");

    // The printed command writes the same letters, byte for byte.
    sb.cmd()
        .env("SOURCE_DATE_EPOCH", DATE_EPOCH)
        .args([
            "render",
            "--group",
            "test",
            "--where",
            "country=France,Japan",
            "--format",
            "eml",
            "--out",
            "again",
            "--signer-name",
            "Ada Volunteer",
            "--signer-email",
            "ada@example.org",
            "--signer-city",
            "Lyon",
            "--signer-country",
            "France",
            "--note",
            "out/personal-note.md",
        ])
        .run()
        .success();
    for f in &files {
        assert_eq!(
            sb.read_bytes(&format!("out/{f}")),
            sb.read_bytes(&format!("again/{f}")),
            "{f} differs between the guided run and its command line"
        );
    }
}

#[test]
fn saved_profile_is_offered_as_defaults_next_time() {
    let sb = Sandbox::campaign();
    let mut g = Guided::start(&sb, &[]);
    g.see("Writing to: Test recipients");
    g.see("Who in this group?").keys(ENTER); // all
    g.see("Your name").line("Ada Volunteer");
    g.see("Your e-mail address").line("ada@example.org");
    g.see("Your city").line("Lyon");
    g.see("Your country").line("France");
    g.see("Your organisation").line("Lyon Amnesty Group");
    g.see("Add a personal paragraph?")
        .keys(DOWN)
        .keys(DOWN)
        .keys(ENTER); // none
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(ENTER);
    g.see("Folder to write them to").keys(ENTER); // the default, `letters`
    g.see("wrote 3 e-mail files (.eml) to letters");
    g.see("for next time?").line("y");
    g.see("Saved");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    let profile = std::fs::read_to_string(default_profile(&sb)).expect("profile saved");
    assert!(profile.contains("name = \"Ada Volunteer\""), "{profile}");
    assert!(profile.contains("country = \"France\""), "{profile}");

    // Second run: the profile's country is offered first, and every answer is a default.
    let mut g = Guided::start(&sb, &["wizard"]);
    g.see("Who in this group?")
        .see("Only France, your own country")
        .see("(1 recipient)")
        .keys(ENTER);
    g.see("Your name").see("(Ada Volunteer)").keys(ENTER);
    g.see("Your e-mail address")
        .see("(ada@example.org)")
        .keys(ENTER);
    g.see("Your city").see("(Lyon)").keys(ENTER);
    g.see("Your country").see("(France)").keys(ENTER);
    g.see("Your organisation")
        .see("(Lyon Amnesty Group)")
        .keys(ENTER);
    g.see("Add a personal paragraph?")
        .keys(DOWN)
        .keys(DOWN)
        .keys(ENTER);
    g.see("From: Ada Volunteer <ada@example.org>")
        .see("To: Alice Boss");
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(ENTER);
    g.see("Folder to write them to").line("mine");
    g.see("wrote 1 e-mail file (.eml) to mine");
    g.see("--where country=France");
    // Nothing changed, so there is nothing to offer to save.
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    assert!(!g.seen.contains("for next time?"), "{}", g.seen);
    assert_eq!(sb.files("mine"), ["test-000001-alice-boss.eml"]);
}

#[test]
fn wrong_email_is_asked_again_with_the_reason() {
    let sb = Sandbox::campaign();
    let profile = sb.join("my-profile.toml");
    let mut g = Guided::start(&sb, &["--profile", profile.to_str().unwrap()]);
    g.see("Who in this group?").keys(ENTER);
    g.see("Your name").keys(ENTER);
    g.see("a name is needed");
    g.line("Ada Volunteer");
    g.see("Your e-mail address").line("ada at example");
    g.see("`ada at example` is not an e-mail address")
        .see("write it as name@domain");
    g.see("Your e-mail address").line("ada@example.org");
    g.see("Your city").keys(CTRL_C);
    g.see("cancelled: nothing was written and no profile was saved");
    assert_eq!(g.exit_code(), 130, "{}", g.seen);
    assert!(!profile.exists());
}

#[test]
fn ctrl_c_midway_leaves_nothing_behind() {
    let sb = campaign();
    let before = listing(&sb);
    let profile = sb.join("my-profile.toml");
    let mut g = Guided::start(&sb, &["--profile", profile.to_str().unwrap()]);
    g.see("Which group do you want to write to?").keys(ENTER);
    g.see("Who in this group?").keys(ENTER);
    g.sign_as_ada();
    g.see("Add a personal paragraph?").keys(CTRL_C);
    // The menu hid the cursor; it is shown again before the message.
    g.see("\x1b[?25h");
    g.see("cancelled: nothing was written and no profile was saved");
    assert_eq!(g.exit_code(), 130, "{}", g.seen);
    assert_eq!(listing(&sb), before, "nothing new in the directory");
    assert!(!profile.exists());
    assert!(!sb.exists("letters"));
    assert!(!config_home(&sb).exists());
}

#[test]
fn esc_at_the_preview_quits_without_writing() {
    let sb = Sandbox::campaign();
    let before = listing(&sb);
    let mut g = Guided::start(&sb, &["wizard"]);
    g.see("Who in this group?").keys(ENTER);
    g.sign_as_ada();
    g.see("Add a personal paragraph?").keys(ENTER);
    g.see("Type your paragraph").line("Please act.").keys(ENTER);
    g.see("Is this the letter you want to send?").keys("\x1b");
    g.see("cancelled: nothing was written and no profile was saved");
    assert_eq!(g.exit_code(), 130, "{}", g.seen);
    assert_eq!(listing(&sb), before);
}

#[test]
fn going_back_keeps_the_answers_as_defaults() {
    let sb = Sandbox::campaign();
    let mut g = Guided::start(&sb, &[]);
    g.see("Who in this group?").keys(ENTER);
    g.see("Your name").line("Ada Volunteer");
    g.see("Your e-mail address").line("ada@example.org");
    g.see("Your city").keys(ENTER);
    g.see("Your country").line("Japan");
    g.see("Your organisation").keys(ENTER);
    g.see("Add a personal paragraph?")
        .keys(DOWN)
        .keys(DOWN)
        .keys(ENTER);
    g.see("Is this the letter you want to send?")
        .keys(DOWN)
        .keys(ENTER);
    // Back at the start: the earlier answer (all) is the default, and the country typed a
    // moment ago is now offered first.
    g.see("Who in this group?")
        .see("Only Japan, your own country")
        .keys(UP)
        .keys(ENTER);
    g.see("Your name").see("(Ada Volunteer)").keys(ENTER);
    g.see("Your e-mail address").keys(ENTER);
    g.see("Your city").keys(ENTER);
    g.see("Your country").see("(Japan)").keys(ENTER);
    g.see("Your organisation").keys(ENTER);
    g.see("Add a personal paragraph?")
        .keys(DOWN)
        .keys(DOWN)
        .keys(ENTER);
    g.see("To: Bob Staff");
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?")
        .keys(DOWN)
        .keys(DOWN)
        .keys(DOWN)
        .keys(ENTER); // the mailto: page
    g.see("Folder to write them to").keys(ENTER);
    g.see("wrote 1 letter on one page of mailto: links to letters/test.html");
    g.see("warning: 1 of 1 addresses is a placeholder");
    g.see("next: open /");
    g.see("/letters/test.html in your browser");
    g.see("--where country=Japan --format html --out letters");
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    assert!(sb
        .read("letters/test.html")
        .contains("mailto:bob@corp-two.example"));
}

#[test]
fn a_campaign_that_fails_check_is_reported_before_the_first_question() {
    let sb = Sandbox::campaign();
    sb.write(
        "recipients/test.csv",
        "name,email,organization,country,role\nAlice,not-an-address,Corp,France,boss\n",
    );
    let mut g = Guided::start(&sb, &[]);
    g.see("has problems, so no letter can be written yet");
    g.see("`not-an-address` is not a valid e-mail address");
    assert_eq!(g.exit_code(), 1, "{}", g.seen);
    assert!(!g.seen.contains("Who in this group?"), "{}", g.seen);
}

/// Past 50 problems the guided run says how many more there are, as `check` does.
#[test]
fn a_campaign_with_many_problems_says_how_many_were_not_listed() {
    let sb = Sandbox::campaign();
    let mut csv = String::from("name,email,organization,country,role\n");
    for i in 1..=60 {
        csv.push_str(&format!("P{i},bad{i},Corp,France,boss\n"));
    }
    sb.write("recipients/test.csv", csv);
    let mut g = Guided::start(&sb, &[]);
    g.see("has problems, so no letter can be written yet");
    g.see("... and 10 more problems not listed");
    assert_eq!(g.exit_code(), 1, "{}", g.seen);
}

#[test]
fn without_a_terminal_the_guided_run_names_the_flags_instead() {
    let sb = Sandbox::campaign();
    // assert_cmd gives no terminal: stdin, stdout and stderr are pipes.
    sb.cmd()
        .arg("wizard")
        .run()
        .code(2)
        .stderr_has("error: the guided run needs a terminal")
        .stderr_has("letterdrive render --group GROUP --format eml --out DIR --signer-name NAME --signer-email ADDRESS");
    sb.cmd()
        .run()
        .code(2)
        .stderr_has("error: no command given, and there is no terminal to ask questions on")
        .stderr_has("letterdrive render --group GROUP");
    assert!(!sb.exists("letters"));
}

#[test]
fn pdf_letters_can_be_chosen_as_the_output() {
    let sb = Sandbox::campaign();
    let mut g = Guided::start(&sb, &[]);
    g.see("Who in this group?").keys(ENTER);
    g.sign_as_ada();
    g.see("Add a personal paragraph?")
        .keys(DOWN)
        .keys(DOWN)
        .keys(ENTER);
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?")
        .see("PDF letters")
        .keys(DOWN)
        .keys(DOWN)
        .keys(DOWN)
        .keys(DOWN)
        .keys(ENTER);
    g.see("Folder to write them to").line("print");
    g.see("--format pdf --out print");
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    let pdfs: Vec<String> = sb
        .files("print")
        .into_iter()
        .filter(|f| f.ends_with(".pdf"))
        .collect();
    assert_eq!(pdfs.len(), 3, "{pdfs:?}");
    assert!(sb
        .read_bytes(&format!("print/{}", pdfs[0]))
        .starts_with(b"%PDF-"));
}

#[test]
fn the_guided_run_sends_through_smtp_and_keeps_the_server_for_next_time() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    // A profile with a server setting of its own, which saving the signer must keep.
    let profile = sb.join("my-profile.toml");
    sb.write("my-profile.toml", "[smtp]\nrate = \"unlimited\"\n");
    let mut g = Guided::start(&sb, &["--profile", profile.to_str().unwrap()]);
    g.see("Who in this group?").keys(ENTER);
    g.sign_as_ada();
    g.see("Add a personal paragraph?").keys(ENTER); // typed here
    g.see("Type your paragraph")
        .line("I met Uyghur students in Lyon.")
        .keys(ENTER);
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?")
        .see("Send them now through my mail account (SMTP)");
    for _ in 0..5 {
        g.keys(DOWN);
    }
    g.keys(ENTER);
    // The last item of the providers' menu takes a URL.
    g.see("Which mail provider?")
        .see("Gmail")
        .keys(UP)
        .keys(ENTER);
    // Checked as `send` checks it, and asked again.
    g.see("Mail server (SMTP URL)")
        .line("smtp://mail.example.org?tls=none");
    g.see("`mail.example.org` is not this machine");
    g.see("Mail server (SMTP URL)").line(&server.url());
    g.see("3 letters of group `test`")
        .see("— from your answer")
        .see("rate:    unlimited — from rate in the profile");
    g.see("Send 3 letters?").line("y");
    g.see("3 of 3 sent");
    g.see("3 letters sent");
    g.see("To send the same letters again without questions")
        .see(&format!(
            "letterdrive --profile {} send --group test --smtp {} \
             --signer-name 'Ada Volunteer' --signer-email ada@example.org \
             --note .letterdrive/personal-note.md\r\n",
            profile.display(),
            server.url()
        ));
    g.see("Save your name, address and mail server (never your password)")
        .line("y");
    g.see("Saved");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    assert_eq!(server.recipients(), [ALICE, BOB, CAROL]);
    assert_eq!(
        sb.read(".letterdrive/personal-note.md"),
        "I met Uyghur students in Lyon."
    );
    let saved = std::fs::read_to_string(&profile).unwrap();
    assert!(saved.contains("name = \"Ada Volunteer\""), "{saved}");
    assert!(
        saved.contains(&format!(
            "[smtp]\nurl = \"{}\"\nrate = \"unlimited\"",
            server.url()
        )),
        "{saved}"
    );
    assert!(!saved.contains("password"), "{saved}");

    // The next run offers the saved server, and the journal keeps the letters from going twice.
    let mut g = Guided::start(&sb, &["--profile", profile.to_str().unwrap()]);
    g.see("Who in this group?").keys(ENTER);
    g.see("Your name").see("(Ada Volunteer)").keys(ENTER);
    g.see("Your e-mail address").keys(ENTER);
    g.see("Your city").keys(ENTER);
    g.see("Your country").keys(ENTER);
    g.see("Your organisation").keys(ENTER);
    g.see("Add a personal paragraph?")
        .keys(DOWN)
        .keys(DOWN)
        .keys(ENTER);
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?");
    for _ in 0..5 {
        g.keys(DOWN);
    }
    g.keys(ENTER);
    g.see("Which mail provider?")
        .see(&format!("The server I used before: {}", server.url()))
        .keys(ENTER);
    g.see("0 to send, 3 already sent");
    g.see("— from url in the profile");
    g.see("nothing to send");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    assert_eq!(server.received().len(), 3);
}

/// "y" and Enter typed together at the send confirmation answer it alone: the question after
/// it waits for its own answer.
#[test]
fn yes_and_enter_answer_one_question_only() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    let profile = sb.join("my-profile.toml");
    let mut g = Guided::start(&sb, &["--profile", profile.to_str().unwrap()]);
    g.see("Who in this group?").keys(ENTER);
    g.sign_as_ada();
    g.see("Add a personal paragraph?").keys(UP).keys(ENTER); // none
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(UP).keys(ENTER); // send
    g.see("Which mail provider?").keys(UP).keys(ENTER); // a URL
    g.see("Mail server (SMTP URL)").line(&server.url());
    g.see("Send 3 letters?").keys("y\r");
    g.see("3 letters sent");
    g.see("for next time?").line("n");
    g.see("Not saved.");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    assert_eq!(server.recipients().len(), 3);
    assert!(!profile.exists(), "the profile was declined");
}

/// Without `$EDITOR` or `$VISUAL` no editor is offered: the paragraph is typed in the terminal,
/// over several lines, up to Ctrl-D. One typed with an arrow key's control character is written
/// again, as letters cannot carry it.
#[test]
fn without_an_editor_the_paragraph_is_typed_here_over_several_lines() {
    let sb = Sandbox::campaign();
    let mut g = Guided::start_without_editor(&sb, &[]);
    g.see("Who in this group?").keys(ENTER);
    g.sign_as_ada();
    g.see("The letters are in English: write the paragraph in English.");
    g.see("Add a personal paragraph?")
        .see("Type it here")
        .see("No personal paragraph")
        .keys(ENTER);
    g.see("an empty line (or Ctrl-D) finishes")
        .line("I met Uyghur \x1b[A students.")
        .keys(CTRL_D);
    g.see("control character U+001B on line 1, column 14")
        .see("Add a personal paragraph?")
        .keys(ENTER);
    g.see("an empty line (or Ctrl-D) finishes")
        .line("I met Uyghur students in Lyon.")
        .line("Their families are missing.")
        .keys(CTRL_D);
    g.see("exactly as it will go out")
        .see("I met Uyghur students in Lyon.")
        .see("Their families are missing.");
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(ENTER);
    g.see("Folder to write them to").line("out");
    g.see("wrote 3 e-mail files");
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    assert!(!g.seen.contains("editor"), "{}", g.seen);
    assert_eq!(
        sb.read("out/personal-note.md"),
        "I met Uyghur students in Lyon.\nTheir families are missing."
    );
}

/// A template without `{{personal_note}}` has no place for a paragraph, so none is asked for:
/// one written there would be lost without a word.
#[test]
fn letters_without_a_place_for_a_paragraph_do_not_ask_for_one() {
    let sb = Sandbox::campaign();
    let template =
        crate::util::TEMPLATE.replace("{{#if personal_note}}\n{{personal_note}}\n\n{{/if}}\n", "");
    assert!(!template.contains("personal_note"));
    sb.write(crate::util::TEMPLATE_FILE, template);
    let mut g = Guided::start_without_editor(&sb, &[]);
    g.see("Who in this group?").keys(ENTER);
    g.sign_as_ada();
    g.see("These letters have no place for a personal paragraph.");
    g.see("exactly as it will go out");
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(ENTER);
    g.see("Folder to write them to").line("out");
    g.see("wrote 3 e-mail files");
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    assert!(!g.seen.contains("Add a personal paragraph?"), "{}", g.seen);
    assert!(!sb.exists("out/personal-note.md"));
}

/// "Other" in the providers' menu asks for the server's name, its port and the login, never a
/// URL, and sends through what they make.
#[test]
fn another_mail_server_is_given_by_name_and_port() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    let port = server.url().rsplit(':').next().unwrap().to_string();
    let profile = sb.join("my-profile.toml");
    sb.write("my-profile.toml", "[smtp]\nrate = \"unlimited\"\n");
    let mut g = Guided::start(&sb, &["--profile", profile.to_str().unwrap()]);
    g.see("Who in this group?").keys(ENTER);
    g.sign_as_ada();
    g.see("Add a personal paragraph?").keys(UP).keys(ENTER); // none
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(UP).keys(ENTER); // send
    g.see("Which mail provider?")
        .see("Outlook.com")
        .see("Other: I know my mail server's name")
        .keys(UP)
        .keys(UP)
        .keys(ENTER);
    g.see("Mail server name").line("smtp://127.0.0.1");
    g.see("just the name, such as mail.example.org");
    g.see("Mail server name").line("127.0.0.1");
    g.see("Port").see("(587)").line(&port);
    // A relay on this machine is offered no login.
    g.see("Login (leave empty if the server takes none)")
        .keys(ENTER);
    g.see(&format!("server:  smtp://127.0.0.1:{port}"));
    g.see("Send 3 letters?").line("y");
    g.see("3 letters sent");
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    assert_eq!(server.recipients().len(), 3);
}

/// With no campaign named and none in the folder, the guided run asks which campaign: the one
/// built in, or a campaign file someone gave the volunteer, asked again until it is one.
#[test]
fn the_guided_run_opens_a_campaign_file() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["pack", "--out", "given/campaign.zip"])
        .run()
        .success();
    for file in ["campaign.toml", "templates", "recipients"] {
        let path = sb.join(file);
        if path.is_dir() {
            std::fs::remove_dir_all(path).unwrap();
        } else {
            std::fs::remove_file(path).unwrap();
        }
    }
    let mut g = Guided::start(&sb, &[]);
    g.see("Which campaign?")
        .see("The campaign built into letterdrive")
        .keys(DOWN)
        .keys(ENTER);
    g.see("The campaign file or folder")
        .line("nothing-here.zip");
    g.see("nothing-here.zip");
    g.see("The campaign file or folder")
        .line("given/campaign.zip");
    g.see("A test statement");
    g.see("Who in this group?").keys("\x1b");
    g.see("cancelled: nothing was written");
    assert_eq!(g.exit_code(), 130, "{}", g.seen);
}

/// A campaign file is unpacked into a temporary folder while the run uses it. Leaving the run
/// removes it, by Esc (the run ends) as by Ctrl-C (the process exits at once, dropping nothing).
#[test]
fn leaving_the_guided_run_removes_the_unpacked_campaign() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["pack", "--out", "given/campaign.zip"])
        .run()
        .success();
    for (key, how) in [("\x1b", "Esc"), (CTRL_C, "Ctrl-C")] {
        let tmp = tempfile::tempdir().unwrap();
        let args = ["--campaign", "given/campaign.zip"];
        let mut g = Guided::start_with_tmpdir(&sb, &args, tmp.path());
        g.see("Who in this group?");
        let unpacked = std::fs::read_dir(tmp.path()).unwrap().flatten();
        let unpacked = unpacked.filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("letterdrive-campaign-")
        });
        assert_eq!(unpacked.count(), 1, "the campaign is unpacked while in use");
        if key == CTRL_C {
            // At a typed answer, where Ctrl-C is a signal rather than a key.
            g.keys(ENTER).see("Your name");
        }
        g.keys(key);
        g.see("cancelled: nothing was written");
        assert_eq!(g.exit_code(), 130, "{}", g.seen);
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert!(left.is_empty(), "after {how}: {left:?}");
    }
}

/// Writing prompts for the test group: the second has a hint, the third a French translation.
const PROMPTS: &str = r#"
[[groups.test.prompts]]
ask = "Why does this matter to you?"

[[groups.test.prompts]]
ask = "What should they do first?"
hint = "One thing, said plainly."

[[groups.test.prompts]]
ask = "What would you like them to answer?"
[groups.test.prompts.translations.fr]
ask = "À quelle question aimeriez-vous une réponse ?"
"#;

/// The prompts are asked one by one, an empty answer skips one, and the answers, word for
/// word and nothing else, become the paragraph the volunteer is then offered.
#[test]
fn prompts_turn_the_answers_into_the_paragraph() {
    let sb = Sandbox::campaign();
    sb.write("campaign.toml", sb.read("campaign.toml") + PROMPTS);
    let mut g = Guided::start(&sb, &[]);
    g.see("Who in this group?").keys(ENTER);
    g.sign_as_ada();
    g.see("3 questions help you write it");
    g.see("(1/3) Why does this matter to you?")
        .line("My neighbour's brother is held in a camp.");
    g.see("One thing, said plainly.")
        .see("(2/3) What should they do first?")
        .keys(ENTER); // skipped
    g.see("(3/3) What would you like them to answer?")
        .line("Will you visit the camps?");
    g.see("Your paragraph, from your answers")
        .see("Add a personal paragraph?")
        .see("Use the paragraph from my answers")
        .keys(ENTER);
    // The preview says how much of the letter is the volunteer's own words.
    g.see("Will you visit the camps?").see("own words: ");
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(ENTER);
    g.see("Folder to write them to").line("out");
    g.see("wrote 3 e-mail files (.eml) to out");
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    let note = sb.read("out/personal-note.md");
    assert_eq!(
        note.trim(),
        "My neighbour's brother is held in a camp.\n\nWill you visit the camps?"
    );
    let msg = parse_mail(&sb.read_bytes("out/test-000001-alice-boss.eml"));
    let (text, _html) = alternative_parts(&msg);
    assert!(text.contains("held in a camp."), "{text}");
    assert!(!text.contains("should they do"), "{text}");
}

/// Skipping every prompt leaves no paragraph drafted: the step is the one without prompts.
#[test]
fn prompts_skipped_draft_nothing() {
    let sb = Sandbox::campaign();
    sb.write("campaign.toml", sb.read("campaign.toml") + PROMPTS);
    let mut g = Guided::start(&sb, &[]);
    g.see("Who in this group?").keys(ENTER);
    g.sign_as_ada();
    g.see("(1/3)").keys(ENTER);
    g.see("(2/3)").keys(ENTER);
    g.see("(3/3)").keys(ENTER);
    g.see("Add a personal paragraph?")
        .see("No personal paragraph");
    g.keys(CTRL_C);
    g.see("cancelled");
    assert_eq!(g.exit_code(), 130, "{}", g.seen);
    assert!(!g.seen.contains("from my answers"), "{}", g.seen);
}

/// The guided run with other volunteers' ledgers warns, at the preview and when writing, about a
/// paragraph another volunteer already sent the same recipient, and its command line keeps them.
#[test]
fn the_guided_run_warns_about_a_paragraph_another_volunteer_sent() {
    use crate::own_words::{vic_sent, PASTED};
    let sb = Sandbox::campaign();
    vic_sent(&sb, PASTED);
    let mut g = Guided::start_without_editor(&sb, &["wizard", "--ledger", "vic.ledger"]);
    g.see("Who in this group?").keys(ENTER);
    g.sign_as_ada();
    g.see("Add a personal paragraph?").keys(ENTER); // typed here
    g.see("Type your paragraph").line(PASTED).keys(ENTER);
    g.see("To: Alice Boss")
        .see("warning: the personal text of the letter to Alice Boss <alice@corp-one.example> is near-identical to the letter another volunteer already wrote");
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(ENTER);
    g.see("Folder to write them to").line("out");
    g.see("wrote 3 e-mail files (.eml) to out");
    g.see("--ledger vic.ledger");
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    // Said once at the preview and once when writing, for Alice only.
    assert_eq!(g.seen.matches("near-identical").count(), 2, "{}", g.seen);
}

#[test]
fn a_ledger_that_cannot_be_read_stops_the_guided_run_before_the_first_question() {
    let sb = Sandbox::campaign();
    let mut g = Guided::start(&sb, &["wizard", "--ledger", "nope.ledger"]);
    g.see("nope.ledger");
    assert_ne!(g.exit_code(), 0, "{}", g.seen);
    assert!(!g.seen.contains("Who in this group?"), "{}", g.seen);
}
