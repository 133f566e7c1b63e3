//! Choosing recipients: `--where` (case-insensitive, comma lists, repeatable as AND) and `--limit`.

use crate::pty::{Guided, CTRL_C, DOWN, ENTER, SPACE, UP};
use crate::util::{Sandbox, CSV_FILE};

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

/// Five recipients over two regions, with labels for the role column.
fn regions() -> Sandbox {
    let sb = Sandbox::campaign();
    let toml = sb.read("campaign.toml").replace(
        r#"target_by = ["country", "role"]"#,
        "target_by = [\"region\", \"country\", \"role\"]\n\
         [groups.test.labels.role]\nboss = \"The boss\"\nSTAFF = \"Staff member\"",
    );
    sb.write("campaign.toml", toml);
    sb.write(
        CSV_FILE,
        "name,email,organization,country,region,role
Alice Boss,alice@corp-one.example,Corp One,France,Europe,boss
Bob Staff,bob@corp-two.example,Corp Two,Japan,Asia,staff
Carol Staff,carol@corp-three.example,Corp Three,Germany,Europe,staff
Dan Boss,dan@corp-four.example,Corp Four,Germany,Europe,boss
Eve Boss,eve@corp-five.example,Corp Five,Japan,Asia,boss
",
    );
    sb
}

/// Each column offers only what the columns before it left, with counts and labels.
#[test]
fn the_guided_run_narrows_each_column_by_the_ones_before() {
    let sb = regions();
    let mut g = Guided::start(&sb, &[]);
    g.see("Who in this group?").keys(UP).keys(ENTER); // choose
    g.see("region: space ticks")
        .see("Asia (2)")
        .see("Europe (3)")
        .keys(DOWN)
        .keys(SPACE)
        .keys(ENTER);
    let from = g.seen.len();
    g.see("country: space ticks")
        .see("France (1)")
        .see("Germany (2)")
        .keys(DOWN)
        .keys(SPACE)
        .keys(ENTER);
    g.see("role: space ticks");
    assert!(!g.seen[from..].contains("Japan"), "{}", &g.seen[from..]);
    g.see("The boss (1)")
        .see("Staff member (1)")
        .keys(DOWN)
        .keys(SPACE)
        .keys(ENTER);
    g.see("role: Staff member");
    g.see("1 recipient chosen");
    g.sign_as_ada();
    g.see("Add a personal paragraph?").keys(UP).keys(ENTER); // none
    g.see("To: Carol Staff");
    g.see("Is this the letter you want to send?").keys(ENTER);
    g.see("How do you want your letters?").keys(ENTER);
    g.see("Folder to write them to").line("out");
    g.see("--where region=Europe --where country=Germany --where role=staff");
    g.see("for next time?").line("n");
    assert_eq!(g.exit_code(), 0, "{}", g.seen);
    let eml: Vec<String> = sb.files("out");
    assert_eq!(eml, ["test-000003-carol-staff.eml"]);
}

/// A column that one choice leaves with a single value is not asked.
#[test]
fn a_column_left_with_one_value_is_not_asked() {
    let sb = regions();
    let mut g = Guided::start(&sb, &[]);
    g.see("Who in this group?").keys(UP).keys(ENTER);
    g.see("region: space ticks")
        .keys(DOWN)
        .keys(SPACE)
        .keys(ENTER); // Europe
    g.see("country: space ticks").keys(SPACE).keys(ENTER); // France
    g.see("role: The boss, the only one left");
    g.see("1 recipient chosen");
    g.see("Your name").keys(CTRL_C);
    assert_eq!(g.exit_code(), 130, "{}", g.seen);
}

#[test]
fn labels_for_a_column_not_in_target_by_are_an_error() {
    let sb = Sandbox::campaign();
    let toml =
        sb.read("campaign.toml") + "\n[groups.test.labels.organization]\n\"Corp One\" = \"One\"\n";
    sb.write("campaign.toml", toml);
    sb.cmd()
        .arg("check")
        .run()
        .failure()
        .stderr_has("labels are given for column `organization`, which is not in `target_by`");
}
