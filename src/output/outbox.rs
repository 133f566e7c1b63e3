//! All-or-nothing output: everything is written into a staging directory first and moved into
//! place only when the whole run succeeded, so an interrupted or failed run leaves no
//! half-written file and no half a campaign.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::{Error, Result};
use crate::output::encode::{Encoded, Encoder, PdfSettings};
use crate::output::page::{page_foot, page_head, PageInfo};
use crate::output::Format;

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
    placeholders: u64,
    /// The HTML page's index of recipients, written at its end.
    index: String,
}

/// What an unfinished run has made on disk, for [`abandon`] to remove: the staging directory and
/// the directories made to hold it. Writes into the staging directory happen under this lock, so
/// that nothing is written into it while it is being removed.
struct Made {
    staging: PathBuf,
    created: Vec<PathBuf>,
}

static MADE: Mutex<Option<Made>> = Mutex::new(None);

fn made() -> MutexGuard<'static, Option<Made>> {
    MADE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// For a signal handler: remove what an unfinished run has made (true if there was one), and hold
/// off its writes for as long as the returned guard lives, which the caller keeps until the
/// process exits.
pub fn abandon() -> (bool, impl Sized) {
    let mut made = made();
    let removed = made.take().map(|m| remove_made(&m.staging, &m.created));
    (removed.is_some(), made)
}

fn remove_made(staging: &Path, created: &[PathBuf]) {
    let _ = fs::remove_dir_all(staging);
    for dir in created {
        let _ = fs::remove_dir(dir);
    }
}

pub struct Summary {
    pub count: u64,
    /// Letters to placeholder addresses on reserved example domains.
    pub placeholders: u64,
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
        let (staging, created, fresh) = staging_dir(out)?;
        *made() = Some(Made {
            staging: staging.path().to_path_buf(),
            created: created.clone(),
        });
        let single_name = format!("{group_id}.{}", extension(format));
        let encoder = Encoder::new(format, group_id, from, date);
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
            placeholders: 0,
            index: String::new(),
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
        let _held = made();
        if let Some(d) = encoded.problem {
            return Err(Error::Invalid(d));
        }
        self.count += 1;
        self.placeholders += u64::from(encoded.placeholder);
        if let Some(entry) = &encoded.index_entry {
            self.index.push_str(entry);
        }
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
        let mut held = made();
        if self.format == Format::Html {
            let foot = page_foot(self.placeholders, self.count, &self.index);
            self.write_single(foot.as_bytes())?;
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
        *held = None;
        Ok(Summary {
            count: self.count,
            placeholders: self.placeholders,
            location,
        })
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        // A run that did not finish leaves nothing behind: not the staging directory, and not
        // the (empty) directories it created to hold it.
        let mut held = made();
        drop(self.single.take());
        drop(self.book.take());
        if let Some(staging) = self.staging.take() {
            remove_made(&staging.keep(), &self.created);
        }
        *held = None;
    }
}

/// A new staging directory for `out`: inside it when it exists (so moving its files into place
/// is a rename on one file system), beside it when not (the directory then simply becomes `out`).
/// Also returns the directories made to hold it, which a failed run removes again, and whether
/// `out` is new.
fn staging_dir(out: &Path) -> Result<(tempfile::TempDir, Vec<PathBuf>, bool)> {
    let fresh = !out.exists();
    if out.exists() && !out.is_dir() {
        return Err(Error::Usage(
            crate::error::Diag::new(format!("`{}` exists and is not a directory", out.display()))
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
    remove_stale(&staging_parent);
    let staging = tempfile::Builder::new()
        .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
        .tempdir_in(&staging_parent)
        .map_err(|e| Error::io(&staging_parent, e))?;
    Ok((staging, created, fresh))
}

/// A staging directory's name: this, the id of the process writing it, a dash, random letters.
const STAGING_PREFIX: &str = ".letterdrive-staging-";

/// Remove the staging directories in `dir` of runs that ended without cleaning up (killed, or
/// the machine stopped): those whose process is gone.
fn remove_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix(STAGING_PREFIX));
        let pid = pid.and_then(|rest| rest.split_once('-')?.0.parse().ok());
        if pid.is_some_and(|pid| !alive(pid)) && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether process `pid` exists (one that exists but is not ours to signal does).
#[cfg(unix)]
pub fn alive(pid: i32) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(pid) else {
        return true;
    };
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

/// Elsewhere the question is not asked: a staging directory is only ever removed by its run.
#[cfg(not(unix))]
pub fn alive(_pid: i32) -> bool {
    true
}

/// The file extension of a format's files, also its name in the ledger.
pub fn extension(format: Format) -> &'static str {
    match format {
        Format::Mbox => "mbox",
        Format::Html => "html",
        Format::Txt => "txt",
        Format::Eml => "eml",
        Format::Pdf => "pdf",
    }
}

/// Buffer of the one output file of a run: large enough that a write is rarely a system call.
const OUT_BUFFER: usize = 256 * 1024;
