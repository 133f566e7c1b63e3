//! `campaign.toml`: the statement, its facts and demands, and the recipient groups. Parsed and
//! structurally validated once; templates and recipient files are checked by `check`.

pub mod recipients;
pub mod source;

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::campaign::source::{Source, CAMPAIGN_FILE};
use crate::error::{Diag, Error, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CampaignFile {
    campaign: Meta,
    statement: Statement,
    #[serde(default)]
    facts: Vec<Fact>,
    #[serde(default)]
    demands: Vec<Demand>,
    groups: IndexMap<String, GroupFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    id: String,
    /// The language of the default templates, subjects and `text`s; `en` when not given.
    #[serde(default)]
    language: Option<String>,
    /// Languages whose templates and translations still need review by a native speaker.
    #[serde(default)]
    needs_review: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub title: String,
    pub organisation: String,
    pub summary: String,
    pub date: String,
    pub source: String,
    /// Any of the fields above in other languages: `[statement.translations.fr] date = "juin 2022"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, BTreeMap<String, String>>,
}

/// The fields of `[statement]` a translation may give.
pub const STATEMENT_FIELDS: &[&str] = &["title", "organisation", "summary", "date", "source"];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    pub id: String,
    pub text: String,
    /// The text in other languages, by language tag: `[facts.translations] fr = "..."`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, String>,
}

impl Fact {
    /// The text in `language`, if there is one (the default language's is `text`).
    pub fn text_in(&self, language: &str, default_language: &str) -> Option<&str> {
        text_in(&self.text, &self.translations, language, default_language)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Demand {
    pub id: String,
    pub text: String,
    pub groups: Vec<String>,
    /// When set, only recipients whose `role` column is one of these receive the demand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The text in other languages, by language tag: `[demands.translations] fr = "..."`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, String>,
}

impl Demand {
    /// The text in `language`, if there is one (the default language's is `text`).
    pub fn text_in(&self, language: &str, default_language: &str) -> Option<&str> {
        text_in(&self.text, &self.translations, language, default_language)
    }
}

fn text_in<'a>(
    text: &'a str,
    translations: &'a BTreeMap<String, String>,
    language: &str,
    default_language: &str,
) -> Option<&'a str> {
    if language.eq_ignore_ascii_case(default_language) {
        return Some(text);
    }
    translations
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(language))
        .map(|(_, v)| v.as_str())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    label: String,
    description: String,
    subject: String,
    /// The subject in other languages, by language tag.
    #[serde(default)]
    subjects: BTreeMap<String, String>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    target_by: Vec<String>,
    template: Option<String>,
    recipients: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub label: String,
    pub description: String,
    pub subject: String,
    /// The subject in other languages, by lowercase language tag.
    pub subjects: BTreeMap<String, String>,
    /// Columns that must exist and be non-empty; always includes `name` and `email`.
    pub required: Vec<String>,
    pub target_by: Vec<String>,
    /// Relative to the campaign root.
    pub template: String,
    pub recipients: String,
}

/// The column that decides which role-specific demands a recipient gets.
pub const ROLE_COLUMN: &str = "role";
pub const NAME_COLUMN: &str = "name";
pub const EMAIL_COLUMN: &str = "email";
/// The column that picks a recipient's language (a BCP 47 tag such as `fr` or `es-MX`).
pub const LANGUAGE_COLUMN: &str = "language";
/// The language of the default templates when `[campaign] language` does not say.
pub const DEFAULT_LANGUAGE: &str = "en";

#[derive(Debug, Clone)]
pub struct Campaign {
    pub source: Source,
    pub id: String,
    /// The language of the default templates, subjects and texts (lowercase tag).
    pub language: String,
    /// Languages marked in `[campaign] needs_review` (lowercase tags): `check` warns about them.
    pub needs_review: Vec<String>,
    pub statement: Statement,
    pub facts: Vec<Fact>,
    pub demands: Vec<Demand>,
    pub groups: Vec<Group>,
}

impl Campaign {
    pub fn load(source: Source) -> Result<Campaign> {
        let file = source.display(CAMPAIGN_FILE);
        let text = source.read_to_string(CAMPAIGN_FILE)?;
        let parsed: CampaignFile = toml::from_str(&text).map_err(|e| {
            let mut d = Diag::new(e.message().trim().to_string())
                .file(&file)
                .hint("fix the TOML syntax or key; see the campaign format in the README");
            if let Some(span) = e.span() {
                let (line, col) = line_col(&text, span.start);
                d = d.line(line).column(col);
            }
            Error::Invalid(d)
        })?;
        let at = Locator {
            text: &text,
            file: &file,
        };
        let mut diags = Vec::new();
        if !is_id(&parsed.campaign.id) {
            diags.push(
                at.at(
                    "id",
                    format!(
                        "campaign id `{}` must be lowercase letters, digits and dashes",
                        parsed.campaign.id
                    ),
                )
                .hint("for example: id = \"xinjiang-2022\""),
            );
        }
        let language = parsed
            .campaign
            .language
            .as_deref()
            .unwrap_or(DEFAULT_LANGUAGE)
            .to_ascii_lowercase();
        if !is_language_tag(&language) {
            diags.push(
                at.at("language", format!("`{language}` is not a language tag"))
                    .hint("use a BCP 47 tag such as \"en\", \"fr\" or \"es\""),
            );
        }
        diags.extend(check_language_tags(&parsed, &at));
        let groups = groups_of(&parsed, &at, &mut diags);
        diags.extend(check_fact_and_demand_ids(&parsed, &at));
        Error::from_diags(diags)?;

        Ok(Campaign {
            source,
            id: parsed.campaign.id,
            language,
            needs_review: parsed
                .campaign
                .needs_review
                .iter()
                .map(|t| t.to_ascii_lowercase())
                .collect(),
            statement: parsed.statement,
            facts: parsed.facts,
            demands: parsed.demands,
            groups,
        })
    }

    pub fn group(&self, id: &str) -> Result<&Group> {
        self.groups.iter().find(|g| g.id == id).ok_or_else(|| {
            Error::Usage(Diag::new(format!("unknown group `{id}`")).hint(format!(
                "groups in this campaign: {}",
                join_ids(self.groups.iter().map(|g| &g.id))
            )))
        })
    }

    /// The demands a recipient of `group` with this role receives, in campaign order.
    pub fn demands_for<'a>(
        &'a self,
        group: &'a str,
        role: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Demand> + 'a {
        self.demands.iter().filter(move |d| {
            d.groups.iter().any(|g| g == group)
                && (d.roles.is_empty()
                    || role
                        .is_some_and(|r| d.roles.iter().any(|x| x.eq_ignore_ascii_case(r.trim()))))
        })
    }
}

impl Campaign {
    /// The template of `group` in `language`: `templates/ohchr.md.hbs` becomes
    /// `templates/ohchr.fr.md.hbs`.
    pub fn template_in(&self, group: &Group, language: &str) -> String {
        let (stem, ext) = split_template(&group.template);
        format!("{stem}.{}{ext}", language.to_ascii_lowercase())
    }

    /// The languages `group` has a template in besides the default one, sorted, lowercase.
    /// The languages a group's letters are written in, for people: "en (default), es, fr".
    pub fn languages_line(&self, group: &Group) -> String {
        let mut all = vec![format!("{} (default)", self.language)];
        all.extend(self.languages(group));
        all.join(", ")
    }

    pub fn languages(&self, group: &Group) -> Vec<String> {
        let (stem, ext) = split_template(&group.template);
        let (dir, base) = match stem.rfind('/') {
            Some(i) => (&stem[..i], &stem[i + 1..]),
            None => ("", stem),
        };
        let mut out: Vec<String> = self
            .source
            .list(dir)
            .into_iter()
            .filter_map(|name| {
                let tag = name
                    .strip_prefix(base)?
                    .strip_prefix('.')?
                    .strip_suffix(ext)?;
                (is_language_tag(tag) && !tag.contains('.') && tag != self.language)
                    .then(|| tag.to_ascii_lowercase())
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Which of `available` languages a recipient asking for `wanted` gets: the exact tag, else
    /// its primary language (`fr-CA` gets `fr`). `None` means the default template; the second
    /// value is true when the recipient asked for a language that has no template (a fallback).
    pub fn pick_language<'a>(
        &self,
        wanted: &str,
        available: &'a [String],
    ) -> (Option<&'a str>, bool) {
        let wanted = wanted.trim();
        if wanted.is_empty() {
            return (None, false);
        }
        let primary = wanted.split('-').next().unwrap_or(wanted);
        for candidate in [wanted, primary] {
            if candidate.eq_ignore_ascii_case(&self.language)
                || self
                    .language
                    .split('-')
                    .next()
                    .is_some_and(|p| p.eq_ignore_ascii_case(candidate))
            {
                return (None, false);
            }
            if let Some(l) = available.iter().find(|l| l.eq_ignore_ascii_case(candidate)) {
                return (Some(l.as_str()), false);
            }
        }
        (None, true)
    }

    pub fn demands_for_group<'a>(
        &'a self,
        group: &'a str,
    ) -> impl Iterator<Item = &'a Demand> + 'a {
        self.demands
            .iter()
            .filter(move |d| d.groups.iter().any(|g| g == group))
    }
}

/// Finds the line of campaign.toml a problem is about, by a key or value it names.
struct Locator<'a> {
    text: &'a str,
    file: &'a str,
}

impl Locator<'_> {
    fn at(&self, key: &str, message: String) -> Diag {
        let d = Diag::new(message).file(self.file);
        match find_line(self.text, key) {
            Some(line) => d.line(line),
            None => d,
        }
    }
}

/// Every key that must be a language tag and is not, and statement translations of fields the
/// statement does not have.
fn check_language_tags(parsed: &CampaignFile, at: &Locator) -> Vec<Diag> {
    let mut diags = Vec::new();
    let mut bad_tags: Vec<(String, String)> = parsed
        .campaign
        .needs_review
        .iter()
        .map(|t| ("campaign.needs_review".to_string(), t.clone()))
        .collect();
    for (id, g) in &parsed.groups {
        for tag in g.subjects.keys() {
            bad_tags.push((format!("groups.{id}.subjects"), tag.clone()));
        }
    }
    for (tag, fields) in &parsed.statement.translations {
        bad_tags.push(("statement.translations".to_string(), tag.clone()));
        for key in fields.keys() {
            if !STATEMENT_FIELDS.contains(&key.as_str()) {
                diags.push(
                    at.at(
                        &format!("[statement.translations.{tag}]"),
                        format!("`{key}` in [statement.translations.{tag}] is not a field of the statement"),
                    )
                    .hint(format!("fields are: {}", STATEMENT_FIELDS.join(", "))),
                );
            }
        }
    }
    for f in &parsed.facts {
        for tag in f.translations.keys() {
            bad_tags.push((format!("translations of fact `{}`", f.id), tag.clone()));
        }
    }
    for d in &parsed.demands {
        for tag in d.translations.keys() {
            bad_tags.push((format!("translations of demand `{}`", d.id), tag.clone()));
        }
    }
    for (place, tag) in bad_tags {
        if !is_language_tag(&tag) {
            diags.push(
                at.at(
                    &format!("{tag} ="),
                    format!("`{tag}` in {place} is not a language tag"),
                )
                .hint("keys are BCP 47 language tags such as fr, es or pt-BR"),
            );
        }
    }
    diags
}

/// The groups with their defaults filled in.
fn groups_of(parsed: &CampaignFile, at: &Locator, diags: &mut Vec<Diag>) -> Vec<Group> {
    let mut groups = Vec::new();
    for (id, g) in &parsed.groups {
        if !is_id(id) {
            diags.push(at.at(
                &format!("[groups.{id}]"),
                format!("group id `{id}` must be lowercase letters, digits and dashes"),
            ));
        }
        let mut required = vec![NAME_COLUMN.to_string(), EMAIL_COLUMN.to_string()];
        for r in &g.required {
            if !required.contains(r) {
                required.push(r.clone());
            }
        }
        groups.push(Group {
            id: id.clone(),
            label: g.label.clone(),
            description: g.description.clone(),
            subject: g.subject.clone(),
            subjects: g
                .subjects
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
            required,
            target_by: g.target_by.clone(),
            template: g
                .template
                .clone()
                .unwrap_or_else(|| format!("templates/{id}.md.hbs")),
            recipients: g
                .recipients
                .clone()
                .unwrap_or_else(|| format!("recipients/{id}.csv")),
        });
    }
    if groups.is_empty() {
        diags.push(
            Diag::new("the campaign has no groups")
                .file(at.file)
                .hint("add a [groups.<id>] table with label, description and subject"),
        );
    }

    groups
}

/// Fact and demand ids: unique, usable in templates, and demands for groups that exist.
fn check_fact_and_demand_ids(parsed: &CampaignFile, at: &Locator) -> Vec<Diag> {
    let mut diags = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in &parsed.facts {
        if !seen.insert(format!("fact:{}", f.id)) {
            diags.push(at.at(
                &format!("\"{}\"", f.id),
                format!("fact id `{}` is used twice", f.id),
            ));
        }
        if !f.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            diags.push(
                at.at(
                    &format!("\"{}\"", f.id),
                    format!(
                        "fact id `{}` may only hold letters, digits and underscores",
                        f.id
                    ),
                )
                .hint("templates refer to it as {{fact.<id>}}, where a dash would not work"),
            );
        }
    }
    for d in &parsed.demands {
        if !seen.insert(format!("demand:{}", d.id)) {
            diags.push(at.at(
                &format!("\"{}\"", d.id),
                format!("demand id `{}` is used twice", d.id),
            ));
        }
        if d.groups.is_empty() {
            diags.push(at.at(
                &format!("\"{}\"", d.id),
                format!("demand `{}` names no group", d.id),
            ));
        }
        for g in &d.groups {
            if !parsed.groups.contains_key(g) {
                diags.push(
                    at.at(
                        &format!("\"{}\"", d.id),
                        format!("demand `{}` is for group `{g}`, which does not exist", d.id),
                    )
                    .hint(format!("groups are: {}", join_ids(parsed.groups.keys()))),
                );
            }
        }
    }
    diags
}

fn join_ids<'a>(ids: impl Iterator<Item = &'a String>) -> String {
    ids.map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}

/// `templates/x.md.hbs` -> (`templates/x`, `.md.hbs`); other names split at their last dot.
fn split_template(path: &str) -> (&str, &str) {
    for ext in [".md.hbs", ".hbs"] {
        if let Some(stem) = path.strip_suffix(ext) {
            return (stem, ext);
        }
    }
    match path.rfind('.') {
        Some(i) if !path[i..].contains('/') => (&path[..i], &path[i..]),
        _ => (path, ""),
    }
}

/// A BCP 47 tag in the shape letters need: a 2-3 letter language, then subtags of 1-8 letters
/// or digits (`fr`, `es-MX`, `zh-Hant`, `pt-BR`). Also what keeps the tag safe in a header.
pub fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

pub(crate) fn line_col(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() as u64 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    (line, col)
}

/// Best-effort line of a key or value, so semantic errors point somewhere useful.
fn find_line(text: &str, needle: &str) -> Option<u64> {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        for ok in ["en", "fr", "es-MX", "pt-BR", "zh-Hant", "yue", "sr-Latn-RS"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in [
            "",
            "e",
            "french",
            "fr_FR",
            "fr-",
            "fr FR",
            "en\r\nBcc: x",
            "1a",
        ] {
            assert!(!is_language_tag(bad), "{bad:?}");
        }
    }

    #[test]
    fn template_names_per_language() {
        assert_eq!(
            split_template("templates/ohchr.md.hbs"),
            ("templates/ohchr", ".md.hbs")
        );
        assert_eq!(split_template("t/x.hbs"), ("t/x", ".hbs"));
        assert_eq!(split_template("t/x.txt"), ("t/x", ".txt"));
        assert_eq!(split_template("t.d/x"), ("t.d/x", ""));
    }
}
