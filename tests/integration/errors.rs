//! Bad input: every problem exits non-zero with the file, line and column it is about plus a hint,
//! and a failed render writes nothing at all.

use crate::util::{self, Sandbox, CAMPAIGN_TOML, CSV_FILE, DATE_EPOCH, TEMPLATE_FILE};

const HEADER: &str = "name,email,organization,country,role\n";

/// Put `csv` in place, render, expect exit `code`, and check nothing was written.
fn render_fails(csv: impl AsRef<[u8]>, code: i32) -> (Sandbox, util::Done) {
    let sb = Sandbox::campaign();
    sb.write(CSV_FILE, csv);
    let done = sb.render("test", "eml", "out").run().code(code);
    sb.assert_nothing_written("out");
    (sb, done)
}

fn csv(rows: &str) -> String {
    format!("{HEADER}{rows}")
}

/// 200 rows, every other one bad: an empty required field, or too many fields.
fn rows_with_100_problems() -> String {
    let mut rows = String::new();
    for i in 0..200 {
        match i % 4 {
            0 => rows.push_str(&format!("P{i},p{i}@corp.example,,France,boss\n")),
            2 => rows.push_str(&format!(
                "P{i},p{i}@corp.example,Corp,France,boss,extra,x\n"
            )),
            _ => rows.push_str(&format!("P{i},p{i}@corp.example,Corp,France,boss\n")),
        }
    }
    rows
}

// --- CSV structure --------------------------------------------------------------------------

#[test]
fn unclosed_quote_in_the_last_row() {
    let (_, done) = render_fails(
        csv("Alice Boss,alice@corp-one.example,Corp One,France,boss\n\
             Bob Staff,\"bob@corp-two.example,Corp Two,Japan,staff\n"),
        1,
    );
    done.stderr_has("unbalanced quotes")
        .stderr_has("help: add the missing closing `\"`")
        // the quote opens on line 3 (Bob's row), not on Alice's line
        .stderr_has("recipients/test.csv:3: unbalanced quotes")
        .stderr_lacks("recipients/test.csv:2:");
}

#[test]
fn unclosed_quote_in_a_middle_row() {
    let (_, done) = render_fails(
        csv("Alice Boss,alice@corp-one.example,Corp One,France,boss\n\
             Bob Staff,bob@corp-two.example,\"Corp Two,Japan,staff\n\
             Carol Other,carol@corp-three.example,Corp Three,Germany,\n"),
        1,
    );
    done.stderr_has("unbalanced quotes")
        .stderr_has("help: add the missing closing `\"`")
        // the quote opens on line 3 (Bob's row), not on Alice's line
        .stderr_has("recipients/test.csv:3: unbalanced quotes")
        .stderr_lacks("recipients/test.csv:2:");
}

#[test]
fn row_with_the_wrong_number_of_fields() {
    let (_, done) = render_fails(
        csv("Alice Boss,alice@corp-one.example,Corp One,France,boss\n\
             Bob Staff,bob@corp-two.example,Corp Two,Japan\n"),
        1,
    );
    done.stderr_has("recipients/test.csv:3: this row has 4 fields but the header has 5")
        .stderr_has("help: quote fields that contain commas");
}

#[test]
fn missing_required_column() {
    let (_, done) = render_fails(
        "name,email,country,role\nAlice Boss,alice@corp-one.example,France,boss\n",
        1,
    );
    done.stderr_has("recipients/test.csv:1: missing required column `organization`")
        .stderr_has(
            "help: add `organization` to the header row (columns now: name, email, country, role)",
        );
}

#[test]
fn empty_required_field() {
    let (_, done) = render_fails(
        csv("Alice Boss,alice@corp-one.example,Corp One,France,boss\n\
             Bob Staff,bob@corp-two.example,,Japan,staff\n"),
        1,
    );
    done.stderr_has("recipients/test.csv:3: column `organization`: required field is empty")
        .stderr_has("help: fill it in, or remove the row");
}

#[test]
fn empty_email_is_reported_as_empty_not_invalid() {
    let (_, done) = render_fails(csv("Alice Boss,,Corp One,France,boss\n"), 1);
    done.stderr_has("recipients/test.csv:2: column `email`: required field is empty")
        .stderr_lacks("not a valid e-mail address");
}

#[test]
fn invalid_email_address() {
    let (_, done) = render_fails(
        csv("Alice Boss,alice-at-corp-one.example,Corp One,France,boss\n"),
        1,
    );
    done.stderr_has(
        "recipients/test.csv:2: column `email`: `alice-at-corp-one.example` is not a valid e-mail address",
    )
    .stderr_has("help: write it as name@domain");
}

/// A file saved with Windows line ends (as spreadsheets save CSV) or old Mac ones names the same
/// lines as one with Unix ones; the csv crate alone put every row a line early (Windows) or on
/// line 1 (Mac).
#[test]
fn errors_in_a_file_with_windows_line_ends_name_the_right_lines() {
    let rows = "Alice Boss,alice@corp-one.example,Corp One,France,boss\n\
                \"Bob\nStaff\",bob-at-corp-two.example,Corp Two,Japan,staff\n\
                Carol Chief,carol@corp-three.example,Corp Three,Chile,boss,extra\n";
    for eol in ["\n", "\r\n", "\r"] {
        let (_, done) = render_fails(csv(rows).replace('\n', eol), 1);
        done.stderr_has(
            "recipients/test.csv:3: column `email`: `bob-at-corp-two.example` is not a valid e-mail address",
        )
        .stderr_has("recipients/test.csv:5:");
    }
}

#[test]
fn duplicate_recipients_case_insensitive_name_both_lines() {
    let (_, done) = render_fails(
        csv("Alice Boss,alice@corp-one.example,Corp One,France,boss\n\
             Bob Staff,bob@corp-two.example,Corp Two,Japan,staff\n\
             Alice Again,ALICE@Corp-One.example,Corp One,France,boss\n"),
        1,
    );
    done.stderr_has(
        "recipients/test.csv:4: column `email`: duplicate recipient `ALICE@Corp-One.example`, already on line 2",
    )
    .stderr_has("help: remove one of the rows");
}

#[test]
fn line_feed_in_name_is_refused() {
    // a quoted field spanning two lines would inject a Bcc: header
    let (_, done) = render_fails(
        csv("\"Alice Boss\nBcc: victim@corp.example\",alice@corp-one.example,Corp One,France,boss\n"),
        1,
    );
    done.stderr_has(
        "recipients/test.csv:2: column `name`: contains a line break, which a mail header cannot hold",
    )
    .stderr_has("help: put the value on one line");
}

#[test]
fn carriage_return_in_name_is_refused() {
    let (_, done) = render_fails(
        csv("\"Alice\rBcc: victim@corp.example\",alice@corp-one.example,Corp One,France,boss\n"),
        1,
    );
    done.stderr_has("recipients/test.csv:2: column `name`: contains a line break");
}

#[test]
fn line_break_in_name_also_stops_preview() {
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        csv("\"Alice\nBcc: victim@corp.example\",alice@corp-one.example,Corp One,France,boss\n"),
    );
    sb.cmd()
        .args(["preview", "-g", "test", "--raw"])
        .run()
        .code(1)
        .stderr_has("column `name`: contains a line break")
        .stdout_lacks("Bcc:");
}

#[test]
fn line_break_in_a_column_used_in_the_subject_is_refused() {
    let (_, done) = render_fails(
        csv("Alice Boss,alice@corp-one.example,\"Corp One\nBcc: victim@corp.example\",France,boss\n"),
        1,
    );
    done.stderr_has(
        "recipients/test.csv:2: column `organization`: the subject would contain a line break",
    );
}

#[test]
fn line_break_in_email_is_refused() {
    let (_, done) = render_fails(
        csv("Alice Boss,\"alice@corp-one.example\nBcc: victim@corp.example\",Corp One,France,boss\n"),
        1,
    );
    done.stderr_has("recipients/test.csv:2: column `email`: contains a line break");
}

#[test]
fn file_that_is_not_utf8_utf16_with_bom() {
    let mut bytes = vec![0xff, 0xfe];
    for unit in util::CSV.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let (_, done) = render_fails(bytes, 1);
    done.stderr_has("recipients/test.csv:1:")
        .stderr_has("not valid UTF-8")
        .stderr_has("help: save the file with UTF-8 encoding");
}

#[test]
fn invalid_utf8_in_a_data_row_names_line_and_column() {
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"Alice Boss,alice@corp-one.example,Corp One,France,boss\n");
    bytes.extend_from_slice(b"Bob Staff,bob@corp-two.example,Soci\xe9t\xe9,Japan,staff\n");
    let (_, done) = render_fails(bytes, 1);
    done.stderr_has("recipients/test.csv:3:")
        .stderr_has("not valid UTF-8")
        .stderr_has("help: save the file with UTF-8 encoding")
        // the header is known, so the message should name the column, not only its position
        .stderr_has("column `organization`");
}

#[test]
fn utf8_bom_at_the_start_is_fine() {
    let sb = Sandbox::campaign();
    sb.write(CSV_FILE, format!("\u{feff}{}", util::CSV));
    sb.render("test", "eml", "out")
        .run()
        .success()
        .stderr_empty();
    let msg = util::parse_mail(&sb.read_bytes("out/test-000001-alice-boss.eml"));
    assert_eq!(util::first_addr(msg.to()).0, "Alice Boss");
    sb.cmd().arg("check").run().success().stdout_has("0 errors");
}

#[test]
fn csv_with_crlf_line_endings_is_fine() {
    let sb = Sandbox::campaign();
    sb.write(CSV_FILE, util::CSV.replace('\n', "\r\n"));
    sb.render("test", "eml", "out").run().success();
    assert_eq!(sb.files("out").len(), 3);
}

#[test]
fn empty_csv_file() {
    let (_, done) = render_fails("", 1);
    done.stderr_has("recipients/test.csv:1: the file is empty: it has no header row")
        .stderr_has("help: the first line must name the columns, for example: name,email,organization,country");
}

#[test]
fn csv_with_only_a_header() {
    let (_, done) = render_fails(HEADER, 1);
    done.stderr_has("recipients/test.csv:2: the file has a header row but no recipients")
        .stderr_has("help: add at least one recipient row below the header");
}

#[test]
fn missing_csv_file() {
    let sb = Sandbox::campaign();
    std::fs::remove_file(sb.join(CSV_FILE)).unwrap();
    sb.render("test", "eml", "out")
        .run()
        .failure()
        .stderr_has("recipients/test.csv");
    sb.assert_nothing_written("out");
}

#[test]
fn failed_render_into_a_nested_new_directory_creates_no_directories() {
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        csv("Alice Boss,not-an-address,Corp One,France,boss\n"),
    );
    sb.render("test", "eml", "nested/dir/out")
        .run()
        .code(1)
        .stderr_has("not a valid e-mail address");
    sb.assert_nothing_written("nested");
}

#[test]
fn every_bad_row_is_reported_in_one_run() {
    let (_, done) = render_fails(
        csv("Alice Boss,alice@corp-one.example,,France,boss\n\
             Bob Staff,not-an-address,Corp Two,Japan,staff\n\
             Carol Other,carol@corp-three.example,Corp Three,Germany,\n"),
        1,
    );
    done.stderr_has("recipients/test.csv:2: column `organization`: required field is empty")
        .stderr_has("recipients/test.csv:3: column `email`: `not-an-address`")
        .stderr_has("2 problems found; nothing was written");
}

/// Past 50 problems the list stops, and says how many more there were: rows with an empty
/// required field (found while rendering) and rows with too many fields (found while reading)
/// are both counted.
#[test]
fn a_long_list_of_problems_says_how_many_were_not_listed() {
    let (_, done) = render_fails(csv(&rows_with_100_problems()), 1);
    done.stderr_has("recipients/test.csv:2: column `organization`: required field is empty")
        .stderr_has("... and 50 more problems not listed")
        .stderr_has("\n50 problems found; nothing was written");
}

// --- templates ------------------------------------------------------------------------------

#[test]
fn template_syntax_error_reports_line_and_column() {
    let sb = Sandbox::campaign();
    sb.write(
        TEMPLATE_FILE,
        "Dear {{name}},\n\nI write to {{organization}.\n",
    );
    sb.render("test", "eml", "out")
        .run()
        .code(1)
        .stderr_has("templates/test.md.hbs:3:")
        .stderr_has("template syntax error")
        .stderr_has("help: fix the Handlebars syntax");
    sb.assert_nothing_written("out");
    let done = sb.render("test", "eml", "out").run();
    let stderr = done.stderr();
    let col = stderr
        .split("templates/test.md.hbs:3:")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|c| c.parse::<u32>().ok());
    assert!(col.is_some(), "a column number follows the line: {stderr}");
}

#[test]
fn unclosed_block_in_template_is_a_syntax_error() {
    let sb = Sandbox::campaign();
    sb.write(
        TEMPLATE_FILE,
        "Dear {{name}},\n\n{{#each demands}}\n- {{this.text}}\n\nYours\n",
    );
    sb.render("test", "eml", "out")
        .run()
        .code(1)
        .stderr_has("templates/test.md.hbs:3:1: template syntax error: `{{#each}}` opened on line 3 is never closed")
        .stderr_has("help: add `{{/each}}` where the repeated text should end")
        .stderr_lacks("expected escape");
    sb.assert_nothing_written("out");
}

#[test]
fn unclosed_if_names_the_line_it_was_opened_on_and_what_closes_it() {
    let sb = Sandbox::campaign();
    let template = "Dear {{name}},\n\n{{#if (eq role \"boss\")}}\nAs the one in charge,\n\nI ask:\n\n{{#each demands}}\n- {{this.text}}\n{{/each}}\n\nYours\n";
    sb.write(TEMPLATE_FILE, template);
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has("error: templates/test.md.hbs:3:1: template syntax error: `{{#if}}` opened on line 3 is never closed")
        .stderr_has("help: add `{{/if}}` where the conditional text should end")
        .stderr_lacks("expected escape");
    // Closed by the wrong tag: both lines are named.
    sb.write(TEMPLATE_FILE, template.replace("{{/each}}", "{{/if}}"));
    sb.render("test", "eml", "out")
        .run()
        .code(1)
        .stderr_has("templates/test.md.hbs:10:1: template syntax error: `{{/if}}` closes `{{#each}}`, which was opened on line 8")
        .stderr_has("help: close `{{#each}}` with `{{/each}}` before this");
    sb.assert_nothing_written("out");
}

#[test]
fn a_comparison_written_with_equals_signs_gets_the_eq_spelling() {
    let sb = Sandbox::campaign();
    sb.write(
        TEMPLATE_FILE,
        "Dear {{name}},\n\n{{#if role == \"boss\"}}\nAs the one in charge,\n{{/if}}\n",
    );
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has("templates/test.md.hbs:3:1: template syntax error: `{{#if role == \"boss\"}}` compares with `==`, which templates do not understand")
        .stderr_has("help: write `{{#if (eq role \"boss\")}}`");
    // The same in a subject.
    sb.write(TEMPLATE_FILE, util::TEMPLATE);
    sb.write(
        "campaign.toml",
        CAMPAIGN_TOML.replace(
            "subject = \"Letter to {{organization}}\"",
            "subject = \"{{#if role != 'boss'}}To{{/if}} {{organization}}\"",
        ),
    );
    sb.render("test", "eml", "out")
        .run()
        .code(1)
        .stderr_has("key `groups.test.subject`: template syntax error: `{{#if role != 'boss'}}` compares with `!=`")
        .stderr_has("help: write `{{#if (ne role 'boss')}}`");
    sb.assert_nothing_written("out");
}

#[test]
fn a_misspelt_fact_or_column_gets_a_suggestion_once_per_template() {
    let sb = Sandbox::campaign();
    sb.write(
        TEMPLATE_FILE,
        "Dear {{name}},\n\n{{fact.one_fcat}} In {{contry}}.\n",
    );
    let done = sb
        .cmd()
        .arg("check")
        .run()
        .code(1)
        .stdout_has("test: 3 recipients");
    let stderr = done.stderr();
    let fact = "templates/test.md.hbs:3:1: `{{fact.one_fcat}}` is not a fact of campaign.toml";
    assert_eq!(
        stderr.matches(fact).count(),
        1,
        "once, not once per row:\n{stderr}"
    );
    assert!(
        stderr.contains("help: did you mean `{{fact.one_fact}}`? the facts are: one_fact"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");

    sb.write(TEMPLATE_FILE, "Dear {{name}},\n\nIn {{contry}}.\n");
    let done = sb.render("test", "eml", "out").run().code(1);
    let stderr = done.stderr();
    let column = "`{{contry}}` is neither a column of recipients/test.csv nor a built-in variable";
    assert_eq!(
        stderr.matches(column).count(),
        1,
        "once, not once per row:\n{stderr}"
    );
    assert!(
        stderr.contains("help: did you mean `{{country}}`?"),
        "{stderr}"
    );
    sb.assert_nothing_written("out");
}

#[test]
fn template_variable_that_no_column_provides() {
    let sb = Sandbox::campaign();
    sb.write(TEMPLATE_FILE, "Dear {{name}},\n\nHello {{nosuchcolumn}}.\n");
    sb.render("test", "eml", "out")
        .run()
        .code(1)
        .stderr_has("templates/test.md.hbs:3:")
        .stderr_has("`{{nosuchcolumn}}` is neither a column of recipients/test.csv nor a built-in variable")
        .stderr_has("help: add a `nosuchcolumn` column to the CSV, or use one of: name, email, organization, country, role");
    sb.assert_nothing_written("out");
}

#[test]
fn subject_template_syntax_error_names_the_key() {
    let sb = Sandbox::campaign();
    sb.write(
        "campaign.toml",
        CAMPAIGN_TOML.replace(
            "subject = \"Letter to {{organization}}\"",
            "subject = \"Letter to {{organization}\"",
        ),
    );
    sb.render("test", "eml", "out")
        .run()
        .code(1)
        .stderr_has("campaign.toml: key `groups.test.subject`: template syntax error")
        .stderr_has("help: fix the Handlebars syntax of the subject");
    sb.assert_nothing_written("out");
}

#[test]
fn missing_template_file() {
    let sb = Sandbox::campaign();
    std::fs::remove_file(sb.join(TEMPLATE_FILE)).unwrap();
    sb.render("test", "eml", "out")
        .run()
        .code(1)
        .stderr_has("templates/test.md.hbs: template for group `test` not found")
        .stderr_has("help: create templates/test.md.hbs");
    sb.assert_nothing_written("out");
}

// --- campaign.toml --------------------------------------------------------------------------

#[test]
fn campaign_toml_syntax_error_reports_the_line() {
    let sb = Sandbox::campaign();
    let broken =
        CAMPAIGN_TOML.replace("title = \"A test statement\"", "title = \"A test statement");
    let line = util::line_of(&broken, "title = ");
    sb.write("campaign.toml", &broken);
    for args in [
        &["groups"][..],
        &["check"],
        &["render", "-g", "test", "-o", "out"],
    ] {
        let cmd = sb.cmd().args(args);
        let cmd = if args[0] == "render" {
            cmd.signer()
        } else {
            cmd
        };
        cmd.run()
            .code(1)
            .stderr_has(&format!("campaign.toml:{line}:"))
            .stderr_has("help: fix the TOML syntax");
    }
    sb.assert_nothing_written("out");
}

#[test]
fn campaign_toml_unknown_key_is_named_with_its_line() {
    let sb = Sandbox::campaign();
    let broken = CAMPAIGN_TOML.replace("target_by = ", "target_bye = ");
    let line = util::line_of(&broken, "target_bye");
    sb.write("campaign.toml", &broken);
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has(&format!("campaign.toml:{line}:"))
        .stderr_has("target_bye");
}

#[test]
fn demand_for_an_unknown_group() {
    let sb = Sandbox::campaign();
    let broken = CAMPAIGN_TOML.replace(
        "text = \"Demand meant for staff only.\"\ngroups = [\"test\"]",
        "text = \"Demand meant for staff only.\"\ngroups = [\"tset\"]",
    );
    assert_ne!(broken, CAMPAIGN_TOML);
    let line = util::line_of(&broken, "id = \"staff_only\"");
    sb.write("campaign.toml", &broken);
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has(&format!(
            "campaign.toml:{line}: demand `staff_only` is for group `tset`, which does not exist"
        ))
        .stderr_has("help: groups are: `test`");
    sb.render("test", "eml", "out").run().code(1);
    sb.assert_nothing_written("out");
}

// --- check ----------------------------------------------------------------------------------

#[test]
fn check_lists_every_problem_and_exits_1() {
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        csv("Alice Boss,alice@corp-one.example,,France,boss\n\
             Bob Staff,not-an-address,Corp Two,Japan,staff\n\
             Carol Other,carol@corp-three.example,Corp Three,Germany\n\
             Dan Dup,ALICE@corp-one.example,Corp Four,Japan,staff\n"),
    );
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stdout_has("test: ")
        .stdout_has("errors")
        .stdout_has("4 errors")
        .stdout_has("cannot be sent")
        .stderr_has("error: recipients/test.csv:2: column `organization`: required field is empty")
        .stderr_has("error: recipients/test.csv:3: column `email`: `not-an-address` is not a valid e-mail address")
        .stderr_has("error: recipients/test.csv:4: this row has 4 fields but the header has 5")
        .stderr_has("error: recipients/test.csv:5: column `email`: duplicate recipient `ALICE@corp-one.example`, already on line 2");
    assert!(!sb.exists("out"));
}

/// `check` lists the first 50 problems of a group and says how many more it found; the summary
/// counts them all.
#[test]
fn check_says_how_many_problems_it_did_not_list() {
    let sb = Sandbox::campaign();
    sb.write(CSV_FILE, csv(&rows_with_100_problems()));
    let done = sb
        .cmd()
        .arg("check")
        .run()
        .code(1)
        .stdout_has("100 errors, 1 warning:")
        .stderr_has("error: recipients/test.csv:2: column `organization`: required field is empty")
        .stderr_has("error: ... and 50 more problems not listed");
    let listed = done.stderr().matches("error: recipients/test.csv:").count();
    assert_eq!(listed, 50, "{}", done.stderr());
}

#[test]
fn check_reports_problems_in_template_and_csv_of_every_group() {
    let sb = Sandbox::campaign();
    // a second group whose CSV lacks the role column its role demands need
    let toml = CAMPAIGN_TOML
        .replace(
            "groups = [\"test\"]\nroles = [\"boss\"]",
            "groups = [\"test\", \"second\"]\nroles = [\"boss\"]",
        )
        + "\n[groups.second]\nlabel = \"Second\"\ndescription = \"More.\"\nsubject = \"Hi {{name}}\"\n";
    sb.write("campaign.toml", toml);
    sb.write(
        "templates/second.md.hbs",
        "Dear {{name}}, {{missing_col}}\n",
    );
    sb.write(
        "recipients/second.csv",
        "name,email\nEve,eve@corp.example\n",
    );
    sb.write(
        CSV_FILE,
        csv("Alice Boss,bad-address,Corp One,France,boss\n"),
    );
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stdout_has("test: 1 recipient")
        .stdout_has("second: 1 recipient")
        .stderr_has("recipients/test.csv:2: column `email`: `bad-address`")
        .stderr_has("recipients/second.csv:1: demands boss_only are for certain roles, but recipients/second.csv has no `role` column")
        .stderr_has("`{{missing_col}}` is neither a column");
}

#[test]
fn check_reports_target_by_column_that_does_not_exist() {
    let sb = Sandbox::campaign();
    sb.write(
        "campaign.toml",
        CAMPAIGN_TOML.replace(
            "target_by = [\"country\", \"role\"]",
            "target_by = [\"country\", \"sector\"]",
        ),
    );
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has("key `groups.test.target_by`: `target_by` names column `sector`, which recipients/test.csv does not have");
}

#[test]
fn check_warns_about_a_demand_that_reaches_nobody() {
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        csv("Alice Boss,alice@corp-one.example,Corp One,France,boss\n"),
    );
    sb.cmd().arg("check").run().success().stderr_has(
        "warning: campaign.toml: demand `staff_only` reaches no recipient of group `test`",
    );
}

// --- existing output directory --------------------------------------------------------------

#[test]
fn failed_render_leaves_an_existing_out_dir_untouched() {
    let sb = Sandbox::campaign();
    sb.write("out/old-letter.eml", "old bytes");
    sb.write(
        CSV_FILE,
        csv("Alice Boss,alice@corp-one.example,Corp One,France,boss\n\
             Bob Staff,not-an-address,Corp Two,Japan,staff\n"),
    );
    for format in ["eml", "txt", "mbox", "html"] {
        sb.render("test", format, "out")
            .run()
            .code(1)
            .stderr_has("recipients/test.csv:3: column `email`");
        assert_eq!(sb.files("out"), vec!["old-letter.eml"], "{format}");
        assert_eq!(sb.read("out/old-letter.eml"), "old bytes");
        sb.assert_no_staging(".");
    }
}

/// A disk that fills up in the middle of the one output file (an mbox or the HTML page): the run
/// fails with exit code 3 naming the file (as it was to be called) and the reason, and leaves
/// nothing behind. The limits fall on a block boundary and off it: both files are written with
/// direct I/O in whole blocks where the file system allows it, and a write cut short off a
/// boundary continues the ordinary way.
#[cfg(unix)]
#[test]
fn a_disk_that_fills_up_mid_file_fails_the_run_and_leaves_nothing() {
    let sb = Sandbox::campaign();
    let mut rows = String::from(HEADER);
    for i in 1..=2000 {
        rows.push_str(&format!(
            "Person {i},person{i}@corp.example,Org,France,boss\n"
        ));
    }
    sb.write(CSV_FILE, rows);
    for format in ["mbox", "html"] {
        for limit in [64 * 1024, 64 * 1024 + 100] {
            let done = sb
                .cmd_with_file_size_limit(limit)
                .args(["render", "-g", "test", "-f", format, "-o", "out"])
                .signer()
                .run()
                .code(3);
            // Named as it was to be called: the staging directory it was written in is gone.
            done.stderr_has(&format!("out/test.{format}: File too large"))
                .stderr_lacks(".letterdrive-staging-");
            sb.assert_nothing_written("out");
        }
        // The same run without the limit writes the whole file.
        sb.render("test", format, "out").run().success();
        assert!(sb.read_bytes(&format!("out/test.{format}")).len() > 1024 * 1024);
        std::fs::remove_dir_all(sb.join("out")).unwrap();
    }
    // A file per letter: the first one that does not fit is named the same way.
    let done = sb
        .cmd_with_file_size_limit(1000)
        .args(["render", "-g", "test", "-f", "eml", "-o", "out"])
        .signer()
        .run()
        .code(3);
    done.stderr_has("out/test-000001-person-1.eml: File too large")
        .stderr_lacks(".letterdrive-staging-");
    sb.assert_nothing_written("out");
}

#[test]
fn one_bad_row_among_many_writes_nothing() {
    for bad_row in [1usize, 500, 1000] {
        let mut csv = String::from(HEADER);
        for i in 1..=1000 {
            let email = if i == bad_row {
                "not-an-address".to_string()
            } else {
                format!("person{i}@corp.example")
            };
            csv.push_str(&format!("Person {i},{email},Org,France,boss\n"));
        }
        let (_, done) = render_fails(csv, 1);
        done.stderr_has(&format!(
            "recipients/test.csv:{}: column `email`: `not-an-address`",
            bad_row + 1
        ));
    }
}

#[test]
fn check_warns_when_the_campaign_was_last_updated_more_than_a_year_ago() {
    let sb = Sandbox::campaign();
    let with = |meta: &str| {
        let toml = CAMPAIGN_TOML.replacen("[campaign]\n", &format!("[campaign]\n{meta}\n"), 1);
        sb.write("campaign.toml", toml);
    };
    // Judged against SOURCE_DATE_EPOCH (2026-11-27) when set, so the result does not move.
    with("updated = \"2025-11-26\"\nreviewer = \"Rita Reviewer\"");
    sb.cmd()
        .arg("check")
        .env("SOURCE_DATE_EPOCH", DATE_EPOCH)
        .run()
        .success()
        .stdout_has("last updated 2025-11-26 by Rita Reviewer")
        .stdout_has("0 errors, 2 warnings")
        .stderr_has("warning: campaign.toml: key `campaign.updated`: the campaign was last updated on 2025-11-26 by Rita Reviewer, more than a year ago: its facts and demands may be out of date")
        .stderr_has("help: check them against current news, then set `updated`");
    sb.cmd()
        .args(["check", "--strict"])
        .env("SOURCE_DATE_EPOCH", DATE_EPOCH)
        .run()
        .code(1);

    // A year to the day is not yet stale.
    with("updated = \"2025-11-27\"");
    sb.cmd()
        .arg("check")
        .env("SOURCE_DATE_EPOCH", DATE_EPOCH)
        .run()
        .success()
        .stdout_has("last updated 2025-11-27\n")
        .stderr_lacks("out of date");

    // Without SOURCE_DATE_EPOCH, today is the clock's.
    with("updated = \"2001-02-03\"");
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stderr_has("last updated on 2001-02-03, more than a year ago");

    with("updated = \"03/02/2001\"");
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has(
            "campaign.toml:2: `updated` must be a date written YYYY-MM-DD, not `03/02/2001`",
        )
        .stderr_has("help: for example: updated = \"2026-12-01\"");
}
