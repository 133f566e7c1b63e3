//! Letters that leave other than through `send`: each letter `render` writes (`drafted`), and
//! each the volunteer says went out by hand (`mark-sent`: by post, from their own mail program,
//! through the mailto page). They are kept beside the send journal, in a file of their own
//! (`ID.letters.jsonl` beside `ID.jsonl`), so that `send`'s journal, which decides what may be
//! sent, only ever holds what `send` did; `export` reads both.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::State;
use crate::error::{Error, Result};
use crate::send::status::Answers;

/// One letter written or sent outside `send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    pub campaign: String,
    pub group: String,
    pub email: String,
    pub message_id: String,
    pub state: State,
    /// The output format (`eml`, `mbox`, `pdf`, `html`, `txt`) or how it went (`post`,
    /// `email`, `mailto`).
    pub channel: String,
    /// The file it was written to, for `drafted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// For an answer (`replied`, `auto-replied`, `bounced`): the answer's own Message-ID, which
    /// tells one answer to a letter from another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_id: Option<String>,
    /// For a bounce: the delivery status code (`5.1.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    pub time: String,
    /// The sketch of the letter's personal paragraph (`letter::own::sketch`), as hex; none
    /// without one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub personal: Vec<String>,
}

/// Where the letters of the journal at `journal` are kept.
pub fn path_beside(journal: &Path) -> PathBuf {
    let stem = journal.file_stem().unwrap_or_default().to_string_lossy();
    journal.with_file_name(format!("{stem}.letters.jsonl"))
}

/// The records of one run, gathered in a file of their own and added to the letters file only
/// once the run has succeeded ([`Batch::commit`]): a failed render leaves no record of letters
/// it never wrote.
pub struct Batch {
    target: PathBuf,
    part: Option<tempfile::NamedTempFile>,
    out: BufWriter<File>,
    campaign: String,
    group: String,
    channel: String,
    time: String,
    pub count: u64,
    /// The records are on disk when `commit` returns (see [`Batch::unsynced`]).
    durable: bool,
}

impl Batch {
    pub fn begin(journal: &Path, campaign: &str, group: &str, channel: &str) -> Result<Batch> {
        let target = path_beside(journal);
        let dir = target.parent().filter(|d| !d.as_os_str().is_empty());
        let dir = dir.unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        remove_stale_parts(dir);
        let prefix = format!("{PART_PREFIX}{}-", std::process::id());
        let part = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".part")
            .tempfile_in(dir);
        let part = part.map_err(|e| Error::io(dir, e))?;
        let out = part.reopen().map_err(|e| Error::io(part.path(), e))?;
        Ok(Batch {
            target,
            part: Some(part),
            out: BufWriter::new(out),
            campaign: campaign.to_string(),
            group: group.to_string(),
            channel: channel.to_string(),
            time: crate::clock::now().to_string(),
            count: 0,
            durable: true,
        })
    }

    /// Records that `commit` leaves to the system to write out, as it does the letters they
    /// record: `render` does not sync the files it writes one per letter, so a crash of the
    /// machine may lose letters just written, and their records need not outlive them. A sync
    /// here would have the file system write out every one of those letters first.
    pub fn unsynced(mut self) -> Batch {
        self.durable = false;
        self
    }

    pub fn add(
        &mut self,
        email: &str,
        message_id: &str,
        state: State,
        file: Option<&str>,
        personal: &[u64],
    ) -> Result<()> {
        let record = Written {
            campaign: self.campaign.clone(),
            group: self.group.clone(),
            email: crate::send::journal::key(email),
            message_id: message_id.to_string(),
            state,
            channel: self.channel.clone(),
            file: file.map(str::to_string),
            answer_id: None,
            status_code: None,
            time: self.time.clone(),
            personal: crate::letter::own::to_hex(personal),
        };
        self.push(&record)
    }

    /// Adds a record the caller made whole (`replies`, whose records are of many groups and
    /// carry the answers' own times).
    pub fn push(&mut self, record: &Written) -> Result<()> {
        let io = |e: std::io::Error| Error::io(&self.target, e);
        serde_json::to_writer(&mut self.out, record).map_err(|e| io(e.into()))?;
        self.out.write_all(b"\n").map_err(io)?;
        self.count += 1;
        Ok(())
    }

    /// Adds the run's records to the letters file and syncs them (unless
    /// [`unsynced`](Batch::unsynced)): the run's file becomes the
    /// letters file when there is none yet, and is appended to it under a lock otherwise, so
    /// two runs never mix their lines.
    pub fn commit(mut self) -> Result<PathBuf> {
        let target = self.target.clone();
        let io = |e: std::io::Error| Error::io(&target, e);
        let durable = self.durable;
        let records = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        if durable {
            records.sync_data().map_err(io)?;
        }
        let part = self.part.take().expect("committed once");
        let part = match part.persist_noclobber(&target) {
            // Its name is in the directory, which a crash could lose with every record in it.
            Ok(_) if durable => {
                let dir = target.parent().filter(|d| !d.as_os_str().is_empty());
                let dir = File::open(dir.unwrap_or(Path::new(".")));
                dir.and_then(|d| d.sync_all()).map_err(io)?;
                return Ok(target);
            }
            Ok(_) => return Ok(target),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => e.file,
            Err(e) => return Err(io(e.error)),
        };
        let mut records = part.reopen().map_err(io)?;
        let open = File::options().create(true).append(true).open(&target);
        let mut file = open.map_err(io)?;
        file.lock().map_err(io)?;
        // A line torn by a crash would swallow the first record: start on a line of its own.
        if ends_mid_line(&target).map_err(io)? {
            file.write_all(b"\n").map_err(io)?;
        }
        std::io::copy(&mut records, &mut file).map_err(io)?;
        if durable {
            file.sync_data().map_err(io)?;
        }
        Ok(target)
    }
}

/// A run's records before they are committed: this, the id of the process, a dash, random
/// letters, `.part`.
const PART_PREFIX: &str = ".letters-";

/// Removes the records of runs that ended without committing or cleaning up (a Ctrl-C exits at
/// once): those whose process is gone. What they held was never written, so never recorded.
fn remove_stale_parts(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix(PART_PREFIX));
        let pid = pid.and_then(|rest| rest.split_once('-')?.0.parse().ok());
        if pid.is_some_and(|pid| !crate::output::outbox::alive(pid)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn ends_mid_line(path: &Path) -> std::io::Result<bool> {
    let mut file = File::open(path)?;
    let len = file.seek(std::io::SeekFrom::End(0))?;
    if len == 0 {
        return Ok(false);
    }
    file.seek(std::io::SeekFrom::End(-1))?;
    let mut last = [0u8];
    std::io::Read::read_exact(&mut file, &mut last)?;
    Ok(last[0] != b'\n')
}

/// Hands every record of `campaign` in the letters file beside `journal` to `each`, in file
/// order; there may be no such file. Lines that are not records (a torn one) are skipped.
pub fn read(
    journal: &Path,
    campaign: &str,
    mut each: impl FnMut(Written) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let file = match File::open(path_beside(journal)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for line in BufReader::new(file).lines() {
        match serde_json::from_str::<Written>(&line?) {
            Ok(r) if r.campaign == campaign => each(r)?,
            _ => {}
        }
    }
    Ok(())
}

/// The letters recorded as sent by other means (`mark-sent`) beside `journal`, as (group,
/// address), for `send` to count as sent.
pub fn sent_by_hand(journal: &Path, campaign: &str) -> Result<Vec<(String, String)>> {
    let mut sent = Vec::new();
    read(journal, campaign, |r| {
        if r.state == State::Sent {
            sent.push((r.group, r.email));
        }
        Ok(())
    })
    .map_err(|e| Error::io(path_beside(journal), e))?;
    Ok(sent)
}

/// What came back for each letter (`letterdrive replies`), and which were sent by other means
/// (`mark-sent`), by group and address, for `status`.
pub fn answers(journal: &Path, campaign: &str) -> Result<Answers> {
    let mut answers = Answers::new();
    read(journal, campaign, |r| {
        let counted = [
            State::Sent,
            State::Replied,
            State::AutoReplied,
            State::Bounced,
        ];
        if !counted.contains(&r.state) {
            return Ok(());
        }
        let a = answers.entry((r.group, r.email)).or_default();
        match r.state {
            State::Sent => a.sent_by_hand = true,
            State::Replied => a.replied = true,
            State::AutoReplied => a.auto_replied = true,
            _ => {
                a.bounced = true;
                let code = r.status_code.filter(|c| !a.bounce_codes.contains(c));
                a.bounce_codes.extend(code);
            }
        }
        Ok(())
    })
    .map_err(|e| Error::io(path_beside(journal), e))?;
    Ok(answers)
}
