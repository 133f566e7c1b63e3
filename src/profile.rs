//! The volunteer's own details, kept between guided runs so the next run can offer them as
//! defaults. A small TOML file in the platform config directory (or wherever `--profile` says);
//! written whole or not at all, so an interrupted run never leaves half a profile.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Diag, Error, Result};
use crate::render::Signer;

/// The file name inside the config directory.
pub const FILE_NAME: &str = "profile.toml";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub name: String,
    pub email: String,
    pub city: String,
    pub country: String,
    pub organisation: String,
}

impl Profile {
    pub fn from_signer(s: &Signer) -> Profile {
        Profile {
            name: s.name.clone(),
            email: s.email.clone(),
            city: s.city.clone(),
            country: s.country.clone(),
            organisation: s.organisation.clone(),
        }
    }

    pub fn to_signer(&self) -> Signer {
        Signer {
            name: self.name.clone(),
            email: self.email.clone(),
            city: self.city.clone(),
            country: self.country.clone(),
            organisation: self.organisation.clone(),
        }
    }
}

/// `--profile FILE` (or `LETTERDRIVE_PROFILE`) when given, otherwise `profile.toml` in the
/// platform config directory (`$XDG_CONFIG_HOME/letterdrive` on Linux). `None` when the platform
/// has no home directory to put it in.
pub fn location(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.to_path_buf());
    }
    directories::ProjectDirs::from("", "", "letterdrive").map(|d| d.config_dir().join(FILE_NAME))
}

/// The saved profile, or `None` when there is none yet.
pub fn load(path: &Path) -> Result<Option<Profile>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    toml::from_str(&text).map(Some).map_err(|e| {
        Error::Invalid(
            Diag::new(format!(
                "the saved profile cannot be read: {}",
                e.message().trim()
            ))
            .file(path.display().to_string())
            .hint("fix or delete the file; the guided run offers to save a new one"),
        )
    })
}

/// Write the profile through a temporary file in the same directory, renamed into place.
pub fn save(path: &Path, profile: &Profile) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let text = toml::to_string(profile).expect("a profile of strings serialises");
    let mut tmp = tempfile::Builder::new()
        .prefix(".profile-")
        .tempfile_in(&dir)
        .map_err(|e| Error::io(&dir, e))?;
    tmp.write_all(
        format!("# letterdrive: your details, offered as defaults by the guided run\n{text}")
            .as_bytes(),
    )
    .map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(FILE_NAME);
        assert_eq!(load(&path).unwrap(), None);
        let p = Profile {
            name: "Ada \"Quote\" Volunteer".into(),
            email: "ada@example.org".into(),
            country: "France".into(),
            ..Default::default()
        };
        save(&path, &p).unwrap();
        assert_eq!(load(&path).unwrap(), Some(p));
        std::fs::write(&path, "name = [").unwrap();
        assert!(load(&path).is_err());
    }
}
