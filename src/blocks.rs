//! The encoded text and HTML parts of a letter, remembered block by block across letters.
//!
//! Most of a campaign letter is the same for every recipient: the paragraphs without a name in
//! them, the demands of a role, the signature. Converting them to HTML and quoted-printable again
//! for each of a million letters was half the cost of a message, so a letter's Markdown is cut
//! into blocks that CommonMark parses independently, and each block seen twice keeps its encoded
//! parts. The result is byte for byte what converting the whole letter gives; when a letter holds
//! anything that could tie blocks together, it is converted whole.

use std::cell::RefCell;
use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;

use crate::markdown;
use crate::message::{lines, quoted_printable_into, quoted_printable_line, Eol};
use crate::seen_twice::SeenTwice;

/// Encoded blocks kept per thread; beyond this the cache starts over, so a campaign with many
/// distinct blocks costs memory in proportion to this, not to its recipients.
const MAX_BLOCKS: usize = 128;
/// Blocks seen once, remembered only by hash until they are seen again.
const MAX_SEEN: usize = 1024;

/// By the hash of the block's Markdown; the Markdown is kept to tell collisions apart.
struct Encoded {
    markdown: Box<str>,
    eol: Eol,
    text: Box<[u8]>,
    html: Box<[u8]>,
}

/// Lines of plain paragraphs, quoted-printable, as the text part has them and, where that
/// differs, as the HTML part does (`<p>` before the first, `</p>` after the last, something
/// escaped). A paragraph with a name in it is new in every letter, but most of its lines are not,
/// and quoted-printable encodes each line on its own.
struct EncodedLine {
    line: Box<str>,
    eol: Eol,
    qp: Box<[u8]>,
    /// The HTML line, by `Place`, once a letter needed it there. Kept with the text line, it is
    /// found by the same lookup: looked up on its own, with its tags, it cost building the tagged
    /// line, hashing and comparing it, for the first line of every paragraph that changes.
    html: [Option<Box<[u8]>>; 4],
}

/// Where a line is in its paragraph, which decides the tags around it in the HTML.
#[derive(Clone, Copy)]
enum Place {
    Only,
    First,
    Middle,
    Last,
}

impl Place {
    fn of(first: bool, last: bool) -> Place {
        match (first, last) {
            (true, true) => Place::Only,
            (true, false) => Place::First,
            (false, false) => Place::Middle,
            (false, true) => Place::Last,
        }
    }

    fn tags(self) -> (&'static str, &'static str) {
        match self {
            Place::Only => ("<p>", "</p>"),
            Place::First => ("<p>", ""),
            Place::Middle => ("", ""),
            Place::Last => ("", "</p>"),
        }
    }
}

const MAX_LINES: usize = 512;
const MAX_SEEN_LINES: usize = 4096;
/// Shorter lines are encoded faster than they are looked up.
const MIN_CACHED_LINE: usize = 24;

thread_local! {
    // Per thread, so render workers never wait on each other; a block is the same bytes on every
    // thread, so which thread encodes it first does not matter.
    static CACHE: RefCell<SeenTwice<Encoded, MAX_BLOCKS, MAX_SEEN>> = RefCell::default();
    static LINES: RefCell<SeenTwice<EncodedLine, MAX_LINES, MAX_SEEN_LINES>> = RefCell::default();
}

/// Appends `line` of a plain paragraph, quoted-printable, to `text`, and its HTML line (tagged for
/// its `place`, escaped when `escape`), quoted-printable, to `html`: from the cache when the line
/// was seen before.
fn encode_line(
    line: &str,
    eol: Eol,
    place: Place,
    escape: bool,
    text: &mut Vec<u8>,
    html: &mut Vec<u8>,
) {
    // The HTML line is the text line.
    let same = !escape && matches!(place, Place::Middle);
    if line.len() < MIN_CACHED_LINE {
        let start = text.len();
        quoted_printable_line(line, eol, text);
        html_line(line, eol, place, escape, &text[start..], html);
        return;
    }
    LINES.with_borrow_mut(|cache| {
        let hash = FxBuildHasher.hash_one((line, eol));
        if let Some(e) = cache.get_mut(hash, |e| *e.line == *line && e.eol == eol) {
            text.extend_from_slice(&e.qp);
            if same {
                html.extend_from_slice(&e.qp);
                return;
            }
            let kept = &mut e.html[place as usize];
            match kept {
                Some(h) => html.extend_from_slice(h),
                None => {
                    let start = html.len();
                    html_line(line, eol, place, escape, &e.qp, html);
                    *kept = Some(html[start..].into());
                }
            }
            return;
        }
        let (t0, h0) = (text.len(), html.len());
        quoted_printable_line(line, eol, text);
        html_line(line, eol, place, escape, &text[t0..], html);
        cache.missed(hash, || {
            let mut kept = EncodedLine {
                line: line.into(),
                eol,
                qp: text[t0..].into(),
                html: Default::default(),
            };
            if !same {
                kept.html[place as usize] = Some(html[h0..].into());
            }
            kept
        });
    })
}

/// Appends the HTML line of `line` for its `place`, quoted-printable, to `out`, given `encoded`,
/// the line alone quoted-printable. Quoted-printable works line by line, so a line that escaping
/// leaves alone and that has no tags encodes as the text line did, and is copied; with tags, it
/// is the tags around that copy when the whole fits (`fits_around`).
fn html_line(line: &str, eol: Eol, place: Place, escape: bool, encoded: &[u8], out: &mut Vec<u8>) {
    let (before, after) = place.tags();
    if !escape && before.is_empty() && after.is_empty() {
        out.extend_from_slice(encoded);
    } else if !escape && fits_around(before, encoded, after) {
        out.extend_from_slice(before.as_bytes());
        out.extend_from_slice(encoded);
        out.extend_from_slice(after.as_bytes());
    } else {
        // Room for the tags and a few escapes: growing step by step copied the line again.
        let mut tagged = String::with_capacity(before.len() + line.len() + after.len() + 16);
        tagged.push_str(before);
        if escape {
            pulldown_cmark_escape::escape_html_body_text(&mut tagged, line).ok();
        } else {
            tagged.push_str(line);
        }
        tagged.push_str(after);
        quoted_printable_line(&tagged, eol, out);
    }
}

/// Appends the quoted-printable text part and the quoted-printable HTML of `markdown` to `text`
/// and `html`: the same bytes as `quoted_printable_into(markdown)` and
/// `quoted_printable_into(to_html(markdown))`.
pub fn encode_into(markdown: &str, eol: Eol, text: &mut Vec<u8>, html: &mut Vec<u8>) {
    let Some(blocks) = independent_blocks(markdown) else {
        encode_block(markdown, eol, text, html);
        return;
    };
    CACHE.with_borrow_mut(|cache| {
        for block in blocks {
            let hash = FxBuildHasher.hash_one((block, eol));
            if let Some(e) = cache.get(hash, |e| *e.markdown == *block && e.eol == eol) {
                text.extend_from_slice(&e.text);
                html.extend_from_slice(&e.html);
                continue;
            }
            let (t0, h0) = (text.len(), html.len());
            encode_block(block, eol, text, html);
            cache.missed(hash, || Encoded {
                markdown: block.into(),
                eol,
                text: text[t0..].into(),
                html: html[h0..].into(),
            });
        }
    });
}

fn encode_block(block: &str, eol: Eol, text: &mut Vec<u8>, html: &mut Vec<u8>) {
    if let Some(kind) = plain_bytes(block) {
        let (t0, h0) = (text.len(), html.len());
        if encode_plain(block, kind == Paragraph::Escaped, eol, text, html) {
            return;
        }
        text.truncate(t0);
        html.truncate(h0);
    }
    let mut h = String::new();
    markdown::to_html(block, &mut h);
    quoted_printable_into(block, eol, text);
    quoted_printable_into(&h, eol, html);
}

/// A paragraph whose bytes `plain_bytes` let through, encoded if every line is plain too (else
/// false, with whatever was appended to be cut off again). Its HTML is its lines between `<p>` and
/// `</p>`, with `&` and `>` escaped when `escaped` (`encode_line`, which encodes a line with
/// something escaped, an organisation "& Co", escaped). The lines are checked as they are
/// encoded: a pass of its own over them cost a search per line.
fn encode_plain(
    block: &str,
    escaped: bool,
    eol: Eol,
    text: &mut Vec<u8>,
    html: &mut Vec<u8>,
) -> bool {
    let body = block.trim_end_matches('\n');
    let mut body_lines = lines(body).peekable();
    let mut first = true;
    while let Some(line) = body_lines.next() {
        if !plain_line(line) {
            return false;
        }
        let last = body_lines.peek().is_none();
        if !first {
            text.extend_from_slice(eol.bytes());
            html.extend_from_slice(eol.bytes());
        }
        let place = Place::of(first, last);
        first = false;
        let escape = escaped && memchr::memchr2(b'&', b'>', line.as_bytes()).is_some();
        encode_line(line, eol, place, escape, text, html);
    }
    // The line breaks after the paragraph: each ends a line, the last an empty one.
    for _ in body.len()..block.len() {
        text.extend_from_slice(eol.bytes());
    }
    html.extend_from_slice(eol.bytes());
    true
}

/// Whether the quoted-printable encoding of `before + line + after` is the tags around `encoded`,
/// the encoding of a plain line alone: the tags hold only literal bytes and a plain line neither
/// starts nor ends with whitespace, so it is when the whole fits on one line (76 columns)
/// without a soft break — and the line alone did not start "From ", which is encoded at the start
/// of a line only (`starts_from_line`; an `F` is otherwise never encoded).
fn fits_around(before: &str, encoded: &[u8], after: &str) -> bool {
    const MAX: usize = 76;
    encoded.len() + before.len() + after.len() <= MAX
        && memchr::memchr(b'\n', encoded).is_none()
        && (before.is_empty() || !encoded.starts_with(b"=46"))
}

/// What a byte can do inside a paragraph of plain text; the classes are bits, so a whole block's
/// can be OR-ed together.
const PLAIN: u8 = 0;
/// Might start inline Markdown (emphasis, code, links, hard breaks, strikes): the parser decides.
const INLINE: u8 = 1;
/// Literal, but escaped in HTML: `>` inside a line, and `&` unless it may start an entity.
const ESCAPED: u8 = 2;

static CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    // Vertical tab and form feed: CommonMark trims them at line ends like spaces. `!` needs no
    // place here: an image needs the `[` after it, which is listed.
    let inline = b"*_`[]<\\~\0\r\x0b\x0c";
    let mut i = 0;
    while i < inline.len() {
        t[inline[i] as usize] = INLINE;
        i += 1;
    }
    t[b'&' as usize] = ESCAPED;
    t[b'>' as usize] = ESCAPED;
    t
};

/// A block that is one paragraph of plain text, whose HTML can be written without a parser.
#[derive(Debug, PartialEq)]
enum Paragraph {
    /// The HTML is the text as it is.
    Verbatim,
    /// The HTML is the text with `&` and `>` escaped.
    Escaped,
}

/// Whether `block` is one paragraph of plain text: the paragraph a name or a country was put into
/// is new in every letter, and most are plain. Each line starts with a letter (so none opens
/// another block or is indented, and a `>` can only be inside a line), none ends in whitespace
/// (no hard breaks, nothing trimmed), no byte could start inline Markdown, and every `&` is
/// followed by something no entity starts with (so "Smith & Sons" is plain, "&amp;" is not);
/// then CommonMark gives exactly the lines inside `<p>`, with `&` and `>` escaped.
#[cfg(test)]
fn plain_paragraph(block: &str) -> Option<Paragraph> {
    let kind = plain_bytes(block)?;
    lines(block.trim_end_matches('\n'))
        .all(plain_line)
        .then_some(kind)
}

/// The byte-level half of `plain_paragraph`: what no byte of the paragraph may be (and whether it
/// holds something HTML escapes); each line is checked with `plain_line` as it is encoded.
fn plain_bytes(block: &str) -> Option<Paragraph> {
    let text = block.trim_end_matches('\n');
    let bytes = text.as_bytes();
    // One pass without a branch per byte, which the compiler unrolls: the byte-by-byte match this
    // replaces was a tenth of the cost of a letter. Most blocks hold no special byte at all.
    let classes = bytes
        .chunks(64)
        .map(|chunk| {
            chunk
                .iter()
                .fold(PLAIN, |acc, &b| acc | CLASS[usize::from(b)])
        })
        .try_fold(PLAIN, |acc, c| {
            let acc = acc | c;
            (acc & INLINE == 0).then_some(acc)
        });
    let escaped = match classes {
        None => return None,
        Some(c) => c & ESCAPED != 0,
    };
    let entity = |&c: &u8| c.is_ascii_alphanumeric() || c == b'#';
    if escaped && memchr::memchr_iter(b'&', bytes).any(|i| bytes.get(i + 1).is_some_and(entity)) {
        return None;
    }
    if text.is_empty() {
        return None;
    }
    Some(if escaped {
        Paragraph::Escaped
    } else {
        Paragraph::Verbatim
    })
}

/// The line-level half of `plain_paragraph`: a line of a plain paragraph starts with a letter and
/// does not end in whitespace.
fn plain_line(line: &str) -> bool {
    let b = line.as_bytes();
    b.first().is_some_and(|&f| opens_paragraph(f))
        && b.last().is_some_and(|&l| l != b' ' && l != b'\t')
}

/// The HTML of a plain paragraph.
#[cfg(test)]
fn paragraph_html(block: &str, escaped: bool, out: &mut String) {
    let text = block.trim_end_matches('\n');
    out.push_str("<p>");
    if escaped {
        pulldown_cmark_escape::escape_html_body_text(&mut *out, text).ok();
    } else {
        out.push_str(text);
    }
    out.push_str("</p>\n");
}

/// The letter cut before each line that follows a blank line and either starts with a letter or
/// follows nothing but paragraphs; `None` when blocks might not be independent.
///
/// After a blank line, a line starting at column 0 with a letter can only open a paragraph: list
/// items, block quotes and indented code need indentation or a marker to continue, and lazy
/// continuation never crosses a blank line. After paragraphs and a blank line, any block is a new
/// one. What can span blank lines or reach across blocks is
/// excluded outright: fenced code, HTML blocks (and any `<`), link reference definitions, and
/// carriage returns, which the cut does not look for. Each piece, converted alone, then gives the
/// HTML it gives inside the whole letter, and every piece's HTML ends with a newline, so
/// quoted-printable, which works line by line, encodes each piece as it would the whole.
fn independent_blocks(markdown: &str) -> Option<impl Iterator<Item = &str>> {
    static BLANK_LINE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\n\n"));
    let bytes = markdown.as_bytes();
    let ties = |i: usize| match bytes[i] {
        b']' => bytes.get(i + 1) == Some(&b':'),
        c => bytes.get(i + 1..i + 3) == Some(&[c, c]),
    };
    if memchr::memchr2(b'<', b'\r', bytes).is_some()
        || memchr::memchr3_iter(b']', b'`', b'~', bytes).any(ties)
    {
        return None;
    }
    let mut start = 0;
    let mut from = 0;
    // How far the lines of the block being cut are known to be paragraphs only, and whether one
    // is not: a block grows blank line by blank line (a loose list), and checking it from its
    // start each time went over its first items again and again.
    let mut checked = 0;
    let mut mixed = false;
    let mut done = false;
    Some(std::iter::from_fn(move || {
        if done {
            return None;
        }
        // A blank line: a line break right after a line break, found by a searcher built once
        // (a search for each line break was a call per line).
        while let Some(off) = BLANK_LINE.find(&bytes[from..]) {
            let i = from + off;
            let mut cut = i + 2;
            while bytes.get(cut) == Some(&b'\n') {
                cut += 1;
            }
            from = cut;
            let Some(&next) = bytes.get(cut) else {
                break;
            };
            let mut after_paragraphs = || {
                if !mixed {
                    mixed = !paragraphs_only(&bytes[checked..cut]);
                    checked = cut;
                }
                !mixed
            };
            if opens_paragraph(next) || after_paragraphs() {
                let block = &markdown[start..cut];
                start = cut;
                (checked, mixed) = (cut, false);
                return Some(block);
            }
        }
        done = true;
        Some(&markdown[start..])
    }))
}

/// A byte that, starting a line at column 0, can only begin or continue a paragraph.
fn opens_paragraph(b: u8) -> bool {
    b.is_ascii_alphabetic() || b >= 0x80
}

/// Every line starts a paragraph or is blank: the text ends with a paragraph, which a blank line
/// has closed, so whatever follows is a new block that does not look back at it.
fn paragraphs_only(text: &[u8]) -> bool {
    let opens = |at: usize| {
        text.get(at)
            .is_none_or(|&b| b == b'\n' || opens_paragraph(b))
    };
    opens(0) && memchr::memchr_iter(b'\n', text).all(|i| opens(i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Repeatable pseudo-random numbers below `n` (xorshift), for generated test inputs.
    fn numbers_below(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        }
    }

    /// The reference: the whole letter through the parser, no blocks, no plain path.
    fn whole(md: &str, eol: Eol) -> (Vec<u8>, Vec<u8>) {
        let (mut t, mut h) = (Vec::new(), Vec::new());
        quoted_printable_into(md, eol, &mut t);
        let mut html = String::new();
        markdown::to_html(md, &mut html);
        quoted_printable_into(&html, eol, &mut h);
        (t, h)
    }

    fn cached(md: &str, eol: Eol) -> (Vec<u8>, Vec<u8>) {
        let (mut t, mut h) = (Vec::new(), Vec::new());
        encode_into(md, eol, &mut t, &mut h);
        (t, h)
    }

    /// Every document three times (so the cached path is the one taken the third time), each
    /// against converting it whole, with both line ends interleaved so that a block cached with
    /// one is never handed out for the other.
    fn assert_same(docs: &[&str]) {
        for i in 0..6 {
            let eol = if i % 2 == 0 { Eol::Crlf } else { Eol::Lf };
            for md in docs {
                let (wt, wh) = whole(md, eol);
                let (ct, ch) = cached(md, eol);
                assert_eq!(
                    String::from_utf8_lossy(&ct),
                    String::from_utf8_lossy(&wt),
                    "text of {md:?}"
                );
                assert_eq!(
                    String::from_utf8_lossy(&ch),
                    String::from_utf8_lossy(&wh),
                    "html of {md:?}"
                );
            }
        }
    }

    #[test]
    fn cut_only_before_paragraph_starts() {
        let parts: Vec<&str> =
            independent_blocks("Dear A,\n\nOne\ntwo\n\n- x\n\n- y\n\nÉnd\n\n\n\nz")
                .unwrap()
                .collect();
        assert_eq!(
            parts,
            [
                "Dear A,\n\n",
                "One\ntwo\n\n",
                "- x\n\n- y\n\n",
                "Énd\n\n\n\n",
                "z"
            ]
        );
        let parts: Vec<&str> = independent_blocks("- a\n\n- b\n\n    code\n\n# h\n\n> q\n\nx")
            .unwrap()
            .collect();
        assert_eq!(parts, ["- a\n\n- b\n\n    code\n\n# h\n\n> q\n\n", "x"]);
        assert!(independent_blocks("a\n\n```\nx\n\ny\n```\n").is_none());
        assert!(independent_blocks("a [x][1]\n\n[1]: https://example.org\n").is_none());
        assert!(independent_blocks("a\n\n<div>\n\nb</div>\n").is_none());
        assert!(independent_blocks("a\r\n\r\nb").is_none());
    }

    #[test]
    fn blocks_encode_as_the_whole_letter_does() {
        let long = format!("{}\n\n", "word ".repeat(60));
        assert_same(&[
            "Dear Zoë,\n\nA paragraph with *emphasis*\nand a soft break.\n\nThanks",
            "# Title\n\nText\n\n- one\n- two\n\nAfter the list\n\n1. a\n\n2. b\n\nEnd\n",
            "- loose item\n\n  continued in the item\n\nnot in it\n\n> quote\n\nafter quote\n",
            "    indented code\n\n    more code\n\nparagraph\n\n    code again\n",
            "Text  \nhard break\n\n***\n\nrule above\n\nSetext\n======\n\nx\n",
            "[link](https://example.org) and [bad](javascript:x)\n\n![img](http://t.example/x.png)\n",
            "Trailing spaces   \n\nTabs\t\n\n=equals= and é\n\nline\n",
            &long,
            "~~strike~~\n\n* a\n* b\n\n  c\n\nd",
            "",
            "\n\n\nx\n\n",
            "no blank line at all",
            "Para\n\n- a\n- b\n\n- loose\n\n1. one\n\n   in one\n\n# H\n\n    code\n\n> q\n>\n> r\n\nlast",
            "Para\n\n  indented para\n\n     code after para\n\n---\n\nSetext\n---\n\n2. two\n\n-\n\nq",
            "Para\n1. not a list here\n\n1. a list\n\n* star\n\n+ plus\n\nend",
        ]);
    }

    /// Random documents built from lines of every block kind this splitter lets through.
    #[test]
    fn random_documents_encode_as_whole() {
        const LINES: &[&str] = &[
            "",
            "",
            "",
            "Dear Zoë,",
            "plain text",
            "From the files, a plain line that mbox would quote",
            ">From a quote",
            "- dash item",
            "1. one",
            "2) two",
            "* star",
            "+ plus",
            "  two-space continuation",
            "   three",
            "    four-space code",
            "\tcode by tab",
            "> quote",
            ">",
            "# heading",
            "## heading two",
            "---",
            "***",
            "===",
            "Setext",
            "é non-ASCII start",
            "hard break  ",
            "trailing tab\t",
            "=3D equals",
            "*emph* and **strong** and `code`",
            "[link](https://example.org)",
            "- [ ] task",
            "10. ten",
            "-",
            "1.",
            "  - nested",
            "     deep code",
            "a\\",
            "_under_",
            "He said \"yes\" to 'us'",
            "Tab\tinside",
            "ideographic space\u{3000}",
            "no-break\u{a0}",
            "Ünïcödé plain line",
            "x > y",
            "Tom & Jerry",
            "ends in tab\t",
            "plain words only",
            "Another plain line.",
            "nul \u{0}",
            "a | b",
            "#hashtag",
            "form feed at the end\x0c",
            "vertical tabs\x0b\x0b",
            "a space and a form feed \x0c",
            "inner\x0cform feed",
            "AT&T and H&M",
            "&amp; an entity",
            "&#35; a numeric one",
            "fish & chips > bread",
            "Wow! Look [here]",
            "an image ![alt](x.png)",
            "ends with &",
            "A long plain line that goes on well past the seventy-six columns quoted-printable allows",
            "Ünïcödé all the way: ééééééééééééééééééééééééééééééééééééééééééééééééé, and then some",
            "seventy-three columns of plain letters, so that <p> tips it over the edge",
        ];
        let mut next = numbers_below(0x2545_f491_4f6c_dd1d);
        let docs: Vec<String> = (0..3000)
            .map(|_| {
                let len = 1 + next(14);
                let mut doc: Vec<&str> = (0..len).map(|_| LINES[next(LINES.len())]).collect();
                if next(2) == 0 {
                    doc.push("");
                }
                doc.join("\n")
            })
            .collect();
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        assert_same(&refs);
    }

    /// Where `fits_around` says so, the tags around a line's own encoding are what encoding the
    /// tagged line gives, at every length around the 76 columns.
    #[test]
    fn edge_lines_encode_as_the_tagged_line() {
        let pieces = ["a", "é", "=", " ", "Ж", "x", "\u{3000}"];
        let mut next = numbers_below(0x9e37_79b9_7f4a_7c15);
        let mut fitted = 0;
        for target in 1..=100 {
            for round in 0..20 {
                // Some lines start "From ", which is encoded at the start of a line only.
                let mut line = String::from(if round % 4 == 0 { "From " } else { "W" });
                while line.len() < target {
                    line.push_str(pieces[next(pieces.len())]);
                }
                if line.ends_with(' ') {
                    line.push('z');
                }
                for eol in [Eol::Crlf, Eol::Lf] {
                    let mut encoded = Vec::new();
                    quoted_printable_line(&line, eol, &mut encoded);
                    for (before, after) in [("<p>", ""), ("", "</p>"), ("<p>", "</p>")] {
                        if !fits_around(before, &encoded, after) {
                            continue;
                        }
                        fitted += 1;
                        let got = [before.as_bytes(), &encoded, after.as_bytes()].concat();
                        let mut want = Vec::new();
                        quoted_printable_line(&format!("{before}{line}{after}"), eol, &mut want);
                        assert_eq!(
                            String::from_utf8_lossy(&got),
                            String::from_utf8_lossy(&want),
                            "{line:?} between {before:?} and {after:?}"
                        );
                    }
                }
            }
        }
        assert!(fitted > 1000, "only {fitted} lines fitted");
    }

    #[test]
    fn plain_paragraphs_are_what_the_parser_gives() {
        for md in [
            "Dear Zoë Müller,\n\n",
            "I write to you, \"Clean Water\" Initiative,\nabout 1,000,000 people.\n",
            "One line",
            "Ünïcödé\u{3000}\nTab\there\nx\u{a0}\n\n\n",
            "Director, Policy & Outreach at Smith & Sons, Ltd.\n",
            "x & y",
            "a > b, and \"c\" & 'd'!\nends with &",
        ] {
            let (mut fast, mut parsed) = (String::new(), String::new());
            let kind = plain_paragraph(md).expect(md);
            paragraph_html(md, kind == Paragraph::Escaped, &mut fast);
            markdown::to_html(md, &mut parsed);
            assert_eq!(fast, parsed, "{md:?}");
        }
        for md in [
            "a *b*",
            "a  \nb",
            "  indented",
            "a\n- b",
            "a\n\nb",
            "AT&T",
            "&amp;",
            "&#35;",
            "a &x",
            "![i](x.png)",
            "",
            "\n\n",
            "a\\\nb",
        ] {
            assert_eq!(plain_paragraph(md), None, "{md:?}");
        }
        // The bytes are looked at 64 at a time: whatever the chunk a byte falls in, it counts.
        let long = "Plain words and nothing else in them, line after line of it.\n".repeat(4);
        for at in [0, 1, 63, 64, 65, 127, 128, 200] {
            for special in ["*", "_", "`", "[", "<", "~", "\\", "&amp;", "AT&T"] {
                let md = format!("{}{special}{}", &long[..at], &long[at..]);
                assert_eq!(plain_paragraph(&md), None, "{special} at {at}");
            }
            for (special, kind) in [(" & ", Paragraph::Escaped), (">", Paragraph::Escaped)] {
                let md = format!("{}{special}{}", &long[..at], &long[at..]);
                if md.starts_with('>') || md.starts_with(' ') {
                    continue;
                }
                assert_eq!(plain_paragraph(&md), Some(kind), "{special} at {at}");
            }
        }
        assert_eq!(plain_paragraph(&long), Some(Paragraph::Verbatim));
    }

    #[test]
    fn bundled_letters_encode_as_whole() {
        // A letter in the shape of the bundled templates: salutation, facts, demands, signature.
        let letter = |name: &str| {
            format!(
                "Dear {name},\n\nI write about the detention of more than a million people.\n\n\
                 I ask you to:\n\n- speak clearly;\n- publish the report;\n- investigate.\n\n\
                 Yours,\n\nAda Volunteer  \nLyon, France  \nada@example.org\n"
            )
        };
        let names = [
            "Zoë",
            "王芳",
            "O'Brien, Siobhán",
            "Ana \"Nena\" Pérez",
            "Zoë",
        ];
        let docs: Vec<String> = names.iter().map(|n| letter(n)).collect();
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        assert_same(&refs);
    }
}
