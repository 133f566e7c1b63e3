//! What the guided run gathers, and the command lines that do the same without questions.

use clap::ValueEnum;

use super::*;

/// Everything the guided run asks; each is also a flag of `letterdrive render` or `send`.
#[derive(Debug, Clone)]
pub struct Answers {
    /// The group, and `--where` conditions such as `country=France,Japan` (none: all of it).
    pub target: Target,
    /// Who signs, the personal paragraph (empty when none was written), and the date.
    pub inputs: LetterInputs,
    pub format: Format,
    pub out: PathBuf,
    /// The mail server to send through, when the volunteer chose to send rather than write files.
    pub smtp: Option<String>,
    /// Letters a run may send: the chosen provider's daily limit.
    pub max: Option<u64>,
    /// The languages of the chosen letters, the default one first, with their counts.
    pub languages: Vec<(String, u64)>,
}

/// A kept paragraph: its language (none: every letter's) and its file.
pub type NoteFile = (Option<String>, PathBuf);

/// A kept version of an editable paragraph: its language (none: every letter's), its id, and
/// its file.
pub type EditFile = (Option<String>, String, PathBuf);

/// The volunteer's texts, written beside the letters for the command line to pass again.
#[derive(Debug, Default)]
pub struct Kept {
    pub notes: Vec<NoteFile>,
    pub edits: Vec<EditFile>,
}

impl Answers {
    /// The paragraphs by the language they were written for: one written for every letter was
    /// written for their language when they were all in one.
    pub fn notes_by_language(&self) -> BTreeMap<String, String> {
        let notes = &self.inputs.notes;
        match self.languages.as_slice() {
            [(only, _)] if notes.by_language.is_empty() => {
                BTreeMap::from([(only.clone(), notes.all.clone())])
            }
            _ => notes.by_language.clone(),
        }
    }

    /// The versions of editable paragraphs by the language they were written for, as
    /// `notes_by_language` has the paragraphs.
    pub fn edits_by_language(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let edits = &self.inputs.edits;
        match self.languages.as_slice() {
            [(only, _)] if edits.by_language.is_empty() => {
                BTreeMap::from([(only.clone(), edits.all.clone())])
            }
            _ => edits.by_language.clone(),
        }
    }

    /// Write the typed paragraphs into `dir`, so the command line can pass them with `--note`
    /// and `--edit`: `NOTE_FILE` for every letter, `personal-note.LANG.md` for one language's;
    /// `edit-ID.md` and `edit-ID.LANG.md` for the versions of editable paragraphs.
    pub fn keep(&self, dir: &Path) -> Result<Kept> {
        let write = |name: String, text: &str| -> Result<PathBuf> {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
            Ok(path)
        };
        let dot = |lang: Option<&String>| lang.map(|l| format!(".{l}")).unwrap_or_default();
        let notes = &self.inputs.notes;
        let all = Some((None, &notes.all));
        let own = notes.by_language.iter().map(|(l, t)| (Some(l), t));
        let mut kept = Kept::default();
        for (lang, text) in all.into_iter().chain(own).filter(|(_, t)| !t.is_empty()) {
            let name = match lang {
                None => NOTE_FILE.to_string(),
                Some(l) => format!("personal-note.{l}.md"),
            };
            kept.notes.push((lang.cloned(), write(name, text)?));
        }
        let edits = &self.inputs.edits;
        let all = edits.all.iter().map(|(id, t)| (None, id, t));
        let own = edits.by_language.iter();
        let own = own.flat_map(|(l, e)| e.iter().map(move |(id, t)| (Some(l), id, t)));
        for (lang, id, text) in all.chain(own).filter(|(_, _, t)| !t.is_empty()) {
            let path = write(format!("edit-{id}{}.md", dot(lang)), text)?;
            kept.edits.push((lang.cloned(), id.clone(), path));
        }
        Ok(kept)
    }

    /// The command that does the same without a question: `letterdrive send` when the answers
    /// send (run again, it sends only what the journal does not have as sent), else `render`.
    /// Only `send` reads the profile (its `[smtp]` table), so only its command names one.
    pub fn command_line(
        &self,
        campaign_dir: Option<&Path>,
        profile: Option<&Path>,
        kept: &Kept,
    ) -> String {
        let path = |p: &Path| p.display().to_string();
        let profile = profile.filter(|_| self.smtp.is_some());
        let global = [("campaign", campaign_dir), ("profile", profile)];
        let global = global
            .into_iter()
            .filter_map(|(name, p)| Some((name, path(p?))));
        let mut flags = vec![("group", self.target.group.clone())];
        flags.extend(self.target.filters.iter().map(|f| ("where", f.clone())));
        let command = match &self.smtp {
            Some(url) => {
                flags.push(("smtp", url.clone()));
                "send"
            }
            None => {
                let format = self
                    .format
                    .to_possible_value()
                    .expect("no format is hidden");
                flags.push(("format", format.get_name().to_string()));
                flags.push(("out", path(&self.out)));
                "render"
            }
        };
        let s = &self.inputs.signer;
        flags.extend([
            ("signer-name", s.name.clone()),
            ("signer-email", s.email.clone()),
        ]);
        let optional = [
            ("signer-city", &s.city),
            ("signer-country", &s.country),
            ("signer-organisation", &s.organisation),
        ];
        let optional = optional.into_iter().filter(|(_, v)| !v.is_empty());
        flags.extend(optional.map(|(name, v)| (name, v.clone())));
        flags.extend(kept.notes.iter().map(|(lang, file)| {
            let lang = lang.as_ref().map(|l| format!("{l}=")).unwrap_or_default();
            ("note", lang + &path(file))
        }));
        flags.extend(kept.edits.iter().map(|(lang, id, file)| {
            let lang = lang.as_ref().map(|l| format!("{l}:")).unwrap_or_default();
            ("edit", format!("{lang}{id}={}", path(file)))
        }));
        format!("letterdrive{} {command}{}", words(global), words(flags))
    }
}

/// Flags and their values as shell words, each after a space.
fn words<'a>(flags: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let word = |(name, value): (&str, String)| format!(" --{name} {}", shell_quote(&value));
    flags.into_iter().map(word).collect()
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

    /// `render` names no profile, which it does not read; `send` does.
    #[test]
    fn command_line_quotes_what_the_shell_would_split() {
        let signer = Signer {
            name: "Ada O'Volunteer".into(),
            email: "ada@example.org".into(),
            city: "Lyon".into(),
            ..Default::default()
        };
        let date = crate::cli::settings::letter_date(Some("2026-11-27"), None).unwrap();
        let a = Answers {
            target: Target {
                group: "governments".into(),
                filters: vec!["country=France,United Kingdom".into()],
                limit: None,
            },
            inputs: LetterInputs {
                signer,
                notes: Notes::one("Mine."),
                edits: Default::default(),
                date,
            },
            format: Format::Html,
            out: PathBuf::from("letters"),
            smtp: None,
            max: None,
            languages: Vec::new(),
        };
        assert_eq!(
            a.command_line(
                Some(Path::new("my campaign")),
                Some(Path::new("my profile.toml")),
                &Kept {
                    notes: vec![(None, PathBuf::from("letters/personal-note.md"))],
                    edits: vec![(None, "reply".into(), PathBuf::from("letters/edit-reply.md"))],
                }
            ),
            "letterdrive --campaign 'my campaign' render --group governments \
             --where 'country=France,United Kingdom' --format html --out letters \
             --signer-name 'Ada O'\\''Volunteer' --signer-email ada@example.org \
             --signer-city Lyon --note letters/personal-note.md \
             --edit reply=letters/edit-reply.md"
        );
        let a = Answers {
            smtp: Some("smtps://ada%40example.org@mail.example.org".into()),
            ..a
        };
        assert_eq!(
            a.command_line(
                None,
                Some(Path::new("my profile.toml")),
                &Kept {
                    notes: vec![(
                        Some("fr".into()),
                        PathBuf::from(".letterdrive/personal-note.fr.md")
                    )],
                    edits: vec![(
                        Some("fr".into()),
                        "reply".into(),
                        PathBuf::from(".letterdrive/edit-reply.fr.md")
                    )],
                }
            ),
            "letterdrive --profile 'my profile.toml' send --group governments \
             --where 'country=France,United Kingdom' \
             --smtp 'smtps://ada%40example.org@mail.example.org' \
             --signer-name 'Ada O'\\''Volunteer' --signer-email ada@example.org \
             --signer-city Lyon --note fr=.letterdrive/personal-note.fr.md \
             --edit fr:reply=.letterdrive/edit-reply.fr.md"
        );
    }
}
