//! The preview, how the letters are written or sent, and the offer to save the volunteer's details.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::*;
use crate::send::providers::PROVIDERS;

impl Wizard<'_> {
    /// Step 5: the first letter in `language` (any, when the letters are in one) exactly as it
    /// will go out.
    pub(super) fn preview(&self, answers: &Answers, language: Option<&str>) -> Ask<()> {
        let mut run = Run::open(self.campaign, &answers.target, &answers.inputs)?;
        let renderer = run.renderer.clone();
        let in_language = |row: &_, _| language.is_none_or(|l| renderer.language_tag(row) == l);
        if let (Some((letter, message)), _) = first_letter(&mut run, in_language)? {
            let languages = &answers.languages;
            let n: u64 = languages.iter().map(|l| l.1).sum();
            let n = match (
                languages.iter().find(|l| Some(l.0.as_str()) == language),
                languages.len(),
            ) {
                (Some(l), 2..) => format!("{} in {}", plural(l.1, "letter"), language::name(&l.0)),
                _ => plural(n, "letter"),
            };
            let mut own = own_words_of(self.campaign, run.group, &letter);
            let others = self.others(answers)?;
            let personal = &letter.personal;
            let warning = others.and_then(|o| o.warning(&letter.name, &letter.email, personal));
            own.extend(warning.map(|w| format!("\nwarning: {w}")));
            let (rule, letter) = ("─".repeat(60), show_letter(&letter, &message));
            println!(
                "\nThe first of {n}, exactly as it will go out:\n{rule}\n{letter}{rule}\n{own}\n"
            );
        }
        Ok(())
    }

    /// Step 6: the kind of output and where it goes, or the mail server to send through (then
    /// its settings are returned).
    pub(super) fn ask_output(&self, answers: &mut Answers) -> Ask<Option<SmtpConfig>> {
        use Format::{Eml, Html, Mbox, Pdf, Txt};
        // The menu in this order; the item after the formats is sending through a mail server.
        let formats = [Eml, Mbox, Txt, Html, Pdf];
        let items = [
            "E-mail files (.eml), one per letter: open each in your mail program and send it",
            "One mbox file with every letter, to import into a mail program",
            "Text files, one per letter, to print or paste",
            "One web page with a button per letter that opens it in your mail program",
            "PDF letters, one per letter (A4), to print, sign and post",
            "Send them now through my mail account (SMTP)",
        ];
        let default = match answers.smtp {
            Some(_) => Some(formats.len()),
            None => formats.iter().position(|f| *f == answers.format),
        };
        let i = self.select("How do you want your letters?", &items, default)?;
        let Some(&format) = formats.get(i) else {
            let login = answers.inputs.signer.email.clone();
            let (config, daily) = self.ask_server(answers.smtp.as_deref(), &login)?;
            answers.smtp = config.url.as_ref().map(|u| u.value.clone());
            answers.max = daily;
            return Ok(Some(config));
        };
        answers.smtp = None;
        answers.format = format;
        loop {
            let default = answers.out.display().to_string();
            let out = self.ask_text("Folder to write them to", &default, |s| match s.trim() {
                "" => Err("a folder name is needed".into()),
                s if Path::new(s).exists() && !Path::new(s).is_dir() => {
                    Err(format!("`{s}` exists and is not a folder"))
                }
                _ => Ok(()),
            })?;
            // Asked again with what was typed as the default, when files there are not to go.
            answers.out = PathBuf::from(out);
            if !std::fs::read_dir(&answers.out).is_ok_and(|mut d| d.next().is_some()) {
                return Ok(None);
            }
            let out = answers.out.display();
            let prompt = format!("`{out}` already holds files; files with the same names will be replaced. Write there?");
            if chosen(yes_no(&prompt, false))? {
                return Ok(None);
            }
        }
    }

    /// The mail server, checked as `send` checks it; the login comes from where `send` finds it
    /// (the environment, the profile) or is asked for, hidden, just before sending. Asked as a
    /// provider from a menu; "other" asks for the server's name and port, and only the last item
    /// takes a URL.
    fn ask_server(&self, prev: Option<&str>, login: &str) -> Ask<(SmtpConfig, Option<u64>)> {
        let smtp = self.saved.clone().unwrap_or_default().smtp;
        let path = self.profile_path.as_deref();
        let profile = path.map(|path| ProfileSmtp { path, smtp: &smtp });
        let env = |key: &str| std::env::var(key).ok();
        let mut config = send::config::resolve(&send::Flags::default(), &env, profile)?;
        let configured = config.url.as_ref().map(|u| u.value.as_str());
        let known = prev.or(configured).map(str::to_string);
        let mut items: Vec<String> = known
            .iter()
            .map(|u| format!("The server I used before: {u}"))
            .collect();
        items.extend(PROVIDERS.iter().map(|p| p.name.to_string()));
        items.push("Other: I know my mail server's name".into());
        items.push("Other: I have an SMTP URL (smtps://you@mail.example.org)".into());
        let chosen = self.select("Which mail provider?", &items, Some(0))?;
        let (url, daily): (String, Option<u64>) = match (
            chosen.checked_sub(items.len() - PROVIDERS.len() - 2),
            &known,
        ) {
            (None, Some(url)) => (url.clone(), None),
            (Some(i), _) if i < PROVIDERS.len() => {
                let p = &PROVIDERS[i];
                eprintln!("{} takes {}.", p.name, p.password);
                (p.url(login), p.daily_limit)
            }
            (Some(i), _) if i == PROVIDERS.len() => (self.ask_host_and_port(login)?, None),
            _ => (self.ask_url(&config)?, None),
        };
        if let Err(e) = self.check_server(&url, &config) {
            eprintln!("{e}");
            return self.ask_server(prev, login);
        }
        let origin = match &config.url {
            Some(u) if u.value == url => u.origin.clone(),
            _ => Origin::Answer,
        };
        config.url = Some(Sourced { value: url, origin });
        Ok((config, daily))
    }

    /// `url` as `send` will take it, or why not.
    fn check_server(&self, url: &str, config: &SmtpConfig) -> Result<(), String> {
        let request = Request {
            url: url.trim(),
            insecure: false,
            secret: config.secret.value.clone(),
            can_ask: true,
            ca_file: None,
            timeout: std::time::Duration::from_secs(send::DEFAULT_TIMEOUT_SECS),
        };
        Server::parse(request)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// "Other": the server's name, its port and the login, never a URL.
    fn ask_host_and_port(&self, login: &str) -> Ask<String> {
        let host = self.ask_text("Mail server name (for example mail.example.org)", "", |s| {
            let ok = !s.trim().is_empty() && !s.contains(['/', ':', '@', ' ', '?']);
            ok.then_some(())
                .ok_or_else(|| "just the name, such as mail.example.org".into())
        })?;
        eprintln!("Port 465 is TLS from the start; 587 (the usual) and 25 start with STARTTLS.");
        let port = self.ask_text("Port", "587", |s| match s.trim().parse::<u16>() {
            Ok(p) if p > 0 => Ok(()),
            _ => Err("a port number, such as 587 or 465".into()),
        })?;
        // A relay on this machine usually takes no login; a server elsewhere, your address.
        let local = matches!(host.as_str(), "127.0.0.1" | "::1" | "localhost");
        let offer = if local { "" } else { login };
        let prompt = "Login (leave empty if the server takes none)";
        let user = self.ask_text(prompt, offer, |_| Ok(()))?;
        let scheme = if port == "465" { "smtps" } else { "smtp" };
        let user = utf8_percent_encode(user.trim(), NON_ALPHANUMERIC).to_string();
        let at = if user.is_empty() {
            String::new()
        } else {
            format!("{user}@")
        };
        Ok(format!("{scheme}://{at}{host}:{port}"))
    }

    /// The SMTP URL, typed, for a volunteer who has one.
    fn ask_url(&self, config: &SmtpConfig) -> Ask<String> {
        eprintln!("Your mail server as a URL: smtps://you@mail.example.org (TLS) or smtp://you@mail.example.org:587 (STARTTLS). Your password is asked for just before sending and never saved.");
        self.ask_text("Mail server (SMTP URL)", "", |s| {
            self.check_server(s, config)
        })
    }

    /// At the end, offer to keep what was typed for next time; only a complete profile is saved.
    pub(super) fn offer_to_save(&self, answers: &Answers) -> Ask<()> {
        let Some(path) = &self.profile_path else {
            return Ok(());
        };
        // Only what was asked changes: other server settings saved in the profile stay.
        let saved = self.saved.clone().unwrap_or_default();
        let mut profile = saved.with_signer(&answers.inputs.signer);
        if let Some(url) = &answers.smtp {
            profile.smtp.url = Some(url.clone());
        }
        if self.saved.as_ref() == Some(&profile) {
            return Ok(());
        }
        let what = match answers.smtp {
            Some(_) => "your name, address and mail server (never your password)",
            None => "your name and address",
        };
        let prompt = format!("Save {what} in {} for next time?", path.display());
        let save = yes_no(&prompt, true)?;
        // Esc, like no, leaves the profile as it was.
        if save != Some(true) {
            eprintln!("Not saved.");
            return Ok(());
        }
        let (saved, interrupted) = deferring(|| profile::save(path, &profile));
        saved?;
        eprintln!("Saved; the next guided run offers them as defaults.");
        if interrupted {
            return Err(Stop::Cancelled);
        }
        Ok(())
    }
}
