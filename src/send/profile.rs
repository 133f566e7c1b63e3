//! The volunteer's own details, kept between guided runs so the next run can offer them as
//! defaults, and their mail server settings (`[smtp]`) for `send`. A small TOML file in the
//! platform config directory (or wherever `--profile` says); written whole or not at all, so an
//! interrupted run never leaves half a profile.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Diag, Error, Result};
use crate::letter::render::Signer;

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
    #[serde(skip_serializing_if = "SmtpProfile::is_empty")]
    pub smtp: SmtpProfile,
}

/// The `[smtp]` table: what `send` uses when neither a flag nor the environment says otherwise.
/// Never a password: only a command that prints one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpProfile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2_token_command: Option<String>,
    /// Relative to the profile's own directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connections: Option<u32>,
    /// Read only to refuse it by name: a password in a plain file is what this tool avoids.
    #[serde(skip_serializing)]
    pub password: Option<Present>,
}

impl SmtpProfile {
    pub fn is_empty(&self) -> bool {
        *self == SmtpProfile::default()
    }
}

/// A key whose value is never kept, only noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Present;

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Present)
    }
}

impl Profile {
    pub fn from_signer(s: &Signer) -> Profile {
        Profile {
            name: s.name.clone(),
            email: s.email.clone(),
            city: s.city.clone(),
            country: s.country.clone(),
            organisation: s.organisation.clone(),
            smtp: SmtpProfile::default(),
        }
    }

    /// This profile with the signer's details replaced and everything else kept.
    pub fn with_signer(&self, s: &Signer) -> Profile {
        Profile {
            smtp: self.smtp.clone(),
            ..Profile::from_signer(s)
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
    let profile: Profile = toml::from_str(&text).map_err(|e| {
        // The message only: the snippet toml adds could quote a secret written in the file.
        Error::Invalid(
            Diag::new(format!(
                "the saved profile cannot be read: {}",
                e.message().trim()
            ))
            .file(path.display().to_string())
            .hint("fix or delete the file; the guided run offers to save a new one"),
        )
    })?;
    if profile.smtp.password.is_some() {
        return Err(Error::Invalid(
            Diag::new("the profile holds a password in [smtp]; letterdrive never reads one from a file")
                .file(path.display().to_string())
                .hint("delete that line and put password_command = \"pass show mail\" there instead, or set LETTERDRIVE_SMTP_PASSWORD"),
        ));
    }
    Ok(Some(profile))
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

    #[test]
    fn the_smtp_table_round_trips_and_refuses_a_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let p = Profile {
            name: "Ada".into(),
            smtp: SmtpProfile {
                url: Some("smtps://ada@mail.example.org".into()),
                rate: Some("50/5min".into()),
                connections: Some(2),
                ..Default::default()
            },
            ..Default::default()
        };
        save(&path, &p).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("[smtp]\nurl = \"smtps://ada@mail.example.org\""),
            "{text}"
        );
        assert_eq!(load(&path).unwrap(), Some(p.clone()));
        // The signer's details change; the server settings stay.
        let signer = Signer {
            name: "Ada V".into(),
            ..Default::default()
        };
        assert_eq!(p.with_signer(&signer).smtp, p.smtp);

        std::fs::write(&path, "[smtp]\npassword = \"hunter2\"\n").unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(
            e.contains("holds a password") && !e.contains("hunter2"),
            "{e}"
        );
        std::fs::write(&path, "[smtp]\nurl = 5\npasword_command = \"x\"\n").unwrap();
        assert!(load(&path).is_err());
    }
}
