//! Print-ready letters: a Markdown letter laid out on A4 or US Letter (sender, date, recipient
//! block in the window of a DL envelope, subject, body, page numbers) and written as PDF with its
//! font embedded, so it prints the same on any machine. The PDF is written by hand (a few object
//! kinds suffice) and the font is subset per letter; the whole-campaign file (`--one-file`) is
//! streamed page by page, so memory does not grow with the number of letters.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// DejaVu Sans (Bitstream Vera licence, see fonts/LICENSE-DejaVu.txt): Latin, Greek, Cyrillic.
pub static BUNDLED_FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
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
    /// The sender block: the signer's name, organisation, place and e-mail, non-empty lines.
    pub sender: Vec<String>,
}

const MM: f32 = 72.0 / 25.4;
const SIZE: f32 = 11.0;
const SMALL: f32 = 9.0;
const LEADING: f32 = 1.35;

/// One line of text at a position (points from the bottom left).
#[derive(Debug, Clone)]
struct Run {
    x: f32,
    y: f32,
    size: f32,
    text: String,
}

/// A letter laid out: runs per page.
pub struct Layout {
    pages: Vec<Vec<Run>>,
}

/// What a letter needs besides its Markdown body.
pub struct Head<'a> {
    pub date: &'a str,
    pub recipient: &'a [String],
    pub subject: &'a str,
}

struct Font<'f> {
    face: ttf_parser::Face<'f>,
    scale: f32,
}

impl<'f> Font<'f> {
    fn new(data: &'f [u8]) -> Result<Font<'f>, String> {
        let face = ttf_parser::Face::parse(data, 0)
            .map_err(|e| format!("the font cannot be read: {e}"))?;
        let scale = 1.0 / f32::from(face.units_per_em());
        Ok(Font { face, scale })
    }

    fn gid(&self, c: char) -> Option<u16> {
        self.face.glyph_index(c).map(|g| g.0)
    }

    fn advance(&self, gid: u16) -> f32 {
        f32::from(
            self.face
                .glyph_hor_advance(ttf_parser::GlyphId(gid))
                .unwrap_or(0),
        ) * self.scale
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.gid(c).map_or(0.0, |g| self.advance(g)))
            .sum::<f32>()
            * size
    }
}

/// The first character of `text` the font has no glyph for.
pub fn missing_glyph(font: &[u8], texts: &[&str]) -> Result<Option<char>, String> {
    let font = Font::new(font)?;
    Ok(texts
        .iter()
        .flat_map(|t| t.chars())
        .find(|&c| !c.is_whitespace() && !c.is_control() && font.gid(c).is_none()))
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
    for event in Parser::new(markdown) {
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

/// Greedy word wrap to `width` points.
fn wrap(font: &Font, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if font.width(&candidate, size) <= width || line.is_empty() {
            line = candidate;
        } else {
            out.push(std::mem::take(&mut line));
            line = word.to_string();
        }
        // A word wider than the line is cut wherever it must be.
        while font.width(&line, size) > width && line.chars().count() > 1 {
            let mut cut = String::new();
            for c in line.chars() {
                let mut next = cut.clone();
                next.push(c);
                if font.width(&next, size) > width && !cut.is_empty() {
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

/// Lay a letter out on pages of `style.paper`.
pub fn layout(style: &Style, head: &Head, body: &str) -> Result<Layout, String> {
    let font = Font::new(style.font)?;
    let (w, h) = style.paper.size();
    let (left, right, top, bottom) = (25.0 * MM, 20.0 * MM, 20.0 * MM, 25.0 * MM);
    let text_width = w - left - right;
    let line = SIZE * LEADING;
    let mut pages: Vec<Vec<Run>> = vec![Vec::new()];

    // Sender, right-aligned at the top.
    let mut y = h - top - SMALL;
    for l in &style.sender {
        let x = w - right - font.width(l, SMALL);
        pages[0].push(Run {
            x,
            y,
            size: SMALL,
            text: l.clone(),
        });
        y -= SMALL * LEADING;
    }
    // Recipient in the window of a DL envelope: 20 mm from the left, 50 mm from the top.
    let mut ry = h - 50.0 * MM - SIZE;
    for l in head.recipient.iter().filter(|l| !l.trim().is_empty()) {
        for part in wrap(&font, l, SIZE, 85.0 * MM) {
            pages[0].push(Run {
                x: 20.0 * MM,
                y: ry,
                size: SIZE,
                text: part,
            });
            ry -= line;
        }
    }
    // Date, right-aligned below the window; then the subject and the body.
    let mut y = (h - 98.0 * MM).min(ry - line);
    let x = w - right - font.width(head.date, SIZE);
    pages[0].push(Run {
        x,
        y,
        size: SIZE,
        text: head.date.to_string(),
    });
    y -= 2.0 * line;
    for part in wrap(&font, head.subject, SIZE, text_width) {
        pages[0].push(Run {
            x: left,
            y,
            size: SIZE,
            text: part,
        });
        y -= line;
    }
    y -= line;

    for block in blocks(body) {
        let x = left + block.indent;
        let mut first = true;
        for text in &block.lines {
            for part in wrap(&font, text, SIZE, text_width - block.indent) {
                if y < bottom + line {
                    pages.push(Vec::new());
                    y = h - top - SIZE;
                }
                let page = pages.last_mut().expect("never empty");
                if first && block.bullet {
                    page.push(Run {
                        x: x - 10.0,
                        y,
                        size: SIZE,
                        text: "•".into(),
                    });
                }
                first = false;
                page.push(Run {
                    x,
                    y,
                    size: SIZE,
                    text: part,
                });
                y -= line;
            }
        }
        y -= line * 0.6;
    }
    let n = pages.len();
    if n > 1 {
        for (i, page) in pages.iter_mut().enumerate() {
            let text = format!("{} / {n}", i + 1);
            let x = (w - font.width(&text, SMALL)) / 2.0;
            page.push(Run {
                x,
                y: bottom / 2.0,
                size: SMALL,
                text,
            });
        }
    }
    Ok(Layout { pages })
}

/// Glyph ids as the PDF shows them: each font glyph gets a compact id in the embedded subset.
struct Glyphs {
    remapper: subsetter::GlyphRemapper,
    /// New glyph id -> the text it shows, for copy and paste and text extraction.
    text: BTreeMap<u16, char>,
}

impl Glyphs {
    fn new() -> Glyphs {
        Glyphs {
            remapper: subsetter::GlyphRemapper::new(),
            text: BTreeMap::new(),
        }
    }

    /// The content stream of one page.
    fn content(&mut self, font: &Font, page: &[Run]) -> Vec<u8> {
        let mut s = String::with_capacity(page.len() * 160);
        s.push_str("BT\n");
        for run in page {
            let _ = write!(
                s,
                "/F1 {} Tf 1 0 0 1 {:.2} {:.2} Tm <",
                run.size, run.x, run.y
            );
            for c in run.text.chars() {
                let gid = font.gid(c).unwrap_or(0);
                let new = self.remapper.remap(gid);
                self.text.entry(new).or_insert(c);
                let _ = write!(s, "{new:04X}");
            }
            s.push_str("> Tj\n");
        }
        s.push_str("ET\n");
        s.into_bytes()
    }
}

/// A PDF file written object by object, with the byte offsets its cross-reference table needs.
struct Writer<W: Write> {
    out: W,
    offset: u64,
    offsets: Vec<(u32, u64)>,
}

impl<W: Write> Writer<W> {
    fn new(mut out: W) -> std::io::Result<Writer<W>> {
        let head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
        out.write_all(head)?;
        Ok(Writer {
            out,
            offset: head.len() as u64,
            offsets: Vec::new(),
        })
    }

    fn raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    fn object(&mut self, id: u32, dict: &str) -> std::io::Result<()> {
        self.offsets.push((id, self.offset));
        self.raw(format!("{id} 0 obj\n{dict}\nendobj\n").as_bytes())
    }

    /// A stream object, deflated (level 6: most of the gain for little time).
    fn stream(&mut self, id: u32, dict: &str, data: &[u8]) -> std::io::Result<()> {
        self.offsets.push((id, self.offset));
        let data = miniz_oxide::deflate::compress_to_vec_zlib(data, 6);
        let extra = if dict.is_empty() {
            String::new()
        } else {
            format!(" {dict}")
        };
        self.raw(
            format!(
                "{id} 0 obj\n<< /Length {} /Filter /FlateDecode{extra} >>\nstream\n",
                data.len()
            )
            .as_bytes(),
        )?;
        self.raw(&data)?;
        self.raw(b"\nendstream\nendobj\n")
    }

    fn finish(mut self, size: u32) -> std::io::Result<W> {
        self.offsets.sort_unstable();
        let xref = self.offset;
        let mut s = format!("xref\n0 {}\n0000000000 65535 f \n", size);
        let mut next = 1;
        for (id, off) in &self.offsets {
            while next < *id {
                s.push_str("0000000000 65535 f \n");
                next += 1;
            }
            let _ = writeln!(s, "{off:010} 00000 n ");
            next = id + 1;
        }
        let _ = write!(
            s,
            "trailer\n<< /Size {size} /Root {CATALOG} 0 R >>\nstartxref\n{xref}\n%%EOF\n"
        );
        self.raw(s.as_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

const CATALOG: u32 = 1;
const PAGES: u32 = 2;
const FONT: u32 = 3;
const FIRST_PAGE: u32 = 8;

/// A PDF being written: one letter, or every letter of a run (`--one-file`), page by page.
pub struct Document<W: Write> {
    writer: Writer<W>,
    glyphs: Glyphs,
    font: &'static [u8],
    paper: Paper,
    pages: Vec<u32>,
    next: u32,
}

impl<W: Write> Document<W> {
    pub fn new(out: W, style: &Style) -> std::io::Result<Document<W>> {
        Ok(Document {
            writer: Writer::new(out)?,
            glyphs: Glyphs::new(),
            font: style.font,
            paper: style.paper,
            pages: Vec::new(),
            next: FIRST_PAGE,
        })
    }

    /// Write a letter's pages. Its text must have passed `missing_glyph`.
    pub fn add(&mut self, layout: &Layout) -> std::io::Result<()> {
        let font = Font::new(self.font).map_err(std::io::Error::other)?;
        let (w, h) = self.paper.size();
        for page in &layout.pages {
            let (page_id, content_id) = (self.next, self.next + 1);
            self.next += 2;
            let content = self.glyphs.content(&font, page);
            self.writer.stream(content_id, "", &content)?;
            self.writer.object(
                page_id,
                &format!(
                    "<< /Type /Page /Parent {PAGES} 0 R /MediaBox [0 0 {w} {h}] /Resources << /Font << /F1 {FONT} 0 R >> >> /Contents {content_id} 0 R >>"
                ),
            )?;
            self.pages.push(page_id);
        }
        Ok(())
    }

    /// Write the font (subset to the glyphs used), the page tree and the cross-reference table.
    pub fn finish(mut self) -> std::io::Result<W> {
        let font = Font::new(self.font).map_err(std::io::Error::other)?;
        let subset = subsetter::subset(self.font, 0, &self.glyphs.remapper)
            .map_err(|e| std::io::Error::other(format!("cannot subset the font: {e}")))?;
        let cff = font.face.tables().cff.is_some();
        let name = "LDAAAA+Letterdrive";
        let (cid_type, file_key, file_dict) = if cff {
            ("CIDFontType0", "FontFile3", "/Subtype /OpenType")
        } else {
            ("CIDFontType2", "FontFile2", "")
        };
        let upem = font.scale * 1000.0;
        let mut widths = String::from("[");
        for old in self.glyphs.remapper.remapped_gids() {
            let new = self.glyphs.remapper.get(old).unwrap_or(0);
            let _ = write!(widths, " {new} [{:.0}]", font.advance(old) * 1000.0);
        }
        widths.push_str(" ]");
        let bbox = font.face.global_bounding_box();
        let s = |v: i16| (f32::from(v) * upem).round();
        self.writer.object(
            FONT,
            &format!("<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H /DescendantFonts [4 0 R] /ToUnicode 7 0 R >>"),
        )?;
        let gid_map = if cff { "" } else { " /CIDToGIDMap /Identity" };
        self.writer.object(
            4,
            &format!("<< /Type /Font /Subtype /{cid_type} /BaseFont /{name} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 5 0 R /DW 0 /W {widths}{gid_map} >>"),
        )?;
        self.writer.object(
            5,
            &format!(
                "<< /Type /FontDescriptor /FontName /{name} /Flags 32 /FontBBox [{} {} {} {}] /ItalicAngle 0 /Ascent {} /Descent {} /CapHeight {} /StemV 80 /{file_key} 6 0 R >>",
                s(bbox.x_min), s(bbox.y_min), s(bbox.x_max), s(bbox.y_max),
                s(font.face.ascender()), s(font.face.descender()),
                s(font.face.capital_height().unwrap_or(font.face.ascender())),
            ),
        )?;
        self.writer.stream(6, file_dict, &subset)?;
        self.writer
            .stream(7, "", to_unicode(&self.glyphs.text).as_bytes())?;
        let kids: Vec<String> = self.pages.iter().map(|p| format!("{p} 0 R")).collect();
        self.writer.object(
            PAGES,
            &format!(
                "<< /Type /Pages /Kids [{}] /Count {} >>",
                kids.join(" "),
                self.pages.len()
            ),
        )?;
        self.writer
            .object(CATALOG, &format!("<< /Type /Catalog /Pages {PAGES} 0 R >>"))?;
        let size = self.next;
        self.writer.finish(size)
    }
}

/// The CMap that maps the subset's glyph ids back to text.
fn to_unicode(text: &BTreeMap<u16, char>) -> String {
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&u16, &char)> = text.iter().collect();
    for chunk in entries.chunks(100) {
        let _ = writeln!(s, "{} beginbfchar", chunk.len());
        for (gid, c) in chunk {
            let mut units = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(s, "<{gid:04X}> <{hex}>");
        }
        s.push_str("endbfchar\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s
}

/// One letter as a PDF of its own.
pub fn single(style: &Style, layout: &Layout) -> std::io::Result<Vec<u8>> {
    let mut doc = Document::new(Vec::with_capacity(32 * 1024), style)?;
    doc.add(layout)?;
    doc.finish()
}
