//! Languages as volunteers know them: "French", not `fr`.

use super::*;

/// English names of the languages campaigns are most often written in; another tag is shown
/// as it is.
const NAMES: &[(&str, &str)] = &[
    ("ar", "Arabic"),
    ("de", "German"),
    ("en", "English"),
    ("es", "Spanish"),
    ("fa", "Persian"),
    ("fr", "French"),
    ("id", "Indonesian"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("ko", "Korean"),
    ("ms", "Malay"),
    ("nl", "Dutch"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
    ("ru", "Russian"),
    ("sv", "Swedish"),
    ("tr", "Turkish"),
    ("ug", "Uyghur"),
    ("uk", "Ukrainian"),
    ("zh", "Chinese"),
];

/// "French" for `fr`; "Portuguese (pt-br)" for a regional tag; the tag itself when unknown.
pub(super) fn name(tag: &str) -> String {
    let (primary, region) = tag.split_once('-').unwrap_or((tag, ""));
    let known = NAMES.iter().find(|(t, _)| t.eq_ignore_ascii_case(primary));
    match (known, region) {
        (Some((_, name)), "") => name.to_string(),
        (Some((_, name)), _) => format!("{name} ({tag})"),
        (None, _) => tag.to_string(),
    }
}

/// The languages a group's letters are written in, by name: "English (default), French".
pub(super) fn names(campaign: &Campaign, group: &Group) -> String {
    let mut all = vec![format!("{} (default)", name(&campaign.language))];
    all.extend(campaign.languages(group).iter().map(|t| name(t)));
    all.join(", ")
}

/// "French (3 letters)".
pub(super) fn with_count((tag, n): &(String, u64)) -> String {
    format!("{} ({})", name(tag), plural(*n, "letter"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_for_people() {
        assert_eq!(super::name("fr"), "French");
        assert_eq!(super::name("pt-br"), "Portuguese (pt-br)");
        assert_eq!(super::name("xx"), "xx");
    }
}
