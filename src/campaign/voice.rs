//! What the campaign gives to help letters carry the volunteer's own voice: writing prompts for
//! the personal paragraph, and the least share of each letter's words that must be the
//! volunteer's own.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Deserialize;

use super::Group;
use crate::error::Diag;

/// A `[[groups.<id>.prompts]]` question: what is asked, an optional hint shown with it, and
/// both in other languages (`[groups.<id>.prompts.translations.fr] ask = "..."`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    pub ask: String,
    #[serde(default)]
    pub hint: String,
    #[serde(default)]
    pub translations: BTreeMap<String, PromptText>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptText {
    pub ask: String,
    #[serde(default)]
    pub hint: String,
}

impl Prompt {
    /// The question and its hint in `language`, else in the default language.
    pub fn in_language(&self, language: &str) -> (&str, &str) {
        let mut translations = self.translations.iter();
        match translations.find(|(k, _)| k.eq_ignore_ascii_case(language)) {
            Some((_, t)) => (&t.ask, &t.hint),
            None => (&self.ask, &self.hint),
        }
    }
}

/// The similarity from which two volunteers' personal texts count as near-identical, when
/// `[campaign] similarity` does not say.
pub const DEFAULT_SIMILARITY: f64 = 0.8;

/// Longest prompt question or hint, in characters: a prompt is read on a terminal.
pub const MAX_PROMPT: usize = 300;
/// Most prompts a group may have: each is a question the volunteer answers in turn.
pub const MAX_PROMPTS: usize = 8;

/// Shares in percent above 100, and prompts that are empty, too long or too many. (Their
/// control characters are found with every other text's.)
pub(super) fn problems(
    similarity: Option<f64>,
    min_own_words: Option<u8>,
    groups: &IndexMap<String, Group>,
    at: &impl Fn(&str, String) -> Diag,
) -> Vec<Diag> {
    let mut diags = Vec::new();
    if let Some(s) = similarity.filter(|s| !(*s > 0.0 && *s <= 1.0)) {
        let message =
            format!("`similarity` is {s}: it is a share of shared shingles, above 0 and at most 1");
        let hint = "for example: similarity = 0.8";
        diags.push(
            at("similarity", message)
                .field("campaign.similarity")
                .hint(hint),
        );
    }
    let shares_of_groups = groups.iter();
    let shares = std::iter::once(("campaign".to_string(), min_own_words))
        .chain(shares_of_groups.map(|(id, g)| (format!("groups.{id}"), g.min_own_words)));
    for (place, share) in shares {
        if share.is_some_and(|n| n > 100) {
            let message = format!("`min_own_words` in [{place}] is a percentage: at most 100");
            let hint = "for example: min_own_words = 10 (a tenth of each letter's words)";
            diags.push(
                at("min_own_words", message)
                    .field(format!("{place}.min_own_words"))
                    .hint(hint),
            );
        }
    }
    for (id, g) in groups {
        let field = format!("groups.{id}.prompts");
        if g.prompts.len() > MAX_PROMPTS {
            let message = format!(
                "group `{id}` has {} prompts; at most {MAX_PROMPTS} are asked",
                g.prompts.len()
            );
            let hint = "keep the few questions that help volunteers most";
            diags.push(
                at(&format!("[[{field}]]"), message)
                    .field(&field)
                    .hint(hint),
            );
        }
        let texts = g.prompts.iter().flat_map(|p| {
            let translations = p
                .translations
                .values()
                .map(|t| (t.ask.as_str(), t.hint.as_str()));
            std::iter::once((p.ask.as_str(), p.hint.as_str())).chain(translations)
        });
        for (ask, hint) in texts {
            if ask.trim().is_empty() {
                let message = format!("a prompt of group `{id}` asks nothing: `ask` is empty");
                diags.push(
                    at("ask = \"\"", message)
                        .field(&field)
                        .hint("write the question"),
                );
            }
            for text in [ask, hint] {
                let length = text.chars().count();
                if length > MAX_PROMPT {
                    let message = format!("a prompt of group `{id}` is {length} characters long; at most {MAX_PROMPT} fit a terminal");
                    let needle = text.chars().take(30).collect::<String>();
                    diags.push(at(&needle, message).field(&field).hint("shorten it"));
                }
            }
        }
    }
    diags
}
