//! What the guided run gathers, and the command lines that do the same without questions.

use super::*;

/// Everything the guided run asks; each field is also a flag of `letterdrive render`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WizardAnswers {
    pub group: String,
    /// `--where` conditions such as `country=France,Japan`; empty means the whole group.
    pub filters: Vec<String>,
    pub signer: Signer,
    /// The personal paragraph (Markdown), when the volunteer wrote one.
    pub note: Option<String>,
    pub format: Format,
    pub out: PathBuf,
    /// The mail server to send through, when the volunteer chose to send rather than write files.
    pub smtp: Option<String>,
}

impl WizardAnswers {
    pub fn target(&self) -> Target {
        Target {
            group: self.group.clone(),
            filters: self.filters.clone(),
            limit: None,
        }
    }

    pub fn inputs(&self, date: &jiff::Zoned) -> LetterInputs {
        LetterInputs {
            signer: self.signer.clone(),
            personal_note: self.note.clone().unwrap_or_default(),
            date: date.clone(),
        }
    }

    /// The `letterdrive render` command that writes the same letters without a question.
    pub fn command_line(&self, campaign_dir: Option<&Path>, note_file: Option<&Path>) -> String {
        let format = match self.format {
            Format::Eml => "eml",
            Format::Mbox => "mbox",
            Format::Txt => "txt",
            Format::Html => "html",
            Format::Pdf => "pdf",
        };
        let out = self.out.display().to_string();
        self.command(
            campaign_dir,
            None,
            "render",
            &[("format", format), ("out", &out)],
            note_file,
        )
    }

    /// The `letterdrive send` command that sends the same letters without a question; run again,
    /// it sends only what the journal does not have as sent.
    pub fn send_command_line(
        &self,
        campaign_dir: Option<&Path>,
        profile: Option<&Path>,
        smtp_url: &str,
        note_file: Option<&Path>,
    ) -> String {
        self.command(
            campaign_dir,
            profile,
            "send",
            &[("smtp", smtp_url)],
            note_file,
        )
    }

    pub(super) fn command(
        &self,
        campaign_dir: Option<&Path>,
        profile: Option<&Path>,
        subcommand: &str,
        options: &[(&str, &str)],
        note_file: Option<&Path>,
    ) -> String {
        let mut words: Vec<String> = vec!["letterdrive".into()];
        for (flag, path) in [("--campaign", campaign_dir), ("--profile", profile)] {
            if let Some(path) = path {
                words.push(flag.into());
                words.push(shell_quote(&path.display().to_string()));
            }
        }
        words.push(subcommand.into());
        let mut flag = |name: &str, value: &str| {
            words.push(format!("--{name}"));
            words.push(shell_quote(value));
        };
        flag("group", &self.group);
        for f in &self.filters {
            flag("where", f);
        }
        for (name, value) in options {
            flag(name, value);
        }
        let s = &self.signer;
        flag("signer-name", &s.name);
        flag("signer-email", &s.email);
        for (name, value) in [
            ("signer-city", &s.city),
            ("signer-country", &s.country),
            ("signer-organisation", &s.organisation),
        ] {
            if !value.is_empty() {
                flag(name, value);
            }
        }
        if let Some(note) = note_file {
            flag("note", &note.display().to_string());
        }
        words.join(" ")
    }
}

/// Quote a word for a POSIX shell only when it needs it.
pub(super) fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@=,:+".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn command_line_quotes_what_the_shell_would_split() {
        let a = WizardAnswers {
            group: "governments".into(),
            filters: vec!["country=France,United Kingdom".into()],
            signer: Signer {
                name: "Ada O'Volunteer".into(),
                email: "ada@example.org".into(),
                city: "Lyon".into(),
                ..Default::default()
            },
            note: Some("Mine.".into()),
            format: Format::Html,
            out: PathBuf::from("letters"),
            smtp: None,
        };
        assert_eq!(
            a.command_line(
                Some(Path::new("my campaign")),
                Some(Path::new("letters/personal-note.md"))
            ),
            "letterdrive --campaign 'my campaign' render --group governments \
             --where 'country=France,United Kingdom' --format html --out letters \
             --signer-name 'Ada O'\\''Volunteer' --signer-email ada@example.org \
             --signer-city Lyon --note letters/personal-note.md"
        );
        assert_eq!(
            a.send_command_line(
                None,
                Some(Path::new("my profile.toml")),
                "smtps://ada%40example.org@mail.example.org",
                Some(Path::new(".letterdrive/personal-note.md"))
            ),
            "letterdrive --profile 'my profile.toml' send --group governments \
             --where 'country=France,United Kingdom' \
             --smtp 'smtps://ada%40example.org@mail.example.org' \
             --signer-name 'Ada O'\\''Volunteer' --signer-email ada@example.org \
             --signer-city Lyon --note .letterdrive/personal-note.md"
        );
    }
}
