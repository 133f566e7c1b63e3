//! The one pipeline every command shares: stream a group's rows, keep the targeted ones, validate,
//! render, and hand each letter on. Problems are collected, not fatal, so a run reports every bad
//! row at once; once one is seen, nothing more is handed on, so no output is half made.

use crate::campaign::{Campaign, Group, EMAIL_COLUMN};
use crate::error::{Diag, Error, Result};
use crate::message::{self, MessageSettings};
use crate::recipients::{self, DuplicateTracker, Filter, Recipients, Row};
use crate::render::{Letter, LetterInputs, Renderer};

/// Which recipients of which group.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub group: String,
    pub filters: Vec<String>,
    pub limit: Option<u64>,
}

/// At most this many problems are listed; a broken million-row file should not flood a terminal.
pub const MAX_LISTED: usize = 50;

pub struct Run<'c> {
    pub campaign: &'c Campaign,
    pub group: &'c Group,
    pub settings: MessageSettings,
    pub rows: Recipients,
    pub filters: Vec<Filter>,
    pub renderer: Renderer<'c>,
}

impl<'c> Run<'c> {
    pub fn open(campaign: &'c Campaign, target: &Target, inputs: &LetterInputs) -> Result<Run<'c>> {
        let group = campaign.group(&target.group)?;
        let rows = Recipients::open(&campaign.source, group)?;
        let filters = Filter::parse_all(&target.filters, &rows.columns, &rows.file)?;
        let renderer = Renderer::new(campaign, group, rows.columns.clone(), inputs)?;
        let settings = MessageSettings::new(
            &inputs.signer,
            inputs.date.timestamp().into(),
            &campaign.id,
            &group.id,
        )?;
        Ok(Run {
            campaign,
            group,
            settings,
            rows,
            filters,
            renderer,
        })
    }

    /// Validate and render one row, and build its message when `with_message` is set.
    pub fn letter(
        &mut self,
        row: &Row,
        with_message: bool,
    ) -> Result<(Letter, Option<lettre::Message>), Vec<Diag>> {
        let problems =
            recipients::validate_row(row, &self.rows.columns, self.group, &self.rows.file);
        if !problems.is_empty() {
            return Err(problems);
        }
        let letter = self.renderer.render(row).map_err(|d| vec![d])?;
        let message = if with_message {
            Some(message::build(&letter, &self.settings).map_err(|d| {
                vec![Diag {
                    file: Some(self.rows.file.clone()),
                    line: Some(row.line),
                    ..d
                }]
            })?)
        } else {
            None
        };
        Ok((letter, message))
    }

    /// Every targeted letter, in file order. `emit` is called only while no problem has been
    /// found; at the end, any problem (including duplicates) fails the whole run.
    pub fn each<F>(mut self, limit: Option<u64>, with_message: bool, mut emit: F) -> Result<u64>
    where
        F: FnMut(&Letter, Option<&lettre::Message>) -> Result<()>,
    {
        let mut diags: Vec<Diag> = Vec::new();
        let mut extra = 0usize;
        let mut push = |diags: &mut Vec<Diag>, d: Diag| {
            if diags.len() < MAX_LISTED {
                diags.push(d);
            } else {
                extra += 1;
            }
        };
        let mut dups = DuplicateTracker::default();
        let email_idx = self.rows.columns.get(EMAIL_COLUMN);
        let mut count = 0u64;
        while let Some(next) = self.rows.next_row() {
            let row = match next {
                Ok(row) => row,
                Err(d) => {
                    push(&mut diags, d);
                    continue;
                }
            };
            if !recipients::matches_all(&self.filters, &row) {
                continue;
            }
            if limit.is_some_and(|l| count >= l) {
                break;
            }
            count += 1;
            if let Some(email) = email_idx.and_then(|i| row.record.get(i)) {
                dups.add(email);
            }
            match self.letter(&row, with_message) {
                Ok((letter, msg)) => {
                    if diags.is_empty() {
                        emit(&letter, msg.as_ref())?;
                    }
                }
                Err(ds) => ds.into_iter().for_each(|d| push(&mut diags, d)),
            }
        }
        let dup_keys = dups.duplicates();
        if !dup_keys.is_empty() {
            for d in recipients::locate_duplicates(
                &self.campaign.source,
                self.group,
                &dup_keys,
                &self.filters,
            )? {
                push(&mut diags, d);
            }
        }
        if extra > 0 {
            diags.push(Diag::new(format!(
                "... and {extra} more problems not listed"
            )));
        }
        Error::from_diags(diags)?;
        Ok(count)
    }
}
