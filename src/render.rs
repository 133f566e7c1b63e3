//! Letters from templates: one Handlebars registry per group in strict mode, so a misspelt
//! variable is an error, never an empty gap in a letter someone signs.

use std::collections::HashMap;

use handlebars::{no_escape, Context, Handlebars, RenderErrorReason};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::campaign::{Campaign, Group, EMAIL_COLUMN, NAME_COLUMN, ROLE_COLUMN};
use crate::error::{Diag, Error, Result};
use crate::recipients::{Columns, Row};
use crate::source::CAMPAIGN_FILE;

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
}

pub struct Renderer<'c> {
    group: &'c Group,
    columns: Columns,
    hb: Handlebars<'static>,
    ctx: Context,
    template_file: String,
    recipients_file: String,
    campaign_file: String,
    role_idx: Option<usize>,
    /// Demands depend only on the role, so each distinct role's list is built once.
    demands_by_role: HashMap<String, Value>,
    /// The role whose demands are in the context now; consecutive rows mostly share it.
    current_role: Option<String>,
    campaign: &'c Campaign,
}

impl<'c> Renderer<'c> {
    pub fn new(
        campaign: &'c Campaign,
        group: &'c Group,
        columns: Columns,
        inputs: &LetterInputs,
    ) -> Result<Renderer<'c>> {
        let source = &campaign.source;
        let template_file = source.display(&group.template);
        let campaign_file = source.display(CAMPAIGN_FILE);
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        // Output is Markdown, not HTML: escaping happens once, when Markdown becomes HTML.
        hb.register_escape_fn(no_escape);

        let mut diags = Vec::new();
        if !source.exists(&group.template) {
            diags.push(
                Diag::new(format!("template for group `{}` not found", group.id))
                    .file(&template_file)
                    .hint(format!(
                        "create {} or set `template` in [groups.{}]",
                        group.template, group.id
                    )),
            );
        } else {
            let text = source.read_to_string(&group.template)?;
            if let Err(e) = hb.register_template_string(BODY, text) {
                diags.push(template_diag(&template_file, &e, None));
            }
        }
        if let Err(e) = hb.register_template_string(SUBJECT, &group.subject) {
            diags.push(template_diag(&campaign_file, &e, Some(&group.id)));
        }
        Error::from_diags(diags)?;

        let mut data = Map::new();
        data.insert(
            "signer".into(),
            serde_json::to_value(&inputs.signer).unwrap_or_default(),
        );
        data.insert(
            "statement".into(),
            serde_json::to_value(&campaign.statement).unwrap_or_default(),
        );
        data.insert(
            "facts".into(),
            serde_json::to_value(&campaign.facts).unwrap_or_default(),
        );
        let fact: Map<String, Value> = campaign
            .facts
            .iter()
            .map(|f| (f.id.clone(), Value::String(f.text.clone())))
            .collect();
        data.insert("fact".into(), Value::Object(fact));
        data.insert(
            "personal_note".into(),
            Value::String(inputs.personal_note.trim().to_string()),
        );
        data.insert("date".into(), Value::String(letter_date(&inputs.date)));
        data.insert(
            "group".into(),
            json!({"id": group.id, "label": group.label}),
        );
        data.insert("demands".into(), Value::Array(vec![]));

        Ok(Renderer {
            group,
            role_idx: columns.get(ROLE_COLUMN),
            columns,
            hb,
            ctx: Context::from(Value::Object(data)),
            template_file,
            recipients_file: source.display(&group.recipients),
            campaign_file,
            demands_by_role: HashMap::new(),
            current_role: None,
            campaign,
        })
    }

    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    fn demands_for(&mut self, role: &str) -> Value {
        if let Some(v) = self.demands_by_role.get(role) {
            return v.clone();
        }
        let list: Vec<Value> = self
            .campaign
            .demands_for(&self.group.id, (!role.is_empty()).then_some(role))
            .map(|d| json!({"id": d.id, "text": d.text}))
            .collect();
        let v = Value::Array(list);
        self.demands_by_role.insert(role.to_string(), v.clone());
        v
    }

    /// The ids of the demands a recipient with this role receives.
    pub fn demand_ids(&self, role: &str) -> Vec<String> {
        self.campaign
            .demands_for(&self.group.id, (!role.is_empty()).then_some(role))
            .map(|d| d.id.clone())
            .collect()
    }

    pub fn render(&mut self, row: &Row) -> Result<Letter, Diag> {
        let role = self.role_idx.and_then(|i| row.record.get(i)).unwrap_or("");
        let demands = if self.current_role.as_deref() == Some(role) {
            None
        } else {
            self.current_role = Some(role.to_string());
            Some(self.demands_for(role))
        };
        let Value::Object(data) = self.ctx.data_mut() else {
            unreachable!("the context is built as an object")
        };
        for (name, value) in self.columns.names.iter().zip(row.record.iter()) {
            if BUILTIN_NAMES.contains(&name.as_str()) {
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
        if let Some(demands) = demands {
            data.insert("demands".into(), demands);
        }

        let body = self
            .hb
            .render_with_context(BODY, &self.ctx)
            .map_err(|e| self.render_diag(&e, row, &self.template_file))?;
        let subject = self
            .hb
            .render_with_context(SUBJECT, &self.ctx)
            .map_err(|e| self.render_diag(&e, row, &self.campaign_file))?;
        let subject = subject.trim().to_string();
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
        let get = |col: &str| row.get(&self.columns, col).unwrap_or("").to_string();
        Ok(Letter {
            index: row.index,
            line: row.line,
            name: get(NAME_COLUMN),
            email: get(EMAIL_COLUMN),
            subject,
            body,
        })
    }

    fn render_diag(&self, e: &handlebars::RenderError, row: &Row, template_file: &str) -> Diag {
        let mut d = Diag::new("").file(template_file);
        if let (Some(l), Some(c)) = (e.line_no, e.column_no) {
            if template_file == self.template_file {
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
