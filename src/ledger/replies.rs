//! `letterdrive replies`: which of the campaign's letters the volunteer's mail answers, recorded
//! beside the send journal so that `export`, `report` and `status` count them.
//!
//! A reply names its letter by the letter's Message-ID in In-Reply-To or References, as every
//! mail program writes them; a reply that lost them (a web form, a ticket system) is known by
//! coming from the letter's recipient under the letter's subject, reply prefixes (`Re:`, `AW:`,
//! `RE :`, `Réf :`, ...) and tags (`[EXTERNAL]`) aside. An answer written by a machine (out of
//! office) is recorded as an auto-reply, never as a reply. A bounce is a delivery status
//! notification (RFC 3464) whose returned headers carry the letter's Message-ID, or whose failed
//! recipient is the letter's address.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};

use super::mailbox::Mailbox;
use super::written::{self, Batch, Written};
use super::State;
use crate::error::{Error, Result};
use crate::send::journal::key;

/// One letter of the campaign, as its answers name it.
#[derive(Debug, Clone)]
pub struct Letter {
    pub group: String,
    pub email: String,
    pub message_id: String,
    pub subject: String,
}

/// What one message says about one letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The letter's index in [`Letters`].
    pub letter: usize,
    /// `Replied`, `AutoReplied` or `Bounced`.
    pub state: State,
    /// The answer's own Message-ID, in angle brackets.
    pub id: Option<String>,
    /// When the answer was written (its Date), RFC 3339 UTC.
    pub time: Option<String>,
    /// Of a bounce: the delivery status code (`5.1.1`).
    pub status: Option<String>,
}

/// The campaign's letters, found by Message-ID and by address.
pub struct Letters {
    list: Vec<Letter>,
    by_id: HashMap<String, usize>,
    /// Letters by recipient address, each with its subject as [`thread`] gives it.
    by_address: HashMap<String, Vec<(usize, String)>>,
    /// The volunteer's own address: their own messages (the letters themselves, a follow-up)
    /// answer nothing.
    own: String,
}

/// A Message-ID as compared: without angle brackets, in lower case (some servers change case).
fn bare_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_lowercase()
}

impl Letters {
    pub fn new(volunteer: &str, list: Vec<Letter>) -> Letters {
        let mut letters = Letters {
            by_id: HashMap::with_capacity(list.len()),
            by_address: HashMap::with_capacity(list.len()),
            own: key(volunteer),
            list: Vec::new(),
        };
        for (i, letter) in list.iter().enumerate() {
            letters.by_id.insert(bare_id(&letter.message_id), i);
            let subject = thread(&letter.subject).0;
            let to = letters.by_address.entry(key(&letter.email)).or_default();
            to.push((i, subject));
        }
        letters.list = list;
        letters
    }

    pub fn get(&self, i: usize) -> &Letter {
        &self.list[i]
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// What `raw` says about the letters: nothing for a message that answers none; `None` for
    /// bytes that are not a mail message. Only the headers are read, but of a delivery report.
    pub fn answers(&self, raw: &[u8]) -> Option<Vec<Answer>> {
        let parser = MessageParser::new();
        let head = parser.parse_headers(raw)?;
        // mail-parser reads any bytes as some message; every mail has one of these.
        if head.from().is_none() && head.date().is_none() && head.message_id().is_none() {
            return None;
        }
        let from = head.from().and_then(|a| a.first()?.address()).map(key);
        if from.as_deref() == Some(self.own.as_str()) {
            return Some(Vec::new());
        }
        if let Some(ct) = head.content_type() {
            let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
            if is(ct.ctype(), "multipart") && is(ct.subtype().unwrap_or(""), "report") {
                // Read receipts (disposition notifications) are neither replies nor bounces.
                let kind = ct.attribute("report-type").unwrap_or("");
                if !is(kind, "delivery-status") && !is(kind, "global-delivery-status") {
                    return Some(Vec::new());
                }
                let full = parser.parse(raw)?;
                return Some(self.bounces(&full));
            }
        }
        let subject = head.subject().unwrap_or("");
        let letter = self
            .replied_to(&head)
            .or_else(|| self.by_subject(from.as_deref()?, subject));
        let Some(letter) = letter else {
            return Some(Vec::new());
        };
        let state = if is_auto(&head) || thread(subject).1 {
            State::AutoReplied
        } else {
            State::Replied
        };
        Some(vec![answer(&head, letter, state, None)])
    }

    /// The letter In-Reply-To names, or else the last References names (its direct parent).
    fn replied_to(&self, head: &Message) -> Option<usize> {
        let find = |v: &HeaderValue| ids(v).rev().find_map(|id| self.by_id.get(&bare_id(id)));
        find(head.in_reply_to())
            .or_else(|| find(head.references()))
            .copied()
    }

    /// The letter to `from` whose subject this one carries, prefixes and tags aside.
    fn by_subject(&self, from: &str, subject: &str) -> Option<usize> {
        let letters = self.by_address.get(from)?;
        let (subject, _) = thread(subject);
        if subject.is_empty() {
            return None;
        }
        let same = letters.iter().find(|(_, s)| *s == subject);
        // A ticket system's own words around it ("Ticket 123: ... received"): only a subject
        // long enough not to occur by chance.
        let within = || {
            letters
                .iter()
                .find(|(_, s)| s.chars().count() >= 12 && subject.contains(s.as_str()))
        };
        same.or_else(within).map(|(i, _)| *i)
    }

    /// The letters a delivery report says failed: the one whose Message-ID the returned
    /// headers carry, or else those to each address that failed. A report of delay or of
    /// delivery is no bounce.
    fn bounces(&self, report: &Message) -> Vec<Answer> {
        let (mut recipients, mut original) = (Vec::new(), None);
        for part in &report.parts {
            let Some(ct) = part.content_type() else {
                continue;
            };
            let subtype = ct.subtype().unwrap_or("").to_ascii_lowercase();
            let returned = match (&part.body, subtype.as_str()) {
                (_, "delivery-status" | "global-delivery-status") => {
                    recipients.extend(status_fields(part.contents()));
                    None
                }
                (PartType::Message(message), _) => message.message_id().map(Cow::Borrowed),
                (_, "rfc822-headers" | "global-headers") => MessageParser::new()
                    .parse_headers(part.contents())
                    .and_then(|h| h.message_id().map(|id| Cow::Owned(id.to_string()))),
                _ => None,
            };
            let found = returned.and_then(|id| self.by_id.get(&bare_id(&id)).copied());
            original = original.or(found);
        }
        let failed: Vec<&Recipient> = recipients.iter().filter(|r| r.failed).collect();
        let mut letters: Vec<(usize, Option<String>)> = Vec::new();
        if let Some(letter) = original {
            if recipients.is_empty() || !failed.is_empty() {
                let email = key(&self.list[letter].email);
                let named = failed.iter().find(|r| r.addresses.contains(&email));
                let status = named.or(failed.first()).and_then(|r| r.status.clone());
                letters.push((letter, status));
            }
        } else {
            for r in failed {
                let to = r.addresses.iter().filter_map(|a| self.by_address.get(a));
                for &(letter, _) in to.flatten() {
                    if !letters.iter().any(|(l, _)| *l == letter) {
                        letters.push((letter, r.status.clone()));
                    }
                }
            }
        }
        let to_answer = |(letter, status)| answer(report, letter, State::Bounced, status);
        letters.into_iter().map(to_answer).collect()
    }
}

fn answer(head: &Message, letter: usize, state: State, status: Option<String>) -> Answer {
    let time = head
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| jiff::Timestamp::from_second(d.to_timestamp()).ok())
        .map(|t| t.to_string());
    Answer {
        letter,
        state,
        id: head.message_id().map(|id| format!("<{id}>")),
        time,
        status,
    }
}

/// The Message-IDs of an In-Reply-To or References header, as mail-parser reads them.
fn ids<'v>(value: &'v HeaderValue) -> Box<dyn DoubleEndedIterator<Item = &'v str> + 'v> {
    match value {
        HeaderValue::Text(id) => Box::new(std::iter::once(id.as_ref())),
        HeaderValue::TextList(ids) => Box::new(ids.iter().map(|id| id.as_ref())),
        _ => Box::new(std::iter::empty()),
    }
}

/// Written by a machine, as its headers say (RFC 3834 `Auto-Submitted`, and the headers older
/// autoresponders write instead).
fn is_auto(head: &Message) -> bool {
    let field = |name: &str| head.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    let submitted = field("Auto-Submitted");
    let submitted = submitted.as_deref().and_then(|v| v.split(';').next());
    submitted.is_some_and(|v| v.trim() != "no")
        || ["X-Autoreply", "X-Autorespond", "X-Autoresponder"]
            .iter()
            .any(|name| field(name).is_some())
        || field("Precedence").as_deref() == Some("auto_reply")
}

/// One recipient of a delivery report.
#[derive(Debug)]
struct Recipient {
    /// Original-Recipient and Final-Recipient, as [`key`] gives them.
    addresses: Vec<String>,
    status: Option<String>,
    failed: bool,
}

/// The per-recipient fields of a `message/delivery-status` part: blocks of header fields,
/// the first about the message, each next one about one recipient.
fn status_fields(part: &[u8]) -> Vec<Recipient> {
    let text = String::from_utf8_lossy(part).replace("\r\n", "\n");
    let mut recipients = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let block = format!("{}\n\n", block.trim_start_matches('\n'));
        let Some(fields) = MessageParser::new().parse_headers(block.as_bytes()) else {
            continue;
        };
        let field = |name: &str| {
            let value = fields.header_raw(name)?.split_whitespace();
            Some(value.collect::<Vec<_>>().join(" "))
        };
        let address = |name: &str| {
            let value = field(name)?;
            let address = value.split_once(';').map_or(value.as_str(), |(_, a)| a);
            Some(key(address.trim_matches(['<', '>', ' '])))
        };
        let addresses: Vec<String> = ["Original-Recipient", "Final-Recipient"]
            .iter()
            .filter_map(|name| address(name))
            .collect();
        if addresses.is_empty() {
            continue;
        }
        let status = field("Status").and_then(|s| s.split(' ').next().map(str::to_string));
        let failed = match field("Action") {
            Some(action) => action.eq_ignore_ascii_case("failed"),
            None => status.as_deref().is_some_and(|s| s.starts_with('5')),
        };
        recipients.push(Recipient {
            addresses,
            status,
            failed,
        });
    }
    recipients
}

/// Reply prefixes of the languages mail programs speak (compared in lower case).
const REPLY: &[&str] = &[
    "re", "aw", "sv", "vs", "antw", "antwort", "réf", "ref", "rif", "r", "res", "odp", "ynt",
    "atb", "vá", "ha", "απ", "отв", "回复", "答复", "回覆",
];

/// What an autoresponder puts before the subject it answers (compared in lower case).
const AUTO: &[&str] = &[
    "out of office",
    "out of the office",
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto",
    "abwesenheitsnotiz",
    "automatische antwort",
    "réponse automatique",
    "reponse automatique",
    "respuesta automática",
    "risposta automatica",
    "automatisch antwoord",
    "autosvar",
    "automaattinen vastaus",
    "odpowiedź automatyczna",
];

/// A subject as a thread sees it: in lower case, reply prefixes (`Re:`, `AW:`, `RE :`,
/// `Re[2]:`, repeated), tags in brackets and autoresponder prefixes taken off the front, and
/// spaces collapsed; and whether an autoresponder prefix was among them.
pub fn thread(subject: &str) -> (String, bool) {
    let lower = subject.to_lowercase();
    let (mut rest, mut auto) = (lower.as_str(), false);
    loop {
        rest = rest.trim_start();
        let tag = rest.strip_prefix('[').and_then(|r| r.split_once(']'));
        if let Some((_, after)) = tag {
            rest = after;
        } else if let Some(after) = AUTO.iter().find_map(|p| prefixed(rest, p)) {
            (rest, auto) = (after, true);
        } else if let Some(after) = REPLY.iter().find_map(|p| prefixed(rest, p)) {
            rest = after;
        } else {
            break;
        }
    }
    (rest.split_whitespace().collect::<Vec<_>>().join(" "), auto)
}

/// `text` after `word`, a count (`[2]`, `(2)`, `^2`) and a colon, with spaces allowed before
/// the colon (French writes `RE :`).
fn prefixed<'t>(text: &'t str, word: &str) -> Option<&'t str> {
    let mut rest = text.strip_prefix(word)?;
    for (open, close) in [('[', ']'), ('(', ')')] {
        let count = rest.strip_prefix(open).and_then(|r| r.split_once(close));
        if let Some((n, after)) = count.filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit())) {
            rest = if n.is_empty() { rest } else { after };
        }
    }
    if let Some(r) = rest.strip_prefix('^') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let rest = rest.trim_start();
    rest.strip_prefix(':').or_else(|| rest.strip_prefix('：'))
}

/// What one run of `replies` found and recorded.
#[derive(Debug, Default)]
pub struct Tally {
    pub messages: u64,
    pub unreadable: u64,
    pub replies: u64,
    pub auto_replies: u64,
    pub bounces: u64,
    /// Answers found that the letters file already held.
    pub known: u64,
    /// The letters newly recorded as bounced, with the status code.
    pub bounced: Vec<(usize, Option<String>)>,
    /// The letters file, when anything was added to it.
    pub file: Option<PathBuf>,
}

/// Reads `mailbox` and adds every answer not yet recorded to the letters file beside
/// `journal`, all at once at the end: a run stopped by an unreadable mbox records nothing, and
/// a second run over the same mail records nothing new.
pub fn record(
    campaign: &str,
    journal: &Path,
    letters: &Letters,
    mailbox: &Mailbox,
) -> Result<Tally> {
    let mut known: HashSet<(String, State, Option<String>)> = HashSet::new();
    let answered = [State::Replied, State::AutoReplied, State::Bounced];
    written::read(journal, campaign, |r| {
        if answered.contains(&r.state) {
            known.insert((r.message_id, r.state, r.answer_id));
        }
        Ok(())
    })
    .map_err(|e| Error::io(written::path_beside(journal), e))?;
    let mut batch = Batch::begin(journal, campaign, "", "email")?;
    let now = crate::clock::now().to_string();
    let (mut tally, mut failure) = (Tally::default(), None);
    tally.messages = mailbox.each(|place, raw| {
        let Some(answers) = letters.answers(raw) else {
            eprintln!("warning: {place}: not a mail message, skipped");
            tally.unreadable += 1;
            return;
        };
        for a in answers {
            if failure.is_some() {
                return;
            }
            let letter = letters.get(a.letter);
            if !known.insert((letter.message_id.clone(), a.state, a.id.clone())) {
                tally.known += 1;
                continue;
            }
            match a.state {
                State::Bounced => {
                    tally.bounces += 1;
                    tally.bounced.push((a.letter, a.status.clone()));
                }
                State::AutoReplied => tally.auto_replies += 1,
                _ => tally.replies += 1,
            }
            let record = Written {
                campaign: campaign.to_string(),
                group: letter.group.clone(),
                email: key(&letter.email),
                message_id: letter.message_id.clone(),
                state: a.state,
                channel: "email".to_string(),
                file: None,
                answer_id: a.id,
                status_code: a.status,
                time: a.time.unwrap_or_else(|| now.clone()),
                personal: Vec::new(),
            };
            if let Err(e) = batch.push(&record) {
                failure = Some(e);
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if batch.count > 0 {
        tally.file = Some(batch.commit()?);
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letters() -> Letters {
        let letter = |email: &str, hash: &str| Letter {
            group: "g".into(),
            email: email.into(),
            message_id: format!("<c.g.{hash}@signers.org>"),
            subject: "Letter to Corp".into(),
        };
        let list = vec![letter("a@corp.example", "1"), letter("b@corp.example", "2")];
        Letters::new("Sam@Signers.org", list)
    }

    fn report(kind: &str, fields: &str, returned: &str) -> String {
        format!(
            "From: MAILER-DAEMON@mx.example\nDate: Fri, 27 Nov 2026 12:00:00 +0000\n\
             Content-Type: multipart/report; report-type={kind}; boundary=b\n\n\
             --b\nContent-Type: text/plain\n\nnot delivered\n\
             --b\nContent-Type: message/{kind}\n\nReporting-MTA: dns; mx.example\n\n{fields}\n\
             {returned}--b--\n"
        )
    }

    #[test]
    fn a_bounce_without_returned_headers_is_known_by_its_failed_recipient() {
        let fields =
            "Final-Recipient: rfc822; <B@corp.example>\nAction: failed\nStatus: 5.2.2 (full)\n";
        let answers = letters().answers(report("delivery-status", fields, "").as_bytes());
        let answers = answers.unwrap();
        assert_eq!(answers.len(), 1);
        assert_eq!((answers[0].letter, answers[0].state), (1, State::Bounced));
        assert_eq!(answers[0].status.as_deref(), Some("5.2.2"));
        // Without an Action, a permanent status is a failure and a temporary one is not.
        let temporary = "Final-Recipient: rfc822; b@corp.example\nStatus: 4.2.2\n";
        let answers = letters().answers(report("delivery-status", temporary, "").as_bytes());
        assert_eq!(answers, Some(vec![]));
    }

    #[test]
    fn read_receipts_and_the_volunteers_own_mail_answer_nothing() {
        let mdn = "Final-Recipient: rfc822; a@corp.example\nDisposition: manual-action/MDN-sent-manually; displayed\n";
        let mdn = report("disposition-notification", mdn, "");
        assert_eq!(letters().answers(mdn.as_bytes()), Some(vec![]));
        let own = "From: sam@signers.org\nSubject: Re: Letter to Corp\nIn-Reply-To: <c.g.1@signers.org>\n\nhi\n";
        assert_eq!(letters().answers(own.as_bytes()), Some(vec![]));
        let theirs = own.replace("sam@signers.org", "someone@corp.example");
        let answers = letters().answers(theirs.as_bytes()).unwrap();
        assert_eq!((answers[0].letter, answers[0].state), (0, State::Replied));
    }

    #[test]
    fn prefixes_and_tags_come_off_the_subject() {
        let letter = thread("Letter to Corp Two").0;
        for subject in [
            "Re: Letter to Corp Two",
            "AW: RE: letter to corp two",
            "RE : Réf : Letter  to Corp Two",
            "Antw: SV: Re[2]: Letter to Corp Two",
            "[EXTERNAL] Re: Letter to Corp Two",
            "re^3: LETTER TO CORP TWO",
        ] {
            assert_eq!(thread(subject), (letter.clone(), false), "{subject}");
        }
        for subject in [
            "Out of Office: Letter to Corp Two",
            "Automatic reply: Re: Letter to Corp Two",
            "Abwesenheitsnotiz: Letter to Corp Two",
            "Réponse automatique : Letter to Corp Two",
        ] {
            assert_eq!(thread(subject), (letter.clone(), true), "{subject}");
        }
        assert_eq!(thread("Regarding: x").0, "regarding: x");
        assert_eq!(thread("Re").0, "re");
    }
}
