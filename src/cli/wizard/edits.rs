//! The paragraphs the campaign lets volunteers rewrite: each shown as it reads in the first of
//! the chosen letters in its language, then kept with enter or rewritten in the volunteer's own
//! words, typed here or in their editor. Nothing is rewritten unless the volunteer writes it.

use super::signer::{first_words, own_editor, type_note, write_in_editor};
use super::*;
use crate::campaign::NAME_COLUMN;
use crate::letter::editable::{self, Edits};

/// One editable paragraph of the chosen letters in one language.
struct Paragraph {
    language: String,
    id: String,
    /// The paragraph as it reads in the letter to `recipient`, the first in its language.
    original: String,
    recipient: String,
    /// Whether its text changes from letter to letter (it has `{{...}}` places in it).
    varies: bool,
}

impl Wizard<'_> {
    /// Step 4, continued: the volunteer's versions of the paragraphs the letters' templates mark
    /// as editable, one question each (enter keeps the campaign's). `languages` are the
    /// letters' languages with their counts; `prev` the versions written before, by language.
    pub(super) fn ask_edits(
        &self,
        target: &Target,
        inputs: &LetterInputs,
        languages: &[(String, u64)],
        prev: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Ask<Edits> {
        let paragraphs = self.paragraphs(target, inputs, languages)?;
        if paragraphs.is_empty() {
            return Ok(Edits::default());
        }
        let which = match paragraphs.len() {
            1 => "one paragraph".to_string(),
            n => format!("{n} paragraphs"),
        };
        eprintln!("\nThe campaign lets you rewrite {which} of the letter in your own words; its facts and demands stay as the campaign wrote them.");
        let mut edits = Edits::default();
        for p in &paragraphs {
            let letters = languages
                .iter()
                .find(|l| l.0 == p.language)
                .map_or(0, |l| l.1);
            let before = prev.get(&p.language).and_then(|m| m.get(&p.id));
            let several = languages.len() > 1;
            if let Some(text) = self.ask_edit(p, letters, several, before.map(String::as_str))? {
                let own = edits.by_language.entry(p.language.clone()).or_default();
                own.insert(p.id.clone(), text);
            }
        }
        // Letters in one language: the versions go into every letter, as `--edit ID=FILE` says.
        if languages.len() < 2 {
            let by_language = std::mem::take(&mut edits.by_language);
            edits.all = by_language.into_values().next().unwrap_or_default();
        }
        Ok(edits)
    }

    /// The editable paragraphs of the first chosen letter in each language, in the order of
    /// `languages`.
    fn paragraphs(
        &self,
        target: &Target,
        inputs: &LetterInputs,
        languages: &[(String, u64)],
    ) -> Result<Vec<Paragraph>> {
        let mut run = Run::open(self.campaign, target, inputs)?;
        if run.renderer.places().all(|p| p.blocks.is_empty()) {
            return Ok(Vec::new());
        }
        let columns = run.rows.columns.clone();
        let mut first: BTreeMap<String, Vec<Paragraph>> = BTreeMap::new();
        for row in rows_of(&mut run.rows) {
            if first.len() == languages.len() {
                break;
            }
            let language = run.renderer.language_tag(&row).to_string();
            if first.contains_key(&language) || !recipients::matches_all(&run.filters, &row) {
                continue;
            }
            let recipient = row.get(&columns, NAME_COLUMN).unwrap_or("").to_string();
            let places = run.renderer.places().find(|p| p.tag == language);
            let blocks = places.map(|p| p.blocks.to_vec()).unwrap_or_default();
            let originals = run.renderer.originals(&row);
            let paragraphs = blocks
                .iter()
                .zip(originals)
                .map(|(b, (id, original))| Paragraph {
                    language: language.clone(),
                    id,
                    original,
                    recipient: recipient.clone(),
                    varies: b.varies(),
                });
            first.insert(language.clone(), paragraphs.collect());
        }
        let in_order = languages.iter().filter_map(|(l, _)| first.remove(l));
        Ok(in_order.flatten().collect())
    }

    /// One paragraph: shown as it reads, then kept (the version written before, else the
    /// campaign's) or rewritten here or in the volunteer's own editor. A version that breaks
    /// the limits is said and asked for again.
    fn ask_edit(
        &self,
        p: &Paragraph,
        letters: u64,
        several: bool,
        before: Option<&str>,
    ) -> Ask<Option<String>> {
        let of = match several {
            true => format!(" of the letters in {}", language::name(&p.language)),
            false => String::new(),
        };
        let shown = p.original.lines().map(|l| format!("    {l}\n"));
        let shown: String = shown.collect();
        eprintln!(
            "\nThe paragraph \"{}\"{of}, as it reads in the letter to {}:\n\n{shown}",
            p.id, p.recipient
        );
        // A version is the same in every letter: one started from the first letter's text
        // would carry that recipient's details into the others.
        let varies = p.varies && letters > 1;
        if varies {
            eprintln!("It is not the same in every letter; your version goes into all {letters} letters as you write it, so leave out what is particular to one.");
        }
        let start = before.unwrap_or(if varies { "" } else { &p.original });
        let editor = own_editor();
        let mut items: Vec<String> = before
            .map(|b| format!("Keep my version ({})", first_words(b)))
            .into_iter()
            .collect();
        let kept = items.len();
        items.push("Keep the campaign's paragraph".into());
        items.push("Rewrite it here".into());
        items.extend(
            editor
                .iter()
                .map(|e| format!("Rewrite it in my editor ({e})")),
        );
        let prompt = format!("The paragraph \"{}\": keep it or rewrite it?", p.id);
        loop {
            let written = match self.select(&prompt, &items, Some(0))?.checked_sub(kept) {
                None => return Ok(before.map(str::to_string)),
                Some(0) => return Ok(None),
                Some(1) => type_note()?,
                _ => self.rewrite_in_editor(editor.as_deref(), start)?,
            };
            let Some(text) = written.filter(|t| *t != p.original) else {
                eprintln!("Nothing new was written: the campaign's paragraph stays.");
                return Ok(None);
            };
            match editable::text_problem(&text) {
                None => return Ok(Some(text)),
                Some(problem) => eprintln!("{problem}"),
            }
        }
    }

    /// A version written in `editor`, starting from `start`; typed here if it will not start.
    fn rewrite_in_editor(&self, editor: Option<&str>, start: &str) -> Ask<Option<String>> {
        let Some(editor) = editor else {
            return type_note();
        };
        eprintln!("Opening {editor}: rewrite the paragraph, save, and close the editor.");
        match write_in_editor(editor, start)? {
            Ok(text) => Ok(text),
            Err(e) => {
                eprintln!(
                    "Could not start the editor `{editor}` ({e}); type the paragraph here instead."
                );
                type_note()
            }
        }
    }
}
