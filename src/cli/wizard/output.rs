//! The preview, how the letters are written or sent, and the offer to save the volunteer's details.

use super::*;

impl Wizard<'_> {
    /// Step 5: the first letter exactly as it will go out.
    pub(super) fn preview(&self, answers: &WizardAnswers) -> Ask<()> {
        let inputs = answers.inputs(&self.date);
        let mut run = Run::open(self.campaign, &answers.target(), &inputs)?;
        let n = self.count_matching(run.group, &answers.filters)?;
        while let Some(next) = run.rows.next_row() {
            let row = next.map_err(Error::Invalid)?;
            if !recipients::matches_all(&run.filters, &row) {
                continue;
            }
            let (letter, message) = run.letter(&row, true).map_err(Error::Many)?;
            let message = message.expect("the preview asks for the message");
            let rule = "─".repeat(60);
            println!(
                "\nThe first of {}, exactly as it will go out:\n{rule}\n{}{rule}\n",
                plural(n, "letter"),
                show_letter(&letter, &message)
            );
            return Ok(());
        }
        Ok(())
    }

    /// Step 6: the kind of output and where it goes, or the mail server to send through (then
    /// its settings are returned).
    pub(super) fn ask_output(&self, answers: &mut WizardAnswers) -> Ask<Option<SmtpConfig>> {
        let formats = [
            Format::Eml,
            Format::Mbox,
            Format::Txt,
            Format::Html,
            Format::Pdf,
        ];
        let i = chosen(
            Select::with_theme(&self.theme)
                .with_prompt("How do you want your letters?")
                .items([
                    "E-mail files (.eml), one per letter: open each in your mail program and send it",
                    "One mbox file with every letter, to import into a mail program",
                    "Text files, one per letter, to print or paste",
                    "One web page with a button per letter that opens it in your mail program",
                    "PDF letters, one per letter (A4), to print, sign and post",
                    "Send them now through my mail account (SMTP)",
                ])
                .default(if answers.smtp.is_some() {
                    formats.len()
                } else {
                    formats.iter().position(|f| *f == answers.format).unwrap_or(0)
                })
                .interact_opt(),
        )?;
        if i == formats.len() {
            let config = self.ask_server(answers.smtp.as_deref())?;
            answers.smtp = config.url.as_ref().map(|u| u.value.clone());
            return Ok(Some(config));
        }
        answers.smtp = None;
        answers.format = formats[i];
        loop {
            let out: String = Input::with_theme(&self.theme)
                .with_prompt("Folder to write them to")
                .default(answers.out.display().to_string())
                .validate_with(|s: &String| -> std::result::Result<(), String> {
                    let p = Path::new(s.trim());
                    if s.trim().is_empty() {
                        Err("a folder name is needed".into())
                    } else if p.exists() && !p.is_dir() {
                        Err(format!("`{}` exists and is not a folder", s.trim()))
                    } else {
                        Ok(())
                    }
                })
                .interact_text()?;
            let out = PathBuf::from(out.trim());
            let has_files = std::fs::read_dir(&out).is_ok_and(|mut d| d.next().is_some());
            if has_files {
                let go = chosen(
                    Confirm::with_theme(&self.theme)
                        .with_prompt(format!(
                            "`{}` already holds files; files with the same names will be replaced. Write there?",
                            out.display()
                        ))
                        .default(false)
                        .interact_opt(),
                )?;
                if !go {
                    answers.out = out;
                    continue;
                }
            }
            answers.out = out;
            return Ok(None);
        }
    }

    /// The mail server, checked as `send` checks it; the login comes from where `send` finds it
    /// (the environment, the profile) or is asked for, hidden, just before sending.
    pub(super) fn ask_server(&self, prev: Option<&str>) -> Ask<SmtpConfig> {
        let smtp = self
            .saved
            .as_ref()
            .map(|p| p.smtp.clone())
            .unwrap_or_default();
        let profile = self
            .profile_path
            .as_deref()
            .map(|path| ProfileSmtp { path, smtp: &smtp });
        let mut config = send::config::resolve(
            &send::Flags::default(),
            &|key| std::env::var(key).ok(),
            profile,
        )?;
        let default = prev
            .map(str::to_string)
            .or_else(|| config.url.as_ref().map(|u| u.value.clone()));
        eprintln!("Your mail server as a URL: smtps://you@mail.example.org (TLS) or smtp://you@mail.example.org:587 (STARTTLS). Your password is asked for just before sending and never saved.");
        let secret = config.secret.value.clone();
        let mut input = Input::<String>::with_theme(&self.theme)
            .with_prompt("Mail server (SMTP URL)")
            .validate_with(move |s: &String| -> std::result::Result<(), String> {
                Server::parse(Request {
                    url: s.trim(),
                    insecure: false,
                    secret: secret.clone(),
                    can_ask: true,
                    ca_file: None,
                    timeout: std::time::Duration::from_secs(crate::send::DEFAULT_TIMEOUT_SECS),
                })
                .map(|_| ())
                .map_err(|e| e.to_string())
            });
        if let Some(d) = &default {
            input = input.default(d.clone());
        }
        let url = input.interact_text()?.trim().to_string();
        let origin = match &config.url {
            Some(u) if u.value == url => u.origin.clone(),
            _ => Origin::Answer,
        };
        config.url = Some(Sourced { value: url, origin });
        Ok(config)
    }

    /// At the end, offer to keep what was typed for next time; only a complete profile is saved.
    pub(super) fn offer_to_save(&self, signer: &Signer, smtp_url: Option<&str>) -> Ask<()> {
        let Some(path) = &self.profile_path else {
            return Ok(());
        };
        // Only what was asked changes: other server settings saved in the profile stay.
        let mut profile = match &self.saved {
            Some(saved) => saved.with_signer(signer),
            None => Profile::from_signer(signer),
        };
        if let Some(url) = smtp_url {
            profile.smtp.url = Some(url.to_string());
        }
        if self.saved.as_ref() == Some(&profile) {
            return Ok(());
        }
        let what = if smtp_url.is_some() {
            "your name, address and mail server (never your password)"
        } else {
            "your name and address"
        };
        let save = Confirm::with_theme(&self.theme)
            .with_prompt(format!("Save {what} in {} for next time?", path.display()))
            .default(true)
            .interact_opt()?;
        if save == Some(true) {
            let (saved, interrupted) = deferring(|| profile::save(path, &profile));
            saved?;
            eprintln!("Saved; the next guided run offers them as defaults.");
            if interrupted {
                return Err(Stop::Cancelled);
            }
        } else {
            eprintln!("Not saved.");
        }
        Ok(())
    }
}
