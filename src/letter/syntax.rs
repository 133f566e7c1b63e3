//! Template mistakes explained in a campaigner's terms: which block tag is left open (and on
//! which line), a comparison written the way other languages write it, and the name a misspelt
//! variable was probably meant to be. Used only once Handlebars has rejected a template, so it
//! never second-guesses one that works. And, before Handlebars reads a template, what it will not
//! be handed: control characters, and a size or nesting past the limits.

use crate::error::Diag;

/// A problem located in a template: 1-based line and column, what is wrong and what to write.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub column: u64,
    pub message: String,
    pub hint: String,
}

/// One `{{...}}` tag: where it starts, what is between the braces (without `~`), and the byte
/// range it takes in the template.
pub(crate) struct Tag<'t> {
    pub line: u64,
    pub column: u64,
    pub inner: &'t str,
    pub start: usize,
    pub end: usize,
}

/// The tags of `text` in order, comments skipped (they may hold anything, braces included).
pub(crate) fn tags(text: &str) -> Vec<Tag<'_>> {
    let mut out = Vec::new();
    let mut rest = 0;
    // Lines are counted on from the last tag, so a long template is read once.
    let (mut line, mut line_start, mut counted) = (1u64, 0, 0);
    while let Some(start) = text[rest..].find("{{").map(|i| rest + i) {
        let after = &text[start..];
        let comment = after.starts_with("{{!--") || after.starts_with("{{~!--");
        let ends: &[&str] = if comment { &["--}}", "--~}}"] } else { &["}}"] };
        let end = ends
            .iter()
            .filter_map(|e| after.find(e).map(|i| (start + i, e.len())));
        let Some((end, len)) = end.min() else {
            break;
        };
        let since = &text[counted..start];
        line += since.matches('\n').count() as u64;
        line_start = since.rfind('\n').map_or(line_start, |i| counted + i + 1);
        counted = start;
        let column = (start - line_start) as u64 + 1;
        let inner = text[start + 2..end].trim_matches(['{', '}', '~']);
        if !inner.starts_with('!') {
            out.push(Tag {
                line,
                column,
                inner: inner.trim(),
                start,
                end: end + len,
            });
        }
        rest = end + len;
    }
    out
}

/// What is wrong with a template Handlebars refused, if it is one of the usual mistakes.
pub fn explain(text: &str) -> Option<Problem> {
    let tags = tags(text);
    tags.iter()
        .find_map(comparison)
        .or_else(|| unbalanced(&tags))
}

/// `{{#if position == "undecided"}}`: Handlebars compares with the `eq` and `ne` helpers.
fn comparison(tag: &Tag) -> Option<Problem> {
    let (block, condition) = ["#if ", "#unless ", "else if "]
        .iter()
        .find_map(|b| tag.inner.strip_prefix(b).map(|c| (b.trim(), c)))?;
    let (helper, op) = [("ne", "!=="), ("eq", "==="), ("ne", "!="), ("eq", "==")]
        .into_iter()
        .find(|(_, op)| condition.contains(op))?;
    let (left, right) = condition.split_once(op)?;
    let (left, right) = (left.trim(), right.trim());
    let fixed = format!("{{{{{block} ({helper} {left} {right})}}}}");
    Some(Problem {
        line: tag.line,
        column: tag.column,
        message: format!(
            "`{{{{{}}}}}` compares with `{op}`, which templates do not understand",
            tag.inner
        ),
        hint: format!("write `{fixed}`"),
    })
}

/// A block tag (`{{#if}}`, `{{#each}}`, ...) never closed, closed by the wrong tag, or a closing
/// tag with nothing open.
fn unbalanced(tags: &[Tag]) -> Option<Problem> {
    let name = |s: &str| s.split_whitespace().next().unwrap_or("").to_string();
    let mut open: Vec<(String, &Tag)> = Vec::new();
    for tag in tags {
        if let Some(block) = tag.inner.strip_prefix('#') {
            open.push((name(block), tag));
        } else if let Some(block) = tag.inner.strip_prefix('/') {
            let closing = name(block);
            match open.pop() {
                Some((opened, _)) if opened == closing => {}
                Some((opened, at)) => {
                    return Some(Problem {
                        line: tag.line,
                        column: tag.column,
                        message: format!("`{{{{/{closing}}}}}` closes `{{{{#{opened}}}}}`, which was opened on line {}", at.line),
                        hint: format!("close `{{{{#{opened}}}}}` with `{{{{/{opened}}}}}` before this"),
                    })
                }
                None => {
                    return Some(Problem {
                        line: tag.line,
                        column: tag.column,
                        message: format!("`{{{{/{closing}}}}}` closes nothing: no `{{{{#{closing}}}}}` is open"),
                        hint: format!("remove it, or add `{{{{#{closing} ...}}}}` where the block starts"),
                    })
                }
            }
        }
    }
    let (opened, at) = open.pop()?;
    Some(Problem {
        line: at.line,
        column: at.column,
        message: format!(
            "`{{{{#{opened}}}}}` opened on line {} is never closed",
            at.line
        ),
        hint: format!(
            "add `{{{{/{opened}}}}}` where {} should end",
            match opened.as_str() {
                "if" | "unless" => "the conditional text",
                "each" => "the repeated text",
                _ => "the block",
            }
        ),
    })
}

/// The name in `known` that `name` was most likely meant to be: a few letters off at most.
pub fn closest<'k>(name: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    let allowed = (name.chars().count() / 3).max(1);
    known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(name, k), k))
        .filter(|(d, _)| *d <= allowed)
        .min()
        .map(|(_, k)| k)
}

/// Longest template, in bytes: a letter of a few pages is a few kilobytes, and a long letter in
/// one template is no reason to refuse it; past a mebibyte it is a mistake.
pub const MAX_TEMPLATE_BYTES: usize = 1024 * 1024;
/// Deepest nesting of blocks (`{{#each}}`, `{{#if}}`, ...) in a template.
pub const MAX_TEMPLATE_DEPTH: usize = 16;

/// How a Handlebars tag opens, `{{` (also `{{{` and `{{~`).
pub(crate) const TAG_OPEN: &str = "{{";

/// What is wrong with a template's text before Handlebars reads it: control characters, and a
/// size or nesting past the limits (docs/campaign.md).
pub(crate) fn template_problems(text: &str, file: &str) -> Vec<Diag> {
    let mut diags = Vec::new();
    if let Some((line, col, c)) = crate::campaign::control_char(text) {
        let d = crate::campaign::control_diag(c).file(file);
        diags.push(d.line(line).column(col));
    }
    if text.len() > MAX_TEMPLATE_BYTES {
        let message = format!(
            "the template is {} bytes long; at most {MAX_TEMPLATE_BYTES} are allowed",
            text.len()
        );
        let hint = "a letter is a few pages: shorten the template";
        diags.push(Diag::new(message).file(file).hint(hint));
        return diags;
    }
    if let Some(line) = super::pieces::too_deep(text, MAX_TEMPLATE_DEPTH) {
        let message = format!("blocks are nested more than {MAX_TEMPLATE_DEPTH} deep here");
        let hint = "close some blocks (`/each`, `/if`) before opening others";
        diags.push(Diag::new(message).file(file).line(line).hint(hint));
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unclosed_block_is_named_with_its_line() {
        let p = explain("Dear {{name}},\n\n{{#if (eq a \"b\")}}\nyes\n").unwrap();
        assert_eq!((p.line, p.column), (3, 1));
        assert_eq!(p.message, "`{{#if}}` opened on line 3 is never closed");
        assert_eq!(
            p.hint,
            "add `{{/if}}` where the conditional text should end"
        );
        let p = explain("{{#each demands}}\n{{#if x}}a{{/each}}").unwrap();
        assert_eq!(p.line, 2);
        assert!(p
            .message
            .contains("closes `{{#if}}`, which was opened on line 2"));
        assert!(explain("{{!-- {{#if}} in a comment --}}{{/if}}")
            .unwrap()
            .message
            .contains("closes nothing"));
        assert_eq!(
            explain("{{#if a}}{{else}}{{/if}} {{!-- {{#each}} --}}"),
            None
        );
    }

    #[test]
    fn a_comparison_operator_gets_the_helper_spelling() {
        let p = explain("x\n  {{#if position == \"undecided\"}}y{{/if}}").unwrap();
        assert_eq!((p.line, p.column), (2, 3));
        assert_eq!(p.hint, "write `{{#if (eq position \"undecided\")}}`");
        let p = explain("{{#unless role != \"china\"}}{{/unless}}").unwrap();
        assert_eq!(p.hint, "write `{{#unless (ne role \"china\")}}`");
    }

    #[test]
    fn closest_allows_a_few_letters_off() {
        let known = ["trees", "detention_scale", "ward"];
        assert_eq!(closest("tres", known), Some("trees"));
        assert_eq!(closest("wrd", known), Some("ward"));
        assert_eq!(closest("detention_scael", known), Some("detention_scale"));
        assert_eq!(closest("budget", known), None);
    }
}
