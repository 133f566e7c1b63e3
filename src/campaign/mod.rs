//! `campaign.toml`: the statement, its facts and demands, and the recipient groups. Parsed and
//! structurally validated once; templates and recipient files are checked by `check`.

pub mod archive;
pub mod recipients;
pub mod source;
mod voice;

pub use voice::{Prompt, PromptText, DEFAULT_SIMILARITY};

use std::collections::{BTreeMap, HashSet};

use indexmap::IndexMap;
use serde::Deserialize;

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
    groups: IndexMap<String, Group>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    id: String,
    /// The language of the default templates, subjects and `text`s; `en` when not given.
    language: Option<String>,
    /// Languages whose templates and translations still need review by a native speaker.
    #[serde(default)]
    needs_review: Vec<String>,
    /// When the facts and demands were last checked (YYYY-MM-DD), and by whom.
    updated: Option<String>,
    reviewer: Option<String>,
    /// Least share of a letter's words that must be the volunteer's own, in percent.
    min_own_words: Option<u8>,
    /// From which similarity two volunteers' personal texts are near-identical.
    similarity: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub title: String,
    pub organisation: String,
    pub summary: String,
    pub date: String,
    pub source: String,
    /// Any of the fields above in other languages: `[statement.translations.fr] date = "juin 2022"`.
    #[serde(default)]
    pub translations: BTreeMap<String, BTreeMap<String, String>>,
}

/// The fields of `[statement]` a translation may give.
pub const STATEMENT_FIELDS: &[&str] = &["title", "organisation", "summary", "date", "source"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    pub id: String,
    pub text: String,
    /// The text in other languages, by language tag: `[facts.translations] fr = "..."`.
    #[serde(default)]
    pub translations: BTreeMap<String, String>,
}

impl Fact {
    /// The text in `language`, if there is one (the default language's is `text`).
    pub fn text_in(&self, language: &str, default_language: &str) -> Option<&str> {
        text_in(&self.text, &self.translations, language, default_language)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demand {
    pub id: String,
    pub text: String,
    pub groups: Vec<String>,
    /// When set, only recipients whose `role` column is one of these receive the demand.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The text in other languages, by language tag: `[demands.translations] fr = "..."`.
    #[serde(default)]
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

/// A `[groups.<id>]` table; `Campaign::load` fills in what it leaves out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// The table's key.
    #[serde(skip)]
    pub id: String,
    pub label: String,
    pub description: String,
    pub subject: String,
    /// The subject in other languages, by lowercase language tag.
    #[serde(default)]
    pub subjects: BTreeMap<String, String>,
    /// Columns that must exist and be non-empty; always includes `name` and `email`.
    #[serde(default)]
    pub required: Vec<String>,
    #[serde(default)]
    pub target_by: Vec<String>,
    /// What volunteers see instead of a `target_by` column's raw values: column -> value -> label.
    #[serde(default)]
    pub labels: BTreeMap<String, BTreeMap<String, String>>,
    /// Relative to the campaign root; `templates/<id>.md.hbs` when not given.
    #[serde(default)]
    pub template: String,
    /// Relative to the campaign root; `recipients/<id>.csv` when not given.
    #[serde(default)]
    pub recipients: String,
    /// The recipients file's field separator; detected from its header line when not given.
    pub delimiter: Option<String>,
    /// Questions the guided run asks to help the volunteer write their own paragraph.
    #[serde(default)]
    pub prompts: Vec<Prompt>,
    /// Least share of a letter's words that must be the volunteer's own, in percent; overrides
    /// `[campaign] min_own_words`.
    pub min_own_words: Option<u8>,
}

impl Group {
    /// The label of `value` in `column` (a value is matched as `--where` matches it, ignoring
    /// case), else the value itself.
    pub fn label_of<'a>(&'a self, column: &str, value: &'a str) -> &'a str {
        let labels = self.labels.get(column).into_iter().flatten();
        let mut labels = labels.filter(|(v, _)| v.trim().eq_ignore_ascii_case(value.trim()));
        labels.next().map_or(value, |(_, label)| label.as_str())
    }

    /// The group of table `[groups.<id>]`, with what the table leaves out filled in.
    fn with_defaults(mut self, id: String) -> Group {
        if self.template.is_empty() {
            self.template = format!("templates/{id}.md.hbs");
        }
        if self.recipients.is_empty() {
            self.recipients = format!("recipients/{id}.csv");
        }
        let mut required = vec![NAME_COLUMN.to_string(), EMAIL_COLUMN.to_string()];
        for column in std::mem::take(&mut self.required) {
            if !required.contains(&column) {
                required.push(column);
            }
        }
        let subjects = std::mem::take(&mut self.subjects);
        Group {
            id,
            required,
            subjects: subjects
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            ..self
        }
    }
}

/// The column that decides which role-specific demands a recipient gets.
pub const ROLE_COLUMN: &str = "role";
pub const NAME_COLUMN: &str = "name";
pub const EMAIL_COLUMN: &str = "email";
/// The column that picks a recipient's language (a BCP 47 tag such as `fr` or `es-MX`).
pub const LANGUAGE_COLUMN: &str = "language";
/// Longest values that go into a mail header, in characters, so that no header line passes the
/// 998 octets RFC 5322 allows, however lettre writes it (docs/campaign.md lists them).
/// Campaign and group ids, which are in every Message-ID.
pub const MAX_ID: usize = 64;
/// A recipient's or signer's name.
pub const MAX_NAME: usize = 200;
/// An e-mail address (RFC 5321's limit).
pub const MAX_EMAIL: usize = 254;
/// A letter's subject, as rendered.
pub const MAX_SUBJECT: usize = 300;

/// The problem of a value of `length` characters where at most `max` fit.
pub fn too_long(what: &str, length: usize, max: usize) -> Option<Diag> {
    (length > max).then(|| {
        Diag::new(format!(
            "{what} is {length} characters long; a mail header holds at most {max}"
        ))
        .hint("shorten it")
    })
}

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
    /// `[campaign] updated`: the day the facts and demands were last checked; `check` warns once
    /// it is more than a year ago, so a volunteer knows they may be stale.
    pub updated: Option<jiff::civil::Date>,
    /// `[campaign] reviewer`: who checked them then.
    pub reviewer: Option<String>,
    /// `[campaign] min_own_words`: see `Campaign::min_own_words`.
    pub min_own_words: Option<u8>,
    /// `[campaign] similarity`: from which share of shared shingles two volunteers' personal
    /// texts are near-identical.
    pub similarity: f64,
    pub statement: Statement,
    pub facts: Vec<Fact>,
    pub demands: Vec<Demand>,
    pub groups: Vec<Group>,
}

impl Campaign {
    pub fn load(source: Source) -> Result<Campaign> {
        let file = source.display(CAMPAIGN_FILE);
        let text = source.read_to_string(CAMPAIGN_FILE)?;
        let parsed = parse_file(&text, &file)?;
        // Best effort: a problem found after parsing points at the first line naming its key or
        // value, so the campaigner need not search for it.
        let at = |needle: &str, message: String| {
            let d = Diag::new(message).file(&file);
            match text.lines().position(|l| l.contains(needle)) {
                Some(i) => d.line(i as u64 + 1),
                None => d,
            }
        };
        let meta = &parsed.campaign;
        let language = meta.language.as_deref().unwrap_or(DEFAULT_LANGUAGE);
        let language = language.to_ascii_lowercase();
        let mut diags = Vec::new();
        if !is_id(&meta.id) {
            let message = format!(
                "campaign id `{}` must be lowercase letters, digits and dashes, at most {MAX_ID}",
                meta.id
            );
            diags.push(at("id", message).hint("for example: id = \"xinjiang-2022\""));
        }
        if !is_language_tag(&language) {
            diags.push(
                at("language", format!("`{language}` is not a language tag"))
                    .hint("use a BCP 47 tag such as \"en\", \"fr\" or \"es\""),
            );
        }
        diags.extend(control_problems(&text, &file));
        let updated = match updated_date(meta.updated.as_deref()) {
            Ok(date) => date,
            Err(message) => {
                diags.push(at("updated", message).hint("for example: updated = \"2026-12-01\""));
                None
            }
        };
        diags.extend(language_tag_problems(&parsed, &at));
        diags.extend(id_problems(&parsed, &at));
        diags.extend(voice::problems(
            parsed.campaign.similarity,
            parsed.campaign.min_own_words,
            &parsed.groups,
            &at,
        ));
        if parsed.groups.is_empty() {
            diags.push(
                Diag::new("the campaign has no groups")
                    .file(&file)
                    .hint("add a [groups.<id>] table with label, description and subject"),
            );
        }
        let groups: Vec<Group> = (parsed.groups.into_iter())
            .map(|(id, g)| g.with_defaults(id))
            .collect();
        diags.extend(path_problems(&source, &groups, &at));
        Error::from_diags(diags)?;

        let needs_review = meta.needs_review.iter();
        Ok(Campaign {
            id: parsed.campaign.id.clone(),
            language,
            needs_review: needs_review.map(|t| t.to_ascii_lowercase()).collect(),
            updated,
            reviewer: parsed
                .campaign
                .reviewer
                .clone()
                .filter(|r| !r.trim().is_empty()),
            min_own_words: parsed.campaign.min_own_words,
            similarity: parsed.campaign.similarity.unwrap_or(DEFAULT_SIMILARITY),
            statement: parsed.statement,
            facts: parsed.facts,
            demands: parsed.demands,
            groups,
            source,
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

    /// The least share of own words, in percent, `group`'s letters must have, if any.
    pub fn min_own_words(&self, group: &Group) -> Option<u8> {
        group.min_own_words.or(self.min_own_words)
    }

    /// The demands of `group`, in campaign order.
    pub fn demands_for_group<'a>(
        &'a self,
        group: &'a str,
    ) -> impl Iterator<Item = &'a Demand> + 'a {
        self.demands
            .iter()
            .filter(move |d| d.groups.iter().any(|g| g == group))
    }

    /// The demands a recipient of `group` with this role (empty for none) receives.
    pub fn demands_for<'a>(
        &'a self,
        group: &'a str,
        role: &'a str,
    ) -> impl Iterator<Item = &'a Demand> + 'a {
        self.demands_for_group(group).filter(move |d| {
            d.roles.is_empty() || d.roles.iter().any(|r| r.eq_ignore_ascii_case(role.trim()))
        })
    }

    /// The template of `group` in `language`: `templates/ohchr.md.hbs` becomes
    /// `templates/ohchr.fr.md.hbs`.
    pub fn template_in(&self, group: &Group, language: &str) -> String {
        let (stem, ext) = split_template(&group.template);
        format!("{stem}.{}{ext}", language.to_ascii_lowercase())
    }

    /// The languages a group's letters are written in, for people: "en (default), es, fr".
    pub fn languages_line(&self, group: &Group) -> String {
        let mut all = vec![format!("{} (default)", self.language)];
        all.extend(self.languages(group));
        all.join(", ")
    }

    /// Every file the campaign is made of, relative to its root: campaign.toml, then each group's
    /// templates (every language) and recipient list.
    pub fn files(&self) -> Vec<String> {
        let mut files = vec![CAMPAIGN_FILE.to_string()];
        for group in &self.groups {
            let languages = self.languages(group).into_iter();
            let translated = languages.map(|l| self.template_in(group, &l));
            for file in [group.template.clone()].into_iter().chain(translated) {
                files.push(file);
            }
            files.push(group.recipients.clone());
        }
        let mut seen = HashSet::new();
        files.retain(|f| seen.insert(f.clone()));
        files
    }

    /// The languages `group` has a template in besides the default one, sorted, lowercase.
    pub fn languages(&self, group: &Group) -> Vec<String> {
        let (stem, ext) = split_template(&group.template);
        let (dir, base) = stem.rsplit_once('/').unwrap_or(("", stem));
        let names = self.source.list(dir).into_iter();
        let mut out: Vec<String> = names
            .filter_map(|name| {
                let tag = name.strip_prefix(base)?.strip_prefix('.')?;
                let tag = tag.strip_suffix(ext)?;
                (is_language_tag(tag) && tag != self.language).then(|| tag.to_ascii_lowercase())
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
        fn primary(tag: &str) -> &str {
            tag.split('-').next().unwrap_or(tag)
        }
        for candidate in [wanted, primary(wanted)] {
            if candidate.eq_ignore_ascii_case(&self.language)
                || candidate.eq_ignore_ascii_case(primary(&self.language))
            {
                return (None, false);
            }
            if let Some(l) = available.iter().find(|l| l.eq_ignore_ascii_case(candidate)) {
                return (Some(l.as_str()), false);
            }
        }
        (None, true)
    }
}

/// Every key that must be a language tag and is not, and statement translations of fields the
/// statement does not have.
fn language_tag_problems(parsed: &CampaignFile, at: &impl Fn(&str, String) -> Diag) -> Vec<Diag> {
    let review = parsed.campaign.needs_review.iter();
    let mut tags: Vec<(String, &String)> = review
        .map(|t| ("campaign.needs_review".to_string(), t))
        .collect();
    for (id, g) in &parsed.groups {
        tags.extend(
            g.subjects
                .keys()
                .map(|t| (format!("groups.{id}.subjects"), t)),
        );
        for p in &g.prompts {
            let place = format!("translations of a prompt of group `{id}`");
            tags.extend(p.translations.keys().map(|t| (place.clone(), t)));
        }
    }
    let translations = &parsed.statement.translations;
    tags.extend(
        translations
            .keys()
            .map(|t| ("statement.translations".into(), t)),
    );
    for f in &parsed.facts {
        let place = format!("translations of fact `{}`", f.id);
        tags.extend(f.translations.keys().map(|t| (place.clone(), t)));
    }
    for d in &parsed.demands {
        let place = format!("translations of demand `{}`", d.id);
        tags.extend(d.translations.keys().map(|t| (place.clone(), t)));
    }
    let mut diags = Vec::new();
    for (tag, fields) in translations {
        for key in fields.keys() {
            if !STATEMENT_FIELDS.contains(&key.as_str()) {
                let place = format!("[statement.translations.{tag}]");
                let message = format!("`{key}` in {place} is not a field of the statement");
                let fields = STATEMENT_FIELDS.join(", ");
                diags.push(at(&place, message).hint(format!("fields are: {fields}")));
            }
        }
    }
    for (place, tag) in tags {
        if !is_language_tag(tag) {
            let message = format!("`{tag}` in {place} is not a language tag");
            diags.push(
                at(&format!("{tag} ="), message)
                    .hint("keys are BCP 47 language tags such as fr, es or pt-BR"),
            );
        }
    }
    diags
}

/// Group, fact and demand ids: unique, usable in templates, and demands for groups that exist.
fn id_problems(parsed: &CampaignFile, at: &impl Fn(&str, String) -> Diag) -> Vec<Diag> {
    let mut diags = Vec::new();
    for id in parsed.groups.keys().filter(|id| !is_id(id)) {
        let message = format!(
            "group id `{id}` must be lowercase letters, digits and dashes, at most {MAX_ID}"
        );
        diags.push(at(&format!("[groups.{id}]"), message));
    }
    let mut seen = HashSet::new();
    for f in &parsed.facts {
        let at = |message: String| at(&format!("\"{}\"", f.id), message);
        if !seen.insert(format!("fact:{}", f.id)) {
            diags.push(at(format!("fact id `{}` is used twice", f.id)));
        }
        if !f.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            let message = format!(
                "fact id `{}` may only hold letters, digits and underscores",
                f.id
            );
            diags.push(
                at(message)
                    .hint("templates refer to it as {{fact.<id>}}, where a dash would not work"),
            );
        }
    }
    for d in &parsed.demands {
        let at = |message: String| at(&format!("\"{}\"", d.id), message);
        if !seen.insert(format!("demand:{}", d.id)) {
            diags.push(at(format!("demand id `{}` is used twice", d.id)));
        }
        if d.groups.is_empty() {
            diags.push(at(format!("demand `{}` names no group", d.id)));
        }
        for g in d.groups.iter().filter(|g| !parsed.groups.contains_key(*g)) {
            let message = format!("demand `{}` is for group `{g}`, which does not exist", d.id);
            let groups = join_ids(parsed.groups.keys());
            diags.push(at(message).hint(format!("groups are: {groups}")));
        }
    }
    diags
}

/// Every file a group names (given or by default) that leads outside the campaign folder.
fn path_problems(
    source: &Source,
    groups: &[Group],
    at: &impl Fn(&str, String) -> Diag,
) -> Vec<Diag> {
    let mut diags = Vec::new();
    for g in groups {
        for (key, rel) in [("template", &g.template), ("recipients", &g.recipients)] {
            let Some(target) = source.outside(rel) else {
                continue;
            };
            let d = source.outside_error(rel, &target);
            // The line that names the file, else the group's table (the file is the default).
            let mut place = at(&format!("\"{rel}\""), String::new());
            if place.line.is_none() {
                place = at(&format!("[groups.{}]", g.id), String::new());
            }
            diags.push(Diag {
                line: place.line,
                file: place.file,
                field: Some(format!("groups.{}.{key}", g.id)),
                ..d
            });
        }
    }
    diags
}

/// Control characters in any key or text of campaign.toml (TOML lets `\u001b` and the like
/// through its escapes), each at the line and column where its key or value starts.
fn control_problems(text: &str, file: &str) -> Vec<Diag> {
    let Ok(doc) = toml_edit::ImDocument::parse(text) else {
        return Vec::new();
    };
    let mut diags = Vec::new();
    let mut check = |place: &str, span: Option<std::ops::Range<usize>>, value: &str| {
        if let Some((_, _, c)) = control_char(value) {
            let mut d = control_diag(c).file(file).field(place);
            if let Some(span) = span {
                let (line, col) = line_col(text, span.start);
                d = d.line(line).column(col);
            }
            diags.push(d);
        }
    };
    walk(doc.as_item(), "", &mut check);
    diags
}

/// Every key and text under `item`, with its dotted place and its span in the file.
fn walk(
    item: &toml_edit::Item,
    place: &str,
    check: &mut impl FnMut(&str, Option<std::ops::Range<usize>>, &str),
) {
    use toml_edit::{Item, Value};
    let pairs: Vec<_> = match item {
        Item::Table(t) => t.iter().filter_map(|(k, _)| t.get_key_value(k)).collect(),
        Item::Value(Value::InlineTable(t)) => {
            t.iter().filter_map(|(k, _)| t.get_key_value(k)).collect()
        }
        Item::ArrayOfTables(a) => {
            a.iter()
                .for_each(|t| walk(&Item::Table(t.clone()), place, check));
            return;
        }
        Item::Value(Value::Array(a)) => {
            a.iter()
                .for_each(|v| walk(&Item::Value(v.clone()), place, check));
            return;
        }
        Item::Value(Value::String(s)) => return check(place, item.span(), s.value()),
        _ => return,
    };
    for (key, item) in pairs {
        let place = match place {
            "" => key.get().to_string(),
            _ => format!("{place}.{}", key.get()),
        };
        check(&place, key.span(), key.get());
        walk(item, &place, check);
    }
}

/// The first control character of `text` other than tab and line breaks, with its line and
/// column (from 1, in characters). Such a character could hide or change text on a terminal or
/// in a mail program, or break a mail header.
pub fn control_char(text: &str) -> Option<(u64, u64, char)> {
    let (mut line, mut col) = (1, 0);
    for c in text.chars() {
        match c {
            '\n' => (line, col) = (line + 1, 0),
            '\t' | '\r' => col += 1,
            c if c.is_control() => return Some((line, col + 1, c)),
            _ => col += 1,
        }
    }
    None
}

/// The problem of a text holding control character `c`.
pub fn control_diag(c: char) -> Diag {
    let message = format!(
        "contains the control character U+{:04X}, which could hide or change text in a mail program or on a terminal",
        c as u32
    );
    Diag::new(message).hint("remove it: only tabs and line breaks may be in the text")
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
    // RFC 5646 asks every implementation to take tags of 35 characters; none needs more.
    if s.len() > 35 {
        return false;
    }
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn line_col(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() as u64 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    (line, col)
}

/// campaign.toml as written, or where its TOML goes wrong.
fn parse_file(text: &str, file: &str) -> Result<CampaignFile> {
    toml::from_str(text).map_err(|e| {
        let mut d = Diag::new(e.message().trim())
            .file(file)
            .hint("fix the TOML syntax or key; see the campaign format in the README");
        if let Some(span) = e.span() {
            let (line, col) = line_col(text, span.start);
            d = d.line(line).column(col);
        }
        Error::Invalid(d)
    })
}

/// `[campaign] updated`, when given, as a date; what is wrong with it otherwise.
fn updated_date(text: Option<&str>) -> std::result::Result<Option<jiff::civil::Date>, String> {
    match text.map(|s| s.trim().parse::<jiff::civil::Date>()) {
        None => Ok(None),
        Some(Ok(date)) => Ok(Some(date)),
        Some(Err(_)) => Err(format!(
            "`updated` must be a date written YYYY-MM-DD, not `{}`",
            text.unwrap_or("")
        )),
    }
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
            &format!("en{}", "-abcdefgh".repeat(4)),
        ] {
            assert!(!is_language_tag(bad), "{bad:?}");
        }
    }

    /// Every bundled group helps volunteers write their own paragraph, in every language its
    /// letters are in.
    #[test]
    fn bundled_groups_have_prompts_in_each_language() {
        let campaign = Campaign::load(Source::Bundled).unwrap();
        for g in &campaign.groups {
            assert_eq!(g.prompts.len(), 3, "{}", g.id);
            for p in &g.prompts {
                for lang in campaign.languages(g) {
                    assert_ne!(p.in_language(&lang).0, p.ask, "{} {lang}", g.id);
                    assert!(!p.in_language(&lang).1.is_empty(), "{} {lang}", g.id);
                }
                assert_eq!(p.in_language("de"), (p.ask.as_str(), p.hint.as_str()));
            }
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
