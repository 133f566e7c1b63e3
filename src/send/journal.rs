//! What was sent to whom: an append-only JSON-lines file of records per letter: `queued` (on disk
//! before the letter may go), `attempt` (written as it is handed to the server), then the outcome.
//! A crash can never hide a letter that may have gone out: it shows up as `uncertain` instead of
//! being sent twice. Only `queued` records, and the attempt before a retry, are synced before the
//! letter goes (see `sender`); every other record reaches the disk with a later sync.
//!
//! Only a crash of the whole machine loses writes that were not synced; a killed process's writes
//! are all in the file. So a `queued` record with no `attempt` after it means "never handed over"
//! if it was written since the machine last started (the record carries the boot id), and
//! "perhaps handed over, the record of it lost" if not.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::campaign::source::Source;
use crate::error::{Diag, Error, Result};

/// The folder beside a campaign on disk, or the current one for the bundled campaign, where the
/// guided run keeps the typed paragraph and earlier versions kept the journal.
pub fn local_dir(source: &Source) -> PathBuf {
    match source.home() {
        Some(d) if d != Path::new(".") && d != Path::new("") => d.join(".letterdrive"),
        _ => PathBuf::from(".letterdrive"),
    }
}

/// The journal of campaign `id`: `flag` (`--journal`) when given; else a journal an earlier
/// version kept beside the campaign, so letters it recorded are never sent again (said once on
/// standard error); else one per campaign id in the user's data directory, the same from any
/// folder (`$XDG_DATA_HOME/letterdrive/journals/ID.jsonl` on Linux). The id is lowercase
/// letters, digits and dashes (checked when the campaign is loaded), so it is a safe file name.
pub fn choose_path(flag: Option<&Path>, source: &Source, id: &str) -> PathBuf {
    if let Some(path) = flag {
        return path.to_path_buf();
    }
    let beside = local_dir(source).join("journal.jsonl");
    let data = directories::ProjectDirs::from("", "", "letterdrive")
        .map(|d| d.data_dir().join("journals").join(format!("{id}.jsonl")));
    match data {
        Some(data) if !beside.is_file() => data,
        data => {
            if data.is_some() {
                eprintln!(
                    "note: reading the send journal an earlier version kept beside the campaign, {}",
                    beside.display()
                );
            }
            beside
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// On disk before the letter may go; it has not been handed over yet.
    Queued,
    /// Handing the letter to the server; the outcome is not known yet.
    Attempt,
    /// The server accepted the letter.
    Sent,
    /// The server refused it for good (5xx).
    Failed,
    /// Not delivered this time (4xx or network trouble); a rerun tries again.
    Deferred,
    /// Handed over in full, but the server never gave its verdict: it may have arrived.
    Uncertain,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub campaign: String,
    pub group: String,
    pub email: String,
    pub message_id: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    pub time: String,
    /// On `queued` records: the machine's boot id when it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot: Option<String>,
    /// On `queued` records: the sketch of the letter's personal paragraph
    /// (`letter::own::sketch`), as hex, for the ledger; none without one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub personal: Vec<String>,
}

/// Where a recipient stands, from every record about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Sent,
    Failed,
    Deferred,
    /// An attempt with no outcome: the process stopped while the letter was with the server.
    Uncertain,
}

/// The same address in any letter case is the same recipient.
pub fn key(email: &str) -> String {
    email.trim().to_lowercase()
}

#[derive(Default)]
pub struct Journal {
    path: PathBuf,
    campaign: String,
    /// Opened at the first record. Shared, so that a sync can run without the journal (and the
    /// lock other threads write it under): see [`Journal::syncer`].
    file: Option<Arc<File>>,
    states: HashMap<(String, String), State>,
    /// The server's reply to each letter whose state is `Failed`, for `status`.
    refusals: HashMap<(String, String), String>,
    /// Lines that could not be read (a record torn by a crash mid-write).
    pub unreadable: u64,
    /// A record could not be written in full. What follows it in the file would join the torn
    /// line and be lost, so nothing more is written.
    write_failed: bool,
    /// The file ends in the middle of a line, a record torn by a crash: the next record must
    /// start on a line of its own. Read when the journal is opened, under the run's lock.
    torn: bool,
    /// This boot of the machine; `None` where the system does not say (then every `queued`
    /// record without an outcome counts as uncertain).
    boot: Option<String>,
}

/// The kernel's id for this boot, which changes when the machine restarts.
fn boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = id.trim();
    (!id.is_empty()).then(|| id.to_string())
}

impl Journal {
    /// Read what the journal knows about this campaign. A missing file is an empty journal; it is
    /// created on the first record.
    pub fn open(path: &Path, campaign: &str) -> Result<Journal> {
        Journal::open_as_of(path, campaign, boot_id())
    }

    /// `open`, as if the machine's boot id were `boot`.
    fn open_as_of(path: &Path, campaign: &str, boot: Option<String>) -> Result<Journal> {
        let mut journal = Journal {
            path: path.to_path_buf(),
            campaign: campaign.to_string(),
            boot,
            ..Journal::default()
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(journal),
            Err(e) => return Err(Error::io(path, e)),
        };
        let (mut file, mut line) = (BufReader::new(file), Vec::new());
        while file
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(path, e))?
            > 0
        {
            journal.torn = line.last() != Some(&b'\n');
            let blank = line.iter().all(u8::is_ascii_whitespace);
            match serde_json::from_slice::<Record>(&line) {
                Ok(r) if r.campaign == campaign => journal.apply(&r),
                Err(_) if !blank => journal.unreadable += 1,
                _ => {}
            }
            line.clear();
        }
        Ok(journal)
    }

    fn apply(&mut self, r: &Record) {
        let k = (r.group.clone(), key(&r.email));
        // Once accepted, always accepted: nothing later makes a sent letter unsent.
        if self.states.get(&k) == Some(&State::Sent) {
            return;
        }
        if r.status == Status::Failed {
            let reply = r.reply.clone().unwrap_or_default();
            self.refusals.insert(k.clone(), reply);
        }
        let state = match r.status {
            // Written since this boot, so every later write is in the file too: no attempt
            // followed, the letter never went.
            Status::Queued if r.boot.is_some() && r.boot == self.boot => State::Deferred,
            Status::Queued => State::Uncertain,
            Status::Attempt | Status::Uncertain => State::Uncertain,
            Status::Sent => State::Sent,
            Status::Failed => State::Failed,
            Status::Deferred => State::Deferred,
        };
        self.states.insert(k, state);
    }

    /// Counts letters recorded as sent by other means (`mark-sent`: by post, from the
    /// volunteer's mail program, through the mailto page), given as (group, address), as sent:
    /// `send` sends none of them again, and `status` counts them. In memory only: the journal
    /// file keeps only what `send` did.
    pub fn count_as_sent(&mut self, letters: impl IntoIterator<Item = (String, String)>) {
        for (group, email) in letters {
            self.states.insert((group, key(&email)), State::Sent);
        }
    }

    pub fn state(&self, group: &str, email: &str) -> Option<State> {
        self.states.get(&(group.to_string(), key(email))).copied()
    }

    /// The server's reply that refused the letter, when its state is `Failed`.
    pub fn refusal(&self, group: &str, email: &str) -> Option<&str> {
        let k = (group.to_string(), key(email));
        let failed = self.states.get(&k) == Some(&State::Failed);
        self.refusals.get(&k).filter(|_| failed).map(String::as_str)
    }

    /// Take every record written so far to disk.
    pub fn sync(&self) -> Result<()> {
        self.syncer()()
    }

    /// [`Journal::sync`], to run later without the journal: every record written before it runs
    /// is on disk when it returns, while other threads may go on writing.
    pub fn syncer(&self) -> impl FnOnce() -> Result<()> {
        let file = self.file.clone();
        let path = self.path.clone();
        move || match file {
            Some(file) => file.sync_data().map_err(|e| Error::io(&path, e)),
            None => Ok(()),
        }
    }

    /// Append one record to the file; it is on disk after the next sync.
    pub fn write(
        &mut self,
        group: &str,
        email: &str,
        message_id: &str,
        status: Status,
        reply: Option<&str>,
        personal: &[u64],
    ) -> Result<()> {
        if self.write_failed {
            let why = "an earlier record could not be written; nothing more is recorded";
            return Err(Error::io(&self.path, std::io::Error::other(why)));
        }
        let record = Record {
            campaign: self.campaign.clone(),
            group: group.to_string(),
            email: key(email),
            message_id: message_id.to_string(),
            status,
            reply: reply.map(str::to_string),
            time: crate::clock::now().to_string(),
            boot: self.boot.clone().filter(|_| status == Status::Queued),
            personal: crate::letter::own::to_hex(personal),
        };
        let mut line = serde_json::to_vec(&record).expect("a record always serialises");
        line.push(b'\n');
        let file = match &self.file {
            Some(file) => Arc::clone(file),
            None => self.create()?,
        };
        if let Err(e) = (&*file).write_all(&line) {
            self.write_failed = true;
            return Err(Error::io(&self.path, e));
        }
        self.apply(&record);
        Ok(())
    }

    /// Open the file for appending, making it and its directory first if need be.
    fn create(&mut self) -> Result<Arc<File>> {
        let path = &self.path;
        let dir = make_dir_of(path)?;
        let new = !path.exists();
        let open = File::options().create(true).append(true).open(path);
        let mut file = open.map_err(|e| Error::io(path, e))?;
        if new {
            // The file's name is in its directory, which a crash could lose: the first
            // attempt record would go with it.
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| Error::io(dir, e))?;
        }
        // A record torn by a crash must not swallow the next one.
        if self.torn {
            file.write_all(b"\n").map_err(|e| Error::io(path, e))?;
        }
        Ok(Arc::clone(self.file.insert(Arc::new(file))))
    }
}

/// The directory `path` is in, made if it is not there yet.
fn make_dir_of(path: &Path) -> Result<&Path> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    Ok(dir)
}

/// Take the journal for this run, or say which other run has it. Two runs with one journal
/// would each send what the other has not recorded yet, and each would take the other's queued
/// letters for ones that never went. The lock is on a file beside the journal, held while the
/// returned file is open, and goes with the process however it ends. It is beside the file the
/// path leads to, so that two runs reaching one journal through different paths or links share it.
pub fn lock(path: &Path) -> Result<File> {
    let mut name = resolve(path)?.into_os_string();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let open = File::options().create(true).append(true).open(&lock_path);
    let file = open.map_err(|e| Error::io(&lock_path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Busy(
            Diag::new("another letterdrive run is sending with this journal")
                .file(path.display().to_string())
                .hint(
                    "let it finish (`letterdrive status` shows how far it got), then run again; \
                     a run started meanwhile would send letters twice",
                ),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&lock_path, e)),
    }
}

/// The journal `path` leads to, whether it exists yet or not: every link followed (a link may
/// point at a journal not yet written), in its directory's canonical form, which is made here.
fn resolve(path: &Path) -> Result<PathBuf> {
    let mut path = path.to_path_buf();
    // As many links as the system follows before it gives up.
    for _ in 0..40 {
        let Ok(target) = std::fs::read_link(&path) else {
            break;
        };
        path = path
            .parent()
            .map_or(target.clone(), |dir| dir.join(&target));
    }
    let dir = make_dir_of(&path)?;
    let dir = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    Ok(match path.file_name() {
        Some(name) => dir.join(name),
        None => path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the tests of this layer need of a journal beyond what a run does.
    impl Journal {
        /// Append one record and sync it.
        pub fn append(
            &mut self,
            group: &str,
            email: &str,
            message_id: &str,
            status: Status,
            reply: Option<&str>,
        ) -> Result<()> {
            self.write(group, email, message_id, status, reply, &[])?;
            self.sync()
        }

        /// From now on records go to a device that is always full, as a full disk would take them.
        #[cfg(target_os = "linux")]
        pub fn write_to_full_disk(&mut self) {
            self.file = Some(Arc::new(
                File::options().write(true).open("/dev/full").unwrap(),
            ));
        }

        /// From now on records go to a pipe, which takes them but cannot be synced.
        #[cfg(target_os = "linux")]
        pub fn write_to_a_pipe(&mut self) {
            let (reader, writer) = std::io::pipe().unwrap();
            // Kept open, or the writes would fail before any sync.
            std::mem::forget(reader);
            self.file = Some(Arc::new(File::from(std::os::fd::OwnedFd::from(writer))));
        }
    }

    #[test]
    fn records_are_written_at_once_and_synced_later() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut j = Journal::open(&path, "c").unwrap();
        // Nothing written yet: nothing to sync, and no file made.
        j.sync().unwrap();
        assert!(!path.exists());
        j.write("g", "a@x.example", "<1>", Status::Attempt, None, &[])
            .unwrap();
        let sync = j.syncer();
        j.write("g", "a@x.example", "<1>", Status::Sent, Some("250 ok"), &[])
            .unwrap();
        sync().unwrap();
        let reread = Journal::open(&path, "c").unwrap();
        assert_eq!(reread.state("g", "a@x.example"), Some(State::Sent));
    }

    #[test]
    fn a_queued_letter_is_unsent_on_the_same_boot_and_uncertain_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let boot = |id: &str| Some(id.to_string());
        let mut j = Journal::open_as_of(&path, "c", boot("boot-1")).unwrap();
        j.append("g", "q@x.example", "<1>", Status::Queued, None)
            .unwrap();
        j.append("g", "h@x.example", "<2>", Status::Queued, None)
            .unwrap();
        j.append("g", "h@x.example", "<2>", Status::Attempt, None)
            .unwrap();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains(r#""status":"queued","time":"#));
        // Killed and run again on the same boot: every write is in the file, so a queued letter
        // with no attempt after it never went.
        let same = Journal::open_as_of(&path, "c", boot("boot-1")).unwrap();
        assert_eq!(same.state("g", "q@x.example"), Some(State::Deferred));
        assert_eq!(same.state("g", "h@x.example"), Some(State::Uncertain));
        // After a restart, an attempt written after it may have been lost.
        let restarted = Journal::open_as_of(&path, "c", boot("boot-2")).unwrap();
        assert_eq!(restarted.state("g", "q@x.example"), Some(State::Uncertain));
        // Where the system gives no boot id, nothing can be told apart.
        let unknown = Journal::open_as_of(&path, "c", None).unwrap();
        assert_eq!(unknown.state("g", "q@x.example"), Some(State::Uncertain));
        let mut j = Journal::open_as_of(&path, "c", None).unwrap();
        j.append("g", "n@x.example", "<3>", Status::Queued, None)
            .unwrap();
        let later = Journal::open_as_of(&path, "c", None).unwrap();
        assert_eq!(later.state("g", "n@x.example"), Some(State::Uncertain));
    }

    #[test]
    fn one_run_at_a_time_holds_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/journal.jsonl");
        let held = lock(&path).unwrap();
        let err = lock(&path).unwrap_err().to_string();
        assert!(
            err.contains("another letterdrive run is sending with this journal"),
            "{err}"
        );
        assert!(err.contains("journal.jsonl"), "{err}");
        drop(held);
        lock(&path).unwrap();
    }

    /// A link to the journal, made before or after the journal itself, reaches the same lock.
    #[cfg(unix)]
    #[test]
    fn a_link_to_the_journal_shares_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let link = dir.path().join("sub/link.jsonl");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("../journal.jsonl", &link).unwrap();
        let held = lock(&path).unwrap();
        assert!(matches!(lock(&link), Err(Error::Busy(_))));
        drop(held);
        let held = lock(&link).unwrap();
        assert!(matches!(lock(&path), Err(Error::Busy(_))));
        drop(held);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_boot_id_is_read_on_linux() {
        let id = boot_id().expect("Linux has /proc/sys/kernel/random/boot_id");
        assert_eq!(id.len(), 36, "{id}");
    }

    #[test]
    fn last_outcome_wins_but_sent_is_final() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j/journal.jsonl");
        let mut j = Journal::open(&path, "c").unwrap();
        j.append("g", "A@x.example", "<1>", Status::Attempt, None)
            .unwrap();
        assert_eq!(j.state("g", "a@x.example"), Some(State::Uncertain));
        j.append("g", "a@x.example", "<1>", Status::Sent, Some("250 ok"))
            .unwrap();
        j.append("g", "b@x.example", "<2>", Status::Attempt, None)
            .unwrap();
        j.append("g", "b@x.example", "<2>", Status::Deferred, Some("451"))
            .unwrap();
        j.append("g", "c@x.example", "<3>", Status::Attempt, None)
            .unwrap();
        // A torn last line, as a crash mid-write would leave.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"campaign\":\"c\",\"gro")
            .unwrap();
        let mut j = Journal::open(&path, "c").unwrap();
        assert_eq!(j.unreadable, 1);
        j.append("g", "d@x.example", "<4>", Status::Failed, Some("550"))
            .unwrap();
        let j = Journal::open(&path, "c").unwrap();
        assert_eq!(j.state("g", "d@x.example"), Some(State::Failed));
        assert_eq!(j.state("g", "a@x.example"), Some(State::Sent));
        assert_eq!(j.state("g", "b@x.example"), Some(State::Deferred));
        assert_eq!(j.state("g", "c@x.example"), Some(State::Uncertain));
        assert_eq!(j.state("other", "a@x.example"), None);
        assert_eq!(j.unreadable, 1);
        let other = Journal::open(&path, "another-campaign").unwrap();
        assert_eq!(other.state("g", "a@x.example"), None);
    }
}
