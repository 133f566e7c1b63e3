//! The font: glyph lookup and advance widths, and the glyphs a document shows, which become the
//! subset embedded in it and the map from its glyphs back to text.

use pdf_writer::types::{SystemInfo, UnicodeCmap};
use pdf_writer::{Name, Str};

/// DejaVu Sans (Bitstream Vera licence, see fonts/LICENSE-DejaVu.txt): Latin, Greek, Cyrillic.
pub static BUNDLED_FONT: &[u8] = include_bytes!("../../../fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold, same licence: the subject line.
pub static BUNDLED_BOLD: &[u8] = include_bytes!("../../../fonts/DejaVuSans-Bold.ttf");

/// A parsed font face, with its advance widths in ems.
pub(super) struct Font<'f> {
    pub(super) face: ttf_parser::Face<'f>,
    /// One font unit in ems.
    pub(super) scale: f32,
}

impl<'f> Font<'f> {
    pub(super) fn new(data: &'f [u8]) -> Result<Font<'f>, String> {
        let face = ttf_parser::Face::parse(data, 0)
            .map_err(|e| format!("the font cannot be read: {e}"))?;
        let scale = 1.0 / f32::from(face.units_per_em());
        Ok(Font { face, scale })
    }

    pub(super) fn gid(&self, c: char) -> Option<u16> {
        self.face.glyph_index(c).map(|g| g.0)
    }

    /// The advance width of glyph `gid` in ems.
    pub(super) fn advance(&self, gid: u16) -> f32 {
        f32::from(
            self.face
                .glyph_hor_advance(ttf_parser::GlyphId(gid))
                .unwrap_or(0),
        ) * self.scale
    }
}

/// The first character of `texts` the font has no glyph for.
pub fn missing_glyph(font: &[u8], texts: &[&str]) -> Result<Option<char>, String> {
    let font = Font::new(font)?;
    Ok(texts
        .iter()
        .flat_map(|t| t.chars())
        .find(|&c| !c.is_whitespace() && !c.is_control() && font.gid(c).is_none()))
}

/// The glyphs a document shows. Each font glyph gets a compact id in the embedded subset, and
/// that id is what the content streams show (Identity-H: two bytes, big-endian).
pub(super) struct Glyphs {
    remapper: subsetter::GlyphRemapper,
    /// The text each subset glyph shows, by subset id (the first character seen wins), for copy
    /// and paste and text extraction.
    text: Vec<Option<char>>,
}

impl Glyphs {
    pub(super) fn new() -> Glyphs {
        Glyphs {
            remapper: subsetter::GlyphRemapper::new(),
            text: Vec::new(),
        }
    }

    /// Appends the codes that show `text` to `codes`. The text must have passed `missing_glyph`;
    /// a character without a glyph shows as the font's .notdef.
    pub(super) fn encode(&mut self, font: &Font, text: &str, codes: &mut Vec<u8>) {
        for c in text.chars() {
            let new = self.remapper.remap(font.gid(c).unwrap_or(0));
            let i = usize::from(new);
            if i >= self.text.len() {
                self.text.resize(i + 1, None);
            }
            self.text[i].get_or_insert(c);
            codes.extend_from_slice(&new.to_be_bytes());
        }
    }

    /// The advance widths of the subset's glyphs in thousandths of an em, in order of subset id
    /// from 0: the remapper hands out ids in sequence, so they have no gaps.
    pub(super) fn widths<'a>(&'a self, font: &'a Font) -> impl Iterator<Item = f32> + 'a {
        self.remapper
            .remapped_gids()
            .map(|old| (font.advance(old) * 1000.0).round())
    }

    /// The font file cut down to the glyphs shown, renumbered to their subset ids.
    pub(super) fn subset(&self, data: &[u8]) -> std::io::Result<Vec<u8>> {
        subsetter::subset(data, 0, &self.remapper)
            .map_err(|e| std::io::Error::other(format!("cannot subset the font: {e}")))
    }

    /// The ToUnicode CMap: subset id to the text it shows.
    pub(super) fn to_unicode(&self) -> Vec<u8> {
        let info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"UCS"),
            supplement: 0,
        };
        let mut cmap = UnicodeCmap::<u16>::new(Name(b"Adobe-Identity-UCS"), info);
        for (gid, c) in (0u16..).zip(&self.text) {
            if let Some(c) = c {
                cmap.pair(gid, *c);
            }
        }
        cmap.finish().into_vec()
    }
}
