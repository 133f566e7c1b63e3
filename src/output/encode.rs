//! Turns a letter into the bytes of its output format: a MIME message for `.eml` and mbox, plain
//! text, an HTML card for the page of mailto: links, or a PDF. Pure and shareable, so worker
//! threads encode while one thread writes in order.

use lettre::Message;

use crate::campaign::recipients::is_placeholder_address;
use crate::letter::render::Letter;
use crate::output::page::{html_card, index_entry};
use crate::output::Format;

/// Turns a letter into the bytes of its output.
#[derive(Debug, Clone)]
pub struct Encoder {
    format: Format,
    group_id: String,
    /// mbox "From " line, which is the same for every letter of a run.
    mbox_from_line: String,
    from_header: String,
    date_header: String,
    /// The signer's name, under which a printed letter leaves room to sign.
    signer: String,
    pub(super) pdf: Option<std::sync::Arc<PdfSettings>>,
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
    /// Its address is a placeholder on a reserved example domain: it reaches no one.
    pub placeholder: bool,
    /// Its line in the index of recipients at the top of the HTML page.
    pub index_entry: Option<String>,
}

impl Encoded {
    fn named(file_name: Option<String>) -> Encoded {
        Encoded {
            file_name,
            bytes: Vec::new(),
            layout: None,
            problem: None,
            placeholder: false,
            index_entry: None,
        }
    }
}

impl Encoder {
    pub fn new(
        format: Format,
        group_id: &str,
        from: &lettre::message::Mailbox,
        date: &jiff::Zoned,
    ) -> Encoder {
        Encoder {
            format,
            group_id: group_id.to_string(),
            mbox_from_line: format!(
                "From {} {}\n",
                from.email,
                date.strftime("%a %b %e %H:%M:%S %Y")
            ),
            from_header: from.to_string(),
            date_header: crate::letter::locale::letter_date(date),
            signer: from.name.clone().unwrap_or_default(),
            pdf: (format == Format::Pdf).then(|| {
                std::sync::Arc::new(PdfSettings {
                    style: crate::output::pdf::Style {
                        paper: crate::output::pdf::Paper::A4,
                        font: crate::output::pdf::BUNDLED_FONT,
                        bold: crate::output::pdf::BUNDLED_BOLD,
                        sender: Vec::new(),
                    },
                    one_file: false,
                    date: date.clone(),
                    recipients_file: String::new(),
                })
            }),
        }
    }

    /// Whether this format needs the MIME message, which costs more to build than the letter.
    pub fn needs_message(&self) -> bool {
        matches!(self.format, Format::Eml | Format::Mbox)
    }

    fn file_name(&self, letter: &Letter, ext: &str) -> String {
        let mut slug = slug::slugify(&letter.name);
        // Cut at the last word boundary that keeps 40 characters (slugs are ASCII); a first word
        // longer than that is cut where it must be.
        if slug.len() > 40 {
            let cut = slug[..=40].rfind('-').filter(|&i| i > 0).unwrap_or(40);
            slug.truncate(cut);
        }
        if slug.is_empty() {
            slug.push_str("recipient");
        }
        format!("{}-{:06}-{slug}.{ext}", self.group_id, letter.index)
    }

    /// The bytes of `letter` in this format.
    pub fn encode(&self, letter: &Letter, message: Option<&Message>) -> Encoded {
        Encoded {
            placeholder: is_placeholder_address(&letter.email),
            ..self.encode_bytes(letter, message)
        }
    }

    fn encode_bytes(&self, letter: &Letter, message: Option<&Message>) -> Encoded {
        let (file_name, bytes) = match self.format {
            Format::Eml => {
                let message = message.expect("eml needs the message");
                (Some(self.file_name(letter, "eml")), message.formatted())
            }
            Format::Txt => {
                let text = format!(
                    "From: {}\nTo: {}\nDate: {}\nSubject: {}\n\n{}",
                    self.from_header,
                    recipient_display(letter),
                    self.date_header,
                    letter.subject,
                    letter.body
                );
                (Some(self.file_name(letter, "txt")), text.into_bytes())
            }
            Format::Mbox => {
                let message = message.expect("mbox needs the message");
                (None, mboxrd_entry(&self.mbox_from_line, message))
            }
            Format::Html => {
                return Encoded {
                    bytes: html_card(letter).into_bytes(),
                    index_entry: Some(index_entry(letter)),
                    ..Encoded::named(None)
                }
            }
            Format::Pdf => return self.encode_pdf(letter),
        };
        Encoded {
            bytes,
            ..Encoded::named(file_name)
        }
    }

    fn encode_pdf(&self, letter: &Letter) -> Encoded {
        let settings = self.pdf.as_ref().expect("pdf output has its settings");
        let style = &settings.style;
        let date = crate::letter::locale::letter_date_in(&settings.date, &letter.language);
        let label = crate::letter::locale::subject_label(&letter.language);
        let problem = |d: crate::error::Diag| Encoded {
            problem: Some(d.file(&settings.recipients_file).line(letter.line)),
            ..Encoded::named(None)
        };
        let mut texts: Vec<&str> = vec![&letter.subject, &letter.body, &date];
        texts.extend(letter.postal.iter().map(String::as_str));
        texts.extend(style.sender.iter().map(String::as_str));
        let missing = crate::output::pdf::missing_glyph(style.font, &texts).and_then(|c| match c {
            None => crate::output::pdf::missing_glyph(style.bold, &[&letter.subject]),
            some => Ok(some),
        });
        match missing {
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
            subject_label: label,
            signer: &self.signer,
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
            Ok(bytes) => Encoded {
                bytes,
                ..Encoded::named(Some(self.file_name(letter, "pdf")))
            },
            Err(e) => problem(crate::error::Diag::new(format!(
                "cannot write the PDF: {e}"
            ))),
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
fn mboxrd_entry(from_line: &str, message: &Message) -> Vec<u8> {
    let formatted = message.formatted();
    let mut entry = Vec::with_capacity(from_line.len() + formatted.len() + 2);
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
    entry
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
        let settings =
            MessageSettings::new(&signer, std::time::SystemTime::UNIX_EPOCH, "camp", "g").unwrap();
        let letter = Letter {
            index: 1,
            line: 2,
            name: "Zoë Müller".into(),
            email: "zoe@example.org".into(),
            subject: "From the campaign".into(),
            body: "Dear Zoë,\n\nFrom the files we know this.\n>From a quote\nFromage\n".into(),
            language: "en".into(),
            postal: vec![],
            own_words: Default::default(),
            personal: Default::default(),
        };
        let message = build(&letter, &settings).unwrap();
        let entry = mboxrd_entry("From x\n", &message);
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
}
