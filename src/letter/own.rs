//! How much of a letter is the volunteer's own words: the words of its body that appear in none
//! of the texts the campaign and the recipient list put into it (docs/campaign.md defines it).
//! Offices discount form letters; this tells a volunteer, before anything leaves, how much of
//! theirs is a form letter.

use std::collections::HashSet;

/// The words of `text`: its runs of letters and digits, as they are written.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The words of every text in `texts`, lowercase: what a letter's words are compared with.
pub fn vocabulary<'a>(texts: impl IntoIterator<Item = &'a str>) -> HashSet<String> {
    let all = texts.into_iter().flat_map(words);
    all.map(str::to_lowercase).collect()
}

/// The fixed text of a Handlebars template: all of it but its `{{...}}` tags, whose words are
/// names of values rather than words of the letter.
pub fn fixed_text(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        out.push(' ');
        match rest[open..].find("}}") {
            Some(close) => rest = &rest[open + close + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// A letter's own words: how many of its body's words (counted each time they occur) are the
/// volunteer's, of how many in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OwnWords {
    pub own: u64,
    pub total: u64,
}

impl OwnWords {
    /// The words of `body` that `known` does not know (it is asked the lowercase word).
    pub fn count(body: &str, known: impl Fn(&str) -> bool) -> OwnWords {
        let mut counted = OwnWords::default();
        for word in words(body) {
            counted.total += 1;
            let known = match word.chars().any(char::is_uppercase) {
                true => known(&word.to_lowercase()),
                false => known(word),
            };
            counted.own += u64::from(!known);
        }
        counted
    }

    /// The share of own words in whole percent, rounded down (a letter without words has none).
    pub fn percent(self) -> u64 {
        (self.own * 100).checked_div(self.total).unwrap_or(0)
    }

    /// Whether the share is under `min` percent (exactly, not after rounding).
    pub fn below(self, min: u8) -> bool {
        self.own * 100 < u64::from(min) * self.total
    }
}

/// The own words of a run's letters, for its summary: the lowest and highest share, and how
/// many letters are below the campaign's minimum.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub min: Option<u8>,
    pub letters: u64,
    pub below: u64,
    pub lowest: u64,
    pub highest: u64,
}

impl Tally {
    pub fn new(min: Option<u8>) -> Tally {
        Tally {
            min,
            ..Tally::default()
        }
    }

    /// Counts one letter; whether it is below the minimum.
    pub fn add(&mut self, own: OwnWords) -> bool {
        let percent = own.percent();
        if self.letters == 0 {
            (self.lowest, self.highest) = (percent, percent);
        }
        self.lowest = self.lowest.min(percent);
        self.highest = self.highest.max(percent);
        self.letters += 1;
        let below = self.min.is_some_and(|m| own.below(m));
        self.below += u64::from(below);
        below
    }

    /// "own words: 12% to 18% of each letter (min 10%)"; none for no letter.
    pub fn line(&self) -> Option<String> {
        let share = match (self.letters, self.lowest == self.highest) {
            (0, _) => return None,
            (1, _) => format!("{}%", self.lowest),
            (_, true) => format!("{}% of each letter", self.lowest),
            (_, false) => format!("{}% to {}% of each letter", self.lowest, self.highest),
        };
        let min = self.min.map(|m| format!(" (min {m}%)")).unwrap_or_default();
        Some(format!("own words: {share}{min}"))
    }

    /// The warning for letters below the minimum; none when no letter is.
    pub fn warning(&self) -> Option<String> {
        let min = self.min.filter(|_| self.below > 0)?;
        let (below, all) = (self.below, crate::plural(self.letters, "letter"));
        Some(format!(
            "{below} of {all} have fewer of your own words than the campaign asks (min_own_words = {min}%): add a paragraph in your own words (--note FILE)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        let w: Vec<&str> = words("Dear Ms. Ōta, l'été 2022 — **act** now!").collect();
        assert_eq!(w, ["Dear", "Ms", "Ōta", "l", "été", "2022", "act", "now"]);
        assert_eq!(words(" ,. ").count(), 0);
    }

    #[test]
    fn the_fixed_text_leaves_out_template_tags() {
        let t =
            "Dear {{name}},\n{{#if personal_note}}{{personal_note}}{{/if}} Yours, {{signer.name";
        assert_eq!(
            vocabulary([fixed_text(t).as_str()]),
            vocabulary(["Dear Yours"])
        );
        assert_eq!(fixed_text("no tags"), "no tags");
    }

    #[test]
    fn own_words_are_those_the_campaign_does_not_use() {
        let campaign = vocabulary(["Dear minister, please publish the report."]);
        let known = |w: &str| campaign.contains(w);
        let form = OwnWords::count("Dear Minister,\n\nPlease publish the report.", known);
        assert_eq!(form, OwnWords { own: 0, total: 6 });
        assert_eq!(form.percent(), 0);
        // Words the campaign uses count as its own, whoever writes them again.
        let note = "Dear minister, please publish the report. My sister lives in Urumqi.";
        let counted = OwnWords::count(note, known);
        assert_eq!(counted, OwnWords { own: 5, total: 11 });
        assert_eq!(counted.percent(), 45);
        assert!(counted.below(46) && !counted.below(45));
        assert_eq!(OwnWords::default().percent(), 0);
        assert!(!OwnWords::default().below(0));
    }

    #[test]
    fn a_tally_says_the_range_and_the_letters_below_the_minimum() {
        let mut tally = Tally::new(Some(10));
        assert_eq!(tally.line(), None);
        assert!(!tally.add(OwnWords { own: 2, total: 10 }));
        assert_eq!(tally.line().unwrap(), "own words: 20% (min 10%)");
        assert_eq!(tally.warning(), None);
        assert!(tally.add(OwnWords { own: 0, total: 10 }));
        assert_eq!(
            tally.line().unwrap(),
            "own words: 0% to 20% of each letter (min 10%)"
        );
        assert!(tally.warning().unwrap().starts_with("1 of 2 letters have"));
        let mut none = Tally::new(None);
        none.add(OwnWords { own: 1, total: 4 });
        none.add(OwnWords { own: 1, total: 4 });
        assert_eq!(none.line().unwrap(), "own words: 25% of each letter");
        assert_eq!(none.warning(), None);
    }
}
