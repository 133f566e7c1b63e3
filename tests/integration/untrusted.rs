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
                .stderr_has(&format!("campaign/campaign.toml:"))
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
    std::fs::write(sb.join("campaign/templates/real.md.hbs"), crate::util::TEMPLATE).unwrap();
    std::os::unix::fs::symlink("real.md.hbs", &template).unwrap();
    sb.cmd()
        .args(["--campaign", "campaign", "check"])
        .run()
        .success();
}
