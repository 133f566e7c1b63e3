//! Letters from templates: one Handlebars registry per group in strict mode, so a misspelt
//! variable is an error, never an empty gap in a letter someone signs.

use std::collections::HashMap;

use handlebars::{no_escape, Context, Handlebars, RenderErrorReason};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::campaign::recipients::{Columns, Row};
use crate::campaign::source::CAMPAIGN_FILE;
use crate::campaign::{Campaign, Group, EMAIL_COLUMN, LANGUAGE_COLUMN, NAME_COLUMN, ROLE_COLUMN};
use crate::error::{Diag, Error, Result};

/// The volunteer who signs the letters.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Signer {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub organisation: String,
}

/// Everything a letter depends on besides the campaign and the recipient row.
#[derive(Debug, Clone)]
pub struct LetterInputs {
    pub signer: Signer,
    pub personal_note: String,
    pub date: jiff::Zoned,
}

/// Names templates see besides the CSV columns; a column with one of these names would be hidden.
pub const BUILTIN_NAMES: &[&str] = &[
    "signer",
    "statement",
    "facts",
    "fact",
    "demands",
    "personal_note",
    "date",
    "group",
];

const BODY: &str = "body";
const SUBJECT: &str = "subject";

/// One rendered letter: who it goes to, its subject, and its Markdown body.
#[derive(Debug, Clone)]
pub struct Letter {
    pub index: u64,
    pub line: u64,
    pub name: String,
    pub email: String,
    pub subject: String,
    pub body: String,
    /// The language the letter is written in (its template's), a lowercase BCP 47 tag.
    pub language: String,
    /// The recipient block of a printed letter: name, organisation, postal address, country.
    pub postal: Vec<String>,
}

/// What changes in the template context with the letter's language.
struct Language {
    /// Lowercase tag; the campaign's default language for the default template.
    tag: String,
    /// The template file as users see it.
    file: String,
    body: String,
    subject: String,
    facts: Value,
    fact: Value,
    date: Value,
    statement: Value,
}

pub struct Renderer<'c> {
    group: &'c Group,
    columns: Columns,
    /// Per column: whether a built-in name hides it, decided once rather than for every row.
    hidden: Vec<bool>,
    hb: Handlebars<'static>,
    ctx: Context,
    recipients_file: String,
    campaign_file: String,
    role_idx: Option<usize>,
    language_idx: Option<usize>,
    name_idx: Option<usize>,
    email_idx: Option<usize>,
    /// The default language first, then every language the group has a template in.
    languages: Vec<Language>,
    /// The non-default languages, as `Campaign::pick_language` wants them.
    tags: Vec<String>,
    /// Demands depend only on language and role, so each pair's list is built once.
    demands_by_role: HashMap<(usize, String), Value>,
    /// The language and role whose texts are in the context now; consecutive rows mostly share
    /// them.
    current: Option<(usize, String)>,
    /// The language whose facts and date are in the context now.
    ctx_language: usize,
    campaign: &'c Campaign,
    /// Whether letters get their postal block (`Letter::postal`), which only a printed letter
    /// shows (`Run::print`); left out, a letter takes four allocations fewer.
    pub postal: bool,
}

/// The context's values, to change.
fn context_mut(ctx: &mut Context) -> &mut serde_json::Map<String, Value> {
    let Value::Object(data) = ctx.data_mut() else {
        unreachable!("the context is built as an object")
    };
    data
}

impl<'c> Renderer<'c> {
    pub fn new(
        campaign: &'c Campaign,
        group: &'c Group,
        columns: Columns,
        inputs: &LetterInputs,
    ) -> Result<Renderer<'c>> {
        let source = &campaign.source;
        let campaign_file = source.display(CAMPAIGN_FILE);
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        // Output is Markdown, not HTML: escaping happens once, when Markdown becomes HTML.
        hb.register_escape_fn(no_escape);

        let mut diags = Vec::new();
        let tags = campaign.languages(group);
        let mut languages = Vec::new();
        let all = std::iter::once(None).chain(tags.iter().map(|t| Some(t.as_str())));
        for tag in all {
            languages.push(register_language(
                campaign, group, inputs, tag, &mut hb, &mut diags,
            )?);
        }
        Error::from_diags(diags)?;

        let hidden: Vec<bool> = columns
            .names
            .iter()
            .map(|n| BUILTIN_NAMES.contains(&n.as_str()))
            .collect();
        let mut data = Map::new();
        data.insert(
            "signer".into(),
            serde_json::to_value(&inputs.signer).unwrap_or_default(),
        );
        data.insert("statement".into(), languages[0].statement.clone());
        data.insert("facts".into(), languages[0].facts.clone());
        data.insert("fact".into(), languages[0].fact.clone());
        data.insert(
            "personal_note".into(),
            Value::String(inputs.personal_note.trim().to_string()),
        );
        data.insert("date".into(), languages[0].date.clone());
        data.insert(
            "group".into(),
            json!({"id": group.id, "label": group.label}),
        );
        data.insert("demands".into(), Value::Array(vec![]));

        Ok(Renderer {
            group,
            role_idx: columns.get(ROLE_COLUMN),
            language_idx: columns.get(LANGUAGE_COLUMN),
            name_idx: columns.get(NAME_COLUMN),
            email_idx: columns.get(EMAIL_COLUMN),
            hidden,
            columns,
            hb,
            ctx: Context::from(Value::Object(data)),
            recipients_file: source.display(&group.recipients),
            campaign_file,
            languages,
            tags,
            demands_by_role: HashMap::new(),
            current: None,
            ctx_language: 0,
            campaign,
            postal: false,
        })
    }

    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// The languages this group has templates in besides the default one (lowercase tags).
    pub fn languages(&self) -> &[String] {
        &self.tags
    }

    fn demands_for(&mut self, language: usize, role: &str) -> Value {
        let key = (language, role.to_string());
        if let Some(v) = self.demands_by_role.get(&key) {
            return v.clone();
        }
        let lang = &self.languages[language].tag;
        let list: Vec<Value> = self
            .campaign
            .demands_for(&self.group.id, (!role.is_empty()).then_some(role))
            .map(|d| {
                let text = d.text_in(lang, &self.campaign.language).unwrap_or(&d.text);
                json!({"id": d.id, "text": text})
            })
            .collect();
        let v = Value::Array(list);
        self.demands_by_role.insert(key, v.clone());
        v
    }

    /// The ids of the demands a recipient with this role receives.
    pub fn demand_ids(&self, role: &str) -> Vec<String> {
        self.campaign
            .demands_for(&self.group.id, (!role.is_empty()).then_some(role))
            .map(|d| d.id.clone())
            .collect()
    }

    /// Which template a row gets (0 is the default, then `languages()` in order) and whether it
    /// asked for a language that has no template, so falls back to the default.
    pub fn language_of(&self, row: &Row) -> (usize, bool) {
        let wanted = self
            .language_idx
            .and_then(|i| row.record.get(i))
            .unwrap_or("");
        match self.campaign.pick_language(wanted, &self.tags) {
            (Some(tag), fell_back) => (
                1 + self.tags.iter().position(|t| t == tag).unwrap_or(0),
                fell_back,
            ),
            (None, fell_back) => (0, fell_back),
        }
    }

    pub fn render(&mut self, row: &Row) -> Result<Letter, Diag> {
        let role = self.role_idx.and_then(|i| row.record.get(i)).unwrap_or("");
        let (language, _) = self.language_of(row);
        self.set_language_and_role(language, role);
        self.fill_columns(row);
        let lang = &self.languages[language];
        let body = self
            .hb
            .render_with_context(&lang.body, &self.ctx)
            .map_err(|e| self.render_diag(&e, row, &lang.file))?;
        let mut subject = self
            .hb
            .render_with_context(&lang.subject, &self.ctx)
            .map_err(|e| self.render_diag(&e, row, &self.campaign_file))?;
        if subject.trim().len() != subject.len() {
            subject = subject.trim().to_string();
        }
        if subject.contains(['\r', '\n']) {
            let culprits: Vec<&str> = self
                .columns
                .names
                .iter()
                .zip(row.record.iter())
                .filter(|(_, v)| v.contains(['\r', '\n']))
                .map(|(n, _)| n.as_str())
                .collect();
            let mut d = Diag::new(
                "the subject would contain a line break, which a mail header cannot hold",
            )
            .file(&self.recipients_file)
            .line(row.line)
            .hint("put the value on one line (line breaks in headers could inject mail headers)");
            if let Some(c) = culprits.first() {
                d = d.field(*c);
            }
            return Err(d);
        }
        let field = |col: &str| row.get(&self.columns, col).unwrap_or("");
        let at = |idx: Option<usize>| idx.and_then(|i| row.record.get(i)).unwrap_or("");
        let name = at(self.name_idx);
        let mut postal = Vec::with_capacity(if self.postal { 4 } else { 0 });
        let mut line = |l: &str| {
            if !l.is_empty() {
                postal.push(l.to_string());
            }
        };
        if self.postal {
            line(name);
            if field("organization") != name {
                line(field("organization"));
            }
            field("address").lines().for_each(|l| line(l.trim()));
            match (field("postcode"), field("city")) {
                ("", place) | (place, "") => line(place.trim()),
                (code, city) => line(format!("{code} {city}").trim()),
            }
            line(field("country"));
        }
        Ok(Letter {
            index: row.index,
            line: row.line,
            name: name.to_string(),
            email: at(self.email_idx).to_string(),
            subject,
            body,
            language: lang.tag.clone(),
            postal,
        })
    }

    /// Puts the texts of `language` and the demands of `role` in the context, unless they are
    /// there already (consecutive rows mostly share them).
    fn set_language_and_role(&mut self, language: usize, role: &str) {
        if !matches!(&self.current, Some((l, r)) if *l == language && r == role) {
            self.current = Some((language, role.to_string()));
            let demands = self.demands_for(language, role);
            context_mut(&mut self.ctx).insert("demands".into(), demands);
        }
        if self.ctx_language != language {
            self.ctx_language = language;
            let lang = &self.languages[language];
            let data = context_mut(&mut self.ctx);
            data.insert("facts".into(), lang.facts.clone());
            data.insert("fact".into(), lang.fact.clone());
            data.insert("date".into(), lang.date.clone());
            data.insert("statement".into(), lang.statement.clone());
        }
    }

    /// Puts the row's values into the context, where Handlebars finds them.
    fn fill_columns(&mut self, row: &Row) {
        let data = context_mut(&mut self.ctx);
        for ((name, value), hidden) in self
            .columns
            .names
            .iter()
            .zip(row.record.iter())
            .zip(&self.hidden)
        {
            if *hidden {
                continue;
            }
            match data.get_mut(name) {
                Some(Value::String(s)) => {
                    s.clear();
                    s.push_str(value);
                }
                _ => {
                    data.insert(name.clone(), Value::String(value.to_string()));
                }
            }
        }
    }

    fn render_diag(&self, e: &handlebars::RenderError, row: &Row, template_file: &str) -> Diag {
        let mut d = Diag::new("").file(template_file);
        if let (Some(l), Some(c)) = (e.line_no, e.column_no) {
            if template_file != self.campaign_file {
                d = d.line(l as u64).column(c as u64);
            }
        }
        let recipient = format!("{}:{}", self.recipients_file, row.line);
        match e.reason() {
            RenderErrorReason::MissingVariable(Some(path)) => Diag {
                message: format!(
                    "`{{{{{path}}}}}` is neither a column of {} nor a built-in variable (rendering for {recipient})",
                    self.recipients_file
                ),
                ..d
            }
            .hint(format!(
                "add a `{path}` column to the CSV, or use one of: {}, {}",
                self.columns.list(),
                BUILTIN_NAMES.join(", ")
            )),
            other => Diag {
                message: format!("{other} (rendering for {recipient})"),
                ..d
            },
        }
    }
}

/// Registers the body and subject templates of one language (`None`: the default) in `hb`, and
/// makes its texts: facts, date and statement in that language. Problems go to `diags`.
fn register_language(
    campaign: &Campaign,
    group: &Group,
    inputs: &LetterInputs,
    tag: Option<&str>,
    hb: &mut Handlebars<'static>,
    diags: &mut Vec<Diag>,
) -> Result<Language> {
    let source = &campaign.source;
    let campaign_file = source.display(CAMPAIGN_FILE);
    let (rel, body, subject_name, subject) = match tag {
        None => (
            group.template.clone(),
            BODY.to_string(),
            SUBJECT.to_string(),
            Some(&group.subject),
        ),
        Some(t) => (
            campaign.template_in(group, t),
            format!("{BODY}.{t}"),
            format!("{SUBJECT}.{t}"),
            group.subjects.get(t),
        ),
    };
    let lang = tag.unwrap_or(&campaign.language).to_string();
    let file = source.display(&rel);
    let mut text = String::new();
    if !source.exists(&rel) {
        diags.push(
            Diag::new(format!("template for group `{}` not found", group.id))
                .file(&file)
                .hint(format!(
                    "create {rel} or set `template` in [groups.{}]",
                    group.id
                )),
        );
    } else {
        text = source.read_to_string(&rel)?;
        if let Err(e) = hb.register_template_string(&body, &text) {
            diags.push(template_diag(&file, &e, None));
        }
    }
    match subject {
        Some(subject) => {
            if let Err(e) = hb.register_template_string(&subject_name, subject) {
                diags.push(template_diag(&campaign_file, &e, Some(&group.id)));
            }
        }
        None => diags.push(
            Diag::new(format!(
                "group `{}` has a template in `{lang}` but no subject in `{lang}`",
                group.id
            ))
            .file(&campaign_file)
            .field(format!("groups.{}.subjects", group.id))
            .hint(format!(
                "add `{lang} = \"...\"` under [groups.{}.subjects]",
                group.id
            )),
        ),
    }
    diags.extend(missing_translations(campaign, group, &lang, &text, &file));
    let (facts, fact, statement) = texts_in(campaign, &lang);
    Ok(Language {
        statement,
        date: Value::String(letter_date_in(&inputs.date, &lang)),
        tag: lang,
        file,
        body,
        subject: subject_name,
        facts: Value::Array(facts),
        fact: Value::Object(fact),
    })
}

/// The campaign's facts (as a list and by id) and statement in `lang`, falling back to the
/// default language's text where a translation is missing.
fn texts_in(campaign: &Campaign, lang: &str) -> (Vec<Value>, Map<String, Value>, Value) {
    let text_of = |t: &str, tr: Option<&str>| tr.unwrap_or(t).to_string();
    let facts: Vec<Value> = campaign
        .facts
        .iter()
        .map(|f| json!({"id": f.id, "text": text_of(&f.text, f.text_in(lang, &campaign.language))}))
        .collect();
    let fact: Map<String, Value> = campaign
        .facts
        .iter()
        .map(|f| {
            (
                f.id.clone(),
                Value::String(text_of(&f.text, f.text_in(lang, &campaign.language))),
            )
        })
        .collect();
    let mut statement = json!({
        "title": campaign.statement.title,
        "organisation": campaign.statement.organisation,
        "summary": campaign.statement.summary,
        "date": campaign.statement.date,
        "source": campaign.statement.source,
    });
    if let Some((_, fields)) = campaign
        .statement
        .translations
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(lang))
    {
        for (k, v) in fields {
            statement[k.as_str()] = Value::String(v.clone());
        }
    }
    (facts, fact, statement)
}

fn template_diag(file: &str, e: &handlebars::TemplateError, group: Option<&str>) -> Diag {
    let mut d = Diag::new(format!("template syntax error: {}", e.reason())).file(file);
    match group {
        Some(g) => {
            d = d.field(format!("groups.{g}.subject")).hint(
                "fix the Handlebars syntax of the subject ({{variable}}, {{#if x}}...{{/if}})",
            );
        }
        None => {
            if let Some((l, c)) = e.pos() {
                d = d.line(l as u64).column(c as u64);
            }
            d = d.hint("fix the Handlebars syntax ({{variable}}, {{#each demands}}...{{/each}})");
        }
    }
    d
}

/// The date as written in a letter, e.g. "27 November 2026".
pub fn letter_date(date: &jiff::Zoned) -> String {
    date.strftime("%-d %B %Y").to_string()
}

/// What a template in `language` would show in another language: demands of the group and facts
/// the template refers to (all of them when it loops over `facts`) with no text in `language`.
fn missing_translations(
    campaign: &Campaign,
    group: &Group,
    language: &str,
    template: &str,
    file: &str,
) -> Vec<Diag> {
    if language == campaign.language {
        return Vec::new();
    }
    let loops_over_facts = template.contains("facts");
    let facts: Vec<String> = campaign
        .facts
        .iter()
        .filter(|f| loops_over_facts || template.contains(&format!("fact.{}", f.id)))
        .filter(|f| f.text_in(language, &campaign.language).is_none())
        .map(|f| format!("`{}`", f.id))
        .collect();
    let demands: Vec<String> = campaign
        .demands_for_group(&group.id)
        .filter(|d| d.text_in(language, &campaign.language).is_none())
        .map(|d| format!("`{}`", d.id))
        .collect();
    let mut out = Vec::new();
    for (what, ids) in [("fact", facts), ("demand", demands)] {
        if ids.is_empty() {
            continue;
        }
        let plural = if ids.len() == 1 { "" } else { "s" };
        out.push(
            Diag::new(format!(
                "{what}{plural} {} ha{} no `{language}` text, which {file} needs",
                ids.join(", "),
                if ids.len() == 1 { "s" } else { "ve" },
            ))
            .file(campaign.source.display(CAMPAIGN_FILE))
            .hint(format!(
                "add `{language} = \"...\"` under [{what}s.translations] of each, or remove the `{language}` template"
            )),
        );
    }
    out
}

/// The date as written in a letter in `language`: "27 November 2026", "27 novembre 2026",
/// "27 de noviembre de 2026". Languages without their own form get the English one.
pub fn letter_date_in(date: &jiff::Zoned, language: &str) -> String {
    const FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    const ES: [&str; 12] = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ];
    let primary = language.split('-').next().unwrap_or("");
    let (day, month, year) = (date.day(), (date.month() - 1) as usize, date.year());
    if primary.eq_ignore_ascii_case("fr") {
        // French writes the first of the month as an ordinal: "1er mars".
        let day = if day == 1 {
            "1er".to_string()
        } else {
            day.to_string()
        };
        format!("{day} {} {year}", FR[month])
    } else if primary.eq_ignore_ascii_case("es") {
        format!("{day} de {} de {year}", ES[month])
    } else {
        letter_date(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> jiff::Zoned {
        s.parse::<jiff::civil::Date>()
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .unwrap()
    }

    #[test]
    fn dates_are_written_the_way_each_language_writes_them() {
        let d = day("2026-11-27");
        assert_eq!(letter_date_in(&d, "en"), "27 November 2026");
        assert_eq!(letter_date_in(&d, "fr"), "27 novembre 2026");
        assert_eq!(letter_date_in(&d, "fr-CA"), "27 novembre 2026");
        assert_eq!(letter_date_in(&d, "es"), "27 de noviembre de 2026");
        assert_eq!(letter_date_in(&d, "de"), "27 November 2026");
        assert_eq!(letter_date_in(&day("2026-03-01"), "fr"), "1er mars 2026");
        assert_eq!(
            letter_date_in(&day("2026-08-01"), "es"),
            "1 de agosto de 2026"
        );
    }
}
