//! The second layer of arguments: clap's raw flags turned into validated values the core uses.
//! This is the one place that reads the clock, so every other function is deterministic.

use std::path::{Path, PathBuf};

use crate::campaign::is_language_tag;
use crate::cli::args::SignerArgs;
use crate::cli::usage;
use crate::error::{Diag, Error, Result};
use crate::letter::editable::{self, Edits};
use crate::letter::render::{LetterInputs, Notes, Signer};

/// How strictly the signer must be known: sending and rendering need a real From address,
/// previewing and checking do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerNeed {
    Required,
    PlaceholderOk,
}

/// `letter_inputs` for `render` and `send`: with no signer flag (nor its variable) given, the
/// signer saved in the profile (`--profile`, or the default one), said on standard output.
pub fn signed_inputs(args: &SignerArgs, profile_flag: Option<&Path>) -> Result<LetterInputs> {
    let flags = [
        &args.signer_name,
        &args.signer_email,
        &args.signer_city,
        &args.signer_country,
        &args.signer_organisation,
    ];
    let path =
        crate::send::profile::location(profile_flag).filter(|_| flags.iter().all(|f| f.is_none()));
    let saved = path
        .as_deref()
        .map(crate::send::profile::load)
        .transpose()?
        .flatten();
    let Some((path, p)) = path
        .zip(saved)
        .filter(|(_, p)| !p.name.is_empty() && !p.email.is_empty())
    else {
        return letter_inputs(args, SignerNeed::Required);
    };
    println!(
        "signer: {} <{}>, from the saved profile {}",
        p.name,
        p.email,
        path.display()
    );
    let some = |v: &String| Some(v.clone());
    let args = SignerArgs {
        signer_name: some(&p.name),
        signer_email: some(&p.email),
        signer_city: some(&p.city),
        signer_country: some(&p.country),
        signer_organisation: some(&p.organisation),
        ..args.clone()
    };
    letter_inputs(&args, SignerNeed::Required)
}

pub fn letter_inputs(args: &SignerArgs, need: SignerNeed) -> Result<LetterInputs> {
    let trim = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
    let mut signer = Signer {
        name: trim(&args.signer_name),
        email: trim(&args.signer_email),
        city: trim(&args.signer_city),
        country: trim(&args.signer_country),
        organisation: trim(&args.signer_organisation),
    };
    let mut missing = Vec::new();
    for (value, flag, stand_in) in [
        (&mut signer.name, "--signer-name", "Your Name"),
        (&mut signer.email, "--signer-email", "you@example.org"),
    ] {
        if value.is_empty() && need == SignerNeed::PlaceholderOk {
            *value = stand_in.into();
        } else if value.is_empty() {
            missing.push(flag);
        }
    }
    if !missing.is_empty() {
        return Err(usage(
            format!("who signs these letters? missing {}", missing.join(" and ")),
            "pass --signer-name \"Your Name\" --signer-email you@your-domain (or set LETTERDRIVE_SIGNER_NAME and LETTERDRIVE_SIGNER_EMAIL)",
        ));
    }
    for (value, flag) in [
        (&signer.name, "--signer-name"),
        (&signer.email, "--signer-email"),
        (&signer.city, "--signer-city"),
        (&signer.country, "--signer-country"),
        (&signer.organisation, "--signer-organisation"),
    ] {
        let length = value.chars().count();
        let max = match flag {
            "--signer-email" => crate::campaign::MAX_EMAIL,
            _ => crate::campaign::MAX_NAME,
        };
        if let Some(d) = crate::campaign::too_long(flag, length, max) {
            return Err(Error::Usage(d));
        }
        if let Some((_, _, c)) = crate::campaign::control_char(value) {
            let d = crate::campaign::control_diag(c);
            let message = format!("{flag} {}", d.message);
            return Err(Error::Usage(Diag { message, ..d }));
        }
    }
    let notes = read_notes(&args.note)?;
    let edits = read_edits(&args.edit)?;
    let epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
    let date = letter_date(args.date.as_deref(), epoch.as_deref())?;
    Ok(LetterInputs {
        signer,
        notes,
        edits,
        date,
    })
}

/// `--note FILE` for every letter and `--note LANG=FILE` per language, each given once.
fn read_notes(flags: &[PathBuf]) -> Result<Notes> {
    let mut notes = Notes::default();
    let mut all_given = false;
    for flag in flags {
        let (language, path) = split_note_flag(flag);
        let text = read_text(path, "--note ", ("the personal note", "the note"))?;
        let again = match &language {
            None => std::mem::replace(&mut all_given, true),
            Some(l) => notes.by_language.contains_key(l),
        };
        if again {
            let which = language.map_or("FILE".into(), |l| format!("{l}=FILE"));
            let what = format!("--note {which} is given twice");
            return Err(usage(
                what,
                "give one paragraph for all letters and at most one per language",
            ));
        }
        match language {
            None => notes.all = text,
            Some(l) => _ = notes.by_language.insert(l, text),
        }
    }
    Ok(notes)
}

/// `fr=note.md` is the French letters' paragraph; a name whose part before `=` is not a
/// language tag is a file (write `./fr=x.md` for a file of that name).
fn split_note_flag(flag: &Path) -> (Option<String>, &Path) {
    let split = flag.to_str().and_then(|s| s.split_once('='));
    match split.filter(|(lang, _)| is_language_tag(lang)) {
        Some((lang, file)) => (Some(lang.to_ascii_lowercase()), Path::new(file)),
        None => (None, flag),
    }
}

/// `--edit ID=FILE` for every letter whose template has paragraph ID, and `--edit LANG:ID=FILE`
/// for the letters in one language, each given once. Which ids the templates have is known only
/// with the group (`Renderer::new` says which are unknown).
fn read_edits(flags: &[String]) -> Result<Edits> {
    let mut edits = Edits::default();
    for flag in flags {
        let (language, id, path) = split_edit_flag(flag)?;
        let which = match &language {
            Some(l) => format!("{l}:{id}"),
            None => id.clone(),
        };
        let path = Path::new(path);
        let flag = format!("--edit {which}=");
        let text = read_text(path, &flag, ("your version of the paragraph", "it"))?;
        if let Some(d) = editable::text_problem(&text) {
            return Err(Error::Invalid(d.file(path.display().to_string())));
        }
        let map = match language {
            Some(l) => edits.by_language.entry(l).or_default(),
            None => &mut edits.all,
        };
        if map.insert(id, text).is_some() {
            let hint =
                "give one version of each paragraph for all letters, and at most one per language";
            return Err(usage(format!("--edit {which}=FILE is given twice"), hint));
        }
    }
    Ok(edits)
}

/// `reply=mine.md` -> (None, `reply`, `mine.md`); `fr:reply=mine.md` -> (Some(`fr`), ...).
fn split_edit_flag(flag: &str) -> Result<(Option<String>, String, &str)> {
    let example = "write --edit ID=FILE or --edit LANG:ID=FILE, e.g. --edit reply=my-reply.md or --edit fr:reply=ma-reponse.md";
    let Some((what, path)) = flag.split_once('=').filter(|(_, p)| !p.is_empty()) else {
        return Err(usage(format!("--edit `{flag}` names no file"), example));
    };
    let (language, id) = match what.split_once(':') {
        Some((l, id)) if is_language_tag(l) => (Some(l.to_ascii_lowercase()), id),
        Some((l, _)) => {
            let what = format!("--edit `{flag}`: `{l}` is not a language tag");
            return Err(usage(
                what,
                "use a tag such as en, fr or es-MX, as the `language` column has it",
            ));
        }
        None => (None, what),
    };
    if !editable::is_id(id) {
        let what = format!("--edit `{flag}`: `{id}` is not the id of an editable paragraph");
        return Err(usage(what, example));
    }
    Ok((language, id.to_string(), path))
}

/// A text file the volunteer wrote, given after `flag`: UTF-8, without control characters.
/// `what` names it in a sentence, and again in the hint.
fn read_text(path: &Path, flag: &str, (what, again): (&str, &str)) -> Result<String> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("{flag}{}", path.display()), e))?;
    let note = String::from_utf8(bytes).map_err(|_| {
        let diag = Diag::new(format!("{what} is not valid UTF-8"));
        let diag = diag.file(path.display().to_string());
        Error::Invalid(diag.hint(format!("save {again} with UTF-8 encoding")))
    })?;
    match crate::campaign::control_char(&note) {
        Some((line, col, c)) => {
            let d = crate::campaign::control_diag(c).file(path.display().to_string());
            Err(Error::Invalid(d.line(line).column(col)))
        }
        None => Ok(note),
    }
}

/// Today's date, by which `check` judges a campaign's age: `SOURCE_DATE_EPOCH` when set (so
/// runs are reproducible), otherwise the clock.
pub fn today() -> Result<jiff::civil::Date> {
    let epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
    Ok(letter_date(None, epoch.as_deref())?.date())
}

/// `--date` wins over `SOURCE_DATE_EPOCH`, which wins over the clock.
pub fn letter_date(flag: Option<&str>, epoch: Option<&str>) -> Result<jiff::Zoned> {
    let utc = jiff::tz::TimeZone::UTC;
    if let Some(s) = flag.map(str::trim) {
        if let Ok(ts) = s.parse::<jiff::Timestamp>() {
            return Ok(ts.to_zoned(utc));
        }
        // Noon keeps the calendar date the same in every time zone a reader may be in.
        let noon = |d: jiff::civil::Date| d.at(12, 0, 0, 0).to_zoned(utc).ok();
        return s.parse().ok().and_then(noon).ok_or_else(|| {
            let hint = "write it as YYYY-MM-DD (2026-11-27) or RFC 3339 (2026-11-27T09:30:00Z)";
            usage(format!("--date `{s}` is not a date"), hint)
        });
    }
    if let Some(s) = epoch.filter(|s| !s.trim().is_empty()) {
        let var = format!("SOURCE_DATE_EPOCH `{s}`");
        let secs: i64 = s.trim().parse().map_err(|_| {
            let hint = "set it to a Unix timestamp, e.g. SOURCE_DATE_EPOCH=1764201600, or unset it";
            usage(format!("{var} is not a number of seconds"), hint)
        })?;
        let ts = jiff::Timestamp::from_second(secs)
            .map_err(|e| Error::Usage(Diag::new(format!("{var} is out of range: {e}"))))?;
        return Ok(ts.to_zoned(utc));
    }
    Ok(crate::clock::now().to_zoned(jiff::tz::TimeZone::system()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_flag_forms() {
        let d = letter_date(Some("2026-11-27"), None).unwrap();
        assert_eq!(d.timestamp().as_second(), 1_795_780_800);
        let d = letter_date(Some("2026-11-27T09:30:00Z"), Some("5")).unwrap();
        assert_eq!(d.timestamp().as_second(), 1_795_771_800);
        let d = letter_date(None, Some("1764201600")).unwrap();
        assert_eq!(d.timestamp().as_second(), 1_764_201_600);
        assert!(letter_date(Some("yesterday"), None).is_err());
        assert!(letter_date(None, Some("soon")).is_err());
    }
}
