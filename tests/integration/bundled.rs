//! The campaign compiled into the binary, used from an empty directory: it must list, check and
//! render, and every letter must carry exactly the demands meant for its recipient.

use std::collections::HashMap;

use crate::util::{self, Sandbox, SIGNER_EMAIL, SIGNER_NAME};

/// The repository's campaign.toml, which is what the binary bundles.
fn campaign_toml() -> toml::Table {
    let text = std::fs::read_to_string(util::repo_file("campaign.toml")).expect("campaign.toml");
    text.parse::<toml::Table>().expect("campaign.toml parses")
}

struct Demand {
    id: String,
    text: String,
    /// Language tag -> the demand in that language.
    translations: HashMap<String, String>,
    groups: Vec<String>,
    roles: Vec<String>,
}

impl Demand {
    /// The text a letter in `language` carries: English is `text`, the rest translations.
    fn text_in(&self, language: &str) -> &str {
        if language == "en" {
            return &self.text;
        }
        self.translations
            .get(language)
            .unwrap_or_else(|| panic!("demand `{}` has no `{language}` text", self.id))
    }
}

/// The language of a recipient's letter: its `language` column's primary subtag, else English.
fn language_of(row: &HashMap<String, String>) -> String {
    let tag = row.get("language").map(|s| s.trim()).unwrap_or("");
    let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
    if primary.is_empty() {
        "en".to_string()
    } else {
        primary
    }
}

fn strings(v: Option<&toml::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn demands(campaign: &toml::Table) -> Vec<Demand> {
    campaign["demands"]
        .as_array()
        .expect("[[demands]]")
        .iter()
        .map(|d| Demand {
            id: d["id"].as_str().unwrap().to_string(),
            text: d["text"].as_str().unwrap().to_string(),
            translations: d
                .get("translations")
                .and_then(|t| t.as_table())
                .map(|t| {
                    t.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            groups: strings(d.get("groups")),
            roles: strings(d.get("roles")),
        })
        .collect()
}

/// (group id, recipients file) in campaign order.
fn groups(campaign: &toml::Table) -> Vec<(String, String)> {
    campaign["groups"]
        .as_table()
        .expect("[groups]")
        .iter()
        .map(|(id, g)| {
            let file = g
                .get("recipients")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| format!("recipients/{id}.csv"));
            (id.clone(), file)
        })
        .collect()
}

/// Rows of a bundled CSV as column -> value maps.
fn rows(file: &str) -> Vec<HashMap<String, String>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(util::repo_file(file))
        .expect("open bundled csv");
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("bundled csv row");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Whether a recipient of `group` with `role` should get `demand` (an independent statement of
/// the rule: the group must match, and a demand with roles needs the recipient's role).
fn meant_for(demand: &Demand, group: &str, role: &str) -> bool {
    demand.groups.iter().any(|g| g == group)
        && (demand.roles.is_empty()
            || (!role.is_empty()
                && demand
                    .roles
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(role.trim()))))
}

#[test]
fn groups_lists_every_bundled_group_with_its_recipient_count() {
    let sb = Sandbox::empty();
    let campaign = campaign_toml();
    let done = sb
        .cmd()
        .arg("groups")
        .run()
        .success()
        .stdout_has("bundled with letterdrive");
    let stdout = done.stdout();
    let ids: Vec<String> = groups(&campaign).into_iter().map(|(id, _)| id).collect();
    for expected in ["ohchr", "governments", "companies"] {
        assert!(
            ids.iter().any(|id| id == expected),
            "{expected} not bundled"
        );
    }
    for (id, file) in groups(&campaign) {
        let n = rows(&file).len();
        let count = format!("({n} recipient{})", if n == 1 { "" } else { "s" });
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("{id} ")) && l.ends_with(&count)),
            "no line for `{id}` ending in `{count}`:\n{stdout}"
        );
    }
}

#[test]
fn check_on_bundled_campaign_passes_and_warns_about_placeholder_addresses() {
    let sb = Sandbox::empty();
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stdout_has("0 errors")
        .stdout_has("the campaign can be sent")
        .stdout_has("\n  last updated 20")
        .stderr_has("warning: <bundled>/recipients/")
        .stderr_has("is a placeholder address on a reserved domain")
        .stderr_has("help: replace placeholder addresses")
        .stderr_lacks("error:");
}

#[test]
fn check_strict_on_bundled_campaign_fails_on_placeholder_warnings() {
    let sb = Sandbox::empty();
    sb.cmd()
        .args(["check", "--strict"])
        .run()
        .code(1)
        .stdout_has("cannot be sent");
}

#[test]
fn preview_of_bundled_campaign_works_without_a_signer() {
    let sb = Sandbox::empty();
    sb.cmd()
        .args(["preview", "-g", "ohchr"])
        .run()
        .success()
        .stdout_has("From: ")
        .stdout_has("To: ")
        .stdout_has("Subject: ");
}

#[test]
fn every_bundled_group_renders_to_eml_with_the_demands_meant_for_each_recipient() {
    let sb = Sandbox::empty();
    let campaign = campaign_toml();
    let campaign_id = campaign["campaign"]["id"].as_str().unwrap().to_string();
    let demands = demands(&campaign);
    for (group, file) in groups(&campaign) {
        let rows = rows(&file);
        let out = format!("out-{group}");
        sb.render(&group, "eml", &out)
            .run()
            .success()
            .stdout_has(&format!("wrote {} e-mail file", rows.len()));
        let files = sb.files(&out);
        assert_eq!(files.len(), rows.len(), "one .eml per row of {file}");
        let mut ids = Vec::new();
        for name in &files {
            assert!(name.starts_with(&format!("{group}-")) && name.ends_with(".eml"));
            let msg = util::parse_mail(&sb.read_bytes(&format!("{out}/{name}")));
            assert_eq!(
                util::first_addr(msg.from()),
                (SIGNER_NAME.to_string(), SIGNER_EMAIL.to_string()),
                "From of {name}"
            );
            let (to_name, to_addr) = util::first_addr(msg.to());
            let row = rows
                .iter()
                .find(|r| r["email"].eq_ignore_ascii_case(&to_addr))
                .unwrap_or_else(|| panic!("{name}: To `{to_addr}` is not a row of {file}"));
            assert_eq!(to_name, row["name"], "To name of {name}");
            let subject = msg.subject().expect("Subject");
            assert!(
                !subject.trim().is_empty() && !subject.contains("{{"),
                "{name}: subject `{subject}`"
            );
            let id = msg.message_id().expect("Message-ID").to_string();
            assert!(id.contains(&campaign_id), "{name}: Message-ID {id}");
            assert!(id.ends_with("@signers.org"), "{name}: Message-ID {id}");
            ids.push(id);
            let date = msg.date().expect("Date");
            assert_eq!((date.year, date.month, date.day), (2026, 11, 27));
            assert_eq!(
                msg.header_raw("X-Letterdrive-Campaign").map(str::trim),
                Some(format!("{campaign_id}/{group}").as_str())
            );

            let (text, html) = util::alternative_parts(&msg);
            let html = util::unescape_html(&html);
            let role = row.get("role").map(String::as_str).unwrap_or("");
            let language = language_of(row);
            assert_eq!(
                msg.header_raw("Content-Language").map(str::trim),
                Some(language.as_str()),
                "{name}: Content-Language"
            );
            for d in &demands {
                let wanted = meant_for(d, &group, role);
                for (part, body) in [("text/plain", &text), ("text/html", &html)] {
                    assert_eq!(
                        body.contains(d.text_in(&language)),
                        wanted,
                        "{name} (group `{group}`, role `{role}`, language `{language}`), {part}: demand `{}` should {}appear",
                        d.id,
                        if wanted { "" } else { "not " }
                    );
                    if language != "en" {
                        assert!(
                            !body.contains(&d.text),
                            "{name} ({language}), {part}: demand `{}` appears in English",
                            d.id
                        );
                    }
                }
            }
            assert!(text.contains(SIGNER_NAME), "{name}: signature");
        }
        ids.sort();
        ids.dedup();
        assert_eq!(
            ids.len(),
            files.len(),
            "Message-IDs are unique per recipient"
        );
    }
}

#[test]
fn bundled_governments_split_china_and_third_state_demands() {
    // The same property as above, pinned on the two roles the brief names, so a campaign edit
    // that drops the `role` column cannot make the general test vacuous.
    let campaign = campaign_toml();
    let demands = demands(&campaign);
    let rows = rows("recipients/governments.csv");
    let roles: Vec<&str> = rows.iter().map(|r| r["role"].as_str()).collect();
    assert!(roles.contains(&"china") && roles.contains(&"third-state"));
    for role in ["china", "third-state"] {
        assert!(
            demands
                .iter()
                .any(|d| d.roles.iter().any(|r| r == role) && meant_for(d, "governments", role)),
            "some demand is for role `{role}`"
        );
    }

    let sb = Sandbox::empty();
    sb.render("governments", "eml", "out")
        .arg("--where")
        .arg("role=china")
        .run()
        .success()
        .stdout_has("wrote 1 e-mail file");
    let files = sb.files("out");
    let msg = util::parse_mail(&sb.read_bytes(&format!("out/{}", files[0])));
    let (text, _) = util::alternative_parts(&msg);
    for d in &demands {
        let for_china = meant_for(d, "governments", "china");
        assert_eq!(
            text.contains(&d.text),
            for_china,
            "china letter, demand {}",
            d.id
        );
    }
}

#[test]
fn bundled_campaign_writes_to_francophone_and_hispanophone_ministries_in_their_language() {
    let campaign = campaign_toml();
    for (group, _) in groups(&campaign) {
        for lang in ["fr", "es"] {
            let file = format!("templates/{group}.{lang}.md.hbs");
            assert!(util::repo_file(&file).is_file(), "{file} is bundled");
        }
        let subjects = &campaign["groups"][&group]["subjects"];
        assert!(subjects.get("fr").is_some() && subjects.get("es").is_some());
    }
    let rows = rows("recipients/governments.csv");
    for lang in ["fr", "es"] {
        assert!(
            rows.iter().filter(|r| language_of(r) == lang).count() >= 2,
            "at least two `{lang}` ministries"
        );
    }

    let sb = Sandbox::empty();
    sb.cmd()
        .arg("groups")
        .run()
        .success()
        .stdout_has("languages: English (en, default), Spanish (es), French (fr)");
    sb.cmd()
        .arg("check")
        .run()
        .success()
        .stderr_lacks("has no template")
        .stderr_lacks("error:");

    for (filter, lang, salutation, closing) in [
        (
            "country=France",
            "fr",
            "Excellence,",
            "Je vous prie d'agréer, Excellence, l'expression de ma très haute considération.",
        ),
        (
            "country=Spain",
            "es",
            "Excelentísimo/a señor/a ministro/a:",
            "Le saluda atentamente,",
        ),
    ] {
        let out = format!("out-{lang}");
        sb.render("governments", "eml", &out)
            .args(["--where", filter])
            .run()
            .success()
            .stdout_has("wrote 1 e-mail file");
        let files = sb.files(&out);
        let msg = util::parse_mail(&sb.read_bytes(&format!("{out}/{}", files[0])));
        assert_eq!(
            msg.header_raw("Content-Language").map(str::trim),
            Some(lang)
        );
        let (text, html) = util::alternative_parts(&msg);
        assert!(text.starts_with(salutation), "{lang}:\n{text}");
        assert!(text.contains(closing), "{lang}:\n{text}");
        assert!(
            html.contains(&format!("<html lang=\"{lang}\">")),
            "{lang}: html lang"
        );
        // Statement date and facts come in the letter's language too.
        let (date, fact) = match lang {
            "fr" => ("En juin 2022", "286\u{a0}000 habitants"),
            _ => ("En junio de 2022", "286\u{a0}000 residentes"),
        };
        assert!(
            text.contains(date) && text.contains(fact),
            "{lang}:\n{text}"
        );
        for english in ["June 2022", "I am writing", "Yours sincerely", "286,000"] {
            assert!(!text.contains(english), "{lang} letter has `{english}`");
        }
        assert!(msg.subject().is_some_and(|s| s.starts_with("Xinjiang")));
    }
}

#[test]
fn bundled_letters_follow_up_the_published_assessment_instead_of_asking_for_it() {
    // OHCHR published its Xinjiang assessment on 31 August 2022: no letter, in any language, may
    // still ask for the report to be released, and each says the assessment exists.
    let sb = Sandbox::empty();
    sb.cmd().args(["init", "c"]).run().success();
    // The bundled OHCHR list is English only; a French and a Spanish row cover the translations.
    let ohchr = sb.read("c/recipients/ohchr.csv");
    let mut lines = ohchr.lines();
    let header = lines.next().unwrap();
    let row = lines.next().unwrap();
    let mut csv = format!("{header},language\n{row},en\n");
    for lang in ["fr", "es"] {
        let other = row.replace("high-commissioner@", &format!("hc-{lang}@"));
        csv.push_str(&format!("{other},{lang}\n"));
    }
    sb.write("c/recipients/ohchr.csv", csv);

    let stale = [
        "long-delayed",
        "without further delay",
        "publish the report",
        "trop longtemps différé",
        "sans plus tarder son rapport",
        "publiez le rapport",
        "aplazado durante tanto tiempo",
        "sin más demora su informe",
        "publiquen el informe",
    ];
    let mut seen = Vec::new();
    for group in ["ohchr", "governments"] {
        let out = format!("out-{group}");
        sb.render(group, "eml", &out)
            .args(["--campaign", "c"])
            .run()
            .success();
        for name in sb.files(&out) {
            let msg = util::parse_mail(&sb.read_bytes(&format!("{out}/{name}")));
            let lang = msg
                .header_raw("Content-Language")
                .unwrap()
                .trim()
                .to_string();
            let (text, _) = util::alternative_parts(&msg);
            let all = format!("{}\n{text}", msg.subject().unwrap_or(""));
            for phrase in stale {
                assert!(
                    !all.contains(phrase),
                    "{name} ({lang}) asks `{phrase}`:\n{all}"
                );
            }
            let (assessment, statement_date) = match lang.as_str() {
                "fr" => ("Le 31 août 2022", "juin 2022"),
                "es" => ("El 31 de agosto de 2022", "junio de 2022"),
                _ => ("On 31 August 2022", "June 2022"),
            };
            assert!(text.contains(assessment), "{name} ({lang}):\n{text}");
            assert!(text.contains(statement_date), "{name} ({lang}):\n{text}");
            if group == "ohchr" {
                let follow_up = match lang.as_str() {
                    "fr" => "Conseil des droits de l'homme",
                    "es" => "Consejo de Derechos Humanos",
                    _ => "brief the Human Rights Council",
                };
                assert!(text.contains(follow_up), "{name} ({lang}):\n{text}");
            }
            seen.push(format!("{group}/{lang}"));
        }
    }
    for wanted in [
        "ohchr/en",
        "ohchr/fr",
        "ohchr/es",
        "governments/fr",
        "governments/es",
    ] {
        assert!(
            seen.iter().any(|s| s == wanted),
            "no {wanted} letter: {seen:?}"
        );
    }
}
