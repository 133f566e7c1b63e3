//! `check`: everything that can be known before a letter leaves, for every group, listed in one
//! report — errors that block sending and warnings a campaigner should act on.

use std::collections::{BTreeMap, BTreeSet};

use crate::campaign::recipients::{self, Columns, DuplicateTracker};
use crate::campaign::source::CAMPAIGN_FILE;
use crate::campaign::{Campaign, Group, EMAIL_COLUMN, LANGUAGE_COLUMN, NAME_COLUMN, ROLE_COLUMN};
use crate::error::{Diag, Error};
use crate::letter::editable::Block;
use crate::letter::render::{LetterInputs, Notes, Renderer, Signer, BUILTIN_NAMES};
use crate::letter::run::{push_capped, Run, Target};

#[derive(Debug, Default)]
pub struct GroupReport {
    pub id: String,
    pub recipients: u64,
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

    fn push_error(&mut self, d: Diag) {
        push_capped(&mut self.errors, &mut self.unlisted, d);
    }
}

#[derive(Debug, Default)]
pub struct Report {
    /// Warnings about the campaign as a whole, before those of its groups.
    pub warnings: Vec<Diag>,
    pub groups: Vec<GroupReport>,
}

impl Report {
    pub fn errors(&self) -> usize {
        let each = self.groups.iter().map(|g| g.errors.len() + g.unlisted);
        each.sum()
    }
    pub fn warnings(&self) -> usize {
        let groups: usize = self.groups.iter().map(|g| g.warnings.len()).sum();
        self.warnings.len() + groups
    }
}

/// Checks the whole campaign as of `today` (by which its `updated` date is judged).
pub fn check(campaign: &Campaign, today: jiff::civil::Date) -> Report {
    // A sample signer, so that any `{{signer.*}}` renders.
    let inputs = LetterInputs {
        signer: Signer {
            name: "Sample Signer".into(),
            email: "signer@example.org".into(),
            city: "Sample City".into(),
            country: "Sample Country".into(),
            organisation: "Sample Organisation".into(),
        },
        notes: Notes::one("A sample personal paragraph."),
        edits: Default::default(),
        date: jiff::Timestamp::UNIX_EPOCH.to_zoned(jiff::tz::TimeZone::UTC),
    };
    let groups = campaign.groups.iter();
    Report {
        warnings: age_warning(campaign, today).into_iter().collect(),
        groups: groups.map(|g| check_group(campaign, g, &inputs)).collect(),
    }
}

/// A campaign last updated more than a year before `today` may carry stale facts and demands.
fn age_warning(campaign: &Campaign, today: jiff::civil::Date) -> Option<Diag> {
    use jiff::ToSpan;
    let updated = campaign.updated?;
    if updated.checked_add(1.year()).is_ok_and(|due| due >= today) {
        return None;
    }
    let by = campaign
        .reviewer
        .as_ref()
        .map(|r| format!(" by {r}"))
        .unwrap_or_default();
    let message = format!("the campaign was last updated on {updated}{by}, more than a year ago: its facts and demands may be out of date");
    let hint =
        "check them against current news, then set `updated` under [campaign] to the date you did";
    let diag = Diag::new(message).file(campaign.source.display(CAMPAIGN_FILE));
    Some(diag.field("campaign.updated").hint(hint))
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
            report.errors = diags_of(e);
            return report;
        }
    };
    let file = run.rows.file.clone();
    let toml = campaign.source.display(CAMPAIGN_FILE);
    let columns = &run.rows.columns;
    report.errors = header_problems(campaign, group, columns, &file, &toml);
    let scan = scan_rows(&mut run, &mut report);
    let keys = scan.dups.duplicates();
    if !keys.is_empty() {
        match recipients::locate_duplicates(&campaign.source, group, &keys, &[]) {
            Ok(ds) => ds.into_iter().for_each(|d| report.push_error(d)),
            Err(e) => report.errors.extend(diags_of(e)),
        }
    }
    if let Some(mut d) = scan.first_placeholder {
        if scan.placeholders > 1 {
            d.message.push_str(&format!(
                " ({} of {} addresses in this file are placeholders)",
                scan.placeholders, report.recipients
            ));
        }
        let hint = "replace placeholder addresses with verified ones before sending";
        report.warnings.push(d.hint(hint));
    }
    let languages = std::iter::once(&campaign.language).chain(run.renderer.languages());
    for lang in languages.filter(|l| campaign.needs_review.contains(l)) {
        let template = if *lang == campaign.language {
            group.template.clone()
        } else {
            campaign.template_in(group, lang)
        };
        report.warnings.push(
            Diag::new(format!(
                "the `{lang}` letters of group `{}` ({template}) are marked as needing review by a native speaker",
                group.id
            ))
            .file(&toml)
            .field("campaign.needs_review")
            .hint(format!("have a native speaker check the template and the `{lang}` texts, then remove `{lang}` from needs_review")),
        );
    }
    report.warnings.extend(impersonal(&run.renderer, group));
    for (wanted, rows) in &scan.fallbacks {
        report
            .warnings
            .push(fallback_warning(campaign, group, wanted, rows, &file));
    }
    if report.errors.is_empty() {
        let demands = campaign.demands_for_group(&group.id);
        for demand in demands.filter(|d| !scan.reached.contains(&d.id)) {
            let message = format!(
                "demand `{}` reaches no recipient of group `{}`",
                demand.id, group.id
            );
            let hint = "check its `roles` against the `role` column of the recipients";
            report
                .warnings
                .push(Diag::new(message).file(&toml).hint(hint));
        }
    }
    report
}

/// Problems with the recipient file's header: columns templates cannot see, `target_by`
/// columns it lacks (and labels for columns not in it), and a missing `role` column that role
/// demands need.
fn header_problems(
    campaign: &Campaign,
    group: &Group,
    columns: &Columns,
    file: &str,
    toml: &str,
) -> Vec<Diag> {
    let mut errors = Vec::new();
    for name in columns
        .names
        .iter()
        .filter(|n| BUILTIN_NAMES.contains(&n.to_lowercase().as_str()))
    {
        errors.push(
            Diag::new(format!("column `{name}` has the name of a built-in template variable, so templates cannot see it"))
                .file(file)
                .line(1)
                .hint(format!("rename the column; reserved names are: {}", BUILTIN_NAMES.join(", "))),
        );
    }
    for col in group.target_by.iter().filter(|c| columns.get(c).is_none()) {
        errors.push(
            Diag::new(format!(
                "`target_by` names column `{col}`, which {file} does not have"
            ))
            .file(toml)
            .field(format!("groups.{}.target_by", group.id))
            .hint(format!("columns are: {}", columns.list())),
        );
    }
    for col in group.labels.keys().filter(|c| !group.target_by.contains(c)) {
        errors.push(
            Diag::new(format!(
                "labels are given for column `{col}`, which is not in `target_by`"
            ))
            .file(toml)
            .field(format!("groups.{}.labels.{col}", group.id))
            .hint("add the column to `target_by`, or remove its labels"),
        );
    }
    let role_demands: Vec<&str> = campaign
        .demands_for_group(&group.id)
        .filter(|d| !d.roles.is_empty())
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
#[derive(Default)]
struct RowScan {
    reached: BTreeSet<String>,
    dups: DuplicateTracker,
    placeholders: u64,
    first_placeholder: Option<Diag>,
    /// Asked-for language with no template -> (line, name) of the recipients who fall back.
    fallbacks: BTreeMap<String, Vec<(u64, String)>>,
}

/// Reads, validates and renders every row, counting recipients in `report` and adding each row's
/// problems to it.
fn scan_rows(run: &mut Run, report: &mut GroupReport) -> RowScan {
    let mut scan = RowScan::default();
    let columns = run.rows.columns.clone();
    while let Some(next) = run.rows.next_row() {
        let row = match next {
            Ok(row) => row,
            Err(d) => {
                report.push_error(d);
                continue;
            }
        };
        report.recipients += 1;
        let field = |col: &str| row.get(&columns, col).unwrap_or("");
        let email = field(EMAIL_COLUMN);
        scan.dups.add(email);
        if let Err(ds) = run.letter(&row, true) {
            ds.into_iter().for_each(|d| report.push_error(d));
            continue;
        }
        scan.reached
            .extend(run.renderer.demand_ids(field(ROLE_COLUMN)));
        if run.renderer.language_of(&row).1 {
            let wanted = field(LANGUAGE_COLUMN).to_ascii_lowercase();
            let fallbacks = scan.fallbacks.entry(wanted).or_default();
            fallbacks.push((row.line, field(NAME_COLUMN).to_string()));
        }
        if recipients::is_placeholder_address(email) {
            scan.placeholders += 1;
            scan.first_placeholder.get_or_insert_with(|| {
                Diag::new(format!(
                    "`{email}` is a placeholder address on a reserved domain"
                ))
                .file(&run.rows.file)
                .line(row.line)
                .field(EMAIL_COLUMN)
            });
        }
    }
    scan
}

/// Where the volunteer's words cannot go: a template with neither a place for their paragraph
/// nor a paragraph they may rewrite makes every letter a form letter; prompts whose answers
/// have no `{{personal_note}}` to go into are asked for nothing; and an editable paragraph in
/// one language's template but not in another's is offered to some volunteers only.
fn impersonal(renderer: &Renderer, group: &Group) -> Vec<Diag> {
    let mut warnings = Vec::new();
    let id = &group.id;
    for t in renderer.places() {
        if !t.note && t.blocks.is_empty() {
            let message = format!("the letters of group `{id}` have no place for the volunteer's own words: {} does not use {{{{personal_note}}}} and has no editable paragraph", t.file);
            let hint = "add {{personal_note}} where the volunteer's paragraph belongs, or mark a paragraph volunteers may rewrite: {{#editable \"why\"}}...{{/editable}}; offices discount identical form letters";
            warnings.push(Diag::new(message).file(t.file).hint(hint));
        } else if !t.note && !group.prompts.is_empty() {
            let message = format!("the answers to the prompts of group `{id}` become the volunteer's paragraph, but {} does not use {{{{personal_note}}}}", t.file);
            let hint = "add {{personal_note}} where the volunteer's paragraph belongs";
            warnings.push(Diag::new(message).file(t.file).hint(hint));
        }
    }
    let mut places = renderer.places();
    let Some(default) = places.next() else {
        return warnings;
    };
    let ids = |blocks: &[Block]| -> Vec<String> { blocks.iter().map(|b| b.id.clone()).collect() };
    let first = ids(default.blocks);
    for t in places {
        let theirs = ids(t.blocks);
        let pairs = [
            (&first, &theirs, t.file, default.file),
            (&theirs, &first, default.file, t.file),
        ];
        for (has, lacks, file, other) in pairs {
            for missing in has.iter().filter(|i| !lacks.contains(i)) {
                let message = format!("the editable paragraph `{missing}` of {other} is not in its translation {file}, whose volunteers cannot rewrite it");
                let hint = format!("mark the same paragraph of {file} with {{{{#editable \"{missing}\"}}}}, or remove the mark from {other}");
                warnings.push(Diag::new(message).file(file).hint(hint));
            }
        }
    }
    warnings
}

/// Recipients who ask for a language `wanted` the group has no template in.
fn fallback_warning(
    campaign: &Campaign,
    group: &Group,
    wanted: &str,
    rows: &[(u64, String)],
    file: &str,
) -> Diag {
    const SHOWN: usize = 10;
    let shown = rows.iter().take(SHOWN);
    let mut list: Vec<String> = shown
        .map(|(line, name)| format!("line {line} ({name})"))
        .collect();
    if rows.len() > SHOWN {
        list.push(format!("and {} more", rows.len() - SHOWN));
    }
    let (n, s) = (rows.len(), if rows.len() == 1 { "s" } else { "" });
    let primary = wanted.split('-').next().unwrap_or(wanted);
    Diag::new(format!(
        "{n} recipient{} of group `{}` ask{s} for language `{wanted}`, which has no template, and get{s} the default `{}` letter: {}",
        if n == 1 { "" } else { "s" },
        group.id,
        campaign.language,
        list.join(", ")
    ))
    .file(file)
    .field(LANGUAGE_COLUMN)
    .hint(format!(
        "add {} to write to them in `{wanted}`",
        campaign.template_in(group, primary)
    ))
}

fn diags_of(e: Error) -> Vec<Diag> {
    match e {
        Error::Invalid(d) | Error::Usage(d) | Error::Busy(d) => vec![d],
        Error::Many(ds) => ds,
        Error::Io { path, source } => {
            let message = format!("cannot read the file: {source}");
            vec![Diag::new(message).file(path.display().to_string())]
        }
    }
}
