//! Where each server setting of `send` comes from: a flag on the command line wins over the
//! environment, which wins over the profile's `[smtp]` table, which wins over the default. Kept
//! with its origin, so the summary can say where the server came from before anything is sent.

use std::fmt;
use std::path::{Path, PathBuf};

use super::server::Secret;
use super::usage;
use crate::error::{Diag, Error, Result};
use crate::send::profile::{self, SmtpProfile};

pub const URL_ENV: &str = "LETTERDRIVE_SMTP_URL";
pub const PASSWORD_ENV: &str = "LETTERDRIVE_SMTP_PASSWORD";
pub const DEFAULT_RATE: &str = "20/min";
pub const DEFAULT_CONNECTIONS: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag(&'static str),
    /// Typed in answer to the guided run's question.
    Answer,
    Env(&'static str),
    /// The profile file, and the key in its `[smtp]` table.
    Profile(PathBuf, &'static str),
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(name) | Origin::Env(name) => f.write_str(name),
            Origin::Answer => f.write_str("your answer"),
            Origin::Profile(path, key) => write!(f, "{key} in the profile {}", path.display()),
            Origin::Default => f.write_str("the default"),
        }
    }
}

/// A setting and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Origin,
}

fn sourced<T>(value: T, origin: Origin) -> Sourced<T> {
    Sourced { value, origin }
}

#[derive(Debug)]
pub struct SmtpConfig {
    pub url: Option<Sourced<String>>,
    pub secret: Sourced<Secret>,
    pub ca_file: Option<Sourced<PathBuf>>,
    pub rate: Sourced<String>,
    pub connections: Sourced<u32>,
}

/// The profile a setting may come from: its path (for the summary, and for a relative
/// `ca_file`) and its `[smtp]` table.
pub struct ProfileSmtp<'a> {
    pub path: &'a Path,
    pub smtp: &'a SmtpProfile,
}

impl ProfileSmtp<'_> {
    /// `value` from `key` in this profile's `[smtp]` table.
    fn get<T>(&self, value: Option<T>, key: &'static str) -> Option<Sourced<T>> {
        let origin = Origin::Profile(self.path.to_path_buf(), key);
        Some(sourced(value?, origin))
    }
}

/// `value` from the flag `name`.
fn flag<T>(value: Option<T>, name: &'static str) -> Option<Sourced<T>> {
    Some(sourced(value?, Origin::Flag(name)))
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The server flags of `send`, as the cli layer read them; all `None` in the guided run, which
/// asks instead.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub smtp: Option<String>,
    pub password_command: Option<String>,
    pub oauth2_token_command: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub rate: Option<String>,
    pub connections: Option<u32>,
}

/// Layer the flags, the environment (read through `env`, so tests need not touch the real one)
/// and the profile.
pub fn resolve(
    args: &Flags,
    env: &dyn Fn(&str) -> Option<String>,
    profile: Option<ProfileSmtp<'_>>,
) -> Result<SmtpConfig> {
    let p = profile.as_ref();
    let env_url = env(URL_ENV).filter(|u| !u.trim().is_empty());
    let url = flag(non_empty(&args.smtp), "--smtp")
        .or_else(|| env_url.map(|u| sourced(u, Origin::Env(URL_ENV))))
        .or_else(|| p?.get(non_empty(&p?.smtp.url), "url"));
    // Relative to the profile, so the file works from any directory.
    let ca_file = flag(args.ca_file.clone(), "--ca-file").or_else(|| {
        let dir = p?.path.parent().unwrap_or(Path::new(""));
        p?.get(p?.smtp.ca_file.as_ref().map(|f| dir.join(f)), "ca_file")
    });
    let rate = flag(non_empty(&args.rate), "--rate")
        .or_else(|| p?.get(non_empty(&p?.smtp.rate), "rate"))
        .unwrap_or_else(|| sourced(DEFAULT_RATE.to_string(), Origin::Default));
    let connections = flag(args.connections, "--connections")
        .or_else(|| p?.get(p?.smtp.connections, "connections"))
        .unwrap_or_else(|| sourced(DEFAULT_CONNECTIONS, Origin::Default));
    Ok(SmtpConfig {
        url,
        secret: secret(args, env, p)?,
        ca_file,
        rate,
        connections,
    })
}

/// The login: a flag, then the environment's password, then the profile's command.
fn secret(
    args: &Flags,
    env: &dyn Fn(&str) -> Option<String>,
    profile: Option<&ProfileSmtp<'_>>,
) -> Result<Sourced<Secret>> {
    let env_password = env(PASSWORD_ENV).filter(|p| !p.is_empty());
    let (password_flag, token_flag) = ("--password-command", "--oauth2-token-command");
    let password = non_empty(&args.password_command);
    let password = password.map(|cmd| Secret::PasswordCommand(cmd, password_flag));
    let token = non_empty(&args.oauth2_token_command);
    let token = token.map(|cmd| Secret::OAuth2Command(cmd, token_flag));
    if password.is_none() && token.is_some() && env_password.is_some() {
        return Err(usage(
            format!("--oauth2-token-command and {PASSWORD_ENV} both give a way to log in"),
            format!("log in with one: unset {PASSWORD_ENV} for the token, or leave out --oauth2-token-command for the password"),
        ));
    }
    let env_password =
        env_password.map(|p| sourced(Secret::Password(p), Origin::Env(PASSWORD_ENV)));
    let given = flag(password, password_flag).or_else(|| flag(token, token_flag));
    if let Some(given) = given.or(env_password) {
        return Ok(given);
    }
    let none = sourced(Secret::None, Origin::Default);
    let Some(p) = profile else {
        return Ok(none);
    };
    // The profile's `password_command` or `oauth2_token_command`; both is a mistake to fix.
    let password = non_empty(&p.smtp.password_command)
        .map(|cmd| Secret::PasswordCommand(cmd, "password_command in the profile"));
    let token = non_empty(&p.smtp.oauth2_token_command)
        .map(|cmd| Secret::OAuth2Command(cmd, "oauth2_token_command in the profile"));
    match (
        p.get(password, "password_command"),
        p.get(token, "oauth2_token_command"),
    ) {
        (Some(_), Some(_)) => Err(Error::Invalid(
            Diag::new(
                "the profile's [smtp] table has both password_command and oauth2_token_command",
            )
            .file(p.path.display().to_string())
            .hint("keep the one your mail provider uses and delete the other"),
        )),
        (password, token) => Ok(password.or(token).unwrap_or(none)),
    }
}

/// [`resolve`] with the real environment and the profile `--profile` names (or the default one).
pub fn resolve_here(args: &Flags, profile_flag: Option<&Path>) -> Result<SmtpConfig> {
    let profile = match profile::location(profile_flag) {
        Some(path) => profile::load(&path)?.map(|p| (path, p)),
        None => None,
    };
    resolve(
        args,
        &|key| std::env::var(key).ok(),
        profile.as_ref().map(|(path, p)| ProfileSmtp {
            path,
            smtp: &p.smtp,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flags as `send` would read them from `--smtp URL`, `--rate R` and so on.
    fn args(extra: &[&str]) -> Flags {
        let mut flags = Flags::default();
        for pair in extra.chunks(2) {
            let value = Some(pair[1].to_string());
            match pair[0] {
                "--smtp" => flags.smtp = value,
                "--password-command" => flags.password_command = value,
                "--oauth2-token-command" => flags.oauth2_token_command = value,
                "--ca-file" => flags.ca_file = value.map(PathBuf::from),
                "--rate" => flags.rate = value,
                "--connections" => flags.connections = pair[1].parse().ok(),
                other => unreachable!("{other}"),
            }
        }
        flags
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn profile() -> SmtpProfile {
        SmtpProfile {
            url: Some("smtps://ada@profile.example".into()),
            password_command: Some("pass show mail".into()),
            ca_file: Some("ca.pem".into()),
            rate: Some("50/5min".into()),
            connections: Some(2),
            ..Default::default()
        }
    }

    #[test]
    fn flag_beats_environment_beats_profile_beats_default() {
        let path = Path::new("/home/ada/.config/letterdrive/profile.toml");
        let smtp = profile();
        let p = || Some(ProfileSmtp { path, smtp: &smtp });
        let env = |k: &str| match k {
            URL_ENV => Some("smtp://env.example".to_string()),
            PASSWORD_ENV => Some("from-env".to_string()),
            _ => None,
        };

        let c = resolve(&args(&[]), &no_env, p()).unwrap();
        assert_eq!(c.url.unwrap().origin, Origin::Profile(path.into(), "url"));
        assert_eq!(
            c.secret.origin,
            Origin::Profile(path.into(), "password_command")
        );
        assert_eq!(
            c.ca_file.unwrap().value,
            Path::new("/home/ada/.config/letterdrive/ca.pem")
        );
        assert_eq!((c.rate.value.as_str(), c.connections.value), ("50/5min", 2));

        let c = resolve(&args(&[]), &env, p()).unwrap();
        let url = c.url.unwrap();
        assert_eq!(
            (url.value.as_str(), url.origin),
            ("smtp://env.example", Origin::Env(URL_ENV))
        );
        assert_eq!(c.secret.origin, Origin::Env(PASSWORD_ENV));

        let c = resolve(
            &args(&[
                "--smtp",
                "smtp://flag.example",
                "--rate",
                "unlimited",
                "--connections",
                "1",
                "--password-command",
                "x",
            ]),
            &env,
            p(),
        )
        .unwrap();
        assert_eq!(c.url.unwrap().origin, Origin::Flag("--smtp"));
        assert_eq!(c.secret.origin, Origin::Flag("--password-command"));
        assert_eq!(c.rate.origin, Origin::Flag("--rate"));
        assert_eq!(c.connections.value, 1);

        let c = resolve(&args(&[]), &no_env, None).unwrap();
        assert!(c.url.is_none() && c.ca_file.is_none());
        assert_eq!(c.secret.value, Secret::None);
        assert_eq!(
            (c.rate.value.as_str(), c.rate.origin),
            (DEFAULT_RATE, Origin::Default)
        );
        assert_eq!(c.connections.value, DEFAULT_CONNECTIONS);
    }

    #[test]
    fn one_way_to_log_in() {
        let env = |k: &str| (k == PASSWORD_ENV).then(|| "pw".to_string());
        let e = resolve(&args(&["--oauth2-token-command", "tok"]), &env, None).unwrap_err();
        assert!(e.to_string().contains("both give a way to log in"), "{e}");
        let c = resolve(&args(&["--oauth2-token-command", "tok"]), &no_env, None).unwrap();
        assert!(matches!(c.secret.value, Secret::OAuth2Command(..)));
        let both = SmtpProfile {
            oauth2_token_command: Some("tok".into()),
            ..profile()
        };
        let path = Path::new("p.toml");
        let p = || Some(ProfileSmtp { path, smtp: &both });
        assert!(resolve(&args(&[]), &no_env, p()).is_err());
        // A higher layer's credential replaces the profile's, so there is nothing to choose.
        let c = resolve(&args(&["--oauth2-token-command", "tok"]), &no_env, p()).unwrap();
        assert_eq!(c.secret.origin, Origin::Flag("--oauth2-token-command"));
    }
}
