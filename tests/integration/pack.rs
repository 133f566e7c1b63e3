//! One file per campaign: `pack` writes the campaign into a zip, every command takes the zip as
//! `--campaign`, and a zip from someone else is refused when it could reach outside the campaign
//! or unpack to far more than it holds.

use std::io::Write;

use zip::write::SimpleFileOptions;

use crate::util::{Sandbox, CSV_FILE};

/// A zip at `rel` in the sandbox holding `entries` (name, contents) as they are given.
fn zip_of(sb: &Sandbox, rel: &str, entries: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(sb.join(rel)).unwrap());
    for (name, contents) in entries {
        zip.start_file(*name, SimpleFileOptions::default()).unwrap();
        zip.write_all(contents).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn a_packed_campaign_works_like_its_folder() {
    let sb = Sandbox::empty();
    sb.cmd().args(["init", "c"]).run().success();
    sb.cmd()
        .args(["--campaign", "c", "pack", "--out", "c.zip"])
        .run()
        .success()
        .stdout_has("packed campaign `xinjiang-2022` (13 files) into c.zip");
    sb.cmd()
        .args(["--campaign", "c.zip", "check"])
        .run()
        .success()
        .stdout_has("checking campaign `xinjiang-2022` (c.zip)")
        .stdout_has("0 errors")
        .stderr_has("warning: c.zip/recipients/");
    sb.cmd()
        .args(["--campaign", "c.zip", "groups"])
        .run()
        .success()
        .stdout_has("languages: English (en, default), Spanish (es), French (fr)");
    // The same letters, byte for byte, from the zip as from the folder.
    for (campaign, out) in [("c", "from-folder"), ("c.zip", "from-zip")] {
        sb.render("governments", "eml", out)
            .args(["--campaign", campaign])
            .run()
            .success()
            .stdout_has("wrote 17 e-mail files");
    }
    let files = sb.files("from-folder");
    assert_eq!(files, sb.files("from-zip"));
    for f in &files {
        assert_eq!(
            sb.read_bytes(&format!("from-folder/{f}")),
            sb.read_bytes(&format!("from-zip/{f}")),
            "{f}"
        );
    }
    // Packing is reproducible, and a packed campaign's journal is the campaign's, keyed by its id,
    // wherever the zip is.
    sb.cmd()
        .args(["--campaign", "c", "pack", "-o", "again.zip"])
        .run()
        .success();
    assert_eq!(sb.read_bytes("c.zip"), sb.read_bytes("again.zip"));
    std::fs::create_dir(sb.join("sub")).unwrap();
    std::fs::rename(sb.join("c.zip"), sb.join("sub/c.zip")).unwrap();
    sb.cmd()
        .args(["--campaign", "sub/c.zip", "status"])
        .run()
        .success()
        .stdout_has("data/letterdrive/journals/xinjiang-2022.jsonl");
}

#[test]
fn a_zip_of_the_campaign_folder_works_too() {
    // What "compress this folder" makes: everything under one top folder.
    let sb = Sandbox::campaign();
    let entries: Vec<(String, Vec<u8>)> = ["campaign.toml", "templates/test.md.hbs", CSV_FILE]
        .iter()
        .map(|f| (format!("my-campaign/{f}"), sb.read_bytes(f)))
        .collect();
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    zip_of(&sb, "folder.zip", &refs);
    sb.cmd()
        .args(["--campaign", "folder.zip", "check"])
        .run()
        .success()
        .stdout_has("test: 3 recipients");
}

#[test]
fn pack_refuses_a_campaign_that_fails_check_and_writes_nothing() {
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        "name,email,organization,country\nA,not-an-address,Corp,France\n",
    );
    sb.cmd()
        .args(["pack", "--out", "c.zip"])
        .run()
        .code(1)
        .stderr_has("has problems, so it was not packed")
        .stderr_has("`not-an-address` is not a valid e-mail address");
    assert!(!sb.exists("c.zip"));
    assert_eq!(
        sb.files("."),
        vec!["campaign.toml", "recipients", "templates"]
    );
}

#[test]
fn a_zip_reaching_outside_the_campaign_or_unpacking_to_far_more_is_refused() {
    let sb = Sandbox::campaign();
    let toml = sb.read_bytes("campaign.toml");
    let marker = format!("letterdrive-escape-{}", std::process::id());
    let outside = format!("../{marker}");
    let absolute = format!("/tmp/{marker}");
    for (name, message) in [
        (
            outside.as_str(),
            format!("entry `{outside}` points outside the campaign"),
        ),
        (
            absolute.as_str(),
            format!("entry `{absolute}` points outside the campaign"),
        ),
    ] {
        zip_of(
            &sb,
            "evil.zip",
            &[("campaign.toml", &toml), (name, b"gotcha")],
        );
        sb.cmd()
            .args(["--campaign", "evil.zip", "check"])
            .run()
            .code(1)
            .stderr_has(&format!("error: evil.zip: {message}; nothing was used"));
    }
    assert!(!std::env::temp_dir().join(&marker).exists());
    assert!(!std::path::Path::new(&absolute).exists());

    let mut zip = zip::ZipWriter::new(std::fs::File::create(sb.join("link.zip")).unwrap());
    zip.start_file("campaign.toml", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(&toml).unwrap();
    zip.add_symlink("templates", "/etc", SimpleFileOptions::default())
        .unwrap();
    zip.finish().unwrap();
    sb.cmd()
        .args(["--campaign", "link.zip", "check"])
        .run()
        .code(1)
        .stderr_has("error: link.zip: entry `templates` is a link; nothing was used");

    // 64 MiB of one letter packs to a few dozen KiB: no recipient list does that.
    let bomb = vec![b'a'; 64 << 20];
    zip_of(
        &sb,
        "bomb.zip",
        &[("campaign.toml", &toml), ("recipients/test.csv", &bomb)],
    );
    assert!(std::fs::metadata(sb.join("bomb.zip")).unwrap().len() < 1 << 20);
    sb.cmd()
        .args(["--campaign", "bomb.zip", "groups"])
        .run()
        .code(1)
        .stderr_has("error: bomb.zip: entry `recipients/test.csv` unpacks to far more than it packs to (a zip bomb?); nothing was used");

    sb.cmd()
        .args(["--campaign", "campaign.toml", "check"])
        .run()
        .code(2)
        .stderr_has("help: point --campaign at the folder that holds campaign.toml");

    sb.write("notzip.zip", "just text");
    sb.cmd()
        .args(["--campaign", "notzip.zip", "check"])
        .run()
        .code(1)
        .stderr_has("error: notzip.zip: not a readable zip file")
        .stderr_has("help: make a packed campaign with `letterdrive pack --out FILE.zip`");
}
