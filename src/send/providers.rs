//! Mail providers a volunteer may send through, as plain data: where their SMTP server is, what
//! password it takes, and how many letters a day it allows. `--provider NAME` turns one into the
//! server URL with the volunteer's address as the login; `letterdrive providers` lists them.
//! Figures are what each provider publishes for a personal account; they change, and a lower
//! `--max` only means another run tomorrow.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::usage;
use crate::error::Result;

pub struct Provider {
    /// What `--provider` takes.
    pub id: &'static str,
    pub name: &'static str,
    pub host: &'static str,
    pub port: u16,
    /// TLS from the first byte (`smtps://`); otherwise STARTTLS (`smtp://`), required.
    pub implicit_tls: bool,
    /// What to log in with, and where to get it.
    pub password: &'static str,
    /// Letters a day the provider allows, the default `--max`; none where it publishes none.
    pub daily_limit: Option<u64>,
}

const fn provider(
    id: &'static str,
    name: &'static str,
    (host, port, implicit_tls): (&'static str, u16, bool),
    password: &'static str,
    daily_limit: Option<u64>,
) -> Provider {
    Provider {
        id,
        name,
        host,
        port,
        implicit_tls,
        password,
        daily_limit,
    }
}

// Checked 2026-12-03 against each provider's own pages where they could be read, as marked below
// (re-check these before trusting a figure; providers change them without notice):
// - Gmail: port 465 TLS, developers.google.com/gmail/imap/imap-smtp; app passwords need 2-Step
//   Verification, support.google.com/accounts/answer/185833; 500 a day for a personal account,
//   support.google.com/mail/answer/22839 (read as quoted elsewhere, not directly).
// - Outlook.com: smtp-mail.outlook.com 587 STARTTLS, OAuth2 only,
//   support.microsoft.com/office/pop-imap-and-smtp-settings-8361e398-8af4-4e97-b147-6c6c4ac95353;
//   a daily figure (5,000) only for Microsoft 365 subscribers, "lower for non-subscribers",
//   support.microsoft.com/office/sending-limits-in-outlook-com-279ee200-594c-40f0-9ec8-bb6af7735c2e.
// - Microsoft 365: 10,000 recipients a day per mailbox, learn.microsoft.com/office365/
//   servicedescriptions/exchange-online-service-description/exchange-online-limits; basic auth
//   for SMTP AUTH is off by default from the end of December 2026 (message center MC786329).
// - Yahoo: app password under "External connections", help.yahoo.com/kb/SLN15241.html; no daily
//   figure for personal accounts (500 is Yahoo Small Business, help.yahoo.com SLN17518).
// - iCloud: app-specific passwords need two-factor authentication, support.apple.com/102654;
//   1,000 messages and 1,000 recipients a day, support.apple.com/102198.
// - Fastmail: smtp.fastmail.com 465, app password,
//   fastmail.com/help/technical/servernamesandports.html; no SMTP on the Basic plan,
//   fastmail.com/help/clients/apppassword.html.
// - Proton Mail Bridge: paid plans; the Bridge password from its mailbox details,
//   proton.me/support/protonmail-bridge-faq. 1025 is Bridge's usual port; it shows the one it uses.
// - GMX: app-specific password with two-factor sign-in, and POP3/IMAP access switched on,
//   hilfe.gmx.net/sicherheit/2fa/index.html. GMX's own page for server and port was not found in
//   the index.
// - Zoho: smtp.zoho.com 465, zoho.com/mail/help/zoho-smtp.html; limits are per hour and depend on
//   reputation, no daily figure, zoho.com/mail/help/adminconsole/rates-and-limits.html.
// - mailbox.org: smtp.mailbox.org 465, kb.mailbox.org/en/private/e-mail/e-mail-configuration; no
//   daily figure, kb.mailbox.org/en/private/e-mail/sending-limits-for-emails.
// - Posteo: posteo.de 465, the value many mail programs use; Posteo's own page was not in the
//   index.
pub const PROVIDERS: &[Provider] = &[
    provider(
        "gmail",
        "Gmail",
        ("smtp.gmail.com", 465, true),
        "an app password: turn on 2-Step Verification, then make one at myaccount.google.com/apppasswords",
        Some(500),
    ),
    provider(
        "outlook",
        "Outlook.com, Hotmail",
        ("smtp-mail.outlook.com", 587, false),
        "an OAuth2 token (--oauth2-token-command): Outlook.com no longer accepts your password from other programs",
        None,
    ),
    provider(
        "microsoft365",
        "Microsoft 365 (work or school)",
        ("smtp.office365.com", 587, false),
        "an OAuth2 token (--oauth2-token-command); your administrator must allow SMTP sending for your mailbox",
        Some(10_000),
    ),
    provider(
        "yahoo",
        "Yahoo Mail",
        ("smtp.mail.yahoo.com", 465, true),
        "an app password: Yahoo's Account Security page > External connections > Create app password",
        None,
    ),
    provider(
        "icloud",
        "iCloud Mail",
        ("smtp.mail.me.com", 587, false),
        "an app-specific password (needs two-factor authentication): account.apple.com > Sign-In and Security > App-Specific Passwords",
        Some(1000),
    ),
    provider(
        "fastmail",
        "Fastmail",
        ("smtp.fastmail.com", 465, true),
        "an app password: Settings > Privacy & Security (not on the Basic plan, which has no SMTP)",
        None,
    ),
    provider(
        "proton-bridge",
        "Proton Mail Bridge (runs on this computer)",
        ("127.0.0.1", 1025, false),
        "the password Proton Mail Bridge shows for your account (not your Proton password; Bridge needs a paid plan); export its certificate and pass it with --ca-file",
        None,
    ),
    provider(
        "gmx",
        "GMX",
        ("mail.gmx.net", 587, false),
        "your GMX password (an app-specific one if two-factor sign-in is on), once POP3/IMAP access is allowed in GMX's settings",
        None,
    ),
    provider(
        "zoho",
        "Zoho Mail",
        ("smtp.zoho.com", 465, true),
        "your Zoho password, or an app-specific password if two-factor sign-in is on (accounts in the EU: --smtp smtps://you@smtp.zoho.eu)",
        None,
    ),
    provider(
        "mailbox-org",
        "mailbox.org",
        ("smtp.mailbox.org", 465, true),
        "your mailbox.org password, or an application password if two-factor sign-in is on (Settings > Security)",
        None,
    ),
    provider(
        "posteo",
        "Posteo",
        ("posteo.de", 465, true),
        "your Posteo password",
        None,
    ),
];

/// The user part of a URL: `@` and the like percent-encoded, as the server URL is read back.
const USER: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl Provider {
    /// The server URL, logging in as `login` (the volunteer's address).
    pub fn url(&self, login: &str) -> String {
        let scheme = if self.implicit_tls { "smtps" } else { "smtp" };
        let user = utf8_percent_encode(login.trim(), USER);
        format!("{scheme}://{user}@{}:{}", self.host, self.port)
    }

    pub fn security(&self) -> &'static str {
        if self.implicit_tls {
            "TLS"
        } else {
            "STARTTLS"
        }
    }
}

/// The provider `name` names: its id, in any letter case, with or without dots and dashes.
pub fn find(name: &str) -> Result<&'static Provider> {
    let plain = |s: &str| -> String {
        let s = s.chars().filter(char::is_ascii_alphanumeric);
        s.collect::<String>().to_ascii_lowercase()
    };
    let wanted = plain(name);
    PROVIDERS.iter().find(|p| plain(p.id) == wanted).ok_or_else(|| {
        let ids: Vec<&str> = PROVIDERS.iter().map(|p| p.id).collect();
        usage(
            format!("unknown mail provider `{name}`"),
            format!(
                "the providers are {}; for another, pass --smtp smtps://you@host (`letterdrive providers` lists them)",
                ids.join(", ")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_becomes_a_url_with_the_address_as_login() {
        let gmail = find("Gmail").unwrap();
        assert_eq!(
            gmail.url("ada@gmail.com"),
            "smtps://ada%40gmail.com@smtp.gmail.com:465"
        );
        assert_eq!(find("mailbox.org").unwrap().id, "mailbox-org");
        assert!(find("aol").is_err());
        assert!(PROVIDERS.len() >= 10);
    }
}
