//! The campaign ledger: one JSON line per letter event, without letter bodies or, unless asked,
//! names and addresses, so that volunteers can pass ledgers around by e-mail and a campaigner can
//! merge any number of them into one report. Merging is a set union: the same event read twice,
//! from one ledger or two, counts once, and the order ledgers are read in changes nothing.

pub mod export;
pub mod mailbox;
mod page;
pub mod replies;
pub mod report;
pub mod written;

pub use page::html as page;

use std::borrow::Cow;
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Diag, Error, Result};

/// Where a letter stands, as the ledger tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Written to a file (eml, mbox, PDF, the mailto page); not known to have gone.
    Drafted,
    Sent,
    /// Refused for good by the server.
    Failed,
    /// Handed to the server, whose verdict never came: it may have arrived.
    Uncertain,
    /// Answered by a person: a reply to the letter.
    Replied,
    /// Answered by a machine (out of office and the like): not a reply, and counted apart.
    #[serde(rename = "auto-replied")]
    AutoReplied,
    /// Returned as undeliverable (a delivery status notification).
    Bounced,
}

/// One event of one letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub campaign: String,
    pub group: String,
    /// The recipient's address, as [`keyed`] with the campaign id.
    pub recipient: String,
    /// The volunteer's address, as [`keyed`] with the campaign id.
    pub volunteer: String,
    /// `email` (sent through a mail server), `eml`, `mbox`, `pdf`, `html`, `txt`, `post`,
    /// `mailto`.
    pub channel: String,
    pub state: State,
    /// RFC 3339, UTC.
    pub time: String,
    pub message_id: String,
    /// Only with `export --with-names`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volunteer_name: Option<String>,
    /// Of a bounce: the delivery status code (`5.1.1`), which says whether the address is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// The sketch of the letter's personal paragraph (`letter::own::sketch`), as hex; none
    /// without one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub personal: Vec<String>,
}

/// An event as read from a ledger: its text borrowed from the line where it can be, since a
/// report may read millions.
#[derive(Debug, Deserialize)]
pub struct Line<'a> {
    #[serde(borrow)]
    pub campaign: Cow<'a, str>,
    #[serde(borrow)]
    pub group: Cow<'a, str>,
    #[serde(borrow)]
    pub recipient: Cow<'a, str>,
    #[serde(borrow)]
    pub volunteer: Cow<'a, str>,
    pub state: State,
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    #[serde(borrow)]
    pub message_id: Cow<'a, str>,
    #[serde(borrow, default)]
    pub status_code: Option<Cow<'a, str>>,
    #[serde(default)]
    pub personal: Vec<String>,
}

/// An address as a ledger may carry it: HMAC-SHA256 keyed with the campaign id, of the address
/// trimmed and in lower case, as 32 hex digits. The same address gives the same key in every
/// volunteer's ledger of one campaign, and a ledger read alone names nobody.
pub fn keyed(campaign_id: &str, email: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, campaign_id.as_bytes());
    let tag = ring::hmac::sign(&key, email.trim().to_lowercase().as_bytes());
    tag.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The letters other volunteers wrote to recipients of `group`, from the ledgers at `paths`
/// (`--ledger`), for the volunteer whose address is `me`: what `render` and `send` compare each
/// letter's personal paragraph with. Letters that failed or bounced never arrived, and are left
/// out; a letter is counted once however many of its events the ledgers hold.
pub fn others(
    paths: &[std::path::PathBuf],
    campaign_id: &str,
    group: &str,
    me: &str,
    threshold: f64,
) -> Result<crate::letter::own::Others> {
    let mut others = crate::letter::own::Others {
        letters: Default::default(),
        me: keyed(campaign_id, me),
        threshold,
        key: keyed,
        campaign: campaign_id.to_string(),
    };
    for path in paths {
        read(path, campaign_id, |e| {
            if e.group != group || matches!(e.state, State::Failed | State::Bounced) {
                return;
            }
            let letters = others.letters.entry(e.recipient.to_string()).or_default();
            let letter = letters.entry(e.message_id.to_string()).or_default();
            letter.0 = e.volunteer.to_string();
            if letter.1.is_empty() {
                letter.1 = crate::letter::own::from_hex(&e.personal);
            }
        })?;
    }
    Ok(others)
}

/// Writes `path` in full or not at all: into a file beside it, moved into place once complete.
/// The file is made as any other (the umask decides who may read it), unlike a temporary file.
pub fn write_whole(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = path.with_file_name(format!(".{name}.{}.part", std::process::id()));
    let written = std::fs::File::create(&temp).and_then(|file| {
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    });
    let moved = written.and_then(|()| std::fs::rename(&temp, path));
    moved.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        Error::io(path, e)
    })
}

/// Reads a ledger line by line, handing each event of `campaign_id` to `each` with its line
/// number. A line that is not an event is skipped with a warning naming file and line (a last
/// line cut short by a crash is the usual one); an event of another campaign stops the read.
pub fn read(path: &Path, campaign_id: &str, mut each: impl FnMut(&Line)) -> Result<u64> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let (mut reader, mut line) = (std::io::BufReader::new(file), Vec::new());
    let (mut number, mut read) = (0u64, 0u64);
    let name = path.display().to_string();
    loop {
        line.clear();
        if reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(path, e))?
            == 0
        {
            return Ok(read);
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Line>(&line) {
            Ok(event) if event.campaign == campaign_id => {
                read += 1;
                each(&event);
            }
            Ok(event) => {
                let why = format!(
                    "this ledger is of campaign `{}`, not `{campaign_id}`",
                    event.campaign
                );
                let hint = "merge only ledgers exported from this campaign";
                return Err(Error::Invalid(
                    Diag::new(why).file(name).line(number).hint(hint),
                ));
            }
            Err(e) => {
                let torn = if line.last() == Some(&b'\n') {
                    ""
                } else {
                    " (cut short)"
                };
                eprintln!("warning: {name}:{number}: not a ledger event{torn}, skipped: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_spaces_and_differ_by_campaign() {
        let k = keyed("camp", "Zoe@Example.org ");
        assert_eq!(k, keyed("camp", "zoe@example.org"));
        assert_eq!(k.len(), 32);
        assert_ne!(k, keyed("other", "zoe@example.org"));
        assert!(!k.contains("zoe"));
    }
}
