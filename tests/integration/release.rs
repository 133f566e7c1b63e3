//! What a release promises: the workflow builds every platform the README names, and the README
//! says how to install, download first, with the Rust version Cargo.toml requires. The workflow
//! itself runs on GitHub Actions only; what it runs of letterdrive is tested here.

use crate::util::{self, Sandbox};

#[test]
fn the_release_workflow_builds_every_platform_and_packages_man_pages_and_completions() {
    let workflow = std::fs::read_to_string(util::repo_file(".github/workflows/release.yml"))
        .expect("the release workflow");
    for target in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "aarch64-apple-darwin",
        "x86_64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(workflow.contains(&format!("target: {target}")), "{target}");
    }
    assert!(workflow.contains("tags: [\"v*\"]"));
    assert!(workflow.contains("--locked --profile dist"));
    // The packaging step runs these; they must work as written there.
    assert!(workflow.contains("\"$bin\" man --out \"dist/$name/man\""));
    assert!(workflow.contains("for shell in bash zsh fish powershell"));
    let sb = Sandbox::empty();
    sb.cmd().args(["man", "--out", "dist/man"]).run().success();
    assert!(sb.exists("dist/man/letterdrive.1"));
    for shell in ["bash", "zsh", "fish", "powershell"] {
        sb.cmd().args(["completions", shell]).run().success();
    }
}

#[test]
fn the_readme_puts_the_download_first_then_cargo_install_with_what_it_needs() {
    let readme = std::fs::read_to_string(util::repo_file("README.md")).unwrap();
    assert!(
        readme.lines().count() <= 250,
        "README.md stays at most 250 lines"
    );
    let first = readme.split("\n## ").nth(1).unwrap_or_default();
    assert!(first.starts_with("Quick start for volunteers"), "{first}");
    let quick_start = readme
        .split("\n## Quick start for volunteers\n")
        .nth(1)
        .expect("a volunteer's quick start");
    let install = quick_start
        .split("\n### Install\n")
        .nth(1)
        .filter(|_| quick_start.trim_start().starts_with("### Install"))
        .expect("installing, as the quick start's first step")
        .split("\n### ")
        .next()
        .unwrap();
    let download = install.find("**Download**").expect("download");
    let cargo = install
        .find("cargo install --locked --path .")
        .expect("cargo install");
    assert!(download < cargo, "download first:\n{install}");
    let manifest: toml::Table = std::fs::read_to_string(util::repo_file("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let rust = manifest["package"]["rust-version"].as_str().unwrap();
    assert!(
        install.contains(&format!("Rust {rust} or newer")),
        "{install}"
    );
    assert!(install.contains("C compiler"));
    let development = readme
        .split("\n## Development\n")
        .nth(1)
        .expect("Development");
    assert!(development.contains("release.yml") && development.contains("cannot run it"));
}
