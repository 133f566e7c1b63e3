//! A long template compiled in pieces. Handlebars' parser finds each element's line by counting
//! from the start of the template, so compiling a template takes time growing with the square of
//! its length. Cut into pieces of a few kilobytes, each compiled on its own, it takes time growing
//! with its length, and a letter is the pieces' outputs one after the other.
//!
//! A cut must not change a letter, so it is made only where nothing can reach across it:
//! - at top level: a block (`{{#if}}`, `{{#each}}`, ...), comment or raw block is never split,
//!   and a piece is kept only when Handlebars compiles it on its own, which an unclosed block
//!   fails;
//! - where whitespace control (`~`) cannot reach across the cut (`cut_points` has the details);
//! - never in a template that defines or uses partials or decorators (`{{>`, `{{#>`, `{{*`,
//!   `{{#*`), which can tie one part of a template to another.

use handlebars::{Template, TemplateError};

/// Bytes a piece grows to before it is cut at the next place that is safe.
pub const PIECE_BYTES: usize = 4 * 1024;
/// Longest stretch of template without a place to cut. Handlebars takes time growing with the
/// square of a stretch's length; up to this one `check` and `render` do not keep anyone waiting.
pub const MAX_PIECE_BYTES: usize = 64 * 1024;

// How tags open and close, named so that the scans below read as what they look for.
const TAG_OPEN: &str = "{{";
const TAG_CLOSE: &str = "}}";
const TAG_CLOSE_CHAR: char = '}';
const COMMENT_CLOSE: &str = "--}}";
const RAW_OPEN: &str = "{{{{";
const RAW_END_TAG: &str = "{{{{/";
const ESCAPE: char = '\\';
/// What may stand between `{{` and a tag's name: more braces (`{{{`), `~`, spaces.
const TAG_PREFIX: [char; 3] = ['{', '~', ' '];

/// A compiled piece, and the line of the whole template it starts on, less one.
pub struct Piece {
    pub template: Template,
    pub line_offset: u64,
}

/// Why a template could not be compiled.
pub enum PieceError {
    /// Handlebars refused a piece; its line is the piece's, `line_offset` makes it the template's.
    Syntax {
        error: TemplateError,
        line_offset: u64,
    },
    /// A stretch starting on `line` has no place to cut within `MAX_PIECE_BYTES`.
    Uncut { line: u64 },
}

/// Compiles `text` in pieces of about `target` bytes (see the module's comment for where it cuts).
pub fn compile(text: &str, target: usize) -> Result<Vec<Piece>, PieceError> {
    let mut pieces = Vec::new();
    let (mut start, mut start_line) = (0, 0u64);
    let cuts = if may_cut(text) {
        cut_points(text)
    } else {
        Vec::new()
    };
    // The last place a cut could be made: no stretch without one may pass the limit.
    let mut last = (0, 0);
    // A piece ends at the first place past `target`, so it is shorter than this unless
    // Handlebars refused to end one where counting tags said it could.
    let longest = MAX_PIECE_BYTES + target;
    for (offset, line) in cuts {
        if offset - last.0 > MAX_PIECE_BYTES {
            return Err(PieceError::Uncut { line: last.1 + 1 });
        }
        last = (offset, line);
        if offset - start < target {
            continue;
        }
        if offset - start > longest {
            return Err(PieceError::Uncut {
                line: start_line + 1,
            });
        }
        // A piece Handlebars refuses ends inside a block or comment: the cut moves on.
        if let Ok(template) = Template::compile(&text[start..offset]) {
            pieces.push(Piece {
                template,
                line_offset: start_line,
            });
            (start, start_line) = (offset, line);
        }
    }
    if text.len() - last.0 > MAX_PIECE_BYTES {
        return Err(PieceError::Uncut { line: last.1 + 1 });
    }
    if text.len() - start > longest {
        return Err(PieceError::Uncut {
            line: start_line + 1,
        });
    }
    match Template::compile(&text[start..]) {
        Ok(template) => pieces.push(Piece {
            template,
            line_offset: start_line,
        }),
        Err(error) => {
            return Err(PieceError::Syntax {
                error,
                line_offset: start_line,
            })
        }
    }
    Ok(pieces)
}

/// Whether any cut is safe: partials and decorators tie parts of a template together.
fn may_cut(text: &str) -> bool {
    text.match_indices(TAG_OPEN).all(|(i, _)| {
        let rest = text[i..].trim_start_matches(TAG_PREFIX);
        let rest = rest.strip_prefix('#').unwrap_or(rest);
        !rest.starts_with(['>', '*'])
    })
}

/// The places a template may be cut, as (byte offset, lines before it): the start of a line, at
/// block depth 0 and outside comments and raw blocks as far as counting tags tells (Handlebars'
/// compiling each piece is what makes sure), where
/// - the line has text before any tag: a `{{~` after the cut stops there;
/// - the last tag before the cut, comments aside, does not end with `~}}`, which Handlebars
///   keeps trimming the start of each text up to the next tag.
///
/// Standalone tags need nothing more: whether a tag stands alone depends on its own line only,
/// and the start of a template counts as the start of a line, as the cut always is.
fn cut_points(text: &str) -> Vec<(usize, u64)> {
    let mut points = Vec::new();
    let mut scan = Scan::default();
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let before_tag = line.find(TAG_OPEN).map_or(line, |i| &line[..i]);
        if n > 0 && scan.at_top() && !before_tag.trim().is_empty() && !scan.tilde {
            points.push((offset, n as u64));
        }
        scan.line(line);
        offset += line.len();
    }
    points
}

/// The line on which blocks first nest deeper than `limit`, if they do: counted as for the cuts,
/// so a block tag inside a comment or a raw block opens nothing.
pub fn too_deep(text: &str, limit: usize) -> Option<u64> {
    let mut scan = Scan::default();
    let past = text.split_inclusive('\n').position(|line| {
        scan.line(line);
        scan.deepest > limit
    });
    past.map(|n| n as u64 + 1)
}

/// What the scan of a template is in the middle of.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Inside {
    #[default]
    Text,
    /// A comment, until the text that ends it (`--}}` or `}}`).
    Comment(&'static str),
    /// A raw block's text, until its end tag (`{{{{/`).
    Raw,
    /// A tag, until its `}}`.
    Tag,
}

/// Block depth, what the scan is in, and what whitespace control would see, counted from tags
/// as a template's lines go by.
#[derive(Default)]
struct Scan {
    depth: usize,
    /// The deepest `depth` has been.
    deepest: usize,
    inside: Inside,
    /// Whether the last tag other than a comment ended with `~}}`. Handlebars keeps such a tag
    /// trimming the start of every text up to the next tag, past comments.
    tilde: bool,
}

impl Scan {
    fn at_top(&self) -> bool {
        self.depth == 0 && self.inside == Inside::Text
    }

    fn line(&mut self, mut line: &str) {
        loop {
            let end = match self.inside {
                Inside::Text => None,
                Inside::Comment(end) => Some(end),
                Inside::Raw => Some(RAW_END_TAG),
                Inside::Tag => Some(TAG_CLOSE),
            };
            if let Some(end) = end {
                let Some(i) = line.find(end) else { return };
                if self.inside == Inside::Tag {
                    self.tilde = line[..i].trim_end_matches(TAG_CLOSE_CHAR).ends_with('~');
                }
                self.inside = match self.inside {
                    Inside::Raw => Inside::Tag,
                    _ => Inside::Text,
                };
                line = &line[i + end.len()..];
                continue;
            }
            let Some(i) = line.find(TAG_OPEN) else { return };
            let (before, tag) = line.split_at(i);
            line = &tag[TAG_OPEN.len()..];
            // Handlebars reads `\{{` and `\{{{{` as text; two backslashes or more are text
            // before a tag.
            if before.len() - before.trim_end_matches(ESCAPE).len() == 1 {
                line = line.strip_prefix(TAG_OPEN).unwrap_or(line);
                continue;
            }
            let rest = tag.trim_start_matches(TAG_PREFIX);
            self.inside = match rest.as_bytes() {
                _ if tag.starts_with(RAW_OPEN) => Inside::Raw,
                [b'!', b'-', b'-', ..] => Inside::Comment(COMMENT_CLOSE),
                [b'!', ..] => Inside::Comment(TAG_CLOSE),
                [b'#', ..] | [b'^', b'a'..=b'z' | b'A'..=b'Z', ..] => {
                    self.depth += 1;
                    self.deepest = self.deepest.max(self.depth);
                    Inside::Tag
                }
                [b'/', ..] => {
                    self.depth = self.depth.saturating_sub(1);
                    Inside::Tag
                }
                _ => Inside::Tag,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use handlebars::Handlebars;
    use proptest::prelude::*;
    use serde_json::json;

    fn whole(text: &str) -> Result<String, String> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        hb.register_template_string("t", text)
            .map_err(|e| e.to_string())?;
        hb.render("t", &data()).map_err(|e| e.to_string())
    }

    fn in_pieces(text: &str, target: usize) -> Result<(String, usize), String> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        let pieces = compile(text, target).map_err(|e| match e {
            PieceError::Syntax { error, .. } => error.to_string(),
            PieceError::Uncut { line } => format!("uncut from {line}"),
        })?;
        let mut out = String::new();
        for (i, p) in pieces.iter().enumerate() {
            hb.register_template(&i.to_string(), p.template.clone());
            out += &hb
                .render(&i.to_string(), &data())
                .map_err(|e| e.to_string())?;
        }
        Ok((out, pieces.len()))
    }

    fn data() -> serde_json::Value {
        json!({"name": "Ana", "yes": true, "no": false, "items": ["a", "b"], "empty": []})
    }

    #[test]
    fn nesting_is_counted_where_handlebars_opens_blocks() {
        let deep = |n: usize| "{{#if a}}".repeat(n) + &"{{/if}}".repeat(n);
        assert_eq!(too_deep(&format!("one\ntwo\n{}\n", deep(17)), 16), Some(3));
        assert_eq!(too_deep(&deep(16), 16), None);
        let commented = format!(
            "{{{{!-- {} --}}}}\n{{{{{{{{raw}}}}}}}}{}{{{{{{{{/raw}}}}}}}}",
            deep(20),
            deep(20)
        );
        assert_eq!(too_deep(&commented, 16), None);
        // An escaped `{{` opens no comment: the blocks after it count.
        assert_eq!(whole("\\{{!-- x --}}").as_deref(), Ok("{{!-- x --}}"));
        assert_eq!(whole("\\\\{{!-- x --}}").as_deref(), Ok("\\"));
        assert_eq!(too_deep(&format!("\\{{{{!-- {}", deep(17)), 16), Some(1));
        assert_eq!(
            too_deep(&format!("\\\\{{{{!-- {} --}}}}", deep(17)), 16),
            None
        );
    }

    #[test]
    fn a_block_a_comment_and_a_raw_block_are_never_cut() {
        let lines = "one\ntwo\nthree\n";
        for text in [
            format!("{{{{#if yes}}}}\n{lines}{{{{/if}}}}\n"),
            format!("{{{{!--\n{lines}--}}}}\n"),
            format!("{{{{! a\n{lines}}}}}\n"),
            format!("{{{{{{{{raw}}}}}}}}\n{lines}{{{{{{{{/raw}}}}}}}}\n"),
            format!("{{{{#*inline \"p\"}}}}x{{{{/inline}}}}\n{lines}{{{{> p}}}}\n"),
        ] {
            let (out, n) = in_pieces(&text, 1).unwrap();
            assert_eq!(n, 1, "{text:?}");
            assert_eq!(Ok(out), whole(&text));
        }
        let (out, n) = in_pieces(&format!("{{{{name}}}}\n{lines}{lines}"), 1).unwrap();
        assert_eq!(n, 7);
        assert_eq!(Ok(out), whole(&format!("{{{{name}}}}\n{lines}{lines}")));
    }

    #[test]
    fn errors_and_limits_name_the_template_line() {
        let text = format!("{}Dear {{{{name\n", "plain\n".repeat(3000));
        match compile(&text, 64) {
            Err(PieceError::Syntax { error, line_offset }) => {
                let whole = Template::compile(&text).err().unwrap().pos().unwrap().0;
                assert!(line_offset > 2900);
                assert_eq!(error.pos().unwrap().0 as u64 + line_offset, whole as u64)
            }
            _ => panic!("a bad tag compiled"),
        }
        let text = format!("a\nb\n{}", "{{name}}\n".repeat(10_000));
        assert!(matches!(
            compile(&text, 1),
            Err(PieceError::Uncut { line: 2 })
        ));
        // The stretch is named where it starts, after the last place a cut could be made.
        let text = format!(
            "a\nb\n{}c\n{}",
            "x\n".repeat(30_000),
            "{{name}}\n".repeat(10_000)
        );
        assert!(matches!(
            compile(&text, PIECE_BYTES),
            Err(PieceError::Uncut { line: 30_003 })
        ));
    }

    /// Lines of the kinds that interact across lines: standalone tags, `~`, comments.
    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => "[a-z]{1,6}( [a-z]{1,6}){0,2}",
            2 => Just(String::new()),
            1 => Just("  ".to_string()),
            1 => Just("  indented text".to_string()),
            2 => Just("Dear {{name}},".to_string()),
            1 => Just("{{~name~}}".to_string()),
            1 => Just("  {{~name}}".to_string()),
            1 => Just("{{name~}}  ".to_string()),
            1 => Just("{{! a comment }}".to_string()),
            1 => Just("text {{! a comment }}".to_string()),
            1 => Just("{{!-- a comment --}} text".to_string()),
            1 => Just("{{~! a comment ~}}".to_string()),
            1 => Just("  {{!-- a comment\ntwo lines\nend --}}".to_string()),
            1 => Just("{{! short\nplain\nplain }} after".to_string()),
            1 => Just("\\{{escaped}}".to_string()),
            1 => Just("\\{{!-- not a comment".to_string()),
            1 => Just("\\{{{{raw}}}} not raw".to_string()),
            1 => Just("two \\\\{{name}} then a tag".to_string()),
            1 => Just("{{#if yes}}inline{{/if}} text".to_string()),
            1 => Just("text {{name~}}".to_string()),
            1 => Just("text {{name~}} tail".to_string()),
            1 => Just("{{~name}} tail".to_string()),
            1 => Just("  text {{~name}}".to_string()),
            1 => Just("\t".to_string()),
            1 => Just("{{{name}}} said".to_string()),
            1 => Just("{{#each items}}{{this}}{{/each}}".to_string()),
            1 => Just("{{{{raw}}}}\nplain {{name}}\nplain\n{{{{/raw}}}}".to_string()),
        ]
    }

    /// Templates of lines and blocks nested in each other, with and without `else`.
    fn template_lines() -> impl Strategy<Value = Vec<String>> {
        let blocks = [
            ("{{#if yes}}", "{{/if}}"),
            ("  {{#if no}}", "{{~/if~}}"),
            ("{{#each items}}", "{{/each}}"),
            ("{{#each empty}}", "  {{/each}}  "),
            ("{{#unless no~}}", "{{~/unless}}"),
            ("{{#with name}}", "{{/with}}"),
            ("{{#if yes~}}", "{{~/if}}"),
            ("text {{#if yes}}", "{{/if}} text"),
        ];
        let elses = ["{{else}}", "{{^}}", "  {{~else~}}"];
        let item = line().prop_map(|l| vec![l]);
        let item = item.prop_recursive(3, 60, 8, move |inner| {
            let body = prop::collection::vec(inner, 0..8).prop_map(|v| v.concat());
            (
                0..blocks.len(),
                body.clone(),
                prop::option::of((0..elses.len(), body)),
            )
                .prop_map(move |(b, body, other)| {
                    let (open, close) = blocks[b];
                    let mut lines = vec![open.to_string()];
                    lines.extend(body);
                    if let Some((e, other)) = other {
                        lines.push(elses[e].to_string());
                        lines.extend(other);
                    }
                    lines.push(close.to_string());
                    lines
                })
        });
        let plain = prop_oneof![
            "[a-z]{1,6}( [a-z]{1,6}){0,2}",
            Just(String::new()),
            Just("Dear {{name}}".to_string()),
            Just("  indented".to_string()),
            Just("tail {{name~}}".to_string()),
        ];
        let plain = plain.prop_map(|l| vec![l]);
        let top = prop_oneof![2 => plain, 1 => item];
        // Now and then a tag that breaks the template, which the pieces must refuse too.
        let broken = prop_oneof![Just("{{/if}}"), Just("{{#if yes}}"), Just("{{!-- open")];
        let broken = prop::option::weighted(0.1, (broken, any::<prop::sample::Index>()));
        (prop::collection::vec(top, 0..30), broken).prop_map(|(v, broken)| {
            let mut lines = v.concat();
            if let Some((tag, at)) = broken {
                lines.insert(at.index(lines.len() + 1), tag.to_string());
            }
            lines
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn pieces_render_what_the_whole_renders(
            lines in template_lines(),
            crlf in any::<bool>(),
            end in any::<bool>(),
            target in 1usize..40,
        ) {
            let mut text = lines.join("\n");
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            if end {
                text.push('\n');
            }
            let whole = whole(&text);
            let pieces = in_pieces(&text, target).map(|(out, _)| out);
            match whole {
                Ok(out) => prop_assert_eq!(Ok(out), pieces),
                Err(_) => prop_assert!(pieces.is_err()),
            }
        }
    }
}
