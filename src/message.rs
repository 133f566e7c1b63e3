//! A `Letter` becomes an RFC 5322 message with lettre's builder: the Markdown as the text part,
//! safe HTML as the alternative, and headers that are the same bytes on every run.

use std::str::FromStr;
use std::time::SystemTime;

use lettre::address::Envelope;
use lettre::message::header::{
    self, ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue,
};
use lettre::message::{Body, Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::{Address, Message};

use crate::error::{Diag, Error, Result};
use crate::markdown;
use crate::render::{Letter, Signer};
use crate::seen_twice::SeenTwice;

/// What every message of a run shares.
#[derive(Debug, Clone)]
pub struct MessageSettings {
    pub from: Mailbox,
    pub campaign_id: String,
    pub group_id: String,
    /// Domain part of Message-IDs: the signer's own domain, as mail clients do.
    pub id_domain: String,
    /// How the lines of the text and HTML parts end: LF only for an mbox, whose letters are
    /// stored that way; the headers and MIME boundaries lettre writes always end in CRLF.
    pub body_eol: Eol,
    // From, Date and the campaign header are the same in every message of the run: formatted and
    // encoded once, not once per letter.
    from_header: HeaderValue,
    date_header: HeaderValue,
    campaign_header: HeaderValue,
    // The content types of the parts, and that of the whole with a stand-in boundary: lettre's
    // builders parsed, formatted and encoded the same three types again for every letter.
    text_type: HeaderValue,
    html_type: HeaderValue,
    alternative: Alternative,
    /// Whether lettre writes this run's Message-IDs as they are (no character needs encoding), so
    /// they can be handed over already encoded.
    plain_ids: bool,
}

/// The `multipart/alternative` Content-Type with the boundary every message of a run has before
/// its recipient's hash goes in.
#[derive(Debug, Clone)]
struct Alternative {
    raw: String,
    encoded: String,
    /// Where the hash goes in each.
    raw_at: usize,
    encoded_at: usize,
}

const BOUNDARY_STAND_IN: &str = "letterdrive-0000000000000000";

impl Alternative {
    fn new() -> Alternative {
        let raw = alternative_raw(BOUNDARY_STAND_IN);
        let encoded = encoded_value(alternative_type(BOUNDARY_STAND_IN));
        let at = |s: &str| {
            s.find(BOUNDARY_STAND_IN)
                .expect("the boundary is one word, which lettre leaves as it is")
                + "letterdrive-".len()
        };
        Alternative {
            raw_at: at(&raw),
            encoded_at: at(&encoded),
            raw,
            encoded,
        }
    }

    /// The header lettre gives for `boundary_for(hash)`: the hash is sixteen hex digits whatever
    /// its value, so it takes the place of the stand-in's zeros without moving anything else.
    fn with(&self, hash: u64) -> HeaderValue {
        let digits = hex16(hash);
        let digits = std::str::from_utf8(&digits).expect("hex digits are ASCII");
        let with = |s: &str, at: usize| [&s[..at], digits, &s[at + 16..]].concat();
        HeaderValue::dangerous_new_pre_encoded(
            ContentType::name(),
            with(&self.raw, self.raw_at),
            with(&self.encoded, self.encoded_at),
        )
    }
}

/// `format!("{v:016x}")` without the formatting machinery, which cost more than the rest of
/// building a Message-ID.
fn hex16(v: u64) -> [u8; 16] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    std::array::from_fn(|i| HEX[((v >> (60 - 4 * i)) & 15) as usize])
}

fn alternative_raw(boundary: &str) -> String {
    format!("multipart/alternative; boundary=\"{boundary}\"")
}

/// What lettre makes of the `multipart/alternative` type with this boundary.
fn alternative_type(boundary: &str) -> HeaderValue {
    ContentType::parse(&alternative_raw(boundary))
        .expect("a boundary of letters, digits and dashes makes a valid type")
        .display()
}

/// A header's value as lettre writes it into a message, read back from a header set holding it
/// (lettre keeps the encoded value to itself).
fn encoded_value(value: HeaderValue) -> String {
    let mut headers = lettre::message::header::Headers::new();
    headers.insert_raw(value);
    let line = headers.to_string();
    let (_, rest) = line.split_once(": ").expect("a header line has a colon");
    rest.strip_suffix("\r\n")
        .expect("a header line ends in CRLF")
        .to_string()
}

/// Subjects and languages repeat across the letters of a campaign (one subject per organisation,
/// a few languages), and lettre encodes a header value anew each time.
const MAX_REPEATED: usize = 256;
const MAX_SEEN_ONCE: usize = 1024;

thread_local! {
    static REPEATED: std::cell::RefCell<SeenTwice<Repeated, MAX_REPEATED, MAX_SEEN_ONCE>> =
        Default::default();
}

struct Repeated {
    name: &'static str,
    raw: Box<str>,
    value: HeaderValue,
}

/// The header `make` gives for `raw`, made once per thread while it keeps repeating.
fn repeated(name: &'static str, raw: &str, make: impl FnOnce() -> HeaderValue) -> HeaderValue {
    use std::hash::BuildHasher;
    let key = rustc_hash::FxBuildHasher.hash_one((name, raw));
    REPEATED.with_borrow_mut(|cache| {
        if let Some(r) = cache.get(key, |r| r.name == name && *r.raw == *raw) {
            return r.value.clone();
        }
        let value = make();
        cache.missed(key, || Repeated {
            name,
            raw: raw.into(),
            // The cache is this thread's, and so are the clones' counts.
            value: value.shared(),
        });
        value
    })
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
        let from = Mailbox::new(Some(signer.name.trim().to_string()), address);
        let mut settings = MessageSettings {
            from_header: header::From::from(Mailboxes::from(from.clone())).display(),
            date_header: header::Date::new(date).display(),
            campaign_header: HeaderValue::new(
                HeaderName::new_from_ascii_str("X-Letterdrive-Campaign"),
                format!("{campaign_id}/{group_id}"),
            ),
            text_type: ContentType::TEXT_PLAIN.display(),
            html_type: ContentType::TEXT_HTML.display(),
            alternative: Alternative::new(),
            plain_ids: false,
            from,
            campaign_id: campaign_id.to_string(),
            group_id: group_id.to_string(),
            id_domain,
            body_eol: Eol::Crlf,
        };
        let id = settings.message_id_for(0);
        settings.plain_ids = encoded_value(header::MessageId::from(id.clone()).display()) == id;
        Ok(settings)
    }

    /// A copy for one render thread, whose headers that are the same in every message are cloned
    /// into each without copying their text (vendored lettre's `HeaderValue::shared`): seven
    /// copies and frees of two strings a letter were 2% of its instructions. The copy is per
    /// thread so that render threads never contend for one count of clones (`send` drops its
    /// messages on the connection threads, where that costs nothing next to the network).
    pub fn for_thread(&self) -> MessageSettings {
        MessageSettings {
            from_header: self.from_header.shared(),
            date_header: self.date_header.shared(),
            campaign_header: self.campaign_header.shared(),
            text_type: self.text_type.shared(),
            html_type: self.html_type.shared(),
            ..self.clone()
        }
    }

    /// The Message-ID header for this hash, as lettre would encode it. The hash is sixteen hex
    /// digits in every ID of a run, so if lettre leaves one ID as it is, it leaves them all.
    fn message_id_header(&self, hash: u64) -> HeaderValue {
        let id = self.message_id_for(hash);
        if self.plain_ids {
            HeaderValue::dangerous_new_pre_encoded(header::MessageId::name(), id.clone(), id)
        } else {
            header::MessageId::from(id).display()
        }
    }

    /// Stable across runs for the same campaign, group and recipient, so a resent or re-rendered
    /// letter is recognisably the same letter.
    pub fn message_id(&self, recipient_email: &str) -> String {
        self.message_id_for(self.recipient_hash(recipient_email))
    }

    /// `<campaign.group.hash@domain>`, the hash as sixteen hex digits.
    fn message_id_for(&self, hash: u64) -> String {
        let mut id = String::with_capacity(
            self.campaign_id.len() + self.group_id.len() + self.id_domain.len() + 21,
        );
        id.push('<');
        id.push_str(&self.campaign_id);
        id.push('.');
        id.push_str(&self.group_id);
        id.push('.');
        id.push_str(std::str::from_utf8(&hex16(hash)).expect("hex digits are ASCII"));
        id.push('@');
        id.push_str(&self.id_domain);
        id.push('>');
        id
    }

    fn recipient_hash(&self, recipient_email: &str) -> u64 {
        let mut h = Fnv64::new();
        h.write(self.campaign_id.as_bytes());
        h.write(&[0]);
        h.write(self.group_id.as_bytes());
        h.write(&[0]);
        let email = recipient_email.trim();
        if email.is_ascii() {
            // The bytes `to_lowercase` would give, without a new string per letter.
            for b in email.bytes() {
                h.write(&[b.to_ascii_lowercase()]);
            }
        } else {
            h.write(email.to_lowercase().as_bytes());
        }
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
    let mut html = html_head(letter, letter.body.len() * 2 + 256);
    markdown::to_html(&letter.body, &mut html);
    html.push_str(HTML_TAIL);
    html
}

/// Everything of the HTML part before the letter; it ends with a line break.
fn html_head(letter: &Letter, capacity: usize) -> String {
    let mut html = String::with_capacity(capacity);
    html.push_str("<!DOCTYPE html>\n<html lang=\"");
    html.push_str(&letter.language);
    html.push_str("\"><head><meta charset=\"utf-8\"><title>");
    pulldown_cmark_escape::escape_html(&mut html, &letter.subject).ok();
    html.push_str("</title></head>\n<body>\n");
    html
}

const HTML_TAIL: &str = "</body></html>\n";

/// The text part and the HTML part, both quoted-printable: the bytes `quoted_printable` gives for
/// `letter.body` and for `html_part(letter)`, with the blocks shared by many letters encoded once.
fn encoded_parts(letter: &Letter, eol: Eol) -> (Vec<u8>, Vec<u8>) {
    thread_local! {
        // The sizes of this thread's last parts. A letter in Cyrillic or Greek takes three times
        // its length in quoted-printable, and a guess from the length alone grew its buffers two
        // or three times, each copying what came before.
        static LAST: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
    }
    let n = letter.body.len();
    let (last_text, last_html) = LAST.get();
    let mut text = Vec::with_capacity((n + n / 16 + 16).max(last_text + last_text / 8));
    let mut html = Vec::with_capacity((2 * n + 512).max(last_html + last_html / 8));
    // The head ends a line, so encoding it apart from the rest changes no byte.
    encode_html_head(letter, eol, &mut html);
    crate::blocks::encode_into(&letter.body, eol, &mut text, &mut html);
    html.extend_from_slice(HTML_TAIL.strip_suffix('\n').unwrap_or(HTML_TAIL).as_bytes());
    html.extend_from_slice(eol.bytes());
    LAST.set((text.len(), html.len()));
    (text, html)
}

/// The HTML head, quoted-printable, for one language and subject.
struct EncodedHead {
    language: Box<str>,
    subject: Box<str>,
    eol: Eol,
    qp: Box<[u8]>,
}

thread_local! {
    // A campaign's subjects repeat (they name an organisation, not a person), and escaping and
    // encoding the head again for each letter was a thirtieth of the cost of one.
    static HEADS: std::cell::RefCell<SeenTwice<EncodedHead, MAX_REPEATED, MAX_SEEN_ONCE>> =
        Default::default();
}

/// Appends `quoted_printable_into(html_head(letter))` to `out`.
fn encode_html_head(letter: &Letter, eol: Eol, out: &mut Vec<u8>) {
    use std::hash::BuildHasher;
    let key = rustc_hash::FxBuildHasher.hash_one((&letter.language, &letter.subject, eol));
    HEADS.with_borrow_mut(|cache| {
        let same = |h: &EncodedHead| {
            *h.subject == *letter.subject && *h.language == *letter.language && h.eol == eol
        };
        if let Some(h) = cache.get(key, same) {
            out.extend_from_slice(&h.qp);
            return;
        }
        let start = out.len();
        quoted_printable_into(&html_head(letter, 256), eol, out);
        cache.missed(key, || EncodedHead {
            language: letter.language.as_str().into(),
            subject: letter.subject.as_str().into(),
            eol,
            qp: out[start..].into(),
        });
    })
}

pub fn build(letter: &Letter, settings: &MessageSettings) -> Result<Message, Diag> {
    build_to(letter, None, settings)
}

/// `build`, given `letter.email` already parsed (or `None` to parse it here).
pub fn build_to(
    letter: &Letter,
    address: Option<Address>,
    settings: &MessageSettings,
) -> Result<Message, Diag> {
    let to_addr = match address {
        Some(a) => a,
        None => Address::from_str(&letter.email).map_err(|_| {
            Diag::new(format!("`{}` is not a valid e-mail address", letter.email)).field("email")
        })?,
    };
    if letter.name.contains(['\r', '\n']) {
        return Err(Diag::new("the recipient name contains a line break").field("name"));
    }
    // Given explicitly, the envelope is not re-parsed from the From and To headers lettre has
    // just formatted, which was an eighth of the cost of a message.
    let envelope = Envelope::new(Some(settings.from.email.clone()), vec![to_addr.clone()])
        .map_err(|e| Diag::new(format!("cannot build the envelope: {e}")))?;
    let to = Mailbox::new(Some(letter.name.clone()).filter(|n| !n.is_empty()), to_addr);
    let hash = settings.recipient_hash(&letter.email);
    let (text, html) = encoded_parts(letter, settings.body_eol);
    let qp = |bytes| Body::dangerous_pre_encoded(bytes, ContentTransferEncoding::QuotedPrintable);
    // The parts' types are encoded once per run (vendored lettre's `raw_header`, VENDORED.md).
    let body = MultiPart::builder()
        .raw_header(settings.alternative.with(hash))
        .singlepart(
            SinglePart::builder()
                .raw_header(settings.text_type.clone())
                .body(qp(text)),
        )
        .singlepart(
            SinglePart::builder()
                .raw_header(settings.html_type.clone())
                .body(qp(html)),
        );
    let subject = repeated("Subject", &letter.subject, || {
        header::Subject::from(letter.subject.clone()).display()
    });
    let language = repeated("Content-Language", &letter.language, || {
        HeaderValue::new(
            HeaderName::new_from_ascii_str("Content-Language"),
            letter.language.clone(),
        )
    });
    Message::builder()
        .raw_header(settings.from_header.clone())
        .to(to)
        .raw_header(subject)
        .raw_header(settings.date_header.clone())
        .raw_header(settings.message_id_header(hash))
        .envelope(envelope)
        .raw_header(settings.campaign_header.clone())
        .raw_header(language)
        .multipart(body)
        .map_err(|e| Diag::new(format!("cannot build the message: {e}")))
}

/// How the lines of an encoded body end. A message on the wire or in an `.eml` file uses CRLF; an
/// mbox stores its letters with LF, so their bodies are encoded that way from the start instead of
/// being converted line by line afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Eol {
    #[default]
    Crlf,
    Lf,
}

impl Eol {
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Eol::Crlf => b"\r\n",
            Eol::Lf => b"\n",
        }
    }
}

/// Appends `text` quoted-printable (RFC 2045 section 6.7, lines ending as `eol` says) to `out`. lettre would
/// pick the same encoding for these mostly-ASCII letters, but its generic path (choose an
/// encoding, normalise line ends, then encode char by char) was two thirds of the cost of a
/// message; this single table-driven pass gives the same bytes a decoder expects at a fraction of
/// it. Every line is encoded on its own, so encoding two texts that end with a line break one
/// after the other gives the bytes of encoding them joined.
pub fn quoted_printable_into(text: &str, eol: Eol, out: &mut Vec<u8>) {
    // memchr's vectorised search: `str::split` looked for line breaks a byte at a time.
    for (i, line) in lines(text).enumerate() {
        if i > 0 {
            out.extend_from_slice(eol.bytes());
        }
        quoted_printable_line(line, eol, out);
    }
}

/// One line of `quoted_printable_into`: `line` holds no line break (a CR ending it is dropped),
/// and nothing ends the encoded line but the soft breaks inside it.
pub fn quoted_printable_line(line: &str, eol: Eol, out: &mut Vec<u8>) {
    const MAX: usize = 76;
    let soft: &[u8] = match eol {
        Eol::Crlf => b"=\r\n",
        Eol::Lf => b"=\n",
    };
    let line = line.strip_suffix('\r').unwrap_or(line).as_bytes();
    let mut col = 0;
    let mut j = 0;
    if starts_from_line(line) {
        push_escaped(line[0], out);
        col = 3;
        j = 1;
    }
    while j < line.len() {
        // Copy the longest run of literal bytes that fits before a soft break would be needed.
        let room = MAX - 1 - col;
        let mut run = literal_run(&line[j..], room);
        // Whitespace ending a line must be encoded, or transports may strip it.
        if run > 0 && j + run == line.len() && is_space(line[j + run - 1]) {
            run -= 1;
        }
        out.extend_from_slice(&line[j..j + run]);
        col += run;
        j += run;
        if j == line.len() {
            break;
        }
        // A run of bytes that are encoded, as a name in Cyrillic or Greek is: byte by byte
        // through the loop, each cost a search for a literal run that was not there, a tenth of
        // the cost of such a letter.
        while j < line.len() && !is_literal(line[j]) {
            // The last byte of a line needs no room for a following "=".
            let limit = if j + 1 == line.len() { MAX } else { MAX - 1 };
            if col + 3 > limit {
                out.extend_from_slice(soft);
                col = 0;
            }
            push_escaped(line[j], out);
            col += 3;
            j += 1;
        }
        if j == line.len() {
            break;
        }
        let b = line[j];
        let last = j + 1 == line.len();
        let mut literal = is_literal(b) && !(last && is_space(b));
        let width = if literal { 1 } else { 3 };
        // The last char of a line needs no room for a following "=".
        let limit = if last { MAX } else { MAX - 1 };
        if col + width > limit {
            out.extend_from_slice(soft);
            col = 0;
            literal = literal && !starts_from_line(&line[j..]);
        }
        if literal {
            out.push(b);
            col += 1;
        } else {
            push_escaped(b, out);
            col += 3;
        }
        j += 1;
    }
}

fn push_escaped(b: u8, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
}

/// Whether an encoded line starting here would start with `>*From `, which mbox files quote and
/// some mail software alters. Such a line starts with its first byte encoded: "=46rom ", as RFC
/// 2049 (section 3) recommends for `From `, and "=3E" for the `>` of the `>From ` lines that
/// mboxrd quotes too. The decoded text is the same, and an encoded letter never has such a line,
/// so an mbox holds letters as lettre formats them, with nothing to search for and quote.
#[inline]
pub(crate) fn starts_from_line(s: &[u8]) -> bool {
    match s.first() {
        Some(b'F') => s.starts_with(b"From "),
        Some(b'>') => {
            let n = s.iter().take_while(|&&b| b == b'>').count();
            s[n..].starts_with(b"From ")
        }
        _ => false,
    }
}

/// `text.split('\n')`.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut breaks = memchr::memchr_iter(b'\n', text.as_bytes());
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let line = match breaks.next() {
            Some(i) => {
                let line = &text[start..i];
                start = i + 1;
                line
            }
            None => {
                done = true;
                &text[start..]
            }
        };
        Some(line)
    })
}

#[inline]
fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Bytes quoted-printable may carry as they are: printable ASCII but `=`, plus space and tab.
static LITERAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 33;
    while b <= 126 {
        t[b] = b != b'=' as usize;
        b += 1;
    }
    t[b' ' as usize] = true;
    t[b'\t' as usize] = true;
    t
};

#[inline]
fn is_literal(b: u8) -> bool {
    LITERAL[usize::from(b)]
}

/// Length of the run of literal bytes at the start of `s`, at most `max`. Letters are mostly
/// plain ASCII text, so eight bytes are tested at a time (SWAR) before falling back to the table.
#[inline]
fn literal_run(s: &[u8], max: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let s = &s[..s.len().min(max)];
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let del_or_high = (x.wrapping_add(ONES) | x) & HIGH;
        let v = x ^ (ONES * u64::from(b'='));
        let equals = v.wrapping_sub(ONES) & !v & HIGH;
        if below_space | del_or_high | equals != 0 {
            break;
        }
        i += 8;
    }
    while i < s.len() && is_literal(s[i]) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boundary_for(hash: u64) -> String {
        format!("letterdrive-{hash:016x}")
    }

    /// The vendored lettre reads the boundary of the simple form it writes without a MIME parser
    /// (VENDORED.md); every form, simple or not, gives the boundary the parser reads.
    #[test]
    fn multipart_boundaries_are_the_ones_the_parser_reads() {
        let mut raws: Vec<String> = (0..200u64)
            .map(|i| alternative_raw(&boundary_for(i.wrapping_mul(0x9e37_79b9_7f4a_7c15))))
            .collect();
        raws.extend(
            [
                "multipart/mixed; boundary=\"a\"",
                "multipart/related; boundary=\"Z.z_9-Z.z_9-Z.z_9-\"",
                "multipart/alternative; boundary=plain",
                "multipart/alternative; boundary=\"with space\"",
                "multipart/alternative; boundary=\"a\"; charset=utf-8",
                "multipart/Alternative; boundary=\"a\"",
                "multipart/mixed;boundary=\"a\"",
                "multipart/mixed; boundary=\"a+b\"",
                "multipart/mixed; BOUNDARY=\"abc\"",
            ]
            .map(String::from),
        );
        raws.push(format!("multipart/mixed; boundary=\"{}\"", "b".repeat(71)));
        for raw in raws {
            let part = MultiPart::builder()
                .header(ContentType::parse(&raw).unwrap())
                .build();
            let parsed: mime::Mime = raw.parse().unwrap();
            let want = parsed.get_param("boundary").unwrap();
            assert_eq!(part.boundary(), want.as_str(), "{raw}");
        }
    }

    #[test]
    fn hex16_is_the_formatted_hash() {
        let mut v = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..1000 {
            assert_eq!(hex16(v), format!("{v:016x}").as_bytes());
            v = v.rotate_left(7).wrapping_mul(0x0100_0000_01b3) >> (v % 9);
        }
        assert_eq!(&hex16(0), b"0000000000000000");
        assert_eq!(&hex16(u64::MAX), b"ffffffffffffffff");
    }

    #[test]
    fn the_alternative_type_is_the_one_lettre_makes_for_each_boundary() {
        let alternative = Alternative::new();
        let mut hash = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..1000 {
            hash ^= hash << 13;
            hash ^= hash >> 7;
            hash ^= hash << 17;
            for h in [hash, 0, u64::MAX, hash >> 40] {
                let made = alternative.with(h);
                assert_eq!(
                    encoded_value(made.clone()),
                    encoded_value(alternative_type(&boundary_for(h)))
                );
                let parsed = ContentType::parse(
                    &alternative
                        .raw
                        .replace("0000000000000000", &format!("{h:016x}")),
                )
                .unwrap();
                assert_eq!(encoded_value(parsed.display()), encoded_value(made));
            }
        }
    }

    #[test]
    fn message_ids_are_the_headers_lettre_makes() {
        let signer = |email: &str| Signer {
            name: "Ada".into(),
            email: email.into(),
            ..Signer::default()
        };
        let plain = MessageSettings::new(
            &signer("ada@example.org"),
            SystemTime::UNIX_EPOCH,
            "camp",
            "grp",
        )
        .unwrap();
        assert!(plain.plain_ids);
        let long = MessageSettings::new(
            &signer("ada@example.org"),
            SystemTime::UNIX_EPOCH,
            &"campaign-".repeat(12),
            "grp",
        )
        .unwrap();
        let unicode = MessageSettings::new(
            &signer("ada@bücher.example"),
            SystemTime::UNIX_EPOCH,
            "kampagne-ü",
            "grp",
        )
        .unwrap();
        let mut hash = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..300 {
            hash ^= hash << 13;
            hash ^= hash >> 7;
            hash ^= hash << 17;
            for settings in [&plain, &long, &unicode] {
                let lettre = header::MessageId::from(settings.message_id_for(hash)).display();
                assert_eq!(
                    encoded_value(settings.message_id_header(hash)),
                    encoded_value(lettre)
                );
            }
        }
    }

    #[test]
    fn repeated_headers_are_the_ones_lettre_makes() {
        let subjects = [
            "An open letter to The \"Clean Water\" Initiative",
            "Письмо в Министерство иностранных дел — о Синьцзяне",
            "Zoë",
            &"A long subject that lettre has to fold over more than one line ".repeat(3),
        ];
        for _ in 0..3 {
            for s in subjects {
                let made = || header::Subject::from(s.to_string()).display();
                assert_eq!(
                    encoded_value(repeated("Subject", s, made)),
                    encoded_value(made())
                );
                // Another header with the same value is not taken for this one.
                let other =
                    || HeaderValue::new(HeaderName::new_from_ascii_str("X-Other"), s.into());
                let mut headers = lettre::message::header::Headers::new();
                headers.insert_raw(repeated("X-Other", s, other));
                assert!(headers.to_string().starts_with("X-Other: "));
            }
        }
    }

    fn qp(s: &str) -> String {
        let mut out = Vec::new();
        quoted_printable_into(s, Eol::Crlf, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lines_splits_as_str_split_does() {
        for text in [
            "",
            "\n",
            "a",
            "a\n",
            "\na",
            "a\nb\n\nc",
            "\n\n\n",
            "é\nü\r\n",
        ] {
            assert_eq!(
                lines(text).collect::<Vec<_>>(),
                text.split('\n').collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn qp_escapes_and_wraps() {
        assert_eq!(qp("a=b"), "a=3Db");
        assert_eq!(
            qp("From here\n>From there\nFromage"),
            "=46rom here\r\n=3EFrom there\r\nFromage"
        );
        assert_eq!(qp("trailing \nnext\t"), "trailing=20\r\nnext=09");
        assert_eq!(qp("Zoë"), "Zo=C3=AB");
        let long = "x".repeat(200);
        let enc = qp(&long);
        assert!(enc.split("\r\n").all(|l| l.len() <= 76), "{enc}");
        assert_eq!(enc.replace("=\r\n", ""), long);
    }

    /// The parts, with their cached heads, blocks and lines, are the whole text and the whole HTML
    /// page encoded at once, however often a subject repeats.
    #[test]
    fn encoded_parts_are_the_whole_parts_encoded() {
        let subjects = [
            "An open letter to The \"Clean Water\" Initiative & <friends>",
            "Письмо в Министерство иностранных дел — о Синьцзяне",
            &"A subject long enough that the title line needs soft breaks; ".repeat(3),
            "",
        ];
        let body = "Dear Zoë,\n\nA plain paragraph that is the same in every letter of this test.\n\n- one\n- two\n";
        for round in 0..3 {
            for (i, subject) in subjects.iter().enumerate() {
                for language in ["en", "pt-br"] {
                    let letter = Letter {
                        index: round,
                        line: 2,
                        name: "Zoë".into(),
                        email: "zoe@example.org".into(),
                        subject: subject.to_string(),
                        body: format!("{body}\nRow {i}.\n"),
                        language: language.into(),
                        postal: Vec::new(),
                    };
                    for eol in [Eol::Crlf, Eol::Lf] {
                        let (text, html) = encoded_parts(&letter, eol);
                        let (mut want_text, mut want_html) = (Vec::new(), Vec::new());
                        quoted_printable_into(&letter.body, eol, &mut want_text);
                        quoted_printable_into(&html_part(&letter), eol, &mut want_html);
                        assert_eq!(
                            String::from_utf8(text).unwrap(),
                            String::from_utf8(want_text).unwrap()
                        );
                        assert_eq!(
                            String::from_utf8(html).unwrap(),
                            String::from_utf8(want_html).unwrap()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn qp_round_trips_through_a_real_decoder() {
        let samples = [
            "Dear Zoë Müller,\n\nI write to you — 王芳 — about =signs= and tabs\there. \n"
                .repeat(7),
            format!("{} \n{}\t\nend", "y".repeat(75), "z".repeat(76)),
            "a ".repeat(120),
            // "From " lines, at the start of a line and after soft breaks (every offset).
            "From here\n>From there\n>>From x\nFrom\nFromage\n> From\n".to_string(),
            (0..80)
                .map(|i| format!("{}From {}", "x".repeat(i), "é ".repeat(i % 7)))
                .collect::<Vec<_>>()
                .join(" "),
            (0..80)
                .map(|i| format!("{}>From y", "=".repeat(i % 30)))
                .collect::<Vec<_>>()
                .join(""),
        ];
        for text in samples {
            let enc = qp(&text);
            // No encoded line starts as a line mbox would quote (RFC 2049, section 3).
            assert!(
                enc.split("\r\n").all(|l| !starts_from_line(l.as_bytes())),
                "{enc}"
            );
            assert!(enc.split("\r\n").all(|l| l.len() <= 76), "{enc}");
            for l in enc.split("\r\n") {
                assert!(!l.ends_with(' ') && !l.ends_with('\t'), "{l:?}");
            }
            let raw = format!("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{enc}");
            let parsed = mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .unwrap();
            assert_eq!(parsed.body_text(0).unwrap().replace("\r\n", "\n"), text);
        }
    }

    #[test]
    fn literal_runs_match_the_table() {
        let all: Vec<u8> = (0..=255u8).collect();
        for start in 0..256 {
            for len in [1, 7, 8, 9, 17] {
                let s: Vec<u8> = all.iter().cycle().skip(start).take(len).copied().collect();
                let expected = s.iter().take_while(|&&b| is_literal(b)).count();
                assert_eq!(literal_run(&s, 100), expected, "{s:?}");
            }
        }
        assert_eq!(literal_run(b"abcdefghijklmnop", 5), 5);
        assert_eq!(literal_run(b"abcdefgh=ijk", 100), 8);
    }

    /// A render thread's copy of the settings (`for_thread`: the fixed headers share their text,
    /// vendored lettre's `HeaderValue::shared`) builds the same messages as the settings, also
    /// once the repeated subject and language come from the thread's cache, shared too.
    #[test]
    fn a_render_threads_settings_build_the_same_messages() {
        let signer = Signer {
            name: "O'Brien, Siobhán".into(),
            email: "ada@example.org".into(),
            ..Signer::default()
        };
        let settings = MessageSettings::new(&signer, SystemTime::UNIX_EPOCH, "camp", "g").unwrap();
        let thread = settings.for_thread();
        assert_eq!(thread.from_header, settings.from_header);
        assert_eq!(thread.html_type, settings.html_type);
        for subject in ["Hello".to_string(), "A subject lettre folds, ".repeat(5)] {
            let letter = Letter {
                index: 1,
                line: 2,
                name: "Zoë".into(),
                email: "zoe@example.org".into(),
                subject,
                body: "Dear Zoë,\n\nplease act.\n".into(),
                language: "de".into(),
                postal: vec![],
            };
            for _ in 0..3 {
                assert_eq!(
                    String::from_utf8(build(&letter, &thread).unwrap().formatted()).unwrap(),
                    String::from_utf8(build(&letter, &settings).unwrap().formatted()).unwrap()
                );
            }
        }
    }

    /// A letter to Zoë from `signer`, built and formatted.
    fn formatted_letter(signer: &str, subject: &str, body: &str) -> Vec<u8> {
        let signer = Signer {
            name: signer.into(),
            email: "ada@example.org".into(),
            ..Signer::default()
        };
        let settings = MessageSettings::new(&signer, SystemTime::UNIX_EPOCH, "camp", "g").unwrap();
        let letter = Letter {
            index: 1,
            line: 2,
            name: "Zoë".into(),
            email: "zoe@example.org".into(),
            subject: subject.into(),
            body: body.into(),
            language: "en".into(),
            postal: vec![],
        };
        build(&letter, &settings).unwrap().formatted()
    }

    /// The vendored lettre checks a From header only when it has a comma (VENDORED.md); a signer
    /// whose name has one still gets a message whose From parses back to that name.
    #[test]
    fn a_signer_name_with_a_comma_builds_a_valid_from() {
        for name in ["Ada Volunteer", "O'Brien, Siobhán"] {
            let bytes = formatted_letter(name, "Hello", "Dear Zoë,\n\nplease act.\n");
            let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
            let from = parsed.from().unwrap().first().unwrap();
            assert_eq!(from.name(), Some(name));
            assert_eq!(from.address(), Some("ada@example.org"));
        }
    }

    /// mbox letters are written without searching them for `From ` lines (`outbox::mboxrd_entry`)
    /// because every body is quoted-printable from `quoted_printable_line`: a body of another
    /// encoding (an attachment, 8bit text) must not come in unnoticed.
    #[test]
    fn every_part_of_a_message_is_quoted_printable() {
        use mail_parser::MimeHeaders;
        let bytes = formatted_letter(
            "Ada",
            "From us",
            "From the start\n\n<b>raw</b> and `code`\n\n>From a quote\n",
        );
        let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
        let leaves: Vec<_> = parsed
            .parts
            .iter()
            .filter(|p| !matches!(p.body, mail_parser::PartType::Multipart(_)))
            .collect();
        assert_eq!(leaves.len(), 2);
        for part in leaves {
            assert_eq!(
                part.content_transfer_encoding(),
                Some("quoted-printable"),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    /// The encoder against the rules applied one byte at a time, on lines of every mix: runs of
    /// ASCII, of multi-byte characters, `=`, spaces and tabs (also at the end), and "From " where
    /// a soft break may put it at the start of a line.
    #[test]
    fn qp_lines_are_the_bytes_a_byte_by_byte_encoder_gives() {
        fn by_byte(line: &[u8], soft: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            let mut col = 0;
            for (j, &b) in line.iter().enumerate() {
                let last = j + 1 == line.len();
                let mut literal = is_literal(b) && !(last && is_space(b));
                if col == 0 && starts_from_line(&line[j..]) {
                    literal = false;
                }
                let width = if literal { 1 } else { 3 };
                if col + width > if last { 76 } else { 75 } {
                    out.extend_from_slice(soft);
                    col = 0;
                    literal = literal && !starts_from_line(&line[j..]);
                }
                if literal {
                    out.push(b);
                    col += 1;
                } else {
                    push_escaped(b, &mut out);
                    col += 3;
                }
            }
            out
        }
        let pieces = [
            "a",
            "word ",
            "Дмитрий",
            "王芳",
            "é",
            "=",
            " ",
            "\t",
            "From ",
            ">From ",
            "x",
            "Zoë ",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut below = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..3000 {
            let mut line = String::new();
            let len = below(240);
            while line.len() < len {
                line.push_str(pieces[below(pieces.len())]);
            }
            for (eol, soft) in [(Eol::Crlf, &b"=\r\n"[..]), (Eol::Lf, &b"=\n"[..])] {
                let mut out = Vec::new();
                quoted_printable_line(&line, eol, &mut out);
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    String::from_utf8(by_byte(line.as_bytes(), soft)).unwrap(),
                    "{line:?}"
                );
            }
        }
    }

    #[test]
    fn qp_never_splits_an_escape() {
        let text = "é".repeat(100);
        let enc = qp(&text);
        for line in enc.split("\r\n") {
            assert!(line.len() <= 76);
            let body = line.strip_suffix('=').unwrap_or(line);
            assert_eq!(body.len() % 3, 0, "{line}");
        }
    }
}
