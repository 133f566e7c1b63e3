//! `send` with its server settings in the profile's `[smtp]` table, and the order that decides
//! between a flag, the environment, the profile and the default; the summary names the winner.

use crate::mail_server::MailServer;
use crate::send::{send_to, JOURNAL};
use crate::util::Sandbox;

/// `send` of the test group with no `--smtp` and no `--rate`: those come from elsewhere.
fn send_bare(sb: &Sandbox) -> crate::util::Cmd {
    sb.cmd()
        .args(["send", "--group", "test"])
        .env("LETTERDRIVE_RETRY_DELAY_MS", "10")
        .signer()
}

#[test]
fn the_profile_names_the_server_and_the_summary_says_so() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    sb.write(
        "me.toml",
        format!(
            "name = \"Sam\"\n\n[smtp]\nurl = \"{}\"\nrate = \"unlimited\"\nconnections = 1\n",
            server.url()
        ),
    );
    let profile = sb.join("me.toml");
    send_bare(&sb)
        .arg("--yes")
        .arg("--profile")
        .arg(&profile)
        .run()
        .success()
        .stdout_has(&format!(
            "server:  smtp://127.0.0.1:{} (this machine; STARTTLS if offered) — from url in the profile {}",
            server.port,
            profile.display()
        ))
        .stdout_has("rate:    unlimited — from rate in the profile")
        .stdout_has("3 letters sent");
    assert_eq!(server.recipients().len(), 3);

    // LETTERDRIVE_PROFILE names the profile just as --profile does.
    send_bare(&sb)
        .arg("--dry-run")
        .env("LETTERDRIVE_PROFILE", &profile)
        .run()
        .success()
        .stdout_has("— from url in the profile");
}

#[test]
fn the_profile_in_the_config_directory_is_read_by_default() {
    let sb = Sandbox::campaign();
    let server = MailServer::start();
    // The test harness points XDG_CONFIG_HOME at `config` in the sandbox.
    sb.write(
        "config/letterdrive/profile.toml",
        format!("[smtp]\nurl = \"{}\"\n", server.url()),
    );
    send_bare(&sb)
        .arg("--dry-run")
        .run()
        .success()
        .stdout_has("— from url in the profile")
        .stdout_has("rate:    20/min, about 6s — from the default");
}

#[test]
fn a_flag_beats_the_environment_which_beats_the_profile() {
    let sb = Sandbox::campaign();
    sb.write(
        "config/letterdrive/profile.toml",
        "[smtp]\nurl = \"smtp://127.0.0.1:2501\"\nrate = \"5/min\"\n",
    );
    send_bare(&sb)
        .arg("--dry-run")
        .env("LETTERDRIVE_SMTP_URL", "smtp://127.0.0.1:2502")
        .run()
        .success()
        .stdout_has("server:  smtp://127.0.0.1:2502 (this machine; STARTTLS if offered) — from LETTERDRIVE_SMTP_URL")
        .stdout_has("rate:    5/min, about 24s — from rate in the profile");
    send_bare(&sb)
        .args([
            "--dry-run",
            "--smtp",
            "smtp://127.0.0.1:2503",
            "--rate",
            "1/s",
        ])
        .env("LETTERDRIVE_SMTP_URL", "smtp://127.0.0.1:2502")
        .run()
        .success()
        .stdout_has(
            "server:  smtp://127.0.0.1:2503 (this machine; STARTTLS if offered) — from --smtp",
        )
        .stdout_has("rate:    1/s, about 2s — from --rate");
}

#[test]
fn a_password_command_and_a_ca_file_from_the_profile_log_in_over_starttls() {
    let sb = Sandbox::campaign();
    let server = MailServer::start_tls("ada", "s3cret-pw");
    sb.write("private/ca.pem", std::fs::read(server.ca_file()).unwrap());
    // ca_file is relative to the profile's directory, not to where `send` runs.
    sb.write(
        "private/profile.toml",
        format!(
            "[smtp]\nurl = \"smtp://ada@127.0.0.1:{}?tls=required\"\npassword_command = \"printf 's3cret-pw\\\\n'\"\nca_file = \"ca.pem\"\nrate = \"unlimited\"\nconnections = 1\n",
            server.port
        ),
    );
    send_bare(&sb)
        .args(["--yes", "--profile", "private/profile.toml"])
        .run()
        .success()
        .stdout_has("login:   ada, password — from password_command in the profile")
        .stdout_has("CA:      private/ca.pem — from ca_file in the profile")
        .stdout_has("3 letters sent")
        .stdout_lacks("s3cret-pw")
        .stderr_lacks("s3cret-pw");
    assert_eq!(server.logins(), ["ada"]);
    assert!(!sb.read(JOURNAL).contains("s3cret-pw"));

    // The environment's password wins over the profile's command.
    send_to(
        &sb,
        &format!("smtp://ada@127.0.0.1:{}?tls=required", server.port),
    )
    .args(["--dry-run", "--profile", "private/profile.toml"])
    .env("LETTERDRIVE_SMTP_PASSWORD", "s3cret-pw")
    .run()
    .success()
    .stdout_has("login:   ada, password — from LETTERDRIVE_SMTP_PASSWORD");
}

#[test]
fn a_password_in_the_profile_is_refused_without_showing_it() {
    let sb = Sandbox::campaign();
    sb.write(
        "me.toml",
        "[smtp]\nurl = \"smtps://ada@mail.example.org\"\npassword = \"hunter2-secret\"\n",
    );
    send_bare(&sb)
        .args(["--dry-run", "--profile", "me.toml"])
        .run()
        .code(1)
        .stderr_has(
            "the profile holds a password in [smtp]; letterdrive never reads one from a file",
        )
        .stderr_has("password_command")
        .stderr_lacks("hunter2-secret")
        .stdout_lacks("hunter2-secret");
}

#[test]
fn bad_profile_settings_name_the_profile() {
    let sb = Sandbox::campaign();
    sb.write(
        "me.toml",
        "[smtp]\nurl = \"smtp://127.0.0.1:2501\"\nrate = \"lots\"\n",
    );
    send_bare(&sb)
        .args(["--dry-run", "--profile", "me.toml"])
        .run()
        .code(2)
        .stderr_has("error: the rate `lots` (rate in the profile me.toml) is not a rate");
    sb.write(
        "me.toml",
        "[smtp]\nurl = \"smtps://ada@mail.example.org\"\npassword_command = \"a\"\noauth2_token_command = \"b\"\n",
    );
    send_bare(&sb)
        .args(["--dry-run", "--profile", "me.toml"])
        .run()
        .code(1)
        .stderr_has("has both password_command and oauth2_token_command");
    sb.write(
        "me.toml",
        "[smtp]\nurl = \"smtp://127.0.0.1:2501\"\nrat = \"5/min\"\n",
    );
    send_bare(&sb)
        .args(["--dry-run", "--profile", "me.toml"])
        .run()
        .code(1)
        .stderr_has("unknown field `rat`");
}
