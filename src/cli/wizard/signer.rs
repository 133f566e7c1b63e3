//! Who signs, and the volunteer's own paragraph.

use std::io::Write;

use super::*;

impl Wizard<'_> {
    /// Step 3: who signs. Defaults come from the answers being changed, else the saved profile.
    pub(super) fn ask_signer(&self, prev: Option<&Answers>) -> Ask<Signer> {
        let base = prev
            .map(|p| p.inputs.signer.clone())
            .or_else(|| self.saved.as_ref().map(Profile::to_signer))
            .unwrap_or_default();
        if let (None, Some(_), Some(path)) = (prev, &self.saved, &self.profile_path) {
            let path = path.display();
            eprintln!("Your saved details (from {path}) are offered in brackets; press enter to keep them.");
        }
        let prompt = "Your name (it signs the letters)";
        let name = self.ask_text(prompt, &base.name, |s| match s.trim() {
            "" => Err("a name is needed: it signs every letter".into()),
            _ => no_control_characters("a name", s),
        })?;
        let prompt = "Your e-mail address (the letters come from it)";
        let email = self.ask_text(prompt, &base.email, |s| {
            let s = s.trim();
            if s.is_empty() {
                return Err("an address is needed: replies come to it".into());
            }
            s.parse::<lettre::Address>().map(|_| ()).map_err(|e| {
                format!("`{s}` is not an e-mail address ({e}); write it as name@domain")
            })
        })?;
        // Asked in the order the fields are written.
        Ok(Signer {
            name,
            email,
            city: self.ask_optional("Your city", &base.city)?,
            country: self.ask_optional("Your country", &base.country)?,
            organisation: self.ask_optional("Your organisation", &base.organisation)?,
        })
    }

    /// A detail the letters can do without: enter skips it (or keeps the one offered), and `-`
    /// clears one offered.
    fn ask_optional(&self, what: &str, default: &str) -> Ask<String> {
        let how = if default.is_empty() {
            "enter to skip"
        } else {
            "- for none"
        };
        let prompt = format!("{what} (optional, {how})");
        let value = self.ask_text(&prompt, default, |s| no_control_characters("this", s))?;
        Ok(if value == "-" { String::new() } else { value })
    }

    /// Step 4: the volunteer's own paragraph; one per language when the chosen letters are in
    /// several, so that no letter carries a paragraph in another language unless the
    /// volunteer picks that. `languages` are the letters' languages with their counts; `prev`
    /// the paragraphs written before, by language; `prompts` the group's writing prompts.
    pub(super) fn ask_notes(
        &self,
        languages: &[(String, u64)],
        prev: &BTreeMap<String, String>,
        prompts: &[Prompt],
    ) -> Ask<Notes> {
        let prev_in = |l: &String| prev.get(l).map(String::as_str);
        eprintln!(
            "A paragraph in your own words is what makes a letter count: why this matters to you."
        );
        if languages.len() < 2 {
            // Said, so the paragraph is written in the letters' language.
            if let Some((l, _)) = languages.first() {
                let name = language::name(l);
                eprintln!("The letters are in {name}: write the paragraph in {name}.");
            }
            let lang = languages
                .first()
                .map_or(&self.campaign.language, |(l, _)| l);
            let prev = languages.first().and_then(|(l, _)| prev_in(l));
            let prompt = "Add a personal paragraph?";
            let note = self.ask_note(prompt, self.drafted(prev, prompts, lang)?, &[])?;
            return Ok(Notes::one(note.unwrap_or_default()));
        }
        let all: Vec<String> = languages.iter().map(language::with_count).collect();
        eprintln!("Your letters are in {} languages: {}. Each letter gets only the paragraph written for its language.", all.len(), all.join(", "));
        let mut notes = Notes::default();
        let mut written: Vec<(String, String)> = Vec::new();
        for (lang, n) in languages {
            let (letters, name) = (plural(*n, "letter"), language::name(lang));
            let prompt = format!("A personal paragraph for the {letters} in {name}?");
            let kept = self.drafted(prev_in(lang), prompts, lang)?;
            if let Some(text) = self.ask_note(&prompt, kept, &written)? {
                written.push((format!("my {name} paragraph"), text.clone()));
                notes.by_language.insert(lang.clone(), text);
            }
        }
        Ok(notes)
    }

    /// The paragraph the volunteer starts from, with what it is: the one written before, else
    /// their answers to the group's prompts in `lang`, asked one by one (an empty answer skips
    /// one) and joined as paragraphs, word for word; none when there are no answers.
    fn drafted(
        &self,
        prev: Option<&str>,
        prompts: &[Prompt],
        lang: &str,
    ) -> Ask<Option<(String, String)>> {
        if let Some(p) = prev.filter(|p| !p.is_empty()) {
            let kept = format!("Keep the paragraph I wrote ({})", first_words(p));
            return Ok(Some((kept, p.to_string())));
        }
        if prompts.is_empty() {
            return Ok(None);
        }
        let n = prompts.len();
        eprintln!("{n} questions help you write it; your answers become the paragraph, which you can then change. Press enter to skip a question.");
        let mut answers = Vec::new();
        for (i, p) in prompts.iter().enumerate() {
            let (ask, hint) = p.in_language(lang);
            if !hint.is_empty() {
                eprintln!("{hint}");
            }
            let prompt = format!("({}/{n}) {ask}", i + 1);
            let answer = self.ask_text(&prompt, "", |s| no_control_characters("an answer", s))?;
            answers.extend(Some(answer).filter(|a| !a.is_empty()));
        }
        if answers.is_empty() {
            return Ok(None);
        }
        let text = answers.join("\n\n");
        eprintln!("Your paragraph, from your answers:\n\n{text}\n");
        let kept = format!("Use the paragraph from my answers ({})", first_words(&text));
        Ok(Some((kept, text)))
    }

    /// One paragraph: `kept` (one written before or drafted from the prompts: what it is, and
    /// its text), one written for other letters (`others`: what it is, and its text), typed
    /// here, written in the volunteer's editor when they have set one (`$VISUAL` or `$EDITOR`:
    /// an editor they did not choose is a trap; it starts from `kept`), or none.
    fn ask_note(
        &self,
        prompt: &str,
        kept: Option<(String, String)>,
        others: &[(String, String)],
    ) -> Ask<Option<String>> {
        loop {
            let text = self.ask_note_once(prompt, kept.clone(), others)?;
            match text.as_deref().map(control_character) {
                Some(Some(problem)) => eprintln!("{problem}"),
                _ => return Ok(text),
            }
        }
    }

    fn ask_note_once(
        &self,
        prompt: &str,
        kept: Option<(String, String)>,
        others: &[(String, String)],
    ) -> Ask<Option<String>> {
        let editor = own_editor();
        let prev = kept.as_ref().map(|(_, text)| text.as_str());
        let keep = kept
            .as_ref()
            .map(|(label, text)| (label.clone(), Some(text.as_str())));
        let reuse = others.iter().map(|(what, text)| {
            (
                format!("Use {what} ({})", first_words(text)),
                Some(text.as_str()),
            )
        });
        let mut items: Vec<(String, Option<&str>)> = keep.into_iter().chain(reuse).collect();
        let texts = items.len();
        items.push(("Type it here".into(), None));
        items.extend(
            editor
                .iter()
                .map(|e| (format!("Write it in my editor ({e})"), None)),
        );
        items.push(("No personal paragraph".into(), None));
        let labels: Vec<&String> = items.iter().map(|(label, _)| label).collect();
        // The paragraph kept from before, else typing one: another language's is never the
        // default.
        let default = if prev.is_some() { 0 } else { texts };
        let i = self.select(prompt, &labels, Some(default))?;
        match (i.checked_sub(texts), &editor) {
            (None, _) => Ok(items[i].1.map(str::to_string)),
            (Some(0), _) => type_note(),
            (Some(1), Some(editor)) => self.edit_note(prev, editor),
            _ => Ok(None),
        }
    }

    /// The paragraph written in the volunteer's editor; typed here if it will not start.
    fn edit_note(&self, prev: Option<&str>, editor: &str) -> Ask<Option<String>> {
        eprintln!("Opening {editor}: write your paragraph, save, and close the editor.");
        match write_in_editor(editor, prev.unwrap_or(""))? {
            Ok(Some(text)) => Ok(Some(text)),
            Ok(None) => {
                eprintln!("The editor saved nothing: no personal paragraph.");
                Ok(None)
            }
            Err(e) => {
                eprintln!(
                    "Could not start the editor `{editor}` ({e}); type the paragraph here instead."
                );
                type_note()
            }
        }
    }
}

/// The volunteer's own editor (`$VISUAL`, else `$EDITOR`), when they have set one: an editor
/// they did not choose is a trap.
pub(super) fn own_editor() -> Option<String> {
    let editor = std::env::var("VISUAL").or_else(|_| std::env::var("EDITOR"));
    editor.ok().filter(|e| !e.trim().is_empty())
}

/// The text written in `editor`, which starts from `start`, trimmed: none when it holds only
/// space; the reason when the editor would not start. Ctrl-C meanwhile cancels the run once the
/// editor has closed, so the editor keeps the terminal.
pub(super) fn write_in_editor(
    editor: &str,
    start: &str,
) -> Ask<std::result::Result<Option<String>, String>> {
    let (edited, interrupted) = deferring(|| {
        // Read the file whether or not it was saved: an editor that writes within the same
        // clock tick would otherwise look as if it saved nothing.
        Editor::new()
            .executable(editor)
            .extension(".md")
            .require_save(false)
            .edit(start)
    });
    if interrupted {
        return Err(Stop::Cancelled);
    }
    Ok(match edited {
        Ok(text) => Ok(text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())),
        Err(e) => Err(e.to_string()),
    })
}

/// The paragraph typed on the terminal, line by line, until an empty line or Ctrl-D. The
/// terminal's own line editing applies (backspace, Ctrl-U); Ctrl-C stops the run as anywhere.
pub(super) fn type_note() -> Ask<Option<String>> {
    eprintln!("Type your paragraph: enter starts a new line; an empty line (or Ctrl-D) finishes.");
    let text = read_paragraph(std::io::stdin().lock(), &mut std::io::stderr())
        .map_err(|e| Error::io("the terminal", e))?;
    Ok((!text.is_empty()).then_some(text))
}

/// Lines up to the first empty one or the end of `input`, each asked for with `> ` on `out`,
/// trimmed and joined with newlines.
fn read_paragraph(
    mut input: impl std::io::BufRead,
    out: &mut impl Write,
) -> std::io::Result<String> {
    let mut lines: Vec<String> = Vec::new();
    loop {
        write!(out, "> ")?;
        out.flush()?;
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            // Ctrl-D at the start of a line; the cursor is still after the prompt.
            writeln!(out)?;
            break;
        }
        let line = line.trim();
        if line.is_empty() {
            break;
        }
        lines.push(line.to_string());
    }
    Ok(lines.join("\n"))
}

/// Letters carry what is typed into headers and pages, where a control character has no place.
fn no_control_characters(what: &str, s: &str) -> Verdict {
    if s.chars().any(char::is_control) {
        return Err(format!("{what} cannot hold control characters"));
    }
    Ok(())
}

/// What to tell a volunteer whose paragraph holds a control character (an arrow key pressed
/// while typing leaves one), which letters cannot carry; none when it holds none.
pub(super) fn control_character(text: &str) -> Option<String> {
    let (line, column, c) = crate::campaign::control_char(text)?;
    Some(format!(
        "Your paragraph has the control character U+{:04X} on line {line}, column {column} (an arrow or function key leaves one); letters cannot carry it. Write the paragraph again.",
        c as u32
    ))
}

pub(super) fn first_words(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let more = if words.len() > 6 { " ..." } else { "" };
    words[..words.len().min(6)].join(" ") + more
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paragraph_with_a_control_character_is_written_again() {
        let problem = control_character("Fine.\nThen \u{1b}[A an arrow key.").unwrap();
        assert!(problem.contains("U+001B on line 2, column 6"), "{problem}");
        assert_eq!(control_character("Tabs\tand\nline breaks are fine."), None);
    }

    #[test]
    fn a_paragraph_ends_at_an_empty_line_or_the_end_of_input() {
        let mut out = Vec::new();
        let text = read_paragraph(&b"  First line.\nSecond.\n\nnot this\n"[..], &mut out);
        assert_eq!(text.unwrap(), "First line.\nSecond.");
        assert_eq!(out, b"> > > ");
        let text = read_paragraph(&b"Only one."[..], &mut Vec::new());
        assert_eq!(text.unwrap(), "Only one.");
    }
}
