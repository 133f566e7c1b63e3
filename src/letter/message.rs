//! A `Letter` becomes an RFC 5322 message with lettre's builder: the Markdown as the text part,
//! safe HTML as the alternative, and headers that are the same bytes on every run.

use std::fmt::Write;
use std::str::FromStr;
use std::time::SystemTime;

use email_encoding::headers::{rfc2047, writer::EmailWriter};
use lettre::address::Envelope;
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use crate::error::{Diag, Error, Result};
use crate::letter::markdown;
use crate::letter::render::{Letter, Signer};

/// What every message of a run shares.
#[derive(Debug, Clone)]
pub struct MessageSettings {
    pub from: Mailbox,
    pub date: SystemTime,
    pub campaign_id: String,
    pub group_id: String,
    /// Domain part of Message-IDs: the signer's own domain, as mail clients do.
    pub id_domain: String,
}

impl MessageSettings {
    pub fn new(
        signer: &Signer,
        date: SystemTime,
        campaign_id: &str,
        group_id: &str,
    ) -> Result<Self> {
        if signer.name.contains(['\r', '\n']) {
            return Err(Error::Usage(
                Diag::new("the signer name contains a line break, which a mail header cannot hold")
                    .hint("pass --signer-name on one line"),
            ));
        }
        let address = Address::from_str(signer.email.trim()).map_err(|_| {
            Error::Usage(
                Diag::new(format!(
                    "signer e-mail `{}` is not a valid e-mail address",
                    signer.email
                ))
                .hint("pass --signer-email you@your-domain"),
            )
        })?;
        let id_domain = address.domain().to_string();
        Ok(MessageSettings {
            from: Mailbox::new(Some(signer.name.trim().to_string()), address),
            date,
            campaign_id: campaign_id.to_string(),
            group_id: group_id.to_string(),
            id_domain,
        })
    }

    /// Stable across runs and versions for the same campaign, group and recipient, so a resent or
    /// re-rendered letter is recognisably the same letter and journals keyed by it stay valid.
    pub fn message_id(&self, recipient_email: &str) -> String {
        format!(
            "<{}.{}.{:016x}@{}>",
            self.campaign_id,
            self.group_id,
            self.recipient_hash(recipient_email),
            self.id_domain
        )
    }

    /// FNV-1a of campaign, group and address: a hash whose output is specified, unlike std's, so
    /// Message-IDs never change with the compiler version.
    fn recipient_hash(&self, recipient_email: &str) -> u64 {
        let email = recipient_email.trim().to_lowercase();
        let parts = [
            self.campaign_id.as_bytes(),
            self.group_id.as_bytes(),
            email.as_bytes(),
        ];
        parts.join(&0).iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}

/// The HTML part: the letter's Markdown made safe and wrapped in a minimal document.
pub fn html_part(letter: &Letter) -> String {
    let mut html = String::with_capacity(letter.body.len() * 2 + 256);
    html.push_str("<!DOCTYPE html>\n<html lang=\"");
    pulldown_cmark_escape::escape_html(&mut html, &letter.language).ok();
    html.push_str("\"><head><meta charset=\"utf-8\"><title>");
    pulldown_cmark_escape::escape_html(&mut html, &letter.subject).ok();
    html.push_str("</title></head>\n<body>\n");
    markdown::to_html(&letter.body, &mut html);
    html.push_str("</body></html>\n");
    html
}

/// The letter as a message. It refuses only what `recipients::validate_row` already refuses for
/// every row (an invalid address, a line break in the name): `send` relies on that to validate
/// all letters without building them, yet never stop after the first has gone.
pub fn build(letter: &Letter, settings: &MessageSettings) -> Result<Message, Diag> {
    let to_addr = Address::from_str(&letter.email).map_err(|_| {
        Diag::new(format!("`{}` is not a valid e-mail address", letter.email)).field("email")
    })?;
    if letter.name.contains(['\r', '\n']) {
        return Err(Diag::new("the recipient name contains a line break").field("name"));
    }
    let to = Mailbox::new(Some(letter.name.clone()).filter(|n| !n.is_empty()), to_addr);
    let boundary = format!(
        "letterdrive-{:016x}",
        settings.recipient_hash(&letter.email)
    );
    let part =
        |kind: ContentType, text: String| SinglePart::builder().header(kind).body(body(text));
    let parts = MultiPart::alternative()
        .boundary(boundary)
        .singlepart(part(ContentType::TEXT_PLAIN, letter.body.clone()))
        .singlepart(part(ContentType::TEXT_HTML, html_part(letter)));
    let mut builder = Message::builder()
        .from(settings.from.clone())
        .to(to.clone())
        .subject(letter.subject.clone());
    // lettre writes an ASCII word as it is, so a name or subject holding `=?...?=` would be
    // decoded by mail programs into text the volunteer never saw: such text is encoded whole.
    if to.name.as_deref().is_some_and(|n| n.contains("=?")) {
        let name = to.name.clone().unwrap_or_default();
        let address = format!("<{}>", to.email);
        builder = builder.raw_header(encoded("To", to.to_string(), |w| {
            rfc2047::encode(&name, w)?;
            w.space();
            w.write_str(&address)
        }));
    }
    if letter.subject.contains("=?") {
        let subject = letter.subject.clone();
        builder = builder.raw_header(encoded("Subject", subject.clone(), |w| {
            rfc2047::encode(&subject, w)
        }));
    }
    let envelope = Envelope::new(Some(settings.from.email.clone()), vec![to.email]);
    builder
        .envelope(envelope.map_err(|e| Diag::new(format!("cannot build the message: {e}")))?)
        .date(settings.date)
        .message_id(Some(settings.message_id(&letter.email)))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Letterdrive-Campaign"),
            format!("{}/{}", settings.campaign_id, settings.group_id),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Content-Language"),
            letter.language.clone(),
        ))
        .multipart(parts)
        .map_err(|e| Diag::new(format!("cannot build the message: {e}")))
}

/// Header `name`, its value `raw` written by `write` with RFC 2047's encoder, which writes only
/// printable ASCII and folds its lines: what `dangerous_new_pre_encoded` asks of a value.
fn encoded(
    name: &'static str,
    raw: String,
    write: impl FnOnce(&mut EmailWriter) -> std::fmt::Result,
) -> HeaderValue {
    let mut value = String::new();
    {
        let mut w = EmailWriter::new(&mut value, name.len() + ": ".len(), 0, false);
        write(&mut w).expect("writing to a String cannot fail");
    }
    let name = HeaderName::new_from_ascii_str(name);
    HeaderValue::dangerous_new_pre_encoded(name, raw, value)
}

/// The text quoted-printable: 7-bit ASCII that every server and mail program takes. (lettre would
/// write 8bit only for lines under 76 characters, and a Markdown paragraph is one long line.)
///
/// The text is handed over with CRLF line ends, as the message will have them: lettre would
/// otherwise insert each CR into the string one at a time, moving the rest of the text each time.
fn body(text: String) -> Body {
    let crlf = if text.contains('\r') {
        text
    } else {
        text.replace('\n', "\r\n")
    };
    Body::new_with_encoding(crlf, ContentTransferEncoding::QuotedPrintable)
        .expect("quoted-printable encodes any text")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MimeHeaders;

    fn letter(subject: &str, body: &str) -> Letter {
        Letter {
            index: 1,
            line: 2,
            name: "Zoë".into(),
            email: "zoe@example.org".into(),
            subject: subject.into(),
            body: body.into(),
            language: "en".into(),
            postal: vec![],
            own_words: Default::default(),
            personal: Default::default(),
        }
    }

    /// A letter to Zoë from `signer`, built and formatted.
    fn formatted_letter(signer: &str, body: &str) -> Vec<u8> {
        let signer = Signer {
            name: signer.into(),
            email: "ada@example.org".into(),
            ..Signer::default()
        };
        let settings = MessageSettings::new(&signer, SystemTime::UNIX_EPOCH, "camp", "g").unwrap();
        build(&letter("Hello", body), &settings)
            .unwrap()
            .formatted()
    }

    #[test]
    fn message_ids_are_stable_and_ignore_case_and_spaces() {
        let signer = Signer {
            name: "Ada".into(),
            email: "ada@example.org".into(),
            ..Signer::default()
        };
        let s = MessageSettings::new(&signer, SystemTime::UNIX_EPOCH, "camp", "grp").unwrap();
        // Journals of earlier runs are keyed by these IDs: the hash must never change.
        assert_eq!(
            s.message_id("zoe@example.org"),
            "<camp.grp.62fd7e4d03c11b6f@example.org>"
        );
        assert_eq!(
            s.message_id(" ZOE@example.org "),
            s.message_id("zoe@example.org")
        );
    }

    /// At the longest values `check` lets through, no header line passes RFC 5322's 998 octets,
    /// whatever the text: lettre folds at spaces and encodes what is not ASCII, and a quoted
    /// name's escapes or an unbroken word still fit.
    #[test]
    fn headers_at_the_length_limits_stay_within_998_octets() {
        use crate::campaign::{MAX_EMAIL, MAX_ID, MAX_NAME, MAX_SUBJECT};
        let label = "d".repeat(60);
        let domain = format!("{label}.{label}.{label}.{label}.example");
        let email = format!("{}@{domain}", "l".repeat(MAX_EMAIL - domain.len() - 1));
        let id = "i".repeat(MAX_ID);
        for text in ["a", "é", "\"", "=?", "a ", "\\"] {
            let name = text.repeat(MAX_NAME / text.chars().count());
            let subject = text.repeat(MAX_SUBJECT / text.chars().count());
            let signer = Signer {
                name: name.clone(),
                email: email.clone(),
                ..Signer::default()
            };
            let settings = MessageSettings::new(&signer, SystemTime::UNIX_EPOCH, &id, &id).unwrap();
            let letter = Letter {
                name,
                email: email.clone(),
                ..letter(&subject, "Body.\n")
            };
            let bytes = build(&letter, &settings).unwrap().formatted();
            for line in bytes.split(|&b| b == b'\n') {
                assert!(
                    line.len() <= 999,
                    "{text:?}: {}",
                    String::from_utf8_lossy(line)
                );
            }
        }
    }

    #[test]
    fn a_signer_name_with_a_comma_builds_a_valid_from() {
        for name in ["Ada Volunteer", "O'Brien, Siobhán"] {
            let bytes = formatted_letter(name, "Dear Zoë,\n\nplease act.\n");
            let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
            let from = parsed.from().unwrap().first().unwrap();
            assert_eq!(from.name(), Some(name));
            assert_eq!(from.address(), Some("ada@example.org"));
        }
    }

    /// Parts are quoted-printable and decode to the letter as written.
    #[test]
    fn parts_are_quoted_printable_and_decode_to_the_letter() {
        let body = "Dear Zoë,\n\nFrom the start: <b>raw</b> and `code`.\n\n>From a quote\n";
        let long = format!("{}\n", "ü".repeat(600));
        for text in [body, long.as_str()] {
            let bytes = formatted_letter("Ada", text);
            assert!(bytes.is_ascii());
            let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
            let plain = &parsed.parts[1];
            assert_eq!(plain.content_transfer_encoding(), Some("quoted-printable"));
            assert_eq!(parsed.body_text(0).unwrap().replace("\r\n", "\n"), text);
            let html = parsed.body_html(0).unwrap();
            assert_eq!(
                html.contains("&lt;b&gt;raw"),
                text.contains("<b>raw"),
                "{html}"
            );
        }
    }
}
