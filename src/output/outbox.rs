//! Writers for offline output. Everything is written into a staging directory first and moved
//! into place only when the whole run succeeded, so an interrupted or failed run leaves no
//! half-written file and no half a campaign.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use lettre::Message;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use pulldown_cmark_escape::escape_html;

use crate::cli::Format;
use crate::error::{Error, Result};
use crate::letter::markdown;
use crate::letter::render::Letter;

/// RFC 3986 unreserved characters stay; everything else in a mailto: URL is percent-encoded.
const MAILTO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What the HTML page says about the run as a whole.
#[derive(Debug, Clone)]
pub struct PageInfo {
    pub title: String,
    pub group_label: String,
    pub signer: String,
}

/// Turns a letter into the bytes of its output. Pure and shareable, so worker threads can do it
/// while one thread writes in order.
#[derive(Debug, Clone)]
pub struct Encoder {
    format: Format,
    group_id: String,
    /// mbox "From " line, which is the same for every letter of a run.
    mbox_from_line: String,
    from_header: String,
    date_header: String,
    pdf: Option<std::sync::Arc<PdfSettings>>,
}

/// What `--format pdf` needs besides the letter.
#[derive(Debug, Clone)]
pub struct PdfSettings {
    pub style: crate::output::pdf::Style,
    /// Every letter in one PDF instead of one PDF each.
    pub one_file: bool,
    pub date: jiff::Zoned,
    /// The recipients file, named in errors.
    pub recipients_file: String,
}

/// One letter ready to be written: a file of its own, or bytes appended to the single file.
pub struct Encoded {
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
    /// The pages of a letter for the one PDF of `--one-file`.
    pub layout: Option<crate::output::pdf::Layout>,
    /// Why this letter cannot be written (a PDF font without a glyph it needs).
    pub problem: Option<crate::error::Diag>,
}

impl Encoded {
    fn named(file_name: Option<String>) -> Encoded {
        Encoded {
            file_name,
            bytes: Vec::new(),
            layout: None,
            problem: None,
        }
    }
}

impl Encoder {
    /// Whether this format needs the MIME message, which costs more to build than the letter.
    pub fn needs_message(&self) -> bool {
        matches!(self.format, Format::Eml | Format::Mbox)
    }

    /// Whether the message's bodies may be 8bit: in an mbox, which mail programs import and do
    /// not relay. An `.eml` file is sent on from a mail program, so it stays 7-bit ASCII, which
    /// every server takes.
    pub fn eight_bit(&self) -> bool {
        self.format == Format::Mbox
    }

    fn file_name(&self, letter: &Letter, ext: &str) -> String {
        let mut slug = slug::slugify(&letter.name);
        if slug.len() > 40 {
            slug.truncate(40);
            slug = slug.trim_end_matches('-').to_string();
        }
        if slug.is_empty() {
            slug.push_str("recipient");
        }
        format!("{}-{:06}-{slug}.{ext}", self.group_id, letter.index)
    }

    /// The bytes of `letter` in this format.
    pub fn encode(&self, letter: &Letter, message: Option<&Message>) -> Encoded {
        let mut out = Vec::new();
        let mut encoded = self.encode_into(letter, message, &mut out);
        encoded.bytes = out;
        encoded
    }

    fn encode_into(
        &self,
        letter: &Letter,
        message: Option<&Message>,
        out: &mut Vec<u8>,
    ) -> Encoded {
        match self.format {
            Format::Eml => {
                out.extend_from_slice(&message.expect("eml needs the message").formatted());
                Encoded::named(Some(self.file_name(letter, "eml")))
            }
            Format::Txt => {
                let _ = write!(
                    out,
                    "From: {}\nTo: {}\nDate: {}\nSubject: {}\n\n{}",
                    self.from_header,
                    recipient_display(letter),
                    self.date_header,
                    letter.subject,
                    letter.body
                );
                Encoded::named(Some(self.file_name(letter, "txt")))
            }
            Format::Mbox => {
                mboxrd_entry(
                    &self.mbox_from_line,
                    message.expect("mbox needs the message"),
                    out,
                );
                Encoded::named(None)
            }
            Format::Html => {
                out.extend_from_slice(html_card(letter).as_bytes());
                Encoded::named(None)
            }
            Format::Pdf => self.encode_pdf(letter, out),
        }
    }

    fn encode_pdf(&self, letter: &Letter, out: &mut Vec<u8>) -> Encoded {
        let settings = self.pdf.as_ref().expect("pdf output has its settings");
        let style = &settings.style;
        let date = crate::letter::render::letter_date_in(&settings.date, &letter.language);
        let problem = |d: crate::error::Diag| Encoded {
            problem: Some(d.file(&settings.recipients_file).line(letter.line)),
            ..Encoded::named(None)
        };
        let mut texts: Vec<&str> = vec![&letter.subject, &letter.body, &date];
        texts.extend(letter.postal.iter().map(String::as_str));
        texts.extend(style.sender.iter().map(String::as_str));
        match crate::output::pdf::missing_glyph(style.font, &texts) {
            Ok(None) => {}
            Ok(Some(c)) => {
                return problem(
                    crate::error::Diag::new(format!(
                        "the PDF font has no glyph for `{c}` (U+{:04X}), needed in the letter to `{}`",
                        c as u32, letter.name
                    ))
                    .hint("pass --font FILE with a TrueType/OpenType font that covers this script (e.g. a Noto font)"),
                )
            }
            Err(e) => return problem(crate::error::Diag::new(e)),
        }
        let head = crate::output::pdf::Head {
            date: &date,
            recipient: &letter.postal,
            subject: &letter.subject,
        };
        let layout = match crate::output::pdf::layout(style, &head, &letter.body) {
            Ok(l) => l,
            Err(e) => return problem(crate::error::Diag::new(e)),
        };
        if settings.one_file {
            return Encoded {
                layout: Some(layout),
                ..Encoded::named(None)
            };
        }
        match crate::output::pdf::single(style, &layout) {
            Ok(bytes) => {
                out.extend_from_slice(&bytes);
                Encoded::named(Some(self.file_name(letter, "pdf")))
            }
            Err(e) => problem(crate::error::Diag::new(format!(
                "cannot write the PDF: {e}"
            ))),
        }
    }
}

pub struct Outbox {
    format: Format,
    out: PathBuf,
    /// Taken by `finish`; while it is here, dropping the outbox removes everything it made.
    staging: Option<tempfile::TempDir>,
    /// Directories this run created above the output, removed again if the run fails.
    created: Vec<PathBuf>,
    /// The output directory did not exist: the staging directory simply becomes it.
    fresh: bool,
    single: Option<BufWriter<File>>,
    /// The one PDF of `--one-file`, written page by page.
    book: Option<crate::output::pdf::Document<BufWriter<File>>>,
    single_name: String,
    encoder: Encoder,
    count: u64,
}

pub struct Summary {
    pub count: u64,
    pub location: PathBuf,
}

impl Outbox {
    pub fn create(
        out: &Path,
        format: Format,
        group_id: &str,
        from: &lettre::message::Mailbox,
        date: &jiff::Zoned,
        page: &PageInfo,
    ) -> Result<Outbox> {
        let fresh = !out.exists();
        if out.exists() && !out.is_dir() {
            return Err(Error::Usage(
                crate::error::Diag::new(format!(
                    "`{}` exists and is not a directory",
                    out.display()
                ))
                .hint("choose another --out directory"),
            ));
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let staging_parent = if fresh { parent } else { out.to_path_buf() };
        let mut created = Vec::new();
        let mut missing = staging_parent.as_path();
        while !missing.exists() {
            created.push(missing.to_path_buf());
            match missing.parent() {
                Some(p) if !p.as_os_str().is_empty() => missing = p,
                _ => break,
            }
        }
        fs::create_dir_all(&staging_parent).map_err(|e| Error::io(&staging_parent, e))?;
        let staging = tempfile::Builder::new()
            .prefix(".letterdrive-staging-")
            .tempdir_in(&staging_parent)
            .map_err(|e| Error::io(&staging_parent, e))?;

        let ext = match format {
            Format::Mbox => "mbox",
            Format::Html => "html",
            Format::Txt => "txt",
            Format::Eml => "eml",
            Format::Pdf => "pdf",
        };
        let single_name = format!("{group_id}.{ext}");
        let encoder = Encoder {
            format,
            group_id: group_id.to_string(),
            mbox_from_line: format!(
                "From {} {}\n",
                from.email,
                date.strftime("%a %b %e %H:%M:%S %Y")
            ),
            from_header: from.to_string(),
            date_header: crate::letter::render::letter_date(date),
            pdf: (format == Format::Pdf).then(|| {
                std::sync::Arc::new(PdfSettings {
                    style: crate::output::pdf::Style {
                        paper: crate::output::pdf::Paper::A4,
                        font: crate::output::pdf::BUNDLED_FONT,
                        sender: Vec::new(),
                    },
                    one_file: false,
                    date: date.clone(),
                    recipients_file: String::new(),
                })
            }),
        };
        let mut outbox = Outbox {
            format,
            out: out.to_path_buf(),
            fresh,
            single: None,
            book: None,
            single_name,
            encoder,
            staging: Some(staging),
            created,
            count: 0,
        };
        if matches!(format, Format::Mbox | Format::Html) {
            let path = outbox.staging_path().join(&outbox.single_name);
            let file = File::create(&path).map_err(|e| outbox.failed(&outbox.single_name, e))?;
            outbox.single = Some(BufWriter::with_capacity(OUT_BUFFER, file));
        }
        if format == Format::Html {
            let head = page_head(page);
            outbox.write_single(head.as_bytes())?;
        }
        Ok(outbox)
    }

    fn staging_path(&self) -> &Path {
        self.staging
            .as_ref()
            .expect("the staging directory lives until finish")
            .path()
    }

    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// Paper, font, sender block and `--one-file` for PDF output; call before `encoder()`.
    pub fn set_pdf(
        &mut self,
        style: crate::output::pdf::Style,
        one_file: bool,
        recipients_file: &str,
    ) -> Result<()> {
        let Some(current) = &self.encoder.pdf else {
            return Ok(());
        };
        self.encoder.pdf = Some(std::sync::Arc::new(PdfSettings {
            style: style.clone(),
            one_file,
            date: current.date.clone(),
            recipients_file: recipients_file.to_string(),
        }));
        if one_file {
            let path = self.staging_path().join(&self.single_name);
            let file = File::create(&path).map_err(|e| self.failed(&self.single_name, e))?;
            let doc = crate::output::pdf::Document::new(
                BufWriter::with_capacity(OUT_BUFFER, file),
                &style,
            )
            .map_err(|e| self.failed(&self.single_name, e))?;
            self.book = Some(doc);
        }
        Ok(())
    }

    /// Appends `bytes` to the one output file of the run.
    fn write_single(&mut self, bytes: &[u8]) -> Result<()> {
        let w = self
            .single
            .as_mut()
            .expect("single-file formats open their file in create()");
        let written = w.write_all(bytes);
        written.map_err(|e| self.failed(&self.single_name, e))
    }

    /// An error writing the output file `name`, reported under the name it was to have: the
    /// staging directory it was being written in is removed with everything in it.
    fn failed(&self, name: &str, e: std::io::Error) -> Error {
        Error::io(self.out.join(name), e)
    }

    /// Writes one letter: what `Encoder::encode` returned for it, and the bytes it appended.
    pub fn write(&mut self, encoded: Encoded) -> Result<()> {
        if let Some(d) = encoded.problem {
            return Err(Error::Invalid(d));
        }
        self.count += 1;
        if let Some(layout) = encoded.layout {
            let book = self
                .book
                .as_mut()
                .expect("--one-file opens its PDF in set_pdf()");
            let added = book.add(&layout);
            return added.map_err(|e| self.failed(&self.single_name, e));
        }
        match encoded.file_name {
            Some(name) => {
                let path = self.staging_path().join(&name);
                fs::write(&path, &encoded.bytes).map_err(|e| self.failed(&name, e))
            }
            None => self.write_single(&encoded.bytes),
        }
    }

    /// Move everything into place. Nothing is visible under `out` before this.
    pub fn finish(mut self) -> Result<Summary> {
        if self.format == Format::Html {
            self.write_single(b"</main>\n</body>\n</html>\n")?;
        }
        let single = match (self.book.take(), self.single.take()) {
            (Some(book), _) => book.finish().map(Some),
            (None, single) => Ok(single),
        };
        // On disk before it is moved into place, so a crash never leaves a short file there.
        let written = single.and_then(|w| match w {
            Some(w) => w.into_inner().map_err(|e| e.into_error())?.sync_all(),
            None => Ok(()),
        });
        written.map_err(|e| self.failed(&self.single_name, e))?;
        let location = match self.format {
            Format::Mbox | Format::Html => self.out.join(&self.single_name),
            Format::Pdf if self.encoder.pdf.as_ref().is_some_and(|p| p.one_file) => {
                self.out.join(&self.single_name)
            }
            Format::Eml | Format::Txt | Format::Pdf => self.out.clone(),
        };
        let staging = self.staging.take().expect("finish runs once");
        if self.fresh {
            fs::rename(staging.path(), &self.out).map_err(|e| Error::io(&self.out, e))?;
            // Renamed away: there is nothing left for the TempDir to clean up.
            let _ = staging.keep();
        } else {
            let entries = fs::read_dir(staging.path()).map_err(|e| Error::io(staging.path(), e))?;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(staging.path(), e))?;
                let target = self.out.join(entry.file_name());
                fs::rename(entry.path(), &target).map_err(|e| Error::io(&target, e))?;
            }
        }
        self.created.clear();
        Ok(Summary {
            count: self.count,
            location,
        })
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        // A run that did not finish leaves nothing behind: not the staging directory, and not
        // the (empty) directories it created to hold it.
        drop(self.single.take());
        drop(self.book.take());
        drop(self.staging.take());
        for dir in &self.created {
            let _ = fs::remove_dir(dir);
        }
    }
}

fn recipient_display(letter: &Letter) -> String {
    if letter.name.is_empty() {
        letter.email.clone()
    } else {
        format!("{} <{}>", letter.name, letter.email)
    }
}

/// One letter of an mbox file (mboxrd): the run's "From " line, then the message with LF line
/// ends and every line that starts with `>*From ` given one more `>`, then the blank line that
/// ends it. Readers undo the quoting, so the letter reads back byte for byte.
fn mboxrd_entry(from_line: &str, message: &Message, entry: &mut Vec<u8>) {
    let formatted = message.formatted();
    entry.reserve(from_line.len() + formatted.len() + 2);
    entry.extend_from_slice(from_line.as_bytes());
    for line in formatted.split_inclusive(|&b| b == b'\n') {
        let line = match line.strip_suffix(b"\r\n") {
            Some(text) => text,
            None => line.strip_suffix(b"\n").unwrap_or(line),
        };
        if line.iter().skip_while(|&&b| b == b'>').take(5).eq(b"From ") {
            entry.push(b'>');
        }
        entry.extend_from_slice(line);
        entry.push(b'\n');
    }
    entry.push(b'\n');
}

/// Buffer of the one output file of a run: large enough that a write is rarely a system call.
const OUT_BUFFER: usize = 256 * 1024;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_html(&mut out, s).ok();
    out
}

fn mailto(letter: &Letter) -> String {
    let body = letter.body.replace("\r\n", "\n").replace('\n', "\r\n");
    format!(
        "mailto:{}?subject={}&body={}",
        utf8_percent_encode(&letter.email, MAILTO)
            .to_string()
            .replace("%40", "@"),
        utf8_percent_encode(&letter.subject, MAILTO),
        utf8_percent_encode(&body, MAILTO),
    )
}

fn page_head(page: &PageInfo) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {group}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }}
article {{ border: 1px solid #ccc; border-radius: 6px; padding: 1rem 1.5rem; margin: 1.5rem 0; }}
article h2 {{ margin: 0 0 .25rem; font-size: 1.2rem; }}
.address {{ color: #555; font-size: .9rem; }}
.subject {{ font-weight: bold; }}
a.send {{ display: inline-block; background: #1d4ed8; color: #fff; padding: .5rem 1rem; border-radius: 4px; text-decoration: none; }}
</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p>Letters to <strong>{group}</strong>, signed by {signer}. Read each letter, then use its button to open it in your own mail program and send it from there.</p>
</header>
<main>
"#,
        title = esc(&page.title),
        group = esc(&page.group_label),
        signer = esc(&page.signer),
    )
}

fn html_card(letter: &Letter) -> String {
    let mut body = String::with_capacity(letter.body.len() * 2);
    markdown::to_html(&letter.body, &mut body);
    format!(
        r#"<article id="letter-{index}">
<h2>{name}</h2>
<p class="address">{email}</p>
<p class="subject" lang="{lang}">{subject}</p>
<div class="letter" lang="{lang}">
{body}</div>
<p><a class="send" href="{mailto}">Open in my mail program</a></p>
</article>
"#,
        index = letter.index,
        name = esc(&letter.name),
        email = esc(&letter.email),
        subject = esc(&letter.subject),
        lang = esc(&letter.language),
        mailto = esc(&mailto(letter)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An mbox entry is the message with LF line ends, `>*From ` lines quoted one level more;
    /// unquoting it gives the message back.
    #[test]
    fn an_mbox_entry_is_the_message_quoted_mboxrd_style() {
        use crate::letter::message::{build, MessageSettings};
        let signer = crate::letter::render::Signer {
            name: "Ada Volunteer".into(),
            email: "ada@example.org".into(),
            ..Default::default()
        };
        let mut settings =
            MessageSettings::new(&signer, std::time::SystemTime::UNIX_EPOCH, "camp", "g").unwrap();
        settings.eight_bit = true;
        let letter = Letter {
            index: 1,
            line: 2,
            name: "Zoë Müller".into(),
            email: "zoe@example.org".into(),
            subject: "From the campaign".into(),
            body: "Dear Zoë,\n\nFrom the files we know this.\n>From a quote\nFromage\n".into(),
            language: "en".into(),
            postal: vec![],
        };
        let message = build(&letter, &settings).unwrap();
        let mut entry = Vec::new();
        mboxrd_entry("From x\n", &message, &mut entry);
        let text = String::from_utf8(entry).unwrap();
        assert!(text.starts_with("From x\n"));
        assert!(text.ends_with("\n\n") && !text.contains('\r'));
        assert!(text.contains("\n>From the files we know this.\n>>From a quote\nFromage\n"));
        let unquoted: String = text["From x\n".len()..text.len() - 1]
            .split_inclusive('\n')
            .map(|l| match l.strip_prefix('>') {
                Some(rest) if rest.trim_start_matches('>').starts_with("From ") => rest,
                _ => l,
            })
            .collect();
        let formatted = String::from_utf8(message.formatted()).unwrap();
        assert_eq!(unquoted, formatted.replace("\r\n", "\n"));
    }

    #[test]
    fn mailto_encodes_everything_but_unreserved() {
        let letter = Letter {
            index: 1,
            line: 2,
            name: "Zoë".into(),
            email: "a.b@example.org".into(),
            subject: "Hello & bye?".into(),
            body: "Line 1\nLine 2".into(),
            language: "en".into(),
            postal: vec![],
        };
        let url = mailto(&letter);
        assert_eq!(
            url,
            "mailto:a.b@example.org?subject=Hello%20%26%20bye%3F&body=Line%201%0D%0ALine%202"
        );
    }
}
