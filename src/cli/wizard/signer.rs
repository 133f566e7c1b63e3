//! Who signs, and the volunteer's own paragraph.

use super::*;

impl Wizard<'_> {
    /// Step 3: who signs. Defaults come from the answers being changed, else the saved profile.
    pub(super) fn ask_signer(&self, prev: Option<&WizardAnswers>) -> Ask<Signer> {
        let base = prev
            .map(|p| p.signer.clone())
            .or_else(|| self.saved.as_ref().map(Profile::to_signer))
            .unwrap_or_default();
        if prev.is_none() && self.saved.is_some() {
            if let Some(path) = &self.profile_path {
                eprintln!("Your saved details (from {}) are offered in brackets; press enter to keep them.", path.display());
            }
        }
        let mut name = Input::<String>::with_theme(&self.theme)
            .with_prompt("Your name (it signs the letters)")
            .allow_empty(true)
            .validate_with(|s: &String| -> std::result::Result<(), String> {
                if s.trim().is_empty() {
                    Err("a name is needed: it signs every letter".into())
                } else if s.chars().any(char::is_control) {
                    Err("a name cannot hold control characters".into())
                } else {
                    Ok(())
                }
            });
        if !base.name.is_empty() {
            name = name.default(base.name.clone());
        }
        let name = name.interact_text()?.trim().to_string();

        let mut email = Input::<String>::with_theme(&self.theme)
            .with_prompt("Your e-mail address (the letters come from it)")
            .allow_empty(true)
            .validate_with(|s: &String| -> std::result::Result<(), String> {
                let s = s.trim();
                if s.is_empty() {
                    return Err("an address is needed: replies come to it".into());
                }
                s.parse::<lettre::Address>().map(|_| ()).map_err(|e| {
                    format!("`{s}` is not an e-mail address ({e}); write it as name@domain")
                })
            });
        if !base.email.is_empty() {
            email = email.default(base.email.clone());
        }
        let email = email.interact_text()?.trim().to_string();

        let city = self.ask_optional("Your city", &base.city)?;
        let country = self.ask_optional("Your country", &base.country)?;
        let organisation = self.ask_optional("Your organisation", &base.organisation)?;
        Ok(Signer {
            name,
            email,
            city,
            country,
            organisation,
        })
    }

    pub(super) fn ask_optional(&self, what: &str, default: &str) -> Ask<String> {
        let prompt = if default.is_empty() {
            format!("{what} (optional, enter to skip)")
        } else {
            format!("{what} (optional, - for none)")
        };
        let mut input = Input::<String>::with_theme(&self.theme)
            .with_prompt(prompt)
            .allow_empty(true)
            .validate_with(|s: &String| -> std::result::Result<(), String> {
                if s.chars().any(char::is_control) {
                    Err("this cannot hold control characters".into())
                } else {
                    Ok(())
                }
            });
        if !default.is_empty() {
            input = input.default(default.to_string());
        }
        let value = input.interact_text()?.trim().to_string();
        Ok(if value == "-" { String::new() } else { value })
    }

    /// Step 4: a paragraph of the volunteer's own, in their editor, typed here, or none.
    pub(super) fn ask_note(&self, prev: Option<&str>) -> Ask<Option<String>> {
        let editor = std::env::var("VISUAL")
            .or_else(|_| std::env::var("EDITOR"))
            .unwrap_or_else(|_| "vi".into());
        let mut items = Vec::new();
        if let Some(note) = prev {
            items.push(format!(
                "Keep the paragraph I wrote ({})",
                first_words(note)
            ));
        }
        items.push(format!("Write it in my editor ({editor})"));
        items.push("Type one line here".into());
        items.push("No personal paragraph".into());
        let offset = usize::from(prev.is_some());
        eprintln!(
            "A paragraph in your own words is what makes a letter count: why this matters to you."
        );
        let i = chosen(
            Select::with_theme(&self.theme)
                .with_prompt("Add a personal paragraph?")
                .items(&items)
                .default(0)
                .interact_opt(),
        )?;
        if prev.is_some() && i == 0 {
            return Ok(prev.map(str::to_string));
        }
        match i - offset {
            0 => {
                eprintln!("Opening {editor}: write your paragraph, save, and close the editor.");
                let (edited, interrupted) = deferring(|| {
                    // Read the file whether or not it was saved: an editor that writes within
                    // the same clock tick would otherwise look as if it saved nothing.
                    Editor::new()
                        .extension(".md")
                        .require_save(false)
                        .edit(prev.unwrap_or(""))
                });
                if interrupted {
                    return Err(Stop::Cancelled);
                }
                match edited {
                    Ok(Some(text)) if !text.trim().is_empty() => Ok(Some(text.trim().to_string())),
                    Ok(_) => {
                        eprintln!("The editor saved nothing: no personal paragraph.");
                        Ok(None)
                    }
                    Err(e) => {
                        eprintln!("Could not start the editor `{editor}` ({e}); type the paragraph here instead.");
                        self.ask_line(prev)
                    }
                }
            }
            1 => self.ask_line(prev),
            _ => Ok(None),
        }
    }

    pub(super) fn ask_line(&self, prev: Option<&str>) -> Ask<Option<String>> {
        let mut input = Input::<String>::with_theme(&self.theme)
            .with_prompt("Your paragraph (enter when done; empty for none)")
            .allow_empty(true);
        if let Some(p) = prev {
            input = input.with_initial_text(p);
        }
        let text = input.interact_text()?.trim().to_string();
        Ok((!text.is_empty()).then_some(text))
    }
}

fn first_words(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().take(6).collect();
    let mut s = words.join(" ");
    if text.split_whitespace().count() > 6 {
        s.push_str(" ...");
    }
    s
}
