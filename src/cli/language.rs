//! Languages as volunteers know them: "French", not `fr`.

use crate::campaign::{Campaign, Group};
use crate::plural;

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
pub(crate) fn name(tag: &str) -> String {
    let (primary, region) = tag.split_once('-').unwrap_or((tag, ""));
    let known = NAMES.iter().find(|(t, _)| t.eq_ignore_ascii_case(primary));
    match (known, region) {
        (Some((_, name)), "") => name.to_string(),
        (Some((_, name)), _) => format!("{name} ({tag})"),
        (None, _) => tag.to_string(),
    }
}

/// The languages a group's letters are written in, by name: "English (default), French";
/// `with_tags` adds each tag, as `--where language=` and `--note LANG=` take it:
/// "English (en, default), French (fr)".
pub(crate) fn names(campaign: &Campaign, group: &Group, with_tags: bool) -> String {
    let named = |tag: &str, default: bool| match (with_tags, default) {
        (false, false) => name(tag),
        (false, true) => format!("{} (default)", name(tag)),
        (true, false) => format!("{} ({tag})", name(tag)),
        (true, true) => format!("{} ({tag}, default)", name(tag)),
    };
    let others = campaign.languages(group);
    let others = others.iter().map(|t| named(t, false));
    let all: Vec<String> = std::iter::once(named(&campaign.language, true))
        .chain(others)
        .collect();
    all.join(", ")
}

/// "French (3 letters)".
pub(crate) fn with_count((tag, n): &(String, u64)) -> String {
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
