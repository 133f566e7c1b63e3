//! Packed campaigns: one zip holding campaign.toml, the templates and the recipient lists, so a
//! campaign travels to volunteers as one file. A zip from someone else is untrusted input: it is
//! unpacked into a private temporary directory, every entry must be a plain file at a relative
//! path inside it (no `..`, no absolute path, no link), and it may neither unpack to more than
//! `MAX_UNPACKED` bytes nor any entry to more than `MAX_RATIO` times its packed size (a zip bomb).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use zip::write::SimpleFileOptions;

use crate::campaign::source::{Source, CAMPAIGN_FILE};
use crate::error::{Diag, Error, Result};

/// Everything a campaign unpacks to, at most: far above any real campaign's lists.
const MAX_UNPACKED: u64 = 1 << 30;
/// Text packs to a fifth or a tenth of its size; a two-hundredth is a bomb, not a recipient list.
const MAX_RATIO: u64 = 200;
/// Entries up to this size are never refused for their ratio (a short, repetitive file packs
/// very small).
const RATIO_FLOOR: u64 = 1 << 20;
const MAX_ENTRIES: usize = 10_000;

/// A zip campaign, unpacked: the directory holding its campaign.toml (the zip's root, or the one
/// folder a "compress this folder" zip holds), kept while the campaign is in use.
#[derive(Debug)]
pub struct Unpacked {
    pub root: PathBuf,
    dir: tempfile::TempDir,
}

/// The directories of the campaigns this process has unpacked and still uses. A run stopped by
/// Ctrl-C exits without dropping them, so its handler removes them with `remove_unpacked`.
static IN_USE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn in_use() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    IN_USE.lock().unwrap_or_else(|e| e.into_inner())
}

impl Unpacked {
    fn new(dir: tempfile::TempDir) -> Unpacked {
        in_use().push(dir.path().to_path_buf());
        let root = dir.path().to_path_buf();
        Unpacked { root, dir }
    }
}

impl Drop for Unpacked {
    fn drop(&mut self) {
        in_use().retain(|d| d != self.dir.path());
    }
}

/// Removes every campaign this process unpacked: for a run about to exit without unwinding.
pub fn remove_unpacked() {
    for dir in std::mem::take(&mut *in_use()) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn refused(zip: &Path, message: String, hint: &str) -> Error {
    Error::Invalid(
        Diag::new(message)
            .file(zip.display().to_string())
            .hint(hint),
    )
}

/// `name` as a relative path inside the campaign, or `None` when it could point anywhere else.
fn inside(name: &str) -> Option<PathBuf> {
    if name.contains(['\\', '\0']) {
        return None;
    }
    let mut path = PathBuf::new();
    for part in Path::new(name).components() {
        match part {
            Component::Normal(p) => path.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!path.as_os_str().is_empty()).then_some(path)
}

pub fn unpack(zip: &Path) -> Result<Unpacked> {
    let not_zip = |e: zip::result::ZipError| {
        let hint = "make a packed campaign with `letterdrive pack --out FILE.zip`";
        refused(zip, format!("not a readable zip file: {e}"), hint)
    };
    let file = File::open(zip).map_err(|e| Error::io(zip, e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(not_zip)?;
    let bomb = "a campaign never unpacks to this much: ask whoever sent it for the campaign folder";
    if archive.len() > MAX_ENTRIES {
        let message = format!("holds {} files, more than {MAX_ENTRIES}", archive.len());
        return Err(refused(zip, message, bomb));
    }
    let dir = tempfile::Builder::new()
        .prefix("letterdrive-campaign-")
        .tempdir()
        .map_err(|e| Error::io("a temporary directory", e))?;
    // Known from here on, so that an interrupted unpacking leaves nothing either.
    let mut unpacked = Unpacked::new(dir);
    let dir = &unpacked.dir;
    let mut total = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(not_zip)?;
        let name = entry.name().map_err(not_zip)?.into_owned();
        let hint = "a packed campaign holds only its own files; ask whoever sent it for a new one";
        let Some(rel) = inside(&name).filter(|_| entry.enclosed_name().is_some()) else {
            let message = format!("entry `{name}` points outside the campaign; nothing was used");
            return Err(refused(zip, message, hint));
        };
        if entry.is_symlink() {
            let message = format!("entry `{name}` is a link; nothing was used");
            return Err(refused(zip, message, hint));
        }
        let path = dir.path().join(&rel);
        let parent = if entry.is_dir() {
            &path
        } else {
            path.parent().unwrap_or(dir.path())
        };
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        if entry.is_dir() {
            continue;
        }
        let ratio_limit = entry
            .compressed_size()
            .saturating_mul(MAX_RATIO)
            .max(RATIO_FLOOR);
        let limit = (MAX_UNPACKED - total).min(ratio_limit);
        // Counted as it unpacks: the sizes a zip declares may lie.
        let mut out = File::create_new(&path).map_err(|e| Error::io(&path, e))?;
        let copied = io::copy(&mut (&mut entry).take(limit + 1), &mut out);
        let n = copied
            .map_err(|e| refused(zip, format!("entry `{name}` cannot be unpacked: {e}"), hint))?;
        if n > limit {
            let message = format!("entry `{name}` unpacks to far more than it packs to (a zip bomb?); nothing was used");
            return Err(refused(zip, message, bomb));
        }
        total += n;
    }
    let root = campaign_root(dir.path()).ok_or_else(|| {
        let message = format!("not a packed campaign: it has no {CAMPAIGN_FILE}");
        refused(
            zip,
            message,
            "make one with `letterdrive pack --out FILE.zip`",
        )
    })?;
    unpacked.root = root;
    Ok(unpacked)
}

/// Where campaign.toml is: at the top, or in the one folder at the top.
fn campaign_root(dir: &Path) -> Option<PathBuf> {
    if dir.join(CAMPAIGN_FILE).is_file() {
        return Some(dir.to_path_buf());
    }
    let mut entries = std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok());
    let only = entries.next().filter(|_| entries.next().is_none())?.path();
    only.join(CAMPAIGN_FILE).is_file().then_some(only)
}

/// Writes `files` of `source` (relative paths) into the zip `out`, replacing it only once the
/// whole zip is written. Entries carry a fixed date, so the same campaign packs to the same bytes.
pub fn pack(source: &Source, files: &[String], out: &Path) -> Result<()> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // As `render --out` does: a folder named for the file is made.
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let staged = tempfile::NamedTempFile::new_in(parent).map_err(|e| Error::io(parent, e))?;
    let failed = |e: zip::result::ZipError| Error::io(out, io::Error::other(e));
    let mut zip = zip::ZipWriter::new(staged.as_file());
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for rel in files {
        zip.start_file(rel.as_str(), options).map_err(failed)?;
        let mut file = source.open(rel)?;
        io::copy(&mut file, &mut zip).map_err(|e| Error::io(source.display(rel), e))?;
    }
    zip.finish()
        .map_err(failed)?
        .flush()
        .map_err(|e| Error::io(out, e))?;
    staged.persist(out).map_err(|e| Error::io(out, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_names_are_inside() {
        assert_eq!(
            inside("templates/a.md.hbs"),
            Some(PathBuf::from("templates/a.md.hbs"))
        );
        assert_eq!(
            inside("./campaign.toml"),
            Some(PathBuf::from("campaign.toml"))
        );
        for bad in [
            "../x",
            "a/../../x",
            "a/../x",
            "/etc/passwd",
            "a\\..\\x",
            "",
            ".",
            "a\0b",
        ] {
            assert_eq!(inside(bad), None, "{bad:?}");
        }
    }
}
