//! A `Letter` becomes an RFC 5322 message with lettre's builder: the Markdown as the text part,
//! safe HTML as the alternative, and headers that are the same bytes on every run.

use std::str::FromStr;
use std::time::SystemTime;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use crate::error::{Diag, Error, Result};
use crate::markdown;
use crate::render::{Letter, Signer};

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

    /// Stable across runs for the same campaign, group and recipient, so a resent or re-rendered
    /// letter is recognisably the same letter.
    pub fn message_id(&self, recipient_email: &str) -> String {
        format!(
            "<{}.{}.{:016x}@{}>",
            self.campaign_id,
            self.group_id,
            self.recipient_hash(recipient_email),
            self.id_domain
        )
    }

    fn recipient_hash(&self, recipient_email: &str) -> u64 {
        let mut h = Fnv64::new();
        h.write(self.campaign_id.as_bytes());
        h.write(&[0]);
        h.write(self.group_id.as_bytes());
        h.write(&[0]);
        h.write(recipient_email.trim().to_lowercase().as_bytes());
        h.0
    }
}

/// FNV-1a: a hash whose output is specified, unlike std's, so Message-IDs never change with the
/// compiler version.
struct Fnv64(u64);

impl Fnv64 {
    fn new() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The HTML part: the letter's Markdown made safe and wrapped in a minimal document.
pub fn html_part(letter: &Letter) -> String {
    let mut html = String::with_capacity(letter.body.len() * 2 + 256);
    html.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    pulldown_cmark_escape::escape_html(&mut html, &letter.subject).ok();
    html.push_str("</title></head>\n<body>\n");
    markdown::to_html(&letter.body, &mut html);
    html.push_str("</body></html>\n");
    html
}

pub fn build(letter: &Letter, settings: &MessageSettings) -> Result<Message, Diag> {
    let to_addr = Address::from_str(&letter.email).map_err(|_| {
        Diag::new(format!("`{}` is not a valid e-mail address", letter.email)).field("email")
    })?;
    if letter.name.contains(['\r', '\n']) {
        return Err(Diag::new("the recipient name contains a line break").field("name"));
    }
    let to = Mailbox::new(Some(letter.name.clone()).filter(|n| !n.is_empty()), to_addr);
    let hash = settings.recipient_hash(&letter.email);
    let boundary = format!("letterdrive-{hash:016x}");
    let body = MultiPart::alternative()
        .boundary(boundary)
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(letter.body.clone()),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html_part(letter)),
        );
    Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(letter.subject.clone())
        .date(settings.date)
        .message_id(Some(settings.message_id(&letter.email)))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Letterdrive-Campaign"),
            format!("{}/{}", settings.campaign_id, settings.group_id),
        ))
        .multipart(body)
        .map_err(|e| Diag::new(format!("cannot build the message: {e}")))
}
