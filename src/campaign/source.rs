//! Where a campaign's files come from: a directory on disk, or the copy compiled into the binary.
//! Everything else reads through this, so the bundled campaign behaves exactly like one on disk.

use std::io::Read;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use include_dir::{include_dir, Dir};

use crate::campaign::archive::{self, Unpacked};
use crate::error::{Diag, Error, Result};

static BUNDLED_TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");
static BUNDLED_RECIPIENTS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/recipients");
static BUNDLED_TOML: &str = include_str!("../../campaign.toml");

pub const CAMPAIGN_FILE: &str = "campaign.toml";

#[derive(Debug, Clone)]
pub enum Source {
    Dir(PathBuf),
    /// A packed campaign (`letterdrive pack`), unpacked for as long as the campaign is in use.
    Zip {
        file: PathBuf,
        unpacked: Arc<Unpacked>,
    },
    Bundled,
}

impl Source {
    /// `--campaign DIR` wins; otherwise a campaign.toml in the current directory; otherwise the
    /// bundled campaign, so the binary works from anywhere.
    pub fn discover(explicit: Option<&Path>) -> Result<Source> {
        if let Some(dir) = explicit {
            if dir.is_file() && dir.file_name().is_some_and(|n| n == CAMPAIGN_FILE) {
                let hint = "point --campaign at the folder that holds campaign.toml";
                let message = format!("`{}` is the campaign's {CAMPAIGN_FILE}", dir.display());
                return Err(Error::Usage(Diag::new(message).hint(hint)));
            }
            if dir.is_file() {
                let unpacked = Arc::new(archive::unpack(dir)?);
                let file = dir.to_path_buf();
                return Ok(Source::Zip { file, unpacked });
            }
            if !dir.join(CAMPAIGN_FILE).is_file() {
                return Err(Error::Usage(
                    Diag::new(format!(
                        "`{}` is not a campaign: it has no {CAMPAIGN_FILE}",
                        dir.display()
                    ))
                    .hint("point --campaign at a directory made by `letterdrive init DIR`, or a zip made by `letterdrive pack`"),
                ));
            }
            return Ok(Source::Dir(dir.to_path_buf()));
        }
        if Path::new(CAMPAIGN_FILE).is_file() {
            return Ok(Source::Dir(PathBuf::from(".")));
        }
        Ok(Source::Bundled)
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Dir(d) if d == Path::new(".") => "current directory".to_string(),
            Source::Dir(d) => d.display().to_string(),
            Source::Zip { file, .. } => file.display().to_string(),
            Source::Bundled => "bundled with letterdrive".to_string(),
        }
    }

    /// The name shown to users in messages: a path they can open, or a marked bundled path.
    pub fn display(&self, rel: &str) -> String {
        match self {
            Source::Dir(d) if d == Path::new(".") => rel.to_string(),
            Source::Dir(d) => d.join(rel).display().to_string(),
            Source::Zip { file, .. } => format!("{}/{rel}", file.display()),
            Source::Bundled => format!("<bundled>/{rel}"),
        }
    }

    /// Where `rel` leads once every link is followed, when that is outside the campaign folder
    /// (an absolute path, `..`, or a link out): a shared campaign must not read the volunteer's
    /// other files into its letters. `None` for a path inside, or one that does not exist yet.
    pub fn outside(&self, rel: &str) -> Option<PathBuf> {
        let d = self.root()?;
        let target = std::fs::canonicalize(d.join(rel)).ok()?;
        let root = std::fs::canonicalize(d).ok()?;
        (!target.starts_with(&root)).then_some(target)
    }

    /// The problem of a file `rel` that leads to `target`, outside the campaign folder.
    pub fn outside_error(&self, rel: &str, target: &Path) -> Diag {
        let resolved = match Path::new(rel) == target {
            true => String::new(),
            false => format!(" (it leads to `{}`)", target.display()),
        };
        Diag::new(format!("`{rel}` is outside the campaign folder{resolved}"))
            .hint("a campaign may only use files inside its own folder: copy the file in and name it relative to campaign.toml")
    }

    /// The directory the campaign's files are read from, when they are on disk.
    fn root(&self) -> Option<&Path> {
        match self {
            Source::Dir(d) => Some(d),
            Source::Zip { unpacked, .. } => Some(&unpacked.root),
            Source::Bundled => None,
        }
    }

    /// The directory a campaign on disk sits in, where its send journal goes; none for the
    /// bundled campaign.
    pub fn home(&self) -> Option<&Path> {
        match self {
            Source::Dir(d) => Some(d),
            Source::Zip { file, .. } => Some(file.parent().unwrap_or(Path::new(""))),
            Source::Bundled => None,
        }
    }

    pub fn exists(&self, rel: &str) -> bool {
        match self.root() {
            Some(d) => d.join(rel).is_file(),
            None => bundled_file(rel).is_some(),
        }
    }

    /// Names of the files directly in `dir` (relative to the campaign root; "" is the root).
    /// A directory that cannot be read lists nothing.
    pub fn list(&self, dir: &str) -> Vec<String> {
        match self.root() {
            Some(d) => std::fs::read_dir(d.join(dir))
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok())
                        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                        .filter_map(|e| e.file_name().into_string().ok())
                        .collect()
                })
                .unwrap_or_default(),
            None => bundled_files()
                .into_iter()
                .filter_map(|(rel, _)| {
                    let (parent, name) = rel.rsplit_once('/').unwrap_or(("", &rel));
                    (parent == dir).then(|| name.to_string())
                })
                .collect(),
        }
    }

    pub fn read_to_string(&self, rel: &str) -> Result<String> {
        let mut bytes = Vec::new();
        self.open(rel)?
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(self.display(rel), e))?;
        String::from_utf8(bytes).map_err(|e| {
            let text = String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
            let line = text.matches('\n').count() as u64 + 1;
            Error::Invalid(
                Diag::new("file is not valid UTF-8")
                    .file(self.display(rel))
                    .line(line)
                    .hint("save the file with UTF-8 encoding"),
            )
        })
    }

    pub fn open(&self, rel: &str) -> Result<Box<dyn Read + Send>> {
        match self.root() {
            Some(d) => {
                let path = d.join(rel);
                if let Some(target) = self.outside(rel) {
                    let diag = self.outside_error(rel, &target).file(self.display(rel));
                    return Err(Error::Invalid(diag));
                }
                let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
                Ok(Box::new(file))
            }
            None => match bundled_file(rel) {
                Some(bytes) => Ok(Box::new(bytes)),
                None => Err(Error::io(
                    self.display(rel),
                    std::io::Error::from(std::io::ErrorKind::NotFound),
                )),
            },
        }
    }
}

fn bundled_file(rel: &str) -> Option<&'static [u8]> {
    if rel == CAMPAIGN_FILE {
        return Some(BUNDLED_TOML.as_bytes());
    }
    if let Some(rest) = rel.strip_prefix("templates/") {
        return BUNDLED_TEMPLATES.get_file(rest).map(|f| f.contents());
    }
    if let Some(rest) = rel.strip_prefix("recipients/") {
        return BUNDLED_RECIPIENTS.get_file(rest).map(|f| f.contents());
    }
    None
}

/// Every file of the bundled campaign, as (relative path, contents), for `init`.
pub fn bundled_files() -> Vec<(String, &'static [u8])> {
    let mut out = vec![(CAMPAIGN_FILE.to_string(), BUNDLED_TOML.as_bytes())];
    for (prefix, dir) in [
        ("templates", &BUNDLED_TEMPLATES),
        ("recipients", &BUNDLED_RECIPIENTS),
    ] {
        let mut files: Vec<_> = dir.files().collect();
        files.sort_by_key(|f| f.path());
        for f in files {
            out.push((format!("{prefix}/{}", f.path().display()), f.contents()));
        }
    }
    out
}

/// The short commented skeleton `init --blank` writes: one group, three rows, one template that
/// shows each feature once. It must pass `check` as written.
static BLANK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/src/campaign/blank");

/// Every file of the blank skeleton, as (relative path, contents), for `init --blank`.
pub fn blank_files() -> Vec<(String, &'static [u8])> {
    let mut files = Vec::new();
    let mut dirs = vec![&BLANK];
    while let Some(dir) = dirs.pop() {
        files.extend(
            dir.files()
                .map(|f| (f.path().display().to_string(), f.contents())),
        );
        dirs.extend(dir.dirs());
    }
    files.sort();
    files
}

/// The bundled campaign written out to a temporary directory, for tests that change a file of it.
#[cfg(test)]
pub(crate) fn bundled_campaign_on_disk() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, bytes) in bundled_files() {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}
