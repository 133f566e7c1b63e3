//! `check`: everything that can be known before a letter leaves, for every group, listed in one
//! report — errors that block sending and warnings a campaigner should act on.

use std::collections::{BTreeMap, BTreeSet};

use crate::campaign::recipients::{self, DuplicateTracker};
use crate::campaign::{Campaign, Group, EMAIL_COLUMN, LANGUAGE_COLUMN, NAME_COLUMN, ROLE_COLUMN};
use crate::error::Diag;
use crate::letter::render::{LetterInputs, Signer, BUILTIN_NAMES};
use crate::letter::run::{Run, Target, MAX_LISTED};

#[derive(Debug, Default)]
pub struct GroupReport {
    pub id: String,
    pub recipients: u64,
    pub placeholders: u64,
    /// The group's file-level errors, then those of its rows until the list holds `MAX_LISTED`.
    pub errors: Vec<Diag>,
    /// Errors found in rows after the list was full: counted, not listed.
    pub unlisted: usize,
    pub warnings: Vec<Diag>,
}

impl GroupReport {
    /// The errors to show, ending with how many more there were when the list was cut short.
    pub fn error_lines(&self) -> Vec<Diag> {
        let mut lines = self.errors.clone();
        if self.unlisted > 0 {
            lines.push(Diag::unlisted(self.unlisted));
        }
        lines
    }

    fn push_capped(&mut self, d: Diag) {
        if self.errors.len() < MAX_LISTED {
            self.errors.push(d);
        } else {
            self.unlisted += 1;
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub groups: Vec<GroupReport>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.groups
            .iter()
            .map(|g| g.errors.len() + g.unlisted)
            .sum()
    }
    pub fn warnings(&self) -> usize {
        self.groups.iter().map(|g| g.warnings.len()).sum()
    }
}

/// The signer used to exercise templates; any `{{signer.*}}` then renders.
fn sample_inputs() -> LetterInputs {
    LetterInputs {
        signer: Signer {
            name: "Sample Signer".into(),
            email: "signer@example.org".into(),
            city: "Sample City".into(),
            country: "Sample Country".into(),
            organisation: "Sample Organisation".into(),
        },
        personal_note: "A sample personal paragraph.".into(),
        date: jiff::Timestamp::UNIX_EPOCH.to_zoned(jiff::tz::TimeZone::UTC),
    }
}

pub fn check(campaign: &Campaign) -> Report {
    let inputs = sample_inputs();
    Report {
        groups: campaign
            .groups
            .iter()
            .map(|g| check_group(campaign, g, &inputs))
            .collect(),
    }
}

fn check_group(campaign: &Campaign, group: &Group, inputs: &LetterInputs) -> GroupReport {
    let mut report = GroupReport {
        id: group.id.clone(),
        ..Default::default()
    };
    let target = Target {
        group: group.id.clone(),
        ..Default::default()
    };
    let mut run = match Run::open(campaign, &target, inputs) {
        Ok(run) => run,
        Err(e) => {
            report.errors.extend(diags_of(e));
            return report;
        }
    };
    let file = run.rows.file.clone();
    let columns = run.rows.columns.clone();
    let toml = campaign
        .source
        .display(crate::campaign::source::CAMPAIGN_FILE);
    report
        .errors
        .extend(header_problems(campaign, group, &columns, &file, &toml));
    let scan = scan_rows(&mut run, &mut report);
    let RowScan {
        reached,
        dups,
        first_placeholder,
        fallbacks,
    } = scan;
    let keys = dups.duplicates();
    if !keys.is_empty() {
        match recipients::locate_duplicates(&campaign.source, group, &keys, &[]) {
            Ok(ds) => ds.into_iter().for_each(|d| report.push_capped(d)),
            Err(e) => report.errors.extend(diags_of(e)),
        }
    }
    if let Some(mut d) = first_placeholder {
        if report.placeholders > 1 {
            d.message.push_str(&format!(
                " ({} of {} addresses in this file are placeholders)",
                report.placeholders, report.recipients
            ));
        }
        report
            .warnings
            .push(d.hint("replace placeholder addresses with verified ones before sending"));
    }
    let languages = run.renderer.languages().to_vec();
    report
        .warnings
        .extend(review_warnings(campaign, group, &languages, &toml));
    report
        .warnings
        .extend(fallback_warnings(campaign, group, &fallbacks, &file));
    if report.errors.is_empty() {
        for demand in campaign.demands_for_group(&group.id) {
            if !reached.contains(&demand.id) {
                report.warnings.push(
                    Diag::new(format!(
                        "demand `{}` reaches no recipient of group `{}`",
                        demand.id, group.id
                    ))
                    .file(&toml)
                    .hint("check its `roles` against the `role` column of the recipients"),
                );
            }
        }
    }
    report
}

/// Problems with the recipient file's header: columns templates cannot see, `target_by`
/// columns it lacks, and a missing `role` column that role demands need.
fn header_problems(
    campaign: &Campaign,
    group: &Group,
    columns: &recipients::Columns,
    file: &str,
    toml: &str,
) -> Vec<Diag> {
    let mut errors = Vec::new();
    for name in &columns.names {
        if BUILTIN_NAMES.contains(&name.as_str()) {
            errors.push(
                Diag::new(format!("column `{name}` has the name of a built-in template variable, so templates cannot see it"))
                    .file(file)
                    .line(1)
                    .hint(format!("rename the column; reserved names are: {}", BUILTIN_NAMES.join(", "))),
            );
        }
    }
    for col in &group.target_by {
        if columns.get(col).is_none() {
            errors.push(
                Diag::new(format!(
                    "`target_by` names column `{col}`, which {file} does not have"
                ))
                .file(toml)
                .field(format!("groups.{}.target_by", group.id))
                .hint(format!("columns are: {}", columns.list())),
            );
        }
    }
    let role_demands: Vec<&str> = campaign
        .demands
        .iter()
        .filter(|d| d.groups.contains(&group.id) && !d.roles.is_empty())
        .map(|d| d.id.as_str())
        .collect();
    if !role_demands.is_empty() && columns.get(ROLE_COLUMN).is_none() {
        errors.push(
            Diag::new(format!(
                "demands {} are for certain roles, but {file} has no `{ROLE_COLUMN}` column",
                role_demands.join(", ")
            ))
            .file(file)
            .line(1)
            .hint("add a `role` column, or remove `roles` from those demands"),
        );
    }

    errors
}

/// What reading and rendering every row of a group found besides its errors.
struct RowScan {
    reached: BTreeSet<String>,
    dups: DuplicateTracker,
    first_placeholder: Option<Diag>,
    /// Asked-for language with no template -> (line, name) of the recipients who fall back.
    fallbacks: BTreeMap<String, Vec<(u64, String)>>,
}

/// Reads, validates and renders every row, counting recipients and placeholders in `report`
/// and adding each row's problems to it.
fn scan_rows(run: &mut Run, report: &mut GroupReport) -> RowScan {
    let file = run.rows.file.clone();
    let columns = run.rows.columns.clone();
    let mut reached: BTreeSet<String> = BTreeSet::new();
    let mut dups = DuplicateTracker::default();
    let email_idx = columns.get(EMAIL_COLUMN);
    let role_idx = columns.get(ROLE_COLUMN);
    let mut first_placeholder: Option<Diag> = None;
    let language_idx = columns.get(LANGUAGE_COLUMN);
    let name_idx = columns.get(NAME_COLUMN);
    let mut fallbacks: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    while let Some(next) = run.rows.next_row() {
        let row = match next {
            Ok(row) => row,
            Err(d) => {
                report.push_capped(d);
                continue;
            }
        };
        report.recipients += 1;
        let email = email_idx.and_then(|i| row.record.get(i)).unwrap_or("");
        dups.add(email);
        match run.letter(&row, true) {
            Ok(_) => {
                let role = role_idx.and_then(|i| row.record.get(i)).unwrap_or("");
                reached.extend(run.renderer.demand_ids(role));
                if run.renderer.language_of(&row).1 {
                    let wanted = language_idx.and_then(|i| row.record.get(i)).unwrap_or("");
                    let name = name_idx.and_then(|i| row.record.get(i)).unwrap_or("");
                    fallbacks
                        .entry(wanted.to_ascii_lowercase())
                        .or_default()
                        .push((row.line, name.to_string()));
                }
                if recipients::is_placeholder_address(email) {
                    report.placeholders += 1;
                    first_placeholder.get_or_insert_with(|| {
                        Diag::new(format!(
                            "`{email}` is a placeholder address on a reserved domain"
                        ))
                        .file(&file)
                        .line(row.line)
                        .field(EMAIL_COLUMN)
                    });
                }
            }
            Err(ds) => ds.into_iter().for_each(|d| report.push_capped(d)),
        }
    }
    RowScan {
        reached,
        dups,
        first_placeholder,
        fallbacks,
    }
}

/// The languages of a group's letters that the campaign marks as needing review.
fn review_warnings(
    campaign: &Campaign,
    group: &Group,
    languages: &[String],
    toml: &str,
) -> Vec<Diag> {
    let mut warnings = Vec::new();
    for lang in std::iter::once(&campaign.language).chain(languages) {
        if campaign.needs_review.contains(lang) {
            let template = if *lang == campaign.language {
                group.template.clone()
            } else {
                campaign.template_in(group, lang)
            };
            warnings.push(
                Diag::new(format!(
                    "the `{lang}` letters of group `{}` ({template}) are marked as needing review by a native speaker",
                    group.id
                ))
                .file(toml)
                .field("campaign.needs_review")
                .hint(format!("have a native speaker check the template and the `{lang}` texts, then remove `{lang}` from needs_review")),
            );
        }
    }
    warnings
}

/// Recipients who ask for a language the group has no template in, by language.
fn fallback_warnings(
    campaign: &Campaign,
    group: &Group,
    fallbacks: &BTreeMap<String, Vec<(u64, String)>>,
    file: &str,
) -> Vec<Diag> {
    let mut warnings = Vec::new();
    for (wanted, rows) in fallbacks {
        const SHOWN: usize = 10;
        let mut list: Vec<String> = rows
            .iter()
            .take(SHOWN)
            .map(|(line, name)| format!("line {line} ({name})"))
            .collect();
        if rows.len() > SHOWN {
            list.push(format!("and {} more", rows.len() - SHOWN));
        }
        let n = rows.len();
        warnings.push(
            Diag::new(format!(
                "{n} recipient{} of group `{}` ask{} for language `{wanted}`, which has no template, and get{} the default `{}` letter: {}",
                if n == 1 { "" } else { "s" },
                group.id,
                if n == 1 { "s" } else { "" },
                if n == 1 { "s" } else { "" },
                campaign.language,
                list.join(", ")
            ))
            .file(file)
            .field(LANGUAGE_COLUMN)
            .hint(format!(
                "add {} to write to them in `{wanted}`",
                campaign.template_in(group, wanted.split('-').next().unwrap_or(wanted))
            )),
        );
    }
    warnings
}

fn diags_of(e: crate::error::Error) -> Vec<Diag> {
    use crate::error::Error;
    match e {
        Error::Invalid(d) | Error::Usage(d) => vec![d],
        Error::Many(ds) => ds,
        Error::Io { path, source } => {
            vec![Diag::new(format!("cannot read the file: {source}"))
                .file(path.display().to_string())]
        }
    }
}
