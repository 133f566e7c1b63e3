//! Choosing recipients: `--where` (case-insensitive, comma lists, repeatable as AND) and `--limit`.

use crate::util::Sandbox;

const ALICE: &str = "test-000001-alice-boss.txt";
const BOB: &str = "test-000002-bob-staff.txt";
const CAROL: &str = "test-000003-carol-other.txt";

fn rendered(sb: &Sandbox, extra: &[&str]) -> Vec<String> {
    sb.render("test", "txt", "out").args(extra).run().success();
    sb.files("out")
}

#[test]
fn where_keeps_rows_matching_any_value_case_insensitively() {
    let sb = Sandbox::campaign();
    assert_eq!(
        rendered(&sb, &["--where", "country=FRANCE,japan"]),
        vec![ALICE, BOB]
    );
}

#[test]
fn where_trims_spaces_around_column_and_values() {
    let sb = Sandbox::campaign();
    assert_eq!(
        rendered(&sb, &["--where", " country = Germany , Japan "]),
        vec![BOB, CAROL]
    );
}

#[test]
fn repeated_where_means_all_must_hold() {
    let sb = Sandbox::campaign();
    assert_eq!(
        rendered(
            &sb,
            &["--where", "country=france,japan", "--where", "role=Staff"]
        ),
        vec![BOB]
    );
}

#[test]
fn where_matching_nothing_exits_2_with_the_values_and_writes_nothing() {
    let sb = Sandbox::campaign();
    sb.render("test", "txt", "out")
        .args(["--where", "country=Narnia"])
        .run()
        .code(2)
        .stderr_has("--where country=Narnia matches no recipient of group `test`")
        .stderr_has("`country` has: France (1), Germany (1), Japan (1)")
        .stderr_lacks("did you mean")
        .stdout_lacks("wrote");
    sb.assert_nothing_written("out");
}

#[test]
fn where_can_select_the_empty_value() {
    let sb = Sandbox::campaign();
    assert_eq!(rendered(&sb, &["--where", "role="]), vec![CAROL]);
}

#[test]
fn limit_stops_after_n_letters() {
    let sb = Sandbox::campaign();
    sb.render("test", "txt", "out")
        .args(["--limit", "2"])
        .run()
        .success()
        .stdout_has("wrote 2 text files");
    assert_eq!(sb.files("out"), vec![ALICE, BOB]);
}

#[test]
fn limit_counts_after_filtering() {
    let sb = Sandbox::campaign();
    assert_eq!(
        rendered(&sb, &["--where", "country=japan,germany", "--limit", "1"]),
        vec![BOB]
    );
}

#[test]
fn limit_must_be_a_number() {
    let sb = Sandbox::campaign();
    sb.render("test", "txt", "out")
        .args(["--limit", "many"])
        .run()
        .code(2)
        .stderr_has("invalid value 'many'");
    sb.assert_nothing_written("out");
}

#[test]
fn where_on_an_unknown_column_exits_2_and_lists_the_columns() {
    let sb = Sandbox::campaign();
    sb.render("test", "txt", "out")
        .args(["--where", "colour=red"])
        .run()
        .code(2)
        .stderr_has("recipients/test.csv:1: --where: unknown column `colour`")
        .stderr_has("help: columns in this file: name, email, organization, country, role");
    sb.assert_nothing_written("out");
    sb.cmd()
        .args(["preview", "-g", "test", "--where", "colour=red"])
        .run()
        .code(2)
        .stderr_has("unknown column `colour`");
}

#[test]
fn where_without_equals_exits_2_with_an_example() {
    let sb = Sandbox::campaign();
    sb.render("test", "txt", "out")
        .args(["--where", "country"])
        .run()
        .code(2)
        .stderr_has("--where `country` has no `=`")
        .stderr_has("help: write --where COLUMN=VALUE, for example --where country=Japan");
    sb.assert_nothing_written("out");
}
