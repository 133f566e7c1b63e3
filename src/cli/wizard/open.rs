//! Which campaign the guided run writes for: the one `--campaign` names or the current folder
//! holds; otherwise the volunteer chooses between the campaign built into letterdrive and a
//! campaign file (`letterdrive pack`'s zip) or folder someone gave them.

use super::*;

/// The campaign to write for. Asked only when neither `--campaign` nor the current folder
/// names one; a file that is not a campaign is said and asked again.
pub(super) fn choose_campaign(campaign_dir: Option<&Path>) -> Ask<Campaign> {
    if campaign_dir.is_some() || Path::new(CAMPAIGN_FILE).is_file() {
        return Ok(Campaign::load(Source::discover(campaign_dir)?)?);
    }
    let bundled = Campaign::load(Source::Bundled)?;
    let theme = ColorfulTheme::default();
    let items = [
        format!(
            "The campaign built into letterdrive: {}",
            bundled.statement.title
        ),
        "Open a campaign file (.zip) or folder someone gave me".to_string(),
    ];
    let select = Select::with_theme(&theme)
        .with_prompt("Which campaign?")
        .items(&items)
        .default(0);
    if chosen(select.interact_opt())? == 0 {
        return Ok(bundled);
    }
    loop {
        let path = Input::<String>::with_theme(&theme)
            .with_prompt("The campaign file or folder (for example ~/Downloads/campaign.zip)")
            .interact_text()?;
        let path = expand_home(path.trim());
        match Source::discover(Some(&path)).and_then(Campaign::load) {
            Ok(campaign) => return Ok(campaign),
            Err(e) => eprintln!("{e}"),
        }
    }
}

/// `~/x` as the shell would read it: people type paths that way.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}
