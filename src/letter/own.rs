//! How much of a letter is the volunteer's own words: the words of its body that appear in none
//! of the texts the campaign and the recipient list put into it (docs/campaign.md defines it).
//! Offices discount form letters; this tells a volunteer, before anything leaves, how much of
//! theirs is a form letter.

use std::collections::{BTreeSet, HashMap, HashSet};

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

    /// A body with no words of the volunteer's: its share is 0% however many words it has, so
    /// they are not counted (every letter is rendered this way, a million in a run): `total` is
    /// 1 for a body with any word, which gives the same `percent` and `below`.
    pub fn none(body: &str) -> OwnWords {
        let total = u64::from(words(body).next().is_some());
        OwnWords { own: 0, total }
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

/// Words per shingle: five words in a row are seldom shared by texts written apart.
pub const SHINGLE: usize = 5;
/// Most shingle hashes a sketch keeps: the smallest, a bottom-k MinHash sketch, so that a
/// letter's record stays small however long its paragraph.
pub const SKETCH: usize = 32;
/// The sketch of a volunteer's personal text: the `SKETCH` smallest hashes of its `SHINGLE`-word
/// shingles (lowercase words; a shorter text is one shingle), each the first 64 bits of an
/// HMAC-SHA256 keyed with `key` (the campaign id), so that no text can be read back from it
/// and sketches of one campaign compare. Empty for a text without words.
pub fn sketch(text: &str, key: &str) -> Vec<u64> {
    let words: Vec<String> = words(text).map(str::to_lowercase).collect();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    let hash = |shingle: &[String]| {
        let tag = ring::hmac::sign(&key, shingle.join(" ").as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&tag.as_ref()[..8]);
        u64::from_be_bytes(first)
    };
    let hashes: BTreeSet<u64> = match words.len() {
        0 => BTreeSet::new(),
        n if n < SHINGLE => BTreeSet::from([hash(&words)]),
        _ => words.windows(SHINGLE).map(hash).collect(),
    };
    hashes.into_iter().take(SKETCH).collect()
}

/// The estimated Jaccard similarity of the shingle sets two sketches were made from: of the
/// `SKETCH` smallest hashes of both together, the share found in both (exact when each text has
/// at most `SKETCH` shingles). 0 when either is empty.
pub fn similarity(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (a, b): (BTreeSet<u64>, BTreeSet<u64>) =
        (a.iter().copied().collect(), b.iter().copied().collect());
    let union: Vec<&u64> = a.union(&b).take(SKETCH).collect();
    let both = union
        .iter()
        .filter(|h| a.contains(h) && b.contains(h))
        .count();
    both as f64 / union.len() as f64
}

/// A sketch as records carry it: 16 hex digits a hash.
pub fn to_hex(sketch: &[u64]) -> Vec<String> {
    sketch.iter().map(|h| format!("{h:016x}")).collect()
}

/// A sketch read from a record; what is not a hash is left out.
pub fn from_hex(hex: &[String]) -> Vec<u64> {
    hex.iter()
        .filter_map(|h| u64::from_str_radix(h, 16).ok())
        .collect()
}

/// The letters other volunteers wrote, from their ledgers: for each recipient (as the ledger
/// keys them), each letter's volunteer and the sketch of its personal text.
#[derive(Debug)]
pub struct Others {
    /// Recipient key -> message id -> (volunteer key, sketch).
    pub letters: HashMap<String, HashMap<String, (String, Vec<u64>)>>,
    /// The volunteer writing now, as the ledgers key them: their own letters are not others'.
    pub me: String,
    /// The similarity from which two personal texts are near-identical.
    pub threshold: f64,
    /// How the ledgers key an address: `ledger::keyed`, with `campaign`.
    pub key: fn(&str, &str) -> String,
    pub campaign: String,
}

impl Others {
    /// Of the letters `recipient` (as the ledgers key them) had from other volunteers, how many
    /// have a personal text near-identical to the one `sketch` was made of, and how many there
    /// are.
    pub fn near(&self, recipient: &str, sketch: &[u64]) -> (usize, usize) {
        let Some(letters) = self.letters.get(recipient) else {
            return (0, 0);
        };
        let others = letters.values().filter(|(v, _)| *v != self.me);
        let (mut near, mut all) = (0, 0);
        for (_, theirs) in others {
            all += 1;
            near += usize::from(!sketch.is_empty() && similarity(sketch, theirs) >= self.threshold);
        }
        (near, all)
    }

    /// The warning for a letter to `name` <`email`> whose personal text (`sketch`) is
    /// near-identical to letters other volunteers sent that recipient; none when it is not.
    pub fn warning(&self, name: &str, email: &str, sketch: &[u64]) -> Option<String> {
        let (near, all) = self.near(&(self.key)(&self.campaign, email), sketch);
        let which = match all {
            1 => "the letter another volunteer already wrote".to_string(),
            _ => format!("{near} of the {all} letters other volunteers already wrote"),
        };
        (near > 0).then(|| format!("the personal text of the letter to {name} <{email}> is near-identical to {which} to this recipient: offices set identical letters aside, so write it in your own words"))
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
        // Without words of the volunteer's, a letter's share is 0% and under any minimum, and
        // one without any word is under none.
        let none = OwnWords::none("Dear minister, hello.");
        assert_eq!((none.percent(), none.below(1)), (0, true));
        assert!(!OwnWords::none(" .. ").below(50));
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

    #[test]
    fn sketches_match_pasted_texts_and_not_texts_written_apart() {
        let pasted = "I am writing because my friend's family has disappeared in Xinjiang and nobody will tell them why.";
        let a = sketch(pasted, "camp");
        assert!(!a.is_empty() && a.len() <= SKETCH);
        assert_eq!(similarity(&a, &sketch(&pasted.to_uppercase(), "camp")), 1.0);
        // A word changed keeps the shingles away from it (here 10 of 21).
        let edited = pasted.replace("nobody", "no one");
        assert!(similarity(&a, &sketch(&edited, "camp")) > 0.4);
        let own = "Our town council twinned with a city in the region last year; I want answers.";
        assert_eq!(similarity(&a, &sketch(own, "camp")), 0.0);
        assert_eq!(similarity(&a, &[]), 0.0);
        assert_ne!(a, sketch(pasted, "other campaign"));
        assert_eq!(sketch(" , ", "camp"), Vec::<u64>::new());
        assert_eq!(sketch("Too short", "camp").len(), 1);
        let long: String = (0..500).map(|i| format!("w{i} ")).collect();
        assert_eq!(sketch(&long, "camp").len(), SKETCH);
        assert_eq!(from_hex(&to_hex(&a)), a);
    }

    #[test]
    fn others_count_near_identical_letters_of_other_volunteers_only() {
        let text = "Please publish the report now, my neighbours deserve to know the truth.";
        let mine = sketch(text, "c");
        let mut others = Others {
            letters: HashMap::new(),
            me: "me".into(),
            threshold: 0.8,
            key: |_, email| email.to_string(),
            campaign: "c".into(),
        };
        let to = others.letters.entry("r".into()).or_default();
        to.insert("<1>".into(), ("you".into(), mine.clone()));
        to.insert("<2>".into(), ("me".into(), mine.clone()));
        to.insert(
            "<3>".into(),
            (
                "them".into(),
                sketch("Something else entirely, in my words.", "c"),
            ),
        );
        assert_eq!(others.near("r", &mine), (1, 2));
        assert_eq!(others.near("r", &[]), (0, 2));
        assert_eq!(others.near("nobody", &mine), (0, 0));
        let said = others.warning("R", "r", &mine).unwrap();
        assert!(
            said.contains("near-identical to 1 of the 2 letters other"),
            "{said}"
        );
        assert_eq!(others.warning("R", "nobody", &mine), None);
    }
}
