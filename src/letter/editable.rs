//! Paragraphs the campaign lets volunteers rewrite: `{{#editable "id"}}...{{/editable}}` in a
//! template. Without the volunteer's version a block is its original text, rendered as any other;
//! with one, the volunteer's text stands in its place, inserted as their personal paragraph is.
//! letterdrive never writes a version itself: every word that is not the campaign's comes from
//! the volunteer.

use std::collections::{BTreeMap, HashMap};

use handlebars::{Context, Handlebars, Helper, HelperDef, HelperResult, Output};
use handlebars::{RenderContext, RenderErrorReason, Renderable, StringOutput};

use crate::error::Diag;
use crate::letter::syntax;

/// The block helper's name, as templates write it: `{{#editable "id"}}`.
pub const HELPER: &str = "editable";
/// Longest id: a short name for a paragraph, typed on command lines.
pub const MAX_ID: usize = 32;
/// Longest version of a paragraph, in characters: one paragraph of a letter, about a page.
pub const MAX_EDIT: usize = 3000;

/// The volunteer's versions of editable paragraphs, by id: for letters in every language whose
/// template has the paragraph, and per language (a lowercase tag), which wins for its letters.
/// An empty text keeps the campaign's paragraph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edits {
    pub all: BTreeMap<String, String>,
    pub by_language: BTreeMap<String, BTreeMap<String, String>>,
}

impl Edits {
    /// The versions for letters in `language`, trimmed, empty ones left out.
    pub fn in_language(&self, language: &str) -> BTreeMap<String, String> {
        let mut edits = self.all.clone();
        if let Some(own) = self.by_language.get(&language.to_ascii_lowercase()) {
            edits.extend(own.iter().map(|(id, text)| (id.clone(), text.clone())));
        }
        edits.retain(|_, text| !text.trim().is_empty());
        edits.values_mut().for_each(|t| *t = t.trim().to_string());
        edits
    }
}

/// One editable block of a template: its id, the line it opens on, and its original text as
/// the template writes it (`{{...}}` tags and all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub id: String,
    pub line: u64,
    pub source: String,
}

impl Block {
    /// Whether its text changes from letter to letter: it has `{{...}}` places in it.
    pub fn varies(&self) -> bool {
        self.source.contains(syntax::TAG_OPEN)
    }
}

/// Whether `id` can name an editable paragraph: ASCII letters, digits, `_` and `-`, so that it
/// reads the same in a template and on a command line (`--edit fr:reply=FILE`).
pub fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The editable blocks of a template, in order, and what is wrong with them: an id that is not
/// a quoted name, the same id twice, a block inside another, an `{{else}}` of the block, or the
/// helper used without `#`.
pub fn blocks(text: &str, file: &str) -> (Vec<Block>, Vec<Diag>) {
    let tags = syntax::tags(text);
    let at = |t: &syntax::Tag, message: String, hint: &str| {
        Diag::new(message)
            .file(file)
            .line(t.line)
            .column(t.column)
            .hint(hint)
    };
    let word = |s: &str| s.split_whitespace().next().unwrap_or("").to_string();
    let (mut blocks, mut diags): (Vec<Block>, Vec<Diag>) = (Vec::new(), Vec::new());
    let mut open: Vec<Open> = Vec::new();
    for tag in &tags {
        if let Some(block) = tag.inner.strip_prefix('#') {
            let name = word(block);
            if name != HELPER {
                open.push(Open {
                    name,
                    tag,
                    id: None,
                });
                continue;
            }
            if open.iter().any(|o| o.name == HELPER) {
                let hint = "close the first block before the next one opens";
                diags.push(at(tag, "an editable block is inside another".into(), hint));
            }
            let id = quoted_id(block[HELPER.len()..].trim());
            if id.is_none() {
                let message = format!("`{{{{{}}}}}` needs a quoted id", tag.inner);
                diags.push(at(tag, message, ID_HINT));
            }
            open.push(Open { name, tag, id });
        } else if let Some(block) = tag.inner.strip_prefix('/') {
            let Some(Open {
                name,
                tag: opened,
                id,
            }) = open.pop()
            else {
                continue;
            };
            if let (true, Some(id)) = (name == HELPER && name == word(block), id) {
                let source = text[opened.end..tag.start].to_string();
                if blocks.iter().any(|b: &Block| b.id == id) {
                    let message = format!("the editable id `{id}` is used twice in this template");
                    let hint = "give each editable paragraph of a template its own id";
                    diags.push(at(opened, message, hint));
                }
                let line = opened.line;
                blocks.push(Block { id, line, source });
            }
        } else if word(tag.inner) == "else" && open.last().is_some_and(|o| o.name == HELPER) {
            let message = "an editable block has no `{{else}}`".to_string();
            let hint = "put the `{{#if}}...{{else}}...{{/if}}` inside the editable block";
            diags.push(at(tag, message, hint));
        } else if word(tag.inner) == HELPER {
            let message = format!("`{{{{{}}}}}` is a block: it needs `#`", tag.inner);
            diags.push(at(tag, message, ID_HINT));
        }
    }
    (blocks, diags)
}

/// A block open at some point of a template: its helper's name, its opening tag, and for an
/// editable block its id (none when it is not a quoted name).
struct Open<'a, 't> {
    name: String,
    tag: &'a syntax::Tag<'t>,
    id: Option<String>,
}

const ID_HINT: &str = "write `{{#editable \"why\"}}The original paragraph.{{/editable}}`; an id is up to 32 letters, digits, `_` or `-`";

/// `"why"` (or `'why'`) -> `why`, when it is a quoted id and nothing else.
fn quoted_id(param: &str) -> Option<String> {
    let inner = ['"', '\'']
        .iter()
        .find_map(|q| param.strip_prefix(*q)?.strip_suffix(*q))?;
    is_id(inner).then(|| inner.to_string())
}

/// What is wrong with the volunteer's version of a paragraph: a control character (line and
/// column), or a length past `MAX_EDIT`.
pub fn text_problem(text: &str) -> Option<Diag> {
    if let Some((line, column, c)) = crate::campaign::control_char(text) {
        return Some(crate::campaign::control_diag(c).line(line).column(column));
    }
    let length = text.trim().chars().count();
    (length > MAX_EDIT).then(|| {
        Diag::new(format!(
            "the paragraph is {length} characters long; at most {MAX_EDIT} replace one paragraph of a letter"
        ))
        .hint("shorten it, or put the rest in your personal paragraph (--note)")
    })
}

/// The volunteer's versions given for paragraphs no template of the group has: an id none of
/// its templates has (given for every language), one a language's template lacks, or one for a
/// language none of its letters is in. `templates` are each language's tag and block ids;
/// `languages` says the group's languages for the hint.
pub fn unknown_edits(
    edits: &Edits,
    templates: &[(&str, Vec<&str>)],
    group: &str,
    languages: &str,
) -> Vec<Diag> {
    let known: Vec<&str> = templates.iter().flat_map(|(_, ids)| ids.clone()).collect();
    let mut known_list: Vec<&str> = known.clone();
    known_list.sort_unstable();
    known_list.dedup();
    let list = |ids: &[&str], whose: &str| match ids {
        [] => format!("{whose} no paragraph as editable: leave out --edit"),
        ids => format!("the editable paragraphs are: {}", ids.join(", ")),
    };
    let mut diags = Vec::new();
    for id in edits.all.keys().filter(|id| !known.contains(&id.as_str())) {
        let message = format!("group `{group}` has no editable paragraph `{id}`");
        let hint = list(&known_list, "its templates mark");
        diags.push(Diag::new(message).hint(hint));
    }
    for (lang, ids) in &edits.by_language {
        let Some((_, here)) = templates.iter().find(|(t, _)| t == lang) else {
            let message = format!("a version of a paragraph is given for `{lang}`, but no letter of group `{group}` is in `{lang}`");
            let hint = format!("the group's letters are in: {languages}");
            diags.push(Diag::new(message).hint(hint));
            continue;
        };
        for id in ids.keys().filter(|id| !here.contains(&id.as_str())) {
            let message = format!(
                "the `{lang}` letters of group `{group}` have no editable paragraph `{id}`"
            );
            let hint = list(here, "their template marks");
            diags.push(Diag::new(message).hint(hint));
        }
    }
    diags
}

/// The `editable` block helper: the volunteer's version of a block where there is one for the
/// template being rendered (by its name in the registry), else the block as written.
#[derive(Debug, Default)]
pub struct Editable {
    /// Template name in the registry -> id -> the volunteer's version (trimmed, not empty).
    pub edits: HashMap<String, BTreeMap<String, String>>,
}

impl HelperDef for Editable {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let id = h.param(0).and_then(|p| p.value().as_str());
        let id = id.ok_or(RenderErrorReason::ParamNotFoundForIndex(HELPER, 0))?;
        let Some(template) = h.template() else {
            let message = format!("`{{{{{HELPER} \"{id}\"}}}}` is a block: it needs `#`");
            return Err(RenderErrorReason::Other(message).into());
        };
        let name = rc.get_root_template_name();
        let edit = name.and_then(|n| self.edits.get(n)).and_then(|e| e.get(id));
        let Some(edit) = edit else {
            return template.render(r, ctx, rc, out);
        };
        // The version takes the place of the block's text, inside the space around it, so the
        // paragraphs around it stay as they are.
        let mut original = StringOutput::new();
        template.render(r, ctx, rc, &mut original)?;
        let original = original.into_string()?;
        let text = original.trim();
        let before = &original[..original.len() - original.trim_start().len()];
        let after = &original[original.trim_end().len()..];
        match text.is_empty() {
            true => out.write(&format!("{edit}{original}"))?,
            false => out.write(&format!("{before}{edit}{after}"))?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_found_with_their_source_and_mistakes_are_named() {
        let t = "Dear {{name}},\n\n{{#editable \"why\"}}\nI write because {{x}}.\n{{/editable}}\n\n{{#editable 'end'}}Bye.{{/editable}}\n";
        let (blocks, diags) = blocks(t, "t.md.hbs");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            (blocks[0].id.as_str(), blocks[0].line),
            ("why", 3),
            "{blocks:?}"
        );
        assert_eq!(blocks[0].source, "\nI write because {{x}}.\n");
        assert_eq!(blocks[1].source, "Bye.");

        let t = "{{#editable \"a\"}}x{{/editable}}\n{{#editable \"a\"}}y{{/editable}}\n{{#editable why}}z{{/editable}}\n{{#editable \"b\"}}{{#editable \"c\"}}{{/editable}}{{else}}{{/editable}}\n{{editable \"d\"}}";
        let (blocks, diags) = super::blocks(t, "t.md.hbs");
        let said: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert_eq!(blocks.len(), 4, "{blocks:?}");
        assert!(said[0].starts_with("t.md.hbs:2:1: the editable id `a` is used twice"));
        assert!(said[1].contains("`{{#editable why}}` needs a quoted id"));
        assert!(said[2].contains("an editable block is inside another"));
        assert!(said[3].contains("has no `{{else}}`"));
        assert!(said[4].contains("is a block: it needs `#`"));
        assert_eq!(said.len(), 5);
    }

    #[test]
    fn edits_for_a_language_win_and_empty_ones_keep_the_original() {
        let mut edits = Edits::default();
        edits.all.insert("why".into(), " Mine. ".into());
        edits.all.insert("end".into(), "Bye.".into());
        let fr = BTreeMap::from([("why".to_string(), "À moi.".to_string())]);
        edits.by_language.insert("fr".into(), fr);
        edits
            .by_language
            .insert("es".into(), BTreeMap::from([("end".into(), "\n".into())]));
        assert_eq!(edits.in_language("en")["why"], "Mine.");
        assert_eq!(edits.in_language("FR")["why"], "À moi.");
        assert_eq!(edits.in_language("es").get("end"), None);
    }

    #[test]
    fn a_text_with_a_control_character_or_too_long_is_refused() {
        assert_eq!(text_problem("Fine.\n\tIndented."), None);
        let d = text_problem("ok\nbad\u{1b}").unwrap();
        assert_eq!((d.line, d.column), (Some(2), Some(4)));
        assert!(text_problem(&"a".repeat(MAX_EDIT + 1)).is_some());
        assert!(is_id("reply_2-b") && !is_id("") && !is_id("a:b") && !is_id(&"a".repeat(33)));
    }
}
