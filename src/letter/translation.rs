//! The campaign's texts in a letter's language: its facts and statement as templates see them,
//! and what a template in a language lacks to be written wholly in it.

use serde_json::{json, Map, Value};

use crate::campaign::source::CAMPAIGN_FILE;
use crate::campaign::{Campaign, Fact, Group};
use crate::error::Diag;

/// The campaign's facts (as a list and by id) and statement in `lang`, falling back to the
/// default language's text where a translation is missing.
pub(crate) fn texts_in(campaign: &Campaign, lang: &str) -> (Value, Value, Value) {
    let facts = &campaign.facts;
    let text = |f: &Fact| Value::from(f.text_in(lang, &campaign.language).unwrap_or(&f.text));
    let list = facts.iter().map(|f| json!({"id": f.id, "text": text(f)}));
    let by_id: Map<String, Value> = facts.iter().map(|f| (f.id.clone(), text(f))).collect();
    let s = &campaign.statement;
    let mut statement = json!({
        "title": s.title,
        "organisation": s.organisation,
        "summary": s.summary,
        "date": s.date,
        "source": s.source,
    });
    let mut translations = s.translations.iter();
    if let Some((_, fields)) = translations.find(|(k, _)| k.eq_ignore_ascii_case(lang)) {
        for (k, v) in fields {
            statement[k.as_str()] = v.as_str().into();
        }
    }
    (list.collect(), by_id.into(), statement)
}

/// What a template in `language` would show in another language: demands of the group and facts
/// the template refers to (all of them when it loops over `facts`) with no text in `language`.
pub(crate) fn missing_translations(
    campaign: &Campaign,
    group: &Group,
    language: &str,
    template: &str,
    file: &str,
) -> Vec<Diag> {
    if language == campaign.language {
        return Vec::new();
    }
    let untranslated = |id: &str, text: Option<&str>| text.is_none().then(|| format!("`{id}`"));
    let facts: Vec<String> = campaign
        .facts
        .iter()
        .filter(|f| template.contains("facts") || template.contains(&format!("fact.{}", f.id)))
        .filter_map(|f| untranslated(&f.id, f.text_in(language, &campaign.language)))
        .collect();
    let demands: Vec<String> = campaign
        .demands_for_group(&group.id)
        .filter_map(|d| untranslated(&d.id, d.text_in(language, &campaign.language)))
        .collect();
    let mut out = Vec::new();
    for (what, ids) in [("fact", facts), ("demand", demands)] {
        let (plural, has) = match ids.len() {
            0 => continue,
            1 => ("", "has"),
            _ => ("s", "have"),
        };
        out.push(
            Diag::new(format!(
                "{what}{plural} {} {has} no `{language}` text, which {file} needs",
                ids.join(", "),
            ))
            .file(campaign.source.display(CAMPAIGN_FILE))
            .hint(format!(
                "add `{language} = \"...\"` under [{what}s.translations] of each, or remove the `{language}` template"
            )),
        );
    }
    out
}
