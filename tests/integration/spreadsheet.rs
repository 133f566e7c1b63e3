//! Recipient lists as spreadsheet programs export them: separated by `;` or tabs, with headers
//! in any case and with spaces around the names.

use crate::util::{self, Sandbox, CAMPAIGN_TOML, CSV_FILE};

/// The test campaign's three recipients, in `sep`-separated form with a spreadsheet's header and
/// Windows line ends; Corp One's name holds a comma, which only a comma-separated file quotes.
fn export(sep: &str) -> String {
    let rows = [
        [" Name ", "EMAIL", "Organization", " Country", "Role "],
        [
            "Alice Boss",
            "alice@corp-one.example",
            "Corp One, Inc.",
            "France",
            "boss",
        ],
        [
            "Bob Staff",
            "bob@corp-two.example",
            "Corp Two",
            "Japan",
            "staff",
        ],
        [
            "Carol Other",
            "carol@corp-three.example",
            "Corp Three",
            "Germany",
            "",
        ],
    ];
    rows.iter().map(|r| r.join(sep) + "\r\n").collect()
}

/// Renders the test group to .eml and returns (To address, text) of each letter in file order.
fn letters(sb: &Sandbox) -> Vec<(String, String)> {
    sb.render("test", "eml", "out")
        .run()
        .success()
        .stdout_has("wrote 3 e-mail files");
    sb.files("out")
        .iter()
        .map(|f| {
            let msg = util::parse_mail(&sb.read_bytes(&format!("out/{f}")));
            let (_, to) = util::first_addr(msg.to());
            (to, util::alternative_parts(&msg).0)
        })
        .collect()
}

#[test]
fn semicolon_and_tab_separated_exports_are_detected_from_the_header() {
    for sep in [";", "\t"] {
        let sb = Sandbox::campaign();
        sb.write(CSV_FILE, export(sep));
        sb.cmd()
            .arg("check")
            .run()
            .success()
            .stdout_has("test: 3 recipients, 3 demands")
            .stderr_lacks("error:");
        let letters = letters(&sb);
        let to: Vec<&str> = letters.iter().map(|(to, _)| to.as_str()).collect();
        assert_eq!(
            to,
            [
                "alice@corp-one.example",
                "bob@corp-two.example",
                "carol@corp-three.example"
            ]
        );
        // Columns are found whatever their case, and role demands still follow the `Role` column.
        assert!(
            letters[0].1.contains("I write to Corp One, Inc."),
            "{}",
            letters[0].1
        );
        assert!(letters[0].1.contains("Demand meant for bosses only."));
        assert!(letters[1].1.contains("Demand meant for staff only."));
        sb.render("test", "eml", "picked")
            .args(["--where", "country=Japan"])
            .run()
            .success()
            .stdout_has("wrote 1 e-mail file");
    }
}

#[test]
fn a_group_can_name_its_delimiter() {
    let sb = Sandbox::campaign();
    let toml = CAMPAIGN_TOML.replace(
        "target_by = [\"country\", \"role\"]",
        "target_by = [\"country\", \"role\"]\ndelimiter = \"|\"",
    );
    sb.write("campaign.toml", toml);
    sb.write(CSV_FILE, export("|"));
    let letters = letters(&sb);
    assert!(letters[0].1.contains("I write to Corp One, Inc."));

    for bad in [";;", ""] {
        let toml = CAMPAIGN_TOML.replace(
            "target_by = [\"country\", \"role\"]",
            &format!("target_by = [\"country\", \"role\"]\ndelimiter = \"{bad}\""),
        );
        sb.write("campaign.toml", toml);
        sb.cmd()
            .arg("check")
            .run()
            .code(1)
            .stderr_has(&format!("campaign.toml: key `groups.test.delimiter`: `delimiter` must be one character, such as \",\", \";\" or \"\\t\", not `{bad}`"));
    }
}

#[test]
fn header_names_that_differ_only_in_case_are_ambiguous() {
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        "name;Email;organization;country;email\nA;a@corp.example;Corp;France;b@corp.example\n",
    );
    sb.render("test", "eml", "out")
        .run()
        .code(1)
        .stderr_has("recipients/test.csv:1: columns `Email` and `email` differ only in case, so it is ambiguous which one `email` means")
        .stderr_has("help: rename or remove one of them");
    sb.assert_nothing_written("out");
}

#[test]
fn a_row_with_too_many_fields_in_a_semicolon_file_gets_a_hint_about_semicolons() {
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        "name;email;organization;country\nA;a@corp.example;Corp; Ltd;France\n",
    );
    sb.cmd()
        .arg("check")
        .run()
        .code(1)
        .stderr_has("recipients/test.csv:2: this row has 5 fields but the header has 4")
        .stderr_has("help: this file is separated by `;`; quote fields that contain one");
}
