//! `campaign.toml`: the statement, its facts and demands, and the recipient groups. Parsed and
//! structurally validated once; templates and recipient files are checked by `check`.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{Diag, Error, Result};
use crate::source::{Source, CAMPAIGN_FILE};

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
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub title: String,
    pub organisation: String,
    pub summary: String,
    pub date: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    pub id: String,
    pub text: String,
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    label: String,
    description: String,
    subject: String,
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

#[derive(Debug, Clone)]
pub struct Campaign {
    pub source: Source,
    pub id: String,
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

        let mut diags = Vec::new();
        let at = |key: &str, message: String| {
            let d = Diag::new(message).file(&file);
            match find_line(&text, key) {
                Some(line) => d.line(line),
                None => d,
            }
        };

        if !is_id(&parsed.campaign.id) {
            diags.push(
                at(
                    "id",
                    format!(
                        "campaign id `{}` must be lowercase letters, digits and dashes",
                        parsed.campaign.id
                    ),
                )
                .hint("for example: id = \"xinjiang-2022\""),
            );
        }
        let mut groups = Vec::new();
        for (id, g) in &parsed.groups {
            if !is_id(id) {
                diags.push(at(
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
                    .file(&file)
                    .hint("add a [groups.<id>] table with label, description and subject"),
            );
        }

        let mut seen = std::collections::HashSet::new();
        for f in &parsed.facts {
            if !seen.insert(format!("fact:{}", f.id)) {
                diags.push(at(
                    &format!("\"{}\"", f.id),
                    format!("fact id `{}` is used twice", f.id),
                ));
            }
            if !f.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                diags.push(
                    at(
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
                diags.push(at(
                    &format!("\"{}\"", d.id),
                    format!("demand id `{}` is used twice", d.id),
                ));
            }
            if d.groups.is_empty() {
                diags.push(at(
                    &format!("\"{}\"", d.id),
                    format!("demand `{}` names no group", d.id),
                ));
            }
            for g in &d.groups {
                if !parsed.groups.contains_key(g) {
                    diags.push(
                        at(
                            &format!("\"{}\"", d.id),
                            format!("demand `{}` is for group `{g}`, which does not exist", d.id),
                        )
                        .hint(format!("groups are: {}", join_ids(parsed.groups.keys()))),
                    );
                }
            }
        }
        Error::from_diags(diags)?;

        Ok(Campaign {
            source,
            id: parsed.campaign.id,
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
    pub fn demands_for_group<'a>(
        &'a self,
        group: &'a str,
    ) -> impl Iterator<Item = &'a Demand> + 'a {
        self.demands
            .iter()
            .filter(move |d| d.groups.iter().any(|g| g == group))
    }
}

fn join_ids<'a>(ids: impl Iterator<Item = &'a String>) -> String {
    ids.map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
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
