//! Output formats and their promises: parseable mail, stable Message-IDs, reproducible bytes,
//! Unicode that survives, and output directories that gain files without losing any.

use percent_encoding::percent_decode_str;

use crate::util::{self, Sandbox, CSV_FILE, DATE_EPOCH, SIGNER_EMAIL, SIGNER_NAME};

const EMLS: [&str; 3] = [
    "test-000001-alice-boss.eml",
    "test-000002-bob-staff.eml",
    "test-000003-carol-other.eml",
];

#[test]
fn eml_one_parseable_message_per_recipient() {
    let sb = Sandbox::campaign();
    sb.render("test", "eml", "out")
        .run()
        .success()
        .stdout_has("wrote 3 e-mail files (.eml) to out")
        .stderr_empty();
    assert_eq!(sb.files("out"), EMLS);
    let expected = [
        (
            "Alice Boss",
            "alice@corp-one.example",
            "Corp One",
            "bosses only",
        ),
        (
            "Bob Staff",
            "bob@corp-two.example",
            "Corp Two",
            "staff only",
        ),
        ("Carol Other", "carol@corp-three.example", "Corp Three", ""),
    ];
    for (file, (name, email, org, role_demand)) in EMLS.iter().zip(expected) {
        let msg = util::parse_mail(&sb.read_bytes(&format!("out/{file}")));
        assert_eq!(
            util::first_addr(msg.from()),
            (SIGNER_NAME.into(), SIGNER_EMAIL.into())
        );
        assert_eq!(util::first_addr(msg.to()), (name.into(), email.into()));
        assert_eq!(msg.subject(), Some(format!("Letter to {org}").as_str()));
        let id = msg.message_id().expect("Message-ID");
        assert!(id.starts_with("test-campaign.test."), "{id}");
        assert!(id.ends_with("@signers.org"), "{id}");
        let date = msg.date().expect("Date");
        assert_eq!(
            (date.year, date.month, date.day, date.hour),
            (2026, 11, 27, 12)
        );
        let (text, html) = util::alternative_parts(&msg);
        assert!(text.contains(&format!("Dear {name},")), "{text}");
        assert!(text.contains("Fact number one, with a figure of 42."));
        assert!(text.contains("- Demand meant for every recipient."));
        for other in ["bosses only", "staff only"] {
            assert_eq!(
                text.contains(other),
                other == role_demand,
                "{file}: `{other}`\n{text}"
            );
        }
        assert!(html.contains(&format!("<p>Dear {name},</p>")), "{html}");
        assert!(html.contains("<li>Demand meant for every recipient.</li>"));
        assert!(text.trim_end().ends_with(SIGNER_NAME));
    }
}

#[test]
fn txt_has_headers_then_the_markdown_body() {
    let sb = Sandbox::campaign();
    sb.render("test", "txt", "out")
        .run()
        .success()
        .stdout_has("wrote 3 text files to out");
    assert_eq!(
        sb.files("out"),
        EMLS.iter()
            .map(|f| f.replace(".eml", ".txt"))
            .collect::<Vec<_>>()
    );
    let text = sb.read("out/test-000002-bob-staff.txt");
    assert!(
        text.starts_with(&format!(
            "From: {SIGNER_NAME} <{SIGNER_EMAIL}>\nTo: Bob Staff <bob@corp-two.example>\nDate: 27 November 2026\nSubject: Letter to Corp Two\n\nDear Bob Staff,\n"
        )),
        "{text}"
    );
    assert!(text.contains("- Demand meant for staff only.\n"));
    assert!(!text.contains("bosses only"));
}

#[test]
fn mbox_holds_every_letter_and_each_parses() {
    let sb = Sandbox::campaign();
    // a note line starting with "From " must be quoted in the mbox and come back intact
    sb.write("note.md", "From the heart,\nthis matters.\n");
    sb.render("test", "mbox", "out")
        .args(["--note", "note.md"])
        .run()
        .success()
        .stdout_has("wrote 3 letters in one mbox to out/test.mbox");
    assert_eq!(sb.files("out"), vec!["test.mbox"]);
    let mbox = sb.read("out/test.mbox");
    assert!(mbox.starts_with(&format!("From {SIGNER_EMAIL} ")), "{mbox}");
    let messages = util::split_mbox(&mbox);
    assert_eq!(messages.len(), 3, "one message per CSV row");
    let mut to = Vec::new();
    for m in &messages {
        let msg = util::parse_mail(m.as_bytes());
        to.push(util::first_addr(msg.to()).1);
        assert_eq!(util::first_addr(msg.from()).1, SIGNER_EMAIL);
        let (text, _) = util::alternative_parts(&msg);
        assert!(
            text.contains("From the heart,\nthis matters."),
            "note line starting with `From ` survives:\n{text}"
        );
    }
    assert_eq!(
        to,
        [
            "alice@corp-one.example",
            "bob@corp-two.example",
            "carol@corp-three.example"
        ]
    );
}

#[test]
fn html_is_one_page_with_a_card_and_mailto_link_per_recipient() {
    let sb = Sandbox::campaign();
    sb.render("test", "html", "out")
        .run()
        .success()
        .stdout_has("wrote 3 letters on one page of mailto: links to out/test.html");
    assert_eq!(sb.files("out"), vec!["test.html"]);
    let page = sb.read("out/test.html");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<article").count(), 3, "{page}");
    assert_eq!(page.matches("</article>").count(), 3);
    assert!(page.contains("A test statement"));
    assert!(page.contains("Test recipients"));
    assert!(page.trim_end().ends_with("</html>"));

    let links: Vec<String> = util::hrefs(&page)
        .into_iter()
        .filter(|h| h.starts_with("mailto:"))
        .collect();
    assert_eq!(links.len(), 3, "{links:?}");
    let bob = &links[1];
    let (addr, query) = bob
        .strip_prefix("mailto:")
        .unwrap()
        .split_once('?')
        .expect("query");
    assert_eq!(addr, "bob@corp-two.example");
    assert!(
        !bob.contains(' ') && !bob.contains('\n'),
        "href is percent-encoded: {bob}"
    );
    let params: Vec<(&str, String)> = query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("k=v");
            (k, percent_decode_str(v).decode_utf8().unwrap().into_owned())
        })
        .collect();
    assert_eq!(params[0], ("subject", "Letter to Corp Two".to_string()));
    assert_eq!(params[1].0, "body");
    let body = &params[1].1;
    assert!(body.starts_with("Dear Bob Staff,\r\n\r\n"), "{body:?}");
    assert!(body.contains("- Demand meant for staff only.\r\n"));
    assert!(!body.contains("bosses only"));
    // Short letters travel whole in their links; every card can copy its letter.
    assert!(!page.contains(" data-copy-first>"), "{page}");
    assert_eq!(page.matches(">Copy letter</button>").count(), 3);
    assert!(page.contains("signed by Sam Signer, dated 27 November 2026."));
}

/// The bundled letters are longer than a `mailto:` link may be: their links carry the address
/// and subject, and the page says the button copies the letter first. An index links to them.
#[test]
fn long_letters_get_short_links_and_the_page_an_index() {
    let sb = Sandbox::empty();
    sb.render("governments", "html", "out").run().success();
    let page = sb.read("out/governments.html");
    let links: Vec<String> = util::hrefs(&page)
        .into_iter()
        .filter(|h| h.starts_with("mailto:"))
        .collect();
    assert_eq!(links.len(), 17);
    for link in &links {
        assert!(link.len() < 2000 && !link.contains("body="), "{link}");
        assert!(link.contains("?subject=Xinjiang"), "{link}");
    }
    assert_eq!(page.matches(" data-copy-first>").count(), 17);
    assert_eq!(page.matches("too long for a mail link").count(), 17);
    let index: Vec<String> = util::hrefs(&page)
        .into_iter()
        .filter(|h| h.starts_with("#letter-"))
        .collect();
    assert_eq!(index.len(), 17);
    assert_eq!(index[16], "#letter-17");
}

#[test]
fn message_id_is_stable_across_runs() {
    let sb = Sandbox::campaign();
    // no fixed date: the Message-ID must not depend on the clock
    for out in ["one", "two"] {
        sb.cmd()
            .args(["render", "-g", "test", "-o", out])
            .args(["--signer-name", SIGNER_NAME, "--signer-email", SIGNER_EMAIL])
            .run()
            .success();
    }
    let mut ids = Vec::new();
    for file in EMLS {
        let a = util::parse_mail(&sb.read_bytes(&format!("one/{file}")));
        let b = util::parse_mail(&sb.read_bytes(&format!("two/{file}")));
        assert_eq!(a.message_id(), b.message_id(), "{file}");
        ids.push(a.message_id().unwrap().to_string());
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "one Message-ID per recipient: {ids:?}");
}

fn assert_same_files(sb: &Sandbox, a: &str, b: &str) {
    let files = sb.files(a);
    assert_eq!(files, sb.files(b));
    assert!(!files.is_empty());
    for f in files {
        assert!(
            sb.read_bytes(&format!("{a}/{f}")) == sb.read_bytes(&format!("{b}/{f}")),
            "{a}/{f} and {b}/{f} differ"
        );
    }
}

#[test]
fn fixed_date_gives_byte_identical_output() {
    let sb = Sandbox::campaign();
    for format in ["eml", "mbox", "txt", "html"] {
        let (a, b) = (format!("{format}-a"), format!("{format}-b"));
        sb.render("test", format, &a).run().success();
        sb.render("test", format, &b).run().success();
        assert_same_files(&sb, &a, &b);
    }
}

#[test]
fn source_date_epoch_gives_byte_identical_output_and_sets_the_date() {
    let sb = Sandbox::campaign();
    for out in ["a", "b"] {
        sb.cmd()
            .args(["render", "-g", "test", "-o", out])
            .args(["--signer-name", SIGNER_NAME, "--signer-email", SIGNER_EMAIL])
            .env("SOURCE_DATE_EPOCH", DATE_EPOCH)
            .run()
            .success();
    }
    assert_same_files(&sb, "a", "b");
    // and it is the same instant as --date 2026-11-27
    sb.render("test", "eml", "c").run().success();
    assert_same_files(&sb, "a", "c");
}

#[test]
fn date_flag_wins_over_source_date_epoch() {
    let sb = Sandbox::campaign();
    sb.render("test", "eml", "out")
        .env("SOURCE_DATE_EPOCH", "0")
        .run()
        .success();
    let msg = util::parse_mail(&sb.read_bytes(&format!("out/{}", EMLS[0])));
    assert_eq!(msg.date().unwrap().year, 2026);
}

#[test]
fn non_ascii_names_survive_the_round_trip() {
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        "name,email,organization,country,role\n\
         Zoë Müller,zoe@corp-one.example,Société Générale d'Essai,France,boss\n\
         王芳,wang@corp-two.example,北京测试公司,China,staff\n",
    );
    sb.render("test", "eml", "out").run().success();
    let files = sb.files("out");
    assert_eq!(files.len(), 2);
    assert!(files[0].starts_with("test-000001-") && files[0].contains("zoe-muller"));
    assert!(files[1].starts_with("test-000002-"));
    assert!(files.iter().all(|f| f.is_ascii()), "{files:?}");
    for (file, name, org) in [
        (&files[0], "Zoë Müller", "Société Générale d'Essai"),
        (&files[1], "王芳", "北京测试公司"),
    ] {
        let raw = sb.read_bytes(&format!("out/{file}"));
        assert!(
            raw.is_ascii(),
            "{file}: headers and bodies are transfer-encoded"
        );
        let msg = util::parse_mail(&raw);
        assert_eq!(util::first_addr(msg.to()).0, name);
        assert_eq!(msg.subject(), Some(format!("Letter to {org}").as_str()));
        let (text, html) = util::alternative_parts(&msg);
        assert!(text.contains(&format!("Dear {name},")), "{text}");
        assert!(util::unescape_html(&html).contains(&format!("Dear {name},")));
    }
    // txt and html keep UTF-8 as it is
    sb.render("test", "txt", "txt").run().success();
    let txt = sb.read(&format!("txt/{}", sb.files("txt")[1]));
    assert!(txt.contains("To: 王芳 <wang@corp-two.example>"), "{txt}");
    sb.render("test", "html", "html").run().success();
    assert!(sb.read("html/test.html").contains("<h2>Zoë Müller</h2>"));
}

#[test]
fn non_ascii_signer_name_is_encoded_in_from() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .args(["render", "-g", "test", "-o", "out", "--date", util::DATE])
        .args(["--signer-name", "Åsa Öberg", "--signer-email", SIGNER_EMAIL])
        .run()
        .success();
    let msg = util::parse_mail(&sb.read_bytes(&format!("out/{}", EMLS[0])));
    assert_eq!(util::first_addr(msg.from()).0, "Åsa Öberg");
}

#[test]
fn eml_file_names_hold_group_row_number_and_name_slug() {
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        "name,email,organization,country,role\n\
         \"Dr. Jane O'Neil, MP\",jane@corp-one.example,Org,France,boss\n\
         Minister of Foreign Affairs of a Country With A Long Name,min@corp-two.example,Org,Japan,staff\n",
    );
    sb.render("test", "eml", "out").run().success();
    let files = sb.files("out");
    assert_eq!(files[0], "test-000001-dr-jane-o-neil-mp.eml");
    assert!(files[1].starts_with("test-000002-minister-of-foreign-affairs"));
    assert!(
        files[1].len() < 80,
        "long names are shortened: {}",
        files[1]
    );
}

#[test]
fn row_numbers_in_file_names_count_data_rows_not_filtered_ones() {
    let sb = Sandbox::campaign();
    sb.render("test", "eml", "out")
        .args(["--where", "country=germany"])
        .run()
        .success();
    assert_eq!(sb.files("out"), vec!["test-000003-carol-other.eml"]);
}

#[test]
fn render_into_an_existing_directory_adds_files_and_keeps_old_ones() {
    let sb = Sandbox::campaign();
    sb.write("out/old-letter.txt", "keep me");
    sb.render("test", "eml", "out").run().success();
    let mut expected = EMLS.map(String::from).to_vec();
    expected.push("old-letter.txt".into());
    expected.sort();
    assert_eq!(sb.files("out"), expected);
    assert_eq!(sb.read("out/old-letter.txt"), "keep me");
    sb.assert_no_staging("out");
    sb.assert_no_staging(".");

    // a second format lands beside the first
    sb.render("test", "mbox", "out").run().success();
    assert!(sb.exists("out/test.mbox"));
    assert_eq!(sb.files("out").len(), 5);
    sb.assert_no_staging("out");
}

#[test]
fn out_path_that_is_a_file_is_refused() {
    let sb = Sandbox::campaign();
    sb.write("out", "i am a file");
    sb.render("test", "eml", "out")
        .run()
        .code(2)
        .stderr_has("`out` exists and is not a directory")
        .stderr_has("help: choose another --out directory");
    assert_eq!(sb.read("out"), "i am a file");
    sb.assert_no_staging(".");
}

#[test]
fn render_into_a_nested_new_directory() {
    let sb = Sandbox::campaign();
    sb.render("test", "eml", "a/b/out").run().success();
    assert_eq!(sb.files("a/b/out"), EMLS);
    sb.assert_no_staging("a/b");
}

#[test]
fn unknown_group_exits_2_and_lists_the_groups() {
    let sb = Sandbox::campaign();
    sb.render("nope", "eml", "out")
        .run()
        .code(2)
        .stderr_has("error: unknown group `nope`")
        .stderr_has("help: groups in this campaign: `test`");
    sb.assert_nothing_written("out");
    let bundled = Sandbox::empty();
    bundled
        .render("nope", "eml", "out")
        .run()
        .code(2)
        .stderr_has("`ohchr`, `governments`, `companies`");
}

#[test]
fn check_on_the_test_campaign_passes() {
    let sb = Sandbox::campaign();
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stdout_has("checking campaign `test-campaign` (current directory)")
        .stdout_has("test: 3 recipients, 3 demands")
        .stdout_has("0 errors")
        .stderr_lacks("error:");
}

/// A CSV long enough to span many batches and worker threads.
fn many_rows(n: usize) -> String {
    let mut csv = String::from("name,email,organization,country,role\n");
    for i in 1..=n {
        let role = ["boss", "staff", ""][i % 3];
        csv.push_str(&format!(
            "Person {i},person{i}@corp.example,Org {i},Country {},{role}\n",
            i % 7
        ));
    }
    csv
}

#[test]
fn many_rows_keep_file_order_in_every_format() {
    let sb = Sandbox::campaign();
    sb.write(CSV_FILE, many_rows(1000));
    sb.render("test", "mbox", "out")
        .run()
        .success()
        .stdout_has("wrote 1000 letters");
    let messages = util::split_mbox(&sb.read("out/test.mbox"));
    assert_eq!(messages.len(), 1000);
    for (i, m) in messages.iter().enumerate() {
        let msg = util::parse_mail(m.as_bytes());
        let n = i + 1;
        assert_eq!(
            util::first_addr(msg.to()),
            (format!("Person {n}"), format!("person{n}@corp.example"))
        );
        let (text, _) = util::alternative_parts(&msg);
        assert_eq!(text.contains("bosses only"), n % 3 == 0, "row {n}");
        assert_eq!(text.contains("staff only"), n % 3 == 1, "row {n}");
    }

    sb.render("test", "html", "html").run().success();
    let page = sb.read("html/test.html");
    let ids: Vec<usize> = page
        .split("<article id=\"letter-")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect();
    assert_eq!(ids, (1..=1000).collect::<Vec<_>>());

    sb.render("test", "eml", "eml").run().success();
    let files = sb.files("eml");
    assert_eq!(files.len(), 1000);
    assert_eq!(files[999], "test-001000-person-1000.eml");
}

#[test]
fn limit_and_where_across_many_rows() {
    let sb = Sandbox::campaign();
    sb.write(CSV_FILE, many_rows(1000));
    sb.render("test", "txt", "out")
        .args(["--where", "role=staff", "--limit", "130"])
        .run()
        .success()
        .stdout_has("wrote 130 text files");
    let files = sb.files("out");
    assert_eq!(files.len(), 130);
    assert_eq!(files[0], "test-000001-person-1.txt");
    // staff rows are 1, 4, 7, ...: the 130th is row 388
    assert_eq!(files[129], "test-000388-person-388.txt");
}

#[test]
fn the_number_of_render_threads_does_not_change_a_byte() {
    let sb = Sandbox::campaign();
    sb.write(CSV_FILE, many_rows(500));
    for threads in ["1", "3"] {
        sb.render("test", "mbox", &format!("t{threads}"))
            .env("LETTERDRIVE_THREADS", threads)
            .run()
            .success()
            .stdout_has("wrote 500 letters");
    }
    sb.render("test", "mbox", "default").run().success();
    assert_same_files(&sb, "t1", "t3");
    assert_same_files(&sb, "t1", "default");
}

/// What a template finds at the top of its context changes with the recipient's role: an `if` on
/// the demands follows every change, in rows that alternate between roles with and without any
/// (the letter plan keeps what it found until the renderer changes the context).
#[test]
fn an_if_on_the_demands_follows_each_recipients_role() {
    let sb = Sandbox::campaign();
    let everyone = "[[demands]]\nid = \"everyone\"\ntext = \"Demand meant for every recipient.\"\ngroups = [\"test\"]\n";
    assert!(util::CAMPAIGN_TOML.contains(everyone));
    sb.write("campaign.toml", util::CAMPAIGN_TOML.replace(everyone, ""));
    sb.write(
        util::TEMPLATE_FILE,
        "Dear {{name}},\n\n{{#if demands}}ASKED{{else}}NOTHING{{/if}} of {{signer.name}}\n",
    );
    sb.write(
        CSV_FILE,
        "name,email,organization,country,role\n\
         Alice Boss,alice@corp-one.example,Corp One,France,boss\n\
         Carol Other,carol@corp-three.example,Corp Three,Germany,\n\
         Bob Staff,bob@corp-two.example,Corp Two,Japan,staff\n\
         Dan Other,dan@corp-four.example,Corp Four,Chile,\n",
    );
    sb.render("test", "txt", "out").run().success();
    let files = sb.files("out");
    let bodies: Vec<String> = files.iter().map(|f| sb.read(&format!("out/{f}"))).collect();
    let answers: Vec<&str> = bodies
        .iter()
        .map(|b| {
            if b.contains("ASKED of") {
                "asked"
            } else if b.contains("NOTHING of") {
                "nothing"
            } else {
                "?"
            }
        })
        .collect();
    assert_eq!(
        answers,
        ["asked", "nothing", "asked", "nothing"],
        "{bodies:?}"
    );
}

/// `render` with its recipients read from a pipe this test writes, so that it is certainly still
/// writing letters when `signal` comes: it exits 130 and leaves nothing, staging folder included.
#[cfg(unix)]
fn interrupted_by(signal: i32) {
    use std::io::Write;
    let sb = Sandbox::campaign();
    let csv = sb.join(crate::util::CSV_FILE);
    std::fs::remove_file(&csv).unwrap();
    let path = std::ffi::CString::new(csv.to_str().unwrap()).unwrap();
    // SAFETY: a plain system call on a valid C string.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_letterdrive"))
        .current_dir(sb.path())
        .args(["render", "-g", "test", "-f", "eml", "-o", "out"])
        .args(["--signer-name", "Sam", "--signer-email", "sam@signers.org"])
        .env("LETTERDRIVE_THREADS", "1")
        // As the harness does: never the real home, config or data directory.
        .env("HOME", sb.join("home"))
        .env("XDG_CONFIG_HOME", sb.join("config"))
        .env("XDG_DATA_HOME", sb.join("data"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = std::fs::OpenOptions::new().write(true).open(&csv).unwrap();
    let mut rows = String::from("name,email,organization,country,role\n");
    for i in 0..100 {
        rows.push_str(&format!("P{i},p{i}@corp.example,Corp,France,boss\n"));
    }
    pipe.write_all(rows.as_bytes()).unwrap();
    // The pipe stays open: the run waits for more rows, with letters in its staging folder.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let staging = loop {
        let staging = sb
            .files(".")
            .into_iter()
            .find(|n| n.starts_with(".letterdrive-staging-"));
        if let Some(s) = staging.filter(|s| !sb.files(s).is_empty()) {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "no letter was staged");
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert!(staging.starts_with(&format!(".letterdrive-staging-{}-", child.id())));
    // SAFETY: a plain system call to the child started above.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted: nothing was written"));
    drop(pipe);
    sb.assert_nothing_written("out");
    // Its letters were never recorded, and the next run removes the records it had gathered.
    std::fs::remove_file(&csv).unwrap();
    sb.write(crate::util::CSV_FILE, crate::util::CSV);
    sb.render("test", "eml", "out").run().success();
    let journals = sb.files("data/letterdrive/journals");
    assert_eq!(journals, ["test-campaign.letters.jsonl"], "{journals:?}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_render_leaves_nothing() {
    interrupted_by(libc::SIGINT);
}

#[cfg(unix)]
#[test]
fn sigterm_during_render_leaves_nothing() {
    interrupted_by(libc::SIGTERM);
}

/// A run killed outright leaves its staging folder; the next run beside it removes it, as its
/// process is gone, and keeps one whose process is alive.
#[cfg(unix)]
#[test]
fn a_later_render_removes_staging_folders_of_dead_runs() {
    let sb = Sandbox::campaign();
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    dead.wait().unwrap();
    let stale = format!(".letterdrive-staging-{}-abc123", dead.id());
    let live = format!(".letterdrive-staging-{}-def456", std::process::id());
    sb.write(&format!("{stale}/a.eml"), "left behind");
    sb.write(&format!("{live}/b.eml"), "being written");
    sb.render("test", "eml", "out").run().success();
    assert!(!sb.exists(&stale));
    assert!(sb.exists(&live));
}
