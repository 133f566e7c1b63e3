//! The PDF file: pages as pdf-writer objects, streamed to the output a letter at a time, then the
//! subset font, the page tree and the cross-reference table.
//!
//! pdf-writer's `Pdf` holds a whole file in memory and writes the cross-reference table from
//! there. A run's `--one-file` PDF can hold every letter of a campaign, so instead each letter's
//! objects are built in a `Chunk` and written out at once, and only each object's byte offset
//! and the page ids are kept for the end.

use std::io::Write;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, TextRenderingMode};
use pdf_writer::writers::Catalog;
use pdf_writer::{Chunk, Content, Filter, Finish, Name, Rect, Ref, Settings, Str};

use super::font::{Font, Glyphs};
use super::layout::{Layout, Run, Style};

/// The objects every file has, written by `finish`: the catalog, the page tree, and five objects
/// for each of the two faces (regular, bold) from `FONTS` on. Pages take the ids after them.
const CATALOG: Ref = Ref::new(1);
const PAGE_TREE: Ref = Ref::new(2);
const FONTS: i32 = 3;
const FIRST_PAGE: Ref = Ref::new(FONTS + 10);

/// No indentation or line breaks inside objects: a campaign's file has many pages, and nobody reads
/// it as text.
const COMPACT: Settings = Settings { pretty: false };

/// The names the content streams use for the regular and the bold face.
const NAMES: [Name; 2] = [Name(b"F1"), Name(b"F2")];

/// One face of the document: the font, the glyphs the document shows in it, and its objects.
struct Face {
    font: Font<'static>,
    data: &'static [u8],
    glyphs: Glyphs,
    /// Its first object id: the Type0 font; the CID font, descriptor, font file and ToUnicode
    /// map follow.
    first: i32,
    /// The PostScript name it is embedded under.
    name: &'static [u8],
}

impl Face {
    fn new(data: &'static [u8], first: i32, name: &'static [u8]) -> std::io::Result<Face> {
        Ok(Face {
            font: Font::new(data).map_err(std::io::Error::other)?,
            data,
            glyphs: Glyphs::new(),
            first,
            name,
        })
    }

    fn id(&self, offset: i32) -> Ref {
        Ref::new(self.first + offset)
    }
}

/// A stream's data deflated (level 6: most of the gain for little time).
fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// Objects on their way to the file: built in one chunk that then goes out in one write, with
/// where each object starts in it.
struct Batch {
    chunk: Chunk,
    starts: Vec<usize>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            chunk: Chunk::with_settings(COMPACT),
            starts: Vec::new(),
        }
    }

    /// The chunk to write the next object into. Every object must be started through here, so
    /// that `starts` lines up with `chunk.refs()`.
    fn obj(&mut self) -> &mut Chunk {
        self.starts.push(self.chunk.len());
        &mut self.chunk
    }
}

/// A PDF being written: one letter, or every letter of a run (`--one-file`), page by page.
pub struct Document<W: Write> {
    out: W,
    /// Bytes written so far.
    written: u64,
    /// The byte offset of every object, at index id - 1; 0 until it is written.
    offsets: Vec<u64>,
    pages: Vec<Ref>,
    next: Ref,
    /// Regular and bold.
    faces: [Face; 2],
    /// The bold face is the regular one (a volunteer's own font): bold runs are stroked too.
    fake_bold: bool,
    size: (f32, f32),
}

impl<W: Write> Document<W> {
    pub fn new(mut out: W, style: &Style) -> std::io::Result<Document<W>> {
        let faces = [
            Face::new(style.font, FONTS, b"LDAAAA+Letterdrive")?,
            Face::new(style.bold, FONTS + 5, b"LDAAAB+Letterdrive-Bold")?,
        ];
        // The comment's bytes above 127 mark the file as binary for tools that guess.
        let header = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
        out.write_all(header)?;
        Ok(Document {
            out,
            written: header.len() as u64,
            offsets: Vec::new(),
            pages: Vec::new(),
            next: FIRST_PAGE,
            faces,
            fake_bold: std::ptr::eq(style.font, style.bold),
            size: style.paper.size(),
        })
    }

    /// Write a letter's pages. Its text must have passed `missing_glyph`.
    pub fn add(&mut self, layout: &Layout) -> std::io::Result<()> {
        let mut batch = Batch::new();
        let (w, h) = self.size;
        for runs in &layout.pages {
            let page = self.next.bump();
            let contents = self.next.bump();
            let data = deflate(&self.content(runs));
            batch
                .obj()
                .stream(contents, &data)
                .filter(Filter::FlateDecode);
            let mut writer = batch.obj().page(page);
            writer
                .parent(PAGE_TREE)
                .media_box(Rect::new(0.0, 0.0, w, h))
                .contents(contents);
            let mut resources = writer.resources();
            let mut fonts = resources.fonts();
            for (name, face) in NAMES.into_iter().zip(&self.faces) {
                fonts.pair(name, face.id(0));
            }
            fonts.finish();
            resources.finish();
            writer.finish();
            self.pages.push(page);
        }
        self.write(batch)
    }

    /// The content stream of one page.
    fn content(&mut self, runs: &[Run]) -> Vec<u8> {
        // Positions to a hundredth of a point, far finer than print, keep the stream short.
        let at = |v: f32| (v * 100.0).round() / 100.0;
        let mut content = Content::with_settings(COMPACT);
        let mut codes = Vec::new();
        let mut set = None;
        content.begin_text();
        for run in runs {
            let face = usize::from(run.bold);
            if set != Some((face, run.size)) {
                content.set_font(NAMES[face], run.size);
                if self.fake_bold {
                    let (mode, width) = match run.bold {
                        true => (TextRenderingMode::FillStroke, run.size * 0.03),
                        false => (TextRenderingMode::Fill, 1.0),
                    };
                    content.set_text_rendering_mode(mode).set_line_width(width);
                }
                set = Some((face, run.size));
            }
            codes.clear();
            let Face { font, glyphs, .. } = &mut self.faces[face];
            glyphs.encode(font, &run.text, &mut codes);
            content
                .set_text_matrix([1.0, 0.0, 0.0, 1.0, at(run.x), at(run.y)])
                .show(Str(&codes));
        }
        content.end_text();
        content.finish().into_vec()
    }

    /// Write the font (subset to the glyphs used), the page tree and the cross-reference table.
    pub fn finish(mut self) -> std::io::Result<W> {
        let mut batch = Batch::new();
        for face in &self.faces {
            write_font(&mut batch, face)?;
        }
        let count = i32::try_from(self.pages.len()).expect("page ids are i32, so fewer pages");
        batch
            .obj()
            .pages(PAGE_TREE)
            .kids(self.pages.iter().copied())
            .count(count);
        // `catalog` is a method of `Pdf` alone (it also notes the root for the trailer).
        batch
            .obj()
            .indirect(CATALOG)
            .start::<Catalog>()
            .pages(PAGE_TREE);
        self.write(batch)?;
        self.write_xref()?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Sends a batch to the output, noting where each of its objects lands.
    fn write(&mut self, batch: Batch) -> std::io::Result<()> {
        let Batch { chunk, starts } = batch;
        assert_eq!(
            chunk.refs().len(),
            starts.len(),
            "objects start via Batch::obj"
        );
        for (id, start) in chunk.refs().zip(starts) {
            let i = usize::try_from(id.get() - 1).expect("ids start at 1");
            if i >= self.offsets.len() {
                self.offsets.resize(i + 1, 0);
            }
            self.offsets[i] = self.written + start as u64;
        }
        self.out.write_all(chunk.as_bytes())?;
        self.written += chunk.len() as u64;
        Ok(())
    }

    /// The cross-reference table and trailer. pdf-writer writes these only for a `Pdf` held in
    /// memory, so they are written here. Every entry must be exactly 20 bytes, its end of line
    /// included (space and LF), and every id up to the size must have one.
    fn write_xref(&mut self) -> std::io::Result<()> {
        let xref = self.written;
        // An entry has ten digits for the offset.
        if xref > 9_999_999_999 {
            return Err(std::io::Error::other(
                "the PDF is larger than its cross-reference table can address (10 GB)",
            ));
        }
        let size = self.offsets.len() + 1;
        write!(self.out, "xref\n0 {size}\n0000000000 65535 f \n")?;
        for (id, offset) in (1..).zip(&self.offsets) {
            assert!(*offset > 0, "object {id} was allocated but never written");
            writeln!(self.out, "{offset:010} 00000 n ")?;
        }
        let root = CATALOG.get();
        write!(
            self.out,
            "trailer\n<< /Size {size} /Root {root} 0 R >>\nstartxref\n{xref}\n%%EOF\n"
        )
    }
}

/// The font objects: a Type0 font over a CID font with the subset embedded, and the ToUnicode
/// map so that text extracts and copies.
fn write_font(batch: &mut Batch, face: &Face) -> std::io::Result<()> {
    let Face { font, glyphs, .. } = face;
    let subset = deflate(&glyphs.subset(face.data)?);
    let to_unicode = deflate(&glyphs.to_unicode());
    // subsetter keeps a CFF font's outlines as CFF in an OpenType wrapper.
    let cff = font.face.tables().cff.is_some();
    let name = Name(face.name);
    let [type0_font, cid_font, descriptor_id, font_file, to_unicode_id] =
        [0, 1, 2, 3, 4].map(|i| face.id(i));
    batch
        .obj()
        .type0_font(type0_font)
        .base_font(name)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_font)
        .to_unicode(to_unicode_id);

    let mut cid = batch.obj().cid_font(cid_font);
    cid.subtype(if cff {
        CidFontType::Type0
    } else {
        CidFontType::Type2
    })
    .base_font(name)
    .system_info(SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    })
    .font_descriptor(descriptor_id)
    .default_width(0.0);
    cid.widths().consecutive(0, glyphs.widths(font));
    if !cff {
        // The content streams show subset glyph ids, which the subset's glyphs are numbered by.
        cid.cid_to_gid_map_predefined(Name(b"Identity"));
    }
    cid.finish();

    // Font units to thousandths of an em, the unit of glyph space.
    let em = |v: i16| (f32::from(v) * font.scale * 1000.0).round();
    let face = &font.face;
    let bbox = face.global_bounding_box();
    let mut descriptor = batch.obj().font_descriptor(descriptor_id);
    descriptor
        .name(name)
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            em(bbox.x_min),
            em(bbox.y_min),
            em(bbox.x_max),
            em(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(em(face.ascender()))
        .descent(em(face.descender()))
        .cap_height(em(face.capital_height().unwrap_or(face.ascender())))
        .stem_v(80.0);
    if cff {
        descriptor.font_file3(font_file);
    } else {
        descriptor.font_file2(font_file);
    }
    descriptor.finish();

    let mut file = batch.obj().stream(font_file, &subset);
    file.filter(Filter::FlateDecode);
    if cff {
        file.pair(Name(b"Subtype"), Name(b"OpenType"));
    }
    file.finish();
    batch
        .obj()
        .stream(to_unicode_id, &to_unicode)
        .filter(Filter::FlateDecode);
    Ok(())
}

/// One letter as a PDF of its own.
pub fn single(style: &Style, layout: &Layout) -> std::io::Result<Vec<u8>> {
    let mut doc = Document::new(Vec::with_capacity(32 * 1024), style)?;
    doc.add(layout)?;
    doc.finish()
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::super::{layout, Head, Paper, BUNDLED_BOLD, BUNDLED_FONT};
    use super::*;

    /// An output whose bytes the test can read while the document still owns it.
    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn style() -> Style {
        Style {
            paper: Paper::Letter,
            font: BUNDLED_FONT,
            bold: BUNDLED_BOLD,
            sender: vec!["Ada Volunteer".into()],
        }
    }

    fn letter(name: &str, paragraphs: usize) -> Layout {
        let recipient = [name.to_string()];
        let head = Head {
            date: "1 May 2026",
            recipient: &recipient,
            subject: "Subject",
            subject_label: "Subject:",
            signer: "Ada Volunteer",
        };
        let body = format!("Dear {name},\n\n").repeat(paragraphs);
        layout(&style(), &head, &body).unwrap()
    }

    /// Checks that every cross-reference entry points at its object; returns the entry count.
    fn check_xref(pdf: &[u8]) -> usize {
        let tail = pdf.len() - 40;
        let tail = std::str::from_utf8(&pdf[tail..]).unwrap();
        let start: usize = tail
            .split("startxref\n")
            .nth(1)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let table = std::str::from_utf8(&pdf[start..]).unwrap();
        assert!(table.starts_with("xref\n0 "), "{table}");
        let entries: Vec<&str> = table
            .lines()
            .skip(3)
            .take_while(|l| !l.starts_with("trailer"))
            .collect();
        for (id, entry) in (1..).zip(&entries) {
            assert_eq!(entry.len(), 19, "{entry:?}");
            let offset: usize = entry[..10].parse().unwrap();
            assert!(
                pdf[offset..].starts_with(format!("{id} 0 obj").as_bytes()),
                "object {id}"
            );
        }
        entries.len()
    }

    #[test]
    fn one_file_streams_each_letter_and_indexes_every_object() {
        let out = Shared::default();
        let mut doc = Document::new(out.clone(), &style()).unwrap();
        let mut before = out.0.borrow().len();
        for (name, paragraphs) in [("Zoë Müller", 1), ("Дмитрий", 120), ("Νίκος", 1)]
        {
            doc.add(&letter(name, paragraphs)).unwrap();
            let now = out.0.borrow().len();
            assert!(now > before, "{name}'s pages are written as they are added");
            before = now;
        }
        doc.finish().unwrap();
        let pdf = out.0.borrow().clone();
        let pages = lopdf::Document::load_mem(&pdf).unwrap().get_pages().len();
        assert!(pages >= 4, "{pages} pages");
        // Two objects a page, and the twelve every file has.
        assert_eq!(check_xref(&pdf), 2 * pages + 12);
    }

    #[test]
    fn single_letter_text_extracts() {
        let pdf = single(&style(), &letter("Zoë Müller", 2)).unwrap();
        check_xref(&pdf);
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        let text = doc.extract_text(&[1]).unwrap();
        assert!(text.contains("Dear Zoë Müller,"), "{text}");
        assert!(text.contains("Ada Volunteer"), "{text}");
    }
}
