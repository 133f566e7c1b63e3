//! Letters from templates: one Handlebars registry per group in strict mode, so a misspelt
//! variable is an error, never an empty gap in a letter someone signs.

use std::collections::{BTreeMap, HashSet};

use handlebars::{no_escape, Context, Handlebars, RenderErrorReason};
use serde::Serialize;
use serde_json::{json, Value};

use crate::campaign::recipients::{self, Columns, Row};
use crate::campaign::source::CAMPAIGN_FILE;
use crate::campaign::{too_long, Campaign, Group, MAX_SUBJECT};
use crate::campaign::{EMAIL_COLUMN, LANGUAGE_COLUMN, NAME_COLUMN, ROLE_COLUMN};
use crate::error::{Diag, Error, Result};
use crate::letter::editable::{self, Block, Edits};
use crate::letter::locale::letter_date_in;
use crate::letter::own::{self, OwnWords};
use crate::letter::pieces::{self, PieceError};
use crate::letter::translation::{missing_translations, texts_in};
use crate::letter::{postal, syntax};

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
    pub notes: Notes,
    /// The volunteer's versions of the paragraphs templates mark as editable.
    pub edits: Edits,
    pub date: jiff::Zoned,
}

/// The volunteer's own paragraph: one for every letter, and one per language (a lowercase
/// language tag of the letters) that wins over it. Empty text is no paragraph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notes {
    pub all: String,
    pub by_language: BTreeMap<String, String>,
}

impl Notes {
    /// The same paragraph in every letter.
    pub fn one(text: impl Into<String>) -> Notes {
        Notes {
            all: text.into(),
            by_language: BTreeMap::new(),
        }
    }

    /// The paragraph of a letter in `language`.
    pub fn in_language(&self, language: &str) -> &str {
        let own = self.by_language.get(&language.to_ascii_lowercase());
        own.unwrap_or(&self.all).trim()
    }
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
    /// How many of the body's words are the volunteer's own (see `own`).
    pub own_words: OwnWords,
    /// The sketch of the letter's personal text, its paragraph and its versions of editable
    /// paragraphs (`own::sketch`); empty without any.
    pub personal: std::sync::Arc<Vec<u64>>,
}

/// The registry names of a body's pieces, each with the number of template lines before it.
type Pieces = Vec<(String, u64)>;

/// A language the group's letters are written in.
#[derive(Clone)]
struct Language {
    /// Lowercase tag; the campaign's default language for the default template.
    tag: String,
    /// The template file as users see it.
    file: String,
    /// The registry names of its body, of its body's pieces (`pieces`) and of its subject.
    name: String,
    body: Pieces,
    subject: String,
    /// What templates see: the texts in this language, and the row being rendered.
    ctx: Context,
    /// The words the campaign puts into these letters (`own::vocabulary`, lowercase).
    words: HashSet<String>,
    /// Whether the template has a place for the volunteer's paragraph.
    note: bool,
    /// The paragraphs the template lets the volunteer rewrite.
    blocks: Vec<Block>,
    /// The volunteer's versions of them in this language, by id.
    edits: BTreeMap<String, String>,
    /// The sketch of the volunteer's text in these letters: the paragraph, when the template has
    /// a place for it, and the versions of its editable paragraphs.
    sketch: std::sync::Arc<Vec<u64>>,
}

/// Where a template lets the volunteer's words in: `{{personal_note}}`, editable paragraphs.
pub struct Places<'r> {
    /// The language's lowercase tag, and the template file as users see it.
    pub tag: &'r str,
    pub file: &'r str,
    pub note: bool,
    pub blocks: &'r [Block],
}

/// Renders one group's letters. Each render thread has its own (`Clone`), as a row is rendered in
/// a context the renderer fills in.
#[derive(Clone)]
pub struct Renderer<'c> {
    campaign: &'c Campaign,
    group: &'c Group,
    columns: Columns,
    hb: Handlebars<'static>,
    recipients_file: String,
    campaign_file: String,
    /// The default language first, then every language the group has a template in.
    languages: Vec<Language>,
    /// The non-default languages, as `Campaign::pick_language` wants them.
    tags: Vec<String>,
}

impl<'c> Renderer<'c> {
    pub fn new(
        campaign: &'c Campaign,
        group: &'c Group,
        columns: Columns,
        inputs: &LetterInputs,
    ) -> Result<Renderer<'c>> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        // Output is Markdown, not HTML: escaping happens once, when Markdown becomes HTML.
        hb.register_escape_fn(no_escape);
        let mut diags = Vec::new();
        let tags = campaign.languages(group);
        diags.extend(notes_without_letters(campaign, group, &inputs.notes, &tags));
        let all = std::iter::once(None).chain(tags.iter().map(|t| Some(t.as_str())));
        let languages: Vec<Language> = all
            .map(|tag| language(campaign, group, inputs, tag, &mut hb, &mut diags))
            .collect::<Result<_>>()?;
        Error::from_diags(diags)?;
        let ids: Vec<(&str, Vec<&str>)> = languages
            .iter()
            .map(|l| {
                (
                    l.tag.as_str(),
                    l.blocks.iter().map(|b| b.id.as_str()).collect(),
                )
            })
            .collect();
        let line = campaign.languages_line(group);
        let unknown = editable::unknown_edits(&inputs.edits, &ids, &group.id, &line);
        if let Some(d) = unknown.into_iter().next() {
            return Err(Error::Usage(d));
        }
        // The helper knows a letter's language by the piece of its body being rendered.
        let edits = languages.iter().flat_map(|l: &Language| {
            let pieces = l.body.iter();
            pieces.map(move |(p, _)| (p.clone(), l.edits.clone()))
        });
        let helper = editable::Editable {
            edits: edits.collect(),
        };
        hb.register_helper(editable::HELPER, Box::new(helper));
        Ok(Renderer {
            campaign,
            group,
            columns,
            hb,
            recipients_file: campaign.source.display(&group.recipients),
            campaign_file: campaign.source.display(CAMPAIGN_FILE),
            languages,
            tags,
        })
    }

    /// The recipient file as users see it.
    pub fn file(&self) -> &str {
        &self.recipients_file
    }

    /// The languages this group has templates in besides the default one (lowercase tags).
    pub fn languages(&self) -> &[String] {
        &self.tags
    }

    /// Each language's template (the default first) and where it lets the volunteer's words in.
    pub fn places(&self) -> impl Iterator<Item = Places<'_>> {
        self.languages.iter().map(|l| Places {
            tag: &l.tag,
            file: &l.file,
            note: l.note,
            blocks: &l.blocks,
        })
    }

    /// The editable paragraphs of a row's letter as they read in it without the volunteer's
    /// version, by id: each block rendered for the row (as written in the template, where it
    /// cannot be rendered on its own, such as inside `{{#each}}`).
    pub fn originals(&mut self, row: &Row) -> Vec<(String, String)> {
        let language = self.fill(row);
        let lang = &self.languages[language];
        let rendered = |b: &Block| {
            let name = fragment(&lang.name, &b.id);
            let text = self.hb.render_with_context(&name, &lang.ctx);
            let text = text.unwrap_or_else(|_| b.source.clone());
            (b.id.clone(), text.trim().to_string())
        };
        lang.blocks.iter().map(rendered).collect()
    }

    /// Every problem of a row that stops its letter (see `recipients::validate_row`).
    pub fn validate(&self, row: &Row) -> Result<(), Vec<Diag>> {
        recipients::validate_row(row, &self.columns, self.group, &self.recipients_file)
    }

    /// The ids of the demands a recipient with this role receives.
    pub fn demand_ids(&self, role: &str) -> Vec<String> {
        let demands = self.campaign.demands_for(&self.group.id, role);
        demands.map(|d| d.id.clone()).collect()
    }

    /// The language of a row's letter (a lowercase tag).
    pub fn language_tag(&self, row: &Row) -> &str {
        &self.languages[self.language_of(row).0].tag
    }

    /// Which template a row gets (0 is the default, then `languages()` in order) and whether it
    /// asked for a language that has no template, so falls back to the default.
    pub fn language_of(&self, row: &Row) -> (usize, bool) {
        let wanted = row.get(&self.columns, LANGUAGE_COLUMN).unwrap_or("");
        match self.campaign.pick_language(wanted, &self.tags) {
            (Some(tag), fell_back) => {
                let i = self.tags.iter().position(|t| t == tag).unwrap_or(0);
                (1 + i, fell_back)
            }
            (None, fell_back) => (0, fell_back),
        }
    }

    /// Puts a row's columns and demands into the context of its language, whose index it returns.
    fn fill(&mut self, row: &Row) -> usize {
        let field = |col: &str| row.get(&self.columns, col).unwrap_or("");
        let (language, _) = self.language_of(row);
        let tag = &self.languages[language].tag;
        let demands: Value = self
            .campaign
            .demands_for(&self.group.id, field(ROLE_COLUMN))
            .map(|d| {
                let text = d.text_in(tag, &self.campaign.language).unwrap_or(&d.text);
                json!({"id": d.id, "text": text})
            })
            .collect();
        let Value::Object(data) = self.languages[language].ctx.data_mut() else {
            unreachable!("the context is built as an object")
        };
        for (name, value) in self.columns.names.iter().zip(row.record.iter()) {
            if !BUILTIN_NAMES.contains(&name.as_str()) {
                data.insert(name.clone(), value.into());
            }
            // A `Name` column is `{{name}}` too, as columns are matched regardless of case.
            if name.chars().any(char::is_uppercase) {
                let lower = name.to_lowercase();
                if !BUILTIN_NAMES.contains(&lower.as_str()) {
                    data.insert(lower, value.into());
                }
            }
        }
        data.insert("demands".into(), demands);
        language
    }

    pub fn render(&mut self, row: &Row) -> Result<Letter, Diag> {
        let language = self.fill(row);
        let field = |col: &str| row.get(&self.columns, col).unwrap_or("");
        let lang = &self.languages[language];
        let mut body = String::new();
        for (piece, lines_before) in &lang.body {
            let part = self.hb.render_with_context(piece, &lang.ctx);
            let part = part.map_err(|e| self.render_diag(&e, row, &lang.file, *lines_before))?;
            match body.is_empty() {
                true => body = part,
                false => body.push_str(&part),
            }
        }
        let subject = self
            .hb
            .render_with_context(&lang.subject, &lang.ctx)
            .map_err(|e| self.render_diag(&e, row, &self.campaign_file, 0))?;
        let subject = subject.trim().to_string();
        if subject.contains(['\r', '\n']) {
            let mut d = Diag::new(
                "the subject would contain a line break, which a mail header cannot hold",
            )
            .file(&self.recipients_file)
            .line(row.line)
            .hint("put the value on one line (line breaks in headers could inject mail headers)");
            let mut columns = self.columns.names.iter().zip(row.record.iter());
            if let Some((name, _)) = columns.find(|(_, v)| v.contains(['\r', '\n'])) {
                d = d.field(name);
            }
            return Err(d);
        }
        let length = subject.chars().count();
        if let Some(d) = too_long("the subject of this letter", length, MAX_SUBJECT) {
            let hint = "shorten the subject in campaign.toml, or the values it uses in this row";
            return Err(d.file(&self.recipients_file).line(row.line).hint(hint));
        }
        // A row has few words, and few of a letter's words are not the campaign's: comparing
        // those with the row's, rather than making a set of them, allocates nothing.
        let same = |a: &str, w: &str| a.chars().flat_map(char::to_lowercase).eq(w.chars());
        let in_row = |w: &str| row.record.iter().flat_map(own::words).any(|a| same(a, w));
        let known = |w: &str| lang.words.contains(w) || in_row(w);
        // Without a paragraph every word is the campaign's or the row's: only counted, so a
        // letter without one compares no words.
        let own_words = match lang.sketch.is_empty() {
            true => OwnWords::none(&body),
            false => OwnWords::count(&body, known),
        };
        Ok(Letter {
            own_words,
            personal: lang.sketch.clone(),
            index: row.index,
            line: row.line,
            name: field(NAME_COLUMN).to_string(),
            email: field(EMAIL_COLUMN).to_string(),
            subject,
            body,
            language: lang.tag.clone(),
            postal: postal::postal_block(row, &self.columns, &lang.tag),
        })
    }

    fn render_diag(
        &self,
        e: &handlebars::RenderError,
        row: &Row,
        template_file: &str,
        lines_before: u64,
    ) -> Diag {
        let mut d = Diag::new("").file(template_file);
        if let (Some(l), Some(c)) = (e.line_no, e.column_no) {
            if template_file != self.campaign_file {
                d = d.line(lines_before + l as u64).column(c as u64);
            }
        }
        let recipient = format!("{}:{}", self.recipients_file, row.line);
        match e.reason() {
            // The same for every row that reaches it, so said once per template, not per row.
            RenderErrorReason::MissingVariable(Some(path)) => self.missing_variable(d, path),
            other => Diag {
                message: format!("{other} (rendering for {recipient})"),
                ..d
            },
        }
    }

    /// `{{path}}` names nothing a template sees: say what it might have meant.
    fn missing_variable(&self, d: Diag, path: &str) -> Diag {
        let (scope, name) = path.rsplit_once('.').unwrap_or(("", path));
        let columns = self.columns.names.iter().map(String::as_str);
        let facts = self.campaign.facts.iter().map(|f| f.id.as_str());
        let known: Vec<&str> = match scope {
            "" => columns.chain(BUILTIN_NAMES.iter().copied()).collect(),
            "fact" => facts.collect(),
            "signer" => vec!["name", "email", "city", "country", "organisation"],
            "statement" => crate::campaign::STATEMENT_FIELDS.to_vec(),
            "group" => vec!["id", "label"],
            "this" => vec!["id", "text"],
            _ => Vec::new(),
        };
        let guess = syntax::closest(name, known.iter().copied()).map(|g| match scope {
            "" => format!("did you mean `{{{{{g}}}}}`? "),
            _ => format!("did you mean `{{{{{scope}.{g}}}}}`? "),
        });
        let (message, hint) = match scope {
            "" => (
                format!(
                    "`{{{{{path}}}}}` is neither a column of {} nor a built-in variable",
                    self.recipients_file
                ),
                format!(
                    "add a `{path}` column to the CSV, or use one of: {}, {}",
                    self.columns.list(),
                    BUILTIN_NAMES.join(", ")
                ),
            ),
            "fact" => (
                format!("`{{{{{path}}}}}` is not a fact of {}", self.campaign_file),
                format!("the facts are: {}", known.join(", ")),
            ),
            _ => (
                format!("`{{{{{path}}}}}` does not exist"),
                format!("`{scope}` has: {}", known.join(", ")),
            ),
        };
        let hint = format!("{}{hint}", guess.unwrap_or_default());
        Diag { message, ..d }.hint(hint)
    }
}

/// Registers the body and subject templates of one language (`None`: the default) in `hb`, and
/// makes its context: signer, statement, facts, date and group in that language. Problems go to
/// `diags`.
fn language(
    campaign: &Campaign,
    group: &Group,
    inputs: &LetterInputs,
    tag: Option<&str>,
    hb: &mut Handlebars<'static>,
    diags: &mut Vec<Diag>,
) -> Result<Language> {
    let source = &campaign.source;
    let campaign_file = source.display(CAMPAIGN_FILE);
    let lang = tag.unwrap_or(&campaign.language).to_string();
    let (rel, subject) = match tag {
        None => (group.template.clone(), Some(&group.subject)),
        Some(t) => (campaign.template_in(group, t), group.subjects.get(t)),
    };
    let (body_name, subject_name) = match tag {
        None => ("body".to_string(), "subject".to_string()),
        Some(t) => (format!("body.{t}"), format!("subject.{t}")),
    };
    let file = source.display(&rel);
    let (text, body, blocks) =
        body_template(campaign, group, (&rel, &file), &body_name, hb, diags)?;
    match subject.map(|s| (s, hb.register_template_string(&subject_name, s))) {
        Some((_, Ok(()))) => {}
        Some((s, Err(e))) => diags.push(template_diag(&campaign_file, &e, s, Some(&group.id))),
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
    let fixed = own::fixed_text(&format!("{text}\n{}", subject.map_or("", |s| s.as_str())));
    let words = campaign_words(campaign, group, inputs, &lang, &fixed);
    let note = text.contains("personal_note");
    let mut edits = inputs.edits.in_language(&lang);
    edits.retain(|id, _| blocks.iter().any(|b| b.id == *id));
    // The volunteer's text in these letters, as the identical-letter guard compares it.
    let note_text = Some(inputs.notes.in_language(&lang)).filter(|_| note);
    let in_order = blocks
        .iter()
        .filter_map(|b| edits.get(&b.id).map(String::as_str));
    let personal: Vec<&str> = note_text.into_iter().chain(in_order).collect();
    let sketch = own::sketch(&personal.join("\n\n"), &campaign.id);
    let ctx = context(campaign, group, inputs, &lang);
    Ok(Language {
        tag: lang,
        file,
        name: body_name,
        body,
        subject: subject_name,
        ctx,
        words,
        note,
        blocks,
        edits,
        sketch: std::sync::Arc::new(sketch),
    })
}

/// What the templates of language `lang` see besides the row: signer, statement, facts, the
/// volunteer's paragraph, date and group, in that language.
fn context(campaign: &Campaign, group: &Group, inputs: &LetterInputs, lang: &str) -> Context {
    let (facts, fact, statement) = texts_in(campaign, lang);
    Context::from(json!({
        "signer": inputs.signer,
        "statement": statement,
        "facts": facts,
        "fact": fact,
        "personal_note": inputs.notes.in_language(lang),
        "date": letter_date_in(&inputs.date, lang),
        "group": {"id": group.id, "label": group.label},
    }))
}

/// Reads a template (`rel`, shown as `file`) and registers it in `hb` in pieces named after
/// `name`, with its editable blocks; its text, pieces (`Language::body`) and blocks, empty when
/// it does not exist. Problems go to `diags`.
fn body_template(
    campaign: &Campaign,
    group: &Group,
    (rel, file): (&str, &str),
    name: &str,
    hb: &mut Handlebars<'static>,
    diags: &mut Vec<Diag>,
) -> Result<(String, Pieces, Vec<Block>)> {
    let source = &campaign.source;
    if !source.exists(rel) {
        let hint = format!("create {rel} or set `template` in [groups.{}]", group.id);
        let message = format!("template for group `{}` not found", group.id);
        diags.push(Diag::new(message).file(file).hint(hint));
        return Ok((String::new(), Vec::new(), Vec::new()));
    }
    let text = source.read_to_string(rel)?;
    let problems = syntax::template_problems(&text, file);
    // Handlebars' parser recurses as deep as blocks are nested, and its time grows with the
    // square of what it reads: a template past the limits is not handed to it, and one within
    // them is handed over in pieces.
    if !problems.is_empty() {
        diags.extend(problems);
        return Ok((text, Vec::new(), Vec::new()));
    }
    let mut body = Vec::new();
    match pieces::compile(&text, pieces::PIECE_BYTES) {
        Ok(list) => {
            for (i, mut piece) in list.into_iter().enumerate() {
                let piece_name = format!("{name}/{i}");
                // What the `editable` helper knows the template by (`get_root_template_name`).
                piece.template.name = Some(piece_name.clone());
                hb.register_template(&piece_name, piece.template);
                body.push((piece_name, piece.line_offset));
            }
        }
        Err(e) => diags.push(pieces_diag(file, e, &text)),
    }
    let (blocks, mistakes) = editable::blocks(&text, file);
    register_fragments(hb, name, &blocks);
    diags.extend(mistakes);
    Ok((text, body, blocks))
}

/// The registry name of an editable block's text on its own, for `Renderer::originals`.
fn fragment(body: &str, id: &str) -> String {
    format!("{body}#{id}")
}

/// Registers each block's text as a template of its own, to show the volunteer what they may
/// rewrite; one that does not parse on its own is shown as written.
fn register_fragments(hb: &mut Handlebars<'static>, body: &str, blocks: &[Block]) {
    for b in blocks {
        let _ = hb.register_template_string(&fragment(body, &b.id), &b.source);
    }
}

/// The words the campaign puts into a letter in `lang`: the template's fixed text and subject
/// (`fixed`), the statement, the facts and the group's demands (in `lang` and in the default
/// language), the group's label, the signer's details and the date.
fn campaign_words(
    campaign: &Campaign,
    group: &Group,
    inputs: &LetterInputs,
    lang: &str,
    fixed: &str,
) -> HashSet<String> {
    let default = &campaign.language;
    let s = &campaign.statement;
    let mut texts: Vec<&str> = vec![fixed, &group.label, &s.title, &s.organisation];
    texts.extend([s.summary.as_str(), &s.date, &s.source]);
    texts.extend(
        s.translations
            .values()
            .flat_map(|t| t.values().map(String::as_str)),
    );
    for f in &campaign.facts {
        texts.extend(
            [Some(f.text.as_str()), f.text_in(lang, default)]
                .into_iter()
                .flatten(),
        );
    }
    for d in campaign.demands_for_group(&group.id) {
        texts.extend(
            [Some(d.text.as_str()), d.text_in(lang, default)]
                .into_iter()
                .flatten(),
        );
    }
    let signer = &inputs.signer;
    texts.extend([
        signer.name.as_str(),
        &signer.email,
        &signer.city,
        &signer.country,
    ]);
    texts.push(&signer.organisation);
    let date = letter_date_in(&inputs.date, lang);
    texts.push(&date);
    own::vocabulary(texts)
}

/// A paragraph for a language none of the group's letters is written in would silently be
/// left out: each is a problem.
fn notes_without_letters(
    campaign: &Campaign,
    group: &Group,
    notes: &Notes,
    tags: &[String],
) -> Vec<Diag> {
    let known = |l: &String| l.eq_ignore_ascii_case(&campaign.language) || tags.contains(l);
    let unknown = notes.by_language.keys().filter(|l| !known(l));
    let languages = campaign.languages_line(group);
    unknown
        .map(|l| {
            let what = format!(
                "a personal paragraph is given for `{l}`, but no letter of group `{}` is in `{l}`",
                group.id
            );
            Diag::new(what).hint(format!("the group's letters are in: {languages}"))
        })
        .collect()
}

/// A template Handlebars refused: the usual mistakes explained (`syntax::explain`), anything else
/// in Handlebars' words. A subject's line is campaign.toml's, which the subject does not know.
fn template_diag(
    file: &str,
    e: &handlebars::TemplateError,
    text: &str,
    group: Option<&str>,
) -> Diag {
    let (d, pos) = match syntax::explain(text) {
        Some(p) => {
            let d = Diag::new(format!("template syntax error: {}", p.message)).file(file);
            (d.hint(p.hint), Some((p.line, p.column)))
        }
        None => {
            let d = Diag::new(format!("template syntax error: {}", e.reason())).file(file);
            (d, e.pos().map(|(l, c)| (l as u64, c as u64)))
        }
    };
    let (d, hint) = match (group, pos) {
        (Some(g), _) => (
            d.field(format!("groups.{g}.subject")),
            "fix the Handlebars syntax of the subject ({{variable}}, {{#if x}}...{{/if}})",
        ),
        (None, Some((l, c))) => (d.line(l).column(c), GENERIC_SYNTAX_HINT),
        (None, None) => (d, GENERIC_SYNTAX_HINT),
    };
    if d.hint.is_some() {
        d
    } else {
        d.hint(hint)
    }
}

/// A template body that could not be compiled in pieces (`pieces::compile`).
fn pieces_diag(file: &str, e: PieceError, text: &str) -> Diag {
    match e {
        PieceError::Syntax { error, line_offset } => {
            let mut d = template_diag(file, &error, text, None);
            // `template_diag` explains the usual mistakes with lines of the whole template;
            // Handlebars' own position is the piece's.
            if syntax::explain(text).is_none() {
                d.line = d.line.map(|l| l + line_offset);
            }
            d
        }
        PieceError::Uncut { line } => {
            if let Some(p) = syntax::explain(text) {
                let d = Diag::new(format!("template syntax error: {}", p.message)).file(file);
                return d.line(p.line).column(p.column).hint(p.hint);
            }
            let message = format!(
                "from here on, the template runs for more than {} bytes without a line that starts with text outside any block (a long template is read in parts split before such lines)",
                pieces::MAX_PIECE_BYTES
            );
            let hint = "begin some lines with a word rather than a {{...}} tag, or close blocks ({{/each}}, {{/if}}) sooner";
            Diag::new(message).file(file).line(line).hint(hint)
        }
    }
}

const GENERIC_SYNTAX_HINT: &str =
    "fix the Handlebars syntax ({{variable}}, {{#each demands}}...{{/each}})";
