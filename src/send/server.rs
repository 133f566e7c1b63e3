//! The mail server a volunteer sends through, from one URL, and the rules that keep letters and
//! passwords off the wire unencrypted: STARTTLS is required (never silently dropped), implicit TLS
//! with `smtps://`, plaintext only to this machine or when asked for with `--insecure`, and a
//! password never over plaintext except to this machine.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};

use crate::error::{Diag, Error, Result};

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
/// letters are about to go.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    None,
    /// A password from `LETTERDRIVE_SMTP_PASSWORD`.
    Password(String),
    /// A command that prints the password; `what` names it in messages (the flag, or the
    /// profile's key).
    PasswordCommand {
        cmd: String,
        what: String,
    },
    /// Asked on the terminal, hidden, once the volunteer has said to send.
    Prompt,
    /// A command that prints an OAuth2 access token, for XOAUTH2.
    OAuth2Command {
        cmd: String,
        what: String,
    },
}

impl Secret {
    /// What the summary says about the credential, never the credential.
    pub fn describe(&self) -> &'static str {
        match self {
            Secret::None => "no login",
            Secret::Password(_) | Secret::PasswordCommand { .. } => "password",
            Secret::Prompt => "password, asked before the first letter goes",
            Secret::OAuth2Command { .. } => "OAuth2 token (XOAUTH2)",
        }
    }

    fn with_article(&self) -> &'static str {
        match self {
            Secret::OAuth2Command { .. } => "an OAuth2 token",
            _ => "a password",
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Secret::OAuth2Command { .. } => "OAuth2 token",
            _ => "password",
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

#[derive(Clone)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub security: Security,
    pub secret: Secret,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the password, not even in a debug print.
        f.debug_struct("Server")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("security", &self.security)
            .finish_non_exhaustive()
    }
}

pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn usage(msg: impl Into<String>, hint: &str) -> Error {
    Error::Usage(Diag::new(msg).hint(hint))
}

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

/// An SMTP URL taken apart; nothing checked against the rules yet.
struct Url {
    scheme: String,
    user: Option<String>,
    host: String,
    port: Option<u16>,
    /// `?tls=none`
    plain_asked: bool,
    /// `?tls=required`
    tls_required: bool,
}

impl Url {
    fn split(url: &str) -> Result<Url> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            usage(
                format!("`{url}` is not an SMTP server URL: it has no smtp:// or smtps://"),
                URL_HINT,
            )
        })?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        if userinfo.is_some_and(|u| u.contains(':')) {
            return Err(usage(
                "the SMTP URL holds a password; it would end up in your shell history and process list",
                "remove it from the URL and set LETTERDRIVE_SMTP_PASSWORD or pass --password-command \"pass show mail\"",
            ));
        }
        let user = userinfo
            .map(|u| {
                percent_encoding::percent_decode_str(u)
                    .decode_utf8()
                    .map(|s| s.into_owned())
                    .map_err(|_| usage(format!("the user name in `{url}` is not UTF-8"), URL_HINT))
            })
            .transpose()?
            .filter(|u| !u.is_empty());
        let (host, port) = split_host_port(hostport)
            .ok_or_else(|| usage(format!("`{url}` has no valid host and port"), URL_HINT))?;
        let (plain_asked, tls_required) = match query {
            None | Some("") => (false, false),
            Some("tls=none") => (true, false),
            Some("tls=required") => (false, true),
            Some(q) => {
                return Err(usage(
                    format!("unknown SMTP URL option `{q}`"),
                    "the options are ?tls=none (plaintext) and ?tls=required (STARTTLS even on this machine)",
                ))
            }
        };
        Ok(Url {
            scheme: scheme.to_ascii_lowercase(),
            user,
            host,
            port,
            plain_asked,
            tls_required,
        })
    }

    /// How the connection is protected, from the scheme, the options and where the host is.
    fn security(&self, loopback: bool, insecure: bool) -> Result<Security> {
        let security = match self.scheme.as_str() {
            "smtps" if self.plain_asked => {
                return Err(usage(
                    "smtps:// always uses TLS; it cannot be combined with ?tls=none",
                    URL_HINT,
                ))
            }
            "smtps" => Security::Implicit,
            "smtp" if self.plain_asked => Security::Plain,
            "smtp" if loopback && !self.tls_required => Security::LoopbackOpportunistic,
            "smtp" => Security::StartTls,
            other => {
                return Err(usage(
                    format!("unknown scheme `{other}://` in the SMTP URL"),
                    URL_HINT,
                ))
            }
        };
        if security == Security::Plain && !loopback && !insecure {
            return Err(usage(
                format!(
                    "`{}` is not this machine: letters would cross the network unencrypted",
                    self.host
                ),
                "use smtp:// (STARTTLS) or smtps:// (TLS); add --insecure only for a relay you trust on your own network",
            ));
        }
        Ok(security)
    }

    /// The credential for the URL's user: what was given, asked on a terminal, or refused.
    fn secret(&self, given: Secret, can_ask: bool) -> Result<Secret> {
        Ok(match (&self.user, given) {
            (Some(_), Secret::None) if can_ask => Secret::Prompt,
            (Some(u), Secret::None) => {
                return Err(usage(
                    format!("the SMTP URL names user `{u}` but no password is given, and there is no terminal to ask on"),
                    "set LETTERDRIVE_SMTP_PASSWORD, pass --password-command \"pass show mail\" or --oauth2-token-command CMD, or run on a terminal to be asked",
                ))
            }
            (None, Secret::None) => Secret::None,
            (None, s) => {
                return Err(usage(
                    format!("{} is given but the SMTP URL names no user", s.with_article()),
                    "put the user name in the URL: smtps://you@mail.example.org",
                ))
            }
            (Some(_), s) => s,
        })
    }
}

impl Server {
    pub fn parse(req: Request<'_>) -> Result<Server> {
        let url = Url::split(req.url.trim())?;
        let loopback = is_loopback(&url.host);
        let security = url.security(loopback, req.insecure)?;
        let port = url.port.unwrap_or(match security {
            Security::Implicit => 465,
            Security::StartTls => 587,
            Security::LoopbackOpportunistic | Security::Plain => 25,
        });
        let secret = url.secret(req.secret, req.can_ask)?;
        if secret != Secret::None && security == Security::Plain && !loopback {
            return Err(usage(
                format!(
                    "refusing to send your {} to `{}` without TLS",
                    secret.kind(),
                    url.host
                ),
                "use smtp:// (STARTTLS) or smtps:// (TLS); --insecure never applies to passwords or tokens",
            ));
        }
        Ok(Server {
            host: url.host,
            port,
            user: url.user,
            security,
            secret,
            ca_file: req.ca_file,
            timeout: req.timeout,
        })
    }

    /// For the summary: the server without any secret.
    pub fn describe(&self) -> String {
        let scheme = if self.security == Security::Implicit {
            "smtps"
        } else {
            "smtp"
        };
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let how = match self.security {
            Security::Implicit => "TLS",
            Security::StartTls => "STARTTLS required",
            Security::LoopbackOpportunistic => "this machine; STARTTLS if offered",
            Security::Plain => "no TLS",
        };
        format!("{scheme}://{user}{host}:{} ({how})", self.port)
    }

    /// The login, read now: the command run, or the volunteer asked (through `ask`, the
    /// terminal's hidden prompt in the binary). The secret never leaves this function except
    /// inside lettre's credentials.
    pub fn credentials(
        &self,
        ask: &dyn Fn(&str) -> Result<String>,
    ) -> Result<Option<(Credentials, Mechanism)>> {
        let Some(user) = &self.user else {
            return Ok(None);
        };
        let (secret, mechanism) = match &self.secret {
            Secret::None => return Ok(None),
            Secret::Password(p) => (p.clone(), Mechanism::Plain),
            Secret::PasswordCommand { cmd, what } => {
                (run_secret_command(cmd, what, "password")?, Mechanism::Plain)
            }
            Secret::Prompt => (
                ask(&format!("Password for {user} at {}", self.host))?,
                Mechanism::Plain,
            ),
            Secret::OAuth2Command { cmd, what } => (
                run_secret_command(cmd, what, "OAuth2 access token")?,
                Mechanism::Xoauth2,
            ),
        };
        Ok(Some((Credentials::new(user.clone(), secret), mechanism)))
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
            &format!("run the command yourself to see why; it must print the {kind}"),
        ));
    }
    let mut secret = String::from_utf8(out.stdout).map_err(|_| {
        usage(
            format!("{what} printed something that is not UTF-8"),
            &format!("it must print only the {kind}"),
        )
    })?;
    // `pass show` and friends end with a newline; only the first line is the secret.
    if let Some(i) = secret.find(['\n', '\r']) {
        secret.truncate(i);
    }
    if secret.is_empty() {
        return Err(usage(
            format!("{what} printed an empty {kind}"),
            &format!("it must print the {kind} on its first line"),
        ));
    }
    Ok(secret)
}

fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        (h.to_string(), port)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (s.to_string(), None),
        }
    };
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0)?),
        None => None,
    };
    Some((host, port))
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
        assert_eq!(mechanism, Mechanism::Plain);
        assert!(!format!("{creds:?} {asked:?}").contains("typed"));

        let token = Server::parse(Request {
            secret: Secret::OAuth2Command {
                cmd: "printf 'tok\\nmore'".into(),
                what: "--oauth2-token-command".into(),
            },
            ..req("smtp://ada@mail.example.org")
        })
        .unwrap();
        let (_, mechanism) = token.credentials(&|_| unreachable!()).unwrap().unwrap();
        assert_eq!(mechanism, Mechanism::Xoauth2);
        let plain = Server::parse(Request {
            insecure: true,
            secret: Secret::OAuth2Command {
                cmd: "true".into(),
                what: "--oauth2-token-command".into(),
            },
            ..req("smtp://ada@mail.example.org?tls=none")
        })
        .unwrap_err();
        assert!(plain.to_string().contains("your OAuth2 token"), "{plain}");
        assert!(!format!("{:?}", Secret::Password("pw-value".into())).contains("pw-value"));
    }
}
