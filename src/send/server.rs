//! The mail server a volunteer sends through, from one URL, and the rules that keep letters and
//! passwords off the wire unencrypted: STARTTLS is required (never silently dropped), implicit TLS
//! with `smtps://`, plaintext only to this machine or when asked for with `--insecure`, and a
//! password never over plaintext except to this machine.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism, DEFAULT_MECHANISMS};

use super::usage;
use crate::error::{Error, Result};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp://`: STARTTLS, and the run stops if the server does not offer it.
    StartTls,
    /// `smtp://` to this machine: STARTTLS when the server offers it, plaintext otherwise.
    LoopbackOpportunistic,
    /// `smtp://...?tls=none`: no TLS at all.
    Plain,
}

/// The credential to log in with, by where it comes from. Nothing secret is read until the
/// letters are about to go. A command comes with what names it in messages (the flag, or the
/// profile's key).
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    None,
    /// A password from `LETTERDRIVE_SMTP_PASSWORD`.
    Password(String),
    /// A command that prints the password.
    PasswordCommand(String, &'static str),
    /// Asked on the terminal, hidden, once the volunteer has said to send.
    Prompt,
    /// A command that prints an OAuth2 access token, for XOAUTH2.
    OAuth2Command(String, &'static str),
}

/// A login: the credentials, and the mechanisms to offer them with.
pub type Login = (Credentials, &'static [Mechanism]);

impl Secret {
    /// What the summary says about the credential, never the credential.
    pub fn describe(&self) -> &'static str {
        match self {
            Secret::None => "no login",
            Secret::Password(_) | Secret::PasswordCommand(..) => "password",
            Secret::Prompt => "password, asked before the first letter goes",
            Secret::OAuth2Command(..) => "OAuth2 token (XOAUTH2)",
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Commands are not secret, but what the environment holds is.
        match self {
            Secret::Password(_) => f.write_str("Password(..)"),
            other => f.write_str(other.describe()),
        }
    }
}

/// Debug prints no password: [`Secret`]'s Debug hides it.
#[derive(Debug, Clone)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub security: Security,
    pub secret: Secret,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

const TLS_HINT: &str = "use smtp:// (STARTTLS) or smtps:// (TLS)";
const URL_HINT: &str =
    "write it as smtps://you@mail.example.org:465 (TLS) or smtp://you@mail.example.org:587 (STARTTLS)";

/// What the user asked for, checked against the rules; nothing is connected or read yet.
pub struct Request<'a> {
    pub url: &'a str,
    pub insecure: bool,
    /// Where the credential comes from; `Secret::None` when nothing gives one.
    pub secret: Secret,
    /// Whether a terminal is there to ask for a password the URL's user needs.
    pub can_ask: bool,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

impl Server {
    pub fn parse(req: Request<'_>) -> Result<Server> {
        let url = req.url.trim();
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            let why = format!("`{url}` is not an SMTP server URL: it has no smtp:// or smtps://");
            usage(why, URL_HINT)
        })?;
        let (rest, option) = rest.split_once('?').unwrap_or((rest, ""));
        let (user, host_port) = user(url, rest.strip_suffix('/').unwrap_or(rest))?;
        let (host, port) = split_host_port(host_port)
            .ok_or_else(|| usage(format!("`{url}` has no valid host and port"), URL_HINT))?;
        let loopback = is_loopback(&host);
        let security = security(&scheme.to_ascii_lowercase(), option, loopback)?;
        if security == Security::Plain && !loopback && !req.insecure {
            return Err(usage(
                format!(
                    "`{host}` is not this machine: letters would cross the network unencrypted"
                ),
                format!(
                    "{TLS_HINT}; add --insecure only for a relay you trust on your own network"
                ),
            ));
        }
        let secret = secret(user.as_deref(), req.secret, req.can_ask)?;
        if secret != Secret::None && security == Security::Plain && !loopback {
            let kind = match secret {
                Secret::OAuth2Command(..) => "OAuth2 token",
                _ => "password",
            };
            return Err(usage(
                format!("refusing to send your {kind} to `{host}` without TLS"),
                format!("{TLS_HINT}; --insecure never applies to passwords or tokens"),
            ));
        }
        let port = port.unwrap_or(match security {
            Security::Implicit => 465,
            Security::StartTls => 587,
            Security::LoopbackOpportunistic | Security::Plain => 25,
        });
        Ok(Server {
            host,
            port,
            user,
            security,
            secret,
            ca_file: req.ca_file,
            timeout: req.timeout,
        })
    }

    /// The server runs on this machine (a test server or a local relay).
    pub fn is_local(&self) -> bool {
        is_loopback(&self.host)
    }

    /// For the summary: the server without any secret.
    pub fn describe(&self) -> String {
        let (scheme, how) = match self.security {
            Security::Implicit => ("smtps", "TLS"),
            Security::StartTls => ("smtp", "STARTTLS required"),
            Security::LoopbackOpportunistic => ("smtp", "this machine; STARTTLS if offered"),
            Security::Plain => ("smtp", "no TLS"),
        };
        let user = self.user.as_deref().map(|u| format!("{u}@"));
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let user = user.unwrap_or_default();
        format!("{scheme}://{user}{host}:{} ({how})", self.port)
    }

    /// The login, read now, and the mechanisms to offer it with: the command run, or the
    /// volunteer asked (through `ask`, the terminal's hidden prompt in the binary). The secret
    /// never leaves this function except inside lettre's credentials.
    pub fn credentials(&self, ask: &dyn Fn(&str) -> Result<String>) -> Result<Option<Login>> {
        let Some(user) = &self.user else {
            return Ok(None);
        };
        // PLAIN and LOGIN for a password (lettre's default), XOAUTH2 alone for a token.
        let (secret, mechanisms) = match &self.secret {
            Secret::None => return Ok(None),
            Secret::Password(p) => (p.clone(), DEFAULT_MECHANISMS),
            Secret::PasswordCommand(cmd, what) => (
                run_secret_command(cmd, what, "password")?,
                DEFAULT_MECHANISMS,
            ),
            Secret::Prompt => {
                let prompt = format!("Password for {user} at {}", self.host);
                (ask(&prompt)?, DEFAULT_MECHANISMS)
            }
            Secret::OAuth2Command(cmd, what) => {
                let token = run_secret_command(cmd, what, "OAuth2 access token")?;
                (token, &[Mechanism::Xoauth2][..])
            }
        };
        Ok(Some((Credentials::new(user.clone(), secret), mechanisms)))
    }
}

/// The URL's user, if it names one, and the rest after it. A password in the URL is refused.
fn user<'u>(url: &str, rest: &'u str) -> Result<(Option<String>, &'u str)> {
    let Some((userinfo, host_port)) = rest.rsplit_once('@') else {
        return Ok((None, rest));
    };
    if userinfo.contains(':') {
        return Err(usage(
            "the SMTP URL holds a password; it would end up in your shell history and process list",
            "remove it from the URL and set LETTERDRIVE_SMTP_PASSWORD or pass --password-command \"pass show mail\"",
        ));
    }
    match percent_encoding::percent_decode_str(userinfo).decode_utf8() {
        Ok(user) => Ok((Some(user.into_owned()).filter(|u| !u.is_empty()), host_port)),
        Err(_) => Err(usage(
            format!("the user name in `{url}` is not UTF-8"),
            URL_HINT,
        )),
    }
}

/// How the connection is protected, from the scheme, the URL's option (after `?`) and where
/// the host is.
fn security(scheme: &str, option: &str, loopback: bool) -> Result<Security> {
    if !matches!(option, "" | "tls=none" | "tls=required") {
        return Err(usage(
            format!("unknown SMTP URL option `{option}`"),
            "the options are ?tls=none (plaintext) and ?tls=required (STARTTLS even on this machine)",
        ));
    }
    match (scheme, option) {
        ("smtps", "tls=none") => Err(usage(
            "smtps:// always uses TLS; it cannot be combined with ?tls=none",
            URL_HINT,
        )),
        ("smtps", _) => Ok(Security::Implicit),
        ("smtp", "tls=none") => Ok(Security::Plain),
        ("smtp", "") if loopback => Ok(Security::LoopbackOpportunistic),
        ("smtp", _) => Ok(Security::StartTls),
        (other, _) => {
            let why = format!("unknown scheme `{other}://` in the SMTP URL");
            Err(usage(why, URL_HINT))
        }
    }
}

/// The credential for the URL's user: what was given, asked on a terminal, or refused.
fn secret(user: Option<&str>, given: Secret, can_ask: bool) -> Result<Secret> {
    let no_user = "put the user name in the URL: smtps://you@mail.example.org";
    match (user, given) {
        (Some(_), Secret::None) if can_ask => Ok(Secret::Prompt),
        (Some(u), Secret::None) => Err(usage(
            format!("the SMTP URL names user `{u}` but no password is given, and there is no terminal to ask on"),
            "set LETTERDRIVE_SMTP_PASSWORD, pass --password-command \"pass show mail\" or --oauth2-token-command CMD, or run on a terminal to be asked",
        )),
        (None, Secret::None) => Ok(Secret::None),
        (None, Secret::OAuth2Command(..)) => Err(usage(
            "an OAuth2 token is given but the SMTP URL names no user",
            no_user,
        )),
        (None, _) => Err(usage(
            "a password is given but the SMTP URL names no user",
            no_user,
        )),
        (Some(_), given) => Ok(given),
    }
}

/// Run a command that prints a secret on its first line (`pass show mail`, an OAuth2 helper).
/// Its standard error and input stay the terminal's, so it can ask for a passphrase.
fn run_secret_command(cmd: &str, what: &str, kind: &str) -> Result<String> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| Error::io(what, e))?;
    if !out.status.success() {
        return Err(usage(
            format!("{what} failed ({})", out.status),
            format!("run the command yourself to see why; it must print the {kind}"),
        ));
    }
    let Ok(mut secret) = String::from_utf8(out.stdout) else {
        let why = format!("{what} printed something that is not UTF-8");
        return Err(usage(why, format!("it must print only the {kind}")));
    };
    // `pass show` and friends end with a newline; only the first line is the secret.
    secret.truncate(secret.find(['\n', '\r']).unwrap_or(secret.len()));
    if secret.is_empty() {
        return Err(usage(
            format!("{what} printed an empty {kind}"),
            format!("it must print the {kind} on its first line"),
        ));
    }
    Ok(secret)
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; `None` if it is none of these.
fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = match s.strip_prefix('[') {
        Some(rest) => match rest.split_once(']')? {
            (host, "") => (host, None),
            (host, after) => (host, Some(after.strip_prefix(':')?)),
        },
        None => match s.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (s, None),
        },
    };
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0)?),
        None => None,
    };
    Some((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(url: &str) -> Request<'_> {
        Request {
            url,
            insecure: false,
            secret: Secret::None,
            can_ask: false,
            ca_file: None,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn url_forms() {
        let s = Server::parse(req("smtps://ada%40x.org@mail.example.org")).unwrap_err();
        assert!(s.to_string().contains("no password"), "{s}");
        let s = Server::parse(Request {
            secret: Secret::Password("pw".into()),
            ..req("smtps://ada%40x.org@mail.example.org")
        })
        .unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.user.as_deref()),
            ("mail.example.org", 465, Some("ada@x.org"))
        );
        assert_eq!(s.security, Security::Implicit);
        assert!(!format!("{s:?}").contains("pw"));
        let s = Server::parse(req("smtp://mail.example.org")).unwrap();
        assert_eq!((s.port, s.security), (587, Security::StartTls));
        let s = Server::parse(req("smtp://127.0.0.1:2525")).unwrap();
        assert_eq!(
            (s.port, s.security),
            (2525, Security::LoopbackOpportunistic)
        );
        let s = Server::parse(req("smtp://localhost:2525?tls=required")).unwrap();
        assert_eq!(s.security, Security::StartTls);
        let s = Server::parse(req("smtp://[::1]:2525?tls=none")).unwrap();
        assert_eq!((s.host.as_str(), s.security), ("::1", Security::Plain));
        assert!(Server::parse(req("smtp://mail.example.org?tls=none")).is_err());
        assert!(Server::parse(Request {
            insecure: true,
            ..req("smtp://mail.example.org?tls=none")
        })
        .is_ok());
        assert!(Server::parse(Request {
            insecure: true,
            secret: Secret::Password("pw".into()),
            ..req("smtp://u@mail.example.org?tls=none")
        })
        .is_err());
        assert!(Server::parse(req("smtp://u:pw@mail.example.org")).is_err());
        assert!(Server::parse(req("http://mail.example.org")).is_err());
        assert!(Server::parse(req("mail.example.org")).is_err());
        assert!(Server::parse(req("smtp://mail.example.org:0")).is_err());
        assert!(is_loopback("localhost") && is_loopback("127.8.9.1") && !is_loopback("10.0.0.1"));
    }

    #[test]
    fn secrets_are_asked_read_late_and_never_printed() {
        // A user and no password: asked on a terminal, refused without one.
        let asked = Server::parse(Request {
            can_ask: true,
            ..req("smtps://ada@mail.example.org")
        })
        .unwrap();
        assert_eq!(asked.secret, Secret::Prompt);
        let (creds, mechanism) = asked
            .credentials(&|prompt| {
                assert_eq!(prompt, "Password for ada at mail.example.org");
                Ok("typed".into())
            })
            .unwrap()
            .unwrap();
        assert_eq!(mechanism, DEFAULT_MECHANISMS);
        assert!(!format!("{creds:?} {asked:?}").contains("typed"));

        let token = Server::parse(Request {
            secret: Secret::OAuth2Command("printf 'tok\\nmore'".into(), "--oauth2-token-command"),
            ..req("smtp://ada@mail.example.org")
        })
        .unwrap();
        let (_, mechanism) = token.credentials(&|_| unreachable!()).unwrap().unwrap();
        assert_eq!(mechanism, [Mechanism::Xoauth2]);
        let plain = Server::parse(Request {
            insecure: true,
            secret: Secret::OAuth2Command("true".into(), "--oauth2-token-command"),
            ..req("smtp://ada@mail.example.org?tls=none")
        })
        .unwrap_err();
        assert!(plain.to_string().contains("your OAuth2 token"), "{plain}");
        assert!(!format!("{:?}", Secret::Password("pw-value".into())).contains("pw-value"));
    }
}
