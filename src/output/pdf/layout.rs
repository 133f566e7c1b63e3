//! Layout: a letter's text measured with the font, wrapped to the page and set on pages as lines
//! at positions, which is all the writer needs to know.

use pulldown_cmark::{Event, Tag, TagEnd};

use super::font::Font;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// 210 x 297 mm.
    #[default]
    A4,
    /// US Letter, 8.5 x 11 in.
    Letter,
}

impl Paper {
    /// Width and height in points.
    pub fn size(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.28, 841.89),
            Paper::Letter => (612.0, 792.0),
        }
    }
}

/// What every PDF of a run shares.
#[derive(Debug, Clone)]
pub struct Style {
    pub paper: Paper,
    pub font: &'static [u8],
    /// The face of the subject line: the bundled bold face, or `font` itself when it is the
    /// volunteer's own (then emboldened by stroking its outlines).
    pub bold: &'static [u8],
    /// The sender block: the signer's name, organisation, place and e-mail, non-empty lines.
    pub sender: Vec<String>,
}

const MM: f32 = 72.0 / 25.4;
const SIZE: f32 = 11.0;
const SMALL: f32 = 9.0;
const LEADING: f32 = 1.35;
/// Room to sign in, above the typed name.
const SIGNATURE: f32 = 22.0 * MM;

/// One line of text at a position (points from the bottom left).
#[derive(Debug, Clone)]
pub(super) struct Run {
    pub(super) x: f32,
    pub(super) y: f32,
    pub(super) size: f32,
    pub(super) text: String,
    /// Set in the bold face.
    pub(super) bold: bool,
}

fn run(x: f32, y: f32, size: f32, text: impl Into<String>) -> Run {
    Run {
        x,
        y,
        size,
        text: text.into(),
        bold: false,
    }
}

/// A letter laid out: runs per page.
pub struct Layout {
    pub(super) pages: Vec<Vec<Run>>,
}

/// What a letter needs besides its Markdown body.
pub struct Head<'a> {
    pub date: &'a str,
    pub recipient: &'a [String],
    pub subject: &'a str,
    /// "Subject:" in the letter's language.
    pub subject_label: &'a str,
    /// The signer's name: the body's last block that starts with it gets room to sign above it.
    pub signer: &'a str,
}

/// The width of `text` at `size` points, in points.
fn width(font: &Font, text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| font.gid(c).map_or(0.0, |g| font.advance(g)))
        .sum::<f32>()
        * size
}

/// A block of the body: its lines (split at hard breaks), left indent, and a bullet.
struct Block {
    lines: Vec<String>,
    indent: f32,
    bullet: bool,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines: Vec<String> = vec![String::new()];
    let mut depth = 0usize;
    let mut bullet_pending = false;
    let mut flush = |lines: &mut Vec<String>, depth: usize, bullet: &mut bool| {
        if lines.iter().any(|l| !l.trim().is_empty()) {
            let ls: Vec<String> = lines.iter().map(|l| l.trim().to_string()).collect();
            out.push(Block {
                lines: ls,
                indent: depth.saturating_sub(1) as f32 * 14.0 + if depth > 0 { 14.0 } else { 0.0 },
                bullet: std::mem::take(bullet),
            });
        }
        *lines = vec![String::new()];
    };
    for event in crate::letter::markdown::parser(markdown) {
        match event {
            Event::Start(Tag::List(_)) => {
                flush(&mut lines, depth, &mut bullet_pending);
                depth += 1;
            }
            Event::End(TagEnd::List(_)) => {
                flush(&mut lines, depth, &mut bullet_pending);
                depth = depth.saturating_sub(1);
            }
            Event::Start(Tag::Item) => {
                flush(&mut lines, depth, &mut bullet_pending);
                bullet_pending = true;
            }
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::BlockQuote(_)
                | TagEnd::CodeBlock,
            ) => flush(&mut lines, depth, &mut bullet_pending),
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                // A code block keeps its line breaks.
                let mut parts = t.split('\n');
                if let Some(first) = parts.next() {
                    lines.last_mut().expect("never empty").push_str(first);
                }
                for p in parts {
                    lines.push(p.to_string());
                }
            }
            Event::SoftBreak => lines.last_mut().expect("never empty").push(' '),
            Event::HardBreak => lines.push(String::new()),
            Event::Rule => flush(&mut lines, depth, &mut bullet_pending),
            _ => {}
        }
    }
    flush(&mut lines, depth, &mut bullet_pending);
    out
}

/// Greedy word wrap to `max` points: no line is wider, except one of a single character.
fn wrap(font: &Font, text: &str, size: f32, max: f32) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if width(font, &candidate, size) <= max || line.is_empty() {
            line = candidate;
        } else {
            out.push(std::mem::take(&mut line));
            line = word.to_string();
        }
        // A word wider than the line is cut wherever it must be.
        while width(font, &line, size) > max && line.chars().count() > 1 {
            let mut cut = String::new();
            for c in line.chars() {
                let mut next = cut.clone();
                next.push(c);
                if width(font, &next, size) > max && !cut.is_empty() {
                    break;
                }
                cut = next;
            }
            let rest = line[cut.len()..].to_string();
            out.push(cut);
            line = rest;
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// The page and the margins the text keeps to, in points.
struct Frame {
    w: f32,
    h: f32,
    left: f32,
    right: f32,
    top: f32,
    bottom: f32,
}

impl Frame {
    fn new(paper: Paper) -> Frame {
        let (w, h) = paper.size();
        Frame {
            w,
            h,
            left: 25.0 * MM,
            right: 20.0 * MM,
            top: 20.0 * MM,
            bottom: 25.0 * MM,
        }
    }

    fn text_width(&self) -> f32 {
        self.w - self.left - self.right
    }
}

/// Lay a letter out on pages of `style.paper`.
pub fn layout(style: &Style, head: &Head, body: &str) -> Result<Layout, String> {
    let font = Font::new(style.font)?;
    let bold = Font::new(style.bold)?;
    let frame = Frame::new(style.paper);
    let mut first = Vec::new();
    let y = letterhead([&font, &bold], &frame, style, head, &mut first);
    let mut pages = vec![first];
    set_body(&font, &frame, body, head.signer, y, &mut pages);
    number_pages(&font, &frame, &mut pages);
    Ok(Layout { pages })
}

/// The top of the first page: sender, recipient, date and subject. Returns the baseline of the
/// body's first line.
fn letterhead(
    [font, bold]: [&Font; 2],
    frame: &Frame,
    style: &Style,
    head: &Head,
    page: &mut Vec<Run>,
) -> f32 {
    let Frame { w, h, right, .. } = *frame;
    let line = SIZE * LEADING;
    // Sender, right-aligned at the top.
    let mut y = h - frame.top - SMALL;
    for l in &style.sender {
        page.push(run(w - right - width(font, l, SMALL), y, SMALL, l.as_str()));
        y -= SMALL * LEADING;
    }
    // Recipient in the window of a DL envelope: 20 mm from the left, 50 mm from the top.
    let mut ry = h - 50.0 * MM - SIZE;
    for l in head.recipient.iter().filter(|l| !l.trim().is_empty()) {
        for part in wrap(font, l, SIZE, 85.0 * MM) {
            page.push(run(20.0 * MM, ry, SIZE, part));
            ry -= line;
        }
    }
    // Date, right-aligned below the window; then the subject.
    let mut y = (h - 98.0 * MM).min(ry - line);
    let x = w - right - width(font, head.date, SIZE);
    page.push(run(x, y, SIZE, head.date));
    y -= 2.0 * line;
    let subject = format!("{} {}", head.subject_label, head.subject);
    for part in wrap(bold, &subject, SIZE, frame.text_width()) {
        page.push(Run {
            bold: true,
            ..run(frame.left, y, SIZE, part)
        });
        y -= line;
    }
    y - line
}

/// The body's blocks from baseline `y` on, onto new pages as the bottom margin is reached. The
/// last block that starts with the signer's name (the typed signature) gets room to sign above
/// it, on the same page as the block (a letter without one has the space below its end).
fn set_body(
    font: &Font,
    frame: &Frame,
    body: &str,
    signer: &str,
    mut y: f32,
    pages: &mut Vec<Vec<Run>>,
) {
    let line = SIZE * LEADING;
    let blocks = blocks(body);
    let signer = signer.trim();
    let signature = blocks
        .iter()
        .rposition(|b| !signer.is_empty() && b.lines.first().is_some_and(|l| l == signer))
        .unwrap_or(blocks.len());
    for (i, block) in blocks.iter().enumerate() {
        let x = frame.left + block.indent;
        let width = frame.text_width() - block.indent;
        let wrapped: Vec<String> = block
            .lines
            .iter()
            .flat_map(|text| wrap(font, text, SIZE, width))
            .collect();
        if i == signature {
            let need = SIGNATURE + wrapped.len() as f32 * line;
            if y - need < frame.bottom {
                pages.push(Vec::new());
                y = frame.h - frame.top - SIZE;
            }
            y -= SIGNATURE;
        }
        let mut first = true;
        for part in wrapped {
            if y < frame.bottom + line {
                pages.push(Vec::new());
                y = frame.h - frame.top - SIZE;
            }
            let page = pages.last_mut().expect("never empty");
            if first && block.bullet {
                page.push(run(x - 10.0, y, SIZE, "•"));
            }
            first = false;
            page.push(run(x, y, SIZE, part));
            y -= line;
        }
        y -= line * 0.6;
    }
}

/// "i / n" centred in the bottom margin of every page, when there is more than one.
fn number_pages(font: &Font, frame: &Frame, pages: &mut [Vec<Run>]) {
    let n = pages.len();
    if n < 2 {
        return;
    }
    for (i, page) in pages.iter_mut().enumerate() {
        let text = format!("{} / {n}", i + 1);
        let x = (frame.w - width(font, &text, SMALL)) / 2.0;
        page.push(run(x, frame.bottom / 2.0, SMALL, text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style() -> Style {
        Style {
            paper: Paper::A4,
            font: super::super::BUNDLED_FONT,
            bold: super::super::BUNDLED_BOLD,
            sender: vec!["Ada Volunteer".into(), "ada@example.org".into()],
        }
    }

    #[test]
    fn wrap_keeps_lines_within_the_width_and_cuts_a_long_word() {
        let font = Font::new(super::super::BUNDLED_FONT).unwrap();
        let text = format!("short words here {} and more", "x".repeat(200));
        let lines = wrap(&font, &text, SIZE, 200.0);
        assert!(lines.len() > 3, "{lines:?}");
        for l in &lines {
            assert!(width(&font, l, SIZE) <= 200.0, "too wide: {l}");
        }
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn layout_numbers_pages_only_when_there_are_several() {
        let head = Head {
            date: "1 May 2026",
            recipient: &["Minister".into(), "Ministry".into()],
            subject: "Subject",
            subject_label: "Subject:",
            signer: "Ada Volunteer",
        };
        let short = layout(&style(), &head, "One paragraph.").unwrap();
        assert_eq!(short.pages.len(), 1);
        assert!(short.pages[0].iter().all(|r| !r.text.contains(" / ")));

        let body = "A sentence that goes on for a while to fill the page. ".repeat(200);
        let long = layout(&style(), &head, &body).unwrap();
        let n = long.pages.len();
        assert!(n >= 2, "{n} pages");
        for (i, page) in long.pages.iter().enumerate() {
            let last = page.last().unwrap();
            assert_eq!(last.text, format!("{} / {n}", i + 1));
            // Every line sits between the margins.
            let bottom = 25.0 * MM;
            assert!(page.iter().all(|r| r.y >= bottom || std::ptr::eq(r, last)));
        }
    }
}
