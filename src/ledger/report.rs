//! `letterdrive report`: ledgers merged into coverage per target, per group and per day, written
//! as a page (`report.html`), a spreadsheet (`coverage.csv`) and, asked for, where to write next.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use super::{keyed, Line, State};
use crate::campaign::recipients::Recipients;
use crate::campaign::{Campaign, EMAIL_COLUMN, NAME_COLUMN};
use crate::error::{Error, Result};

/// One recipient of the campaign, or one the ledgers name that its lists no longer hold.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub group: String,
    pub name: String,
    /// From the campaign's list; none for a target known only from a ledger.
    pub email: Option<String>,
    /// The address as [`keyed`]: how ledgers name the target.
    pub key: String,
    pub letters: u64,
    pub drafted: u64,
    pub volunteers: u64,
    pub replies: u64,
    /// Out-of-office answers and the like: not replies.
    pub auto_replies: u64,
    pub bounces: u64,
    /// The status codes its bounces gave (`5.1.1`: no such mailbox).
    pub bounce_codes: BTreeSet<String>,
    pub failed: u64,
    pub uncertain: u64,
}

/// One distinct event, as little as the report needs of it.
#[derive(Debug, Clone, Copy)]
struct Seen {
    target: u32,
    volunteer: u64,
    state: State,
    /// Seconds since 1970: of an event read twice with different times, the earliest counts.
    time: i64,
}

/// The merged ledgers.
#[derive(Debug, Default)]
pub struct Report {
    pub campaign: String,
    pub title: String,
    pub targets: Vec<Target>,
    /// Letters sent per day (days since 1970, UTC) and per group.
    pub days: BTreeMap<i64, BTreeMap<String, u64>>,
    pub events: u64,
    pub volunteers: u64,
}

/// Targets by group and keyed address, as ledgers name them.
struct Targets {
    list: Vec<Target>,
    index: HashMap<String, HashMap<String, u32>>,
}

impl Targets {
    fn of(campaign: &Campaign) -> Result<Targets> {
        let mut targets = Targets {
            list: Vec::new(),
            index: HashMap::new(),
        };
        for group in &campaign.groups {
            let mut rows = Recipients::open(&campaign.source, group)?;
            let (name_col, email_col) = (
                rows.columns.get(NAME_COLUMN),
                rows.columns.get(EMAIL_COLUMN),
            );
            while let Some(row) = rows.next_row() {
                let Ok(row) = row else { continue };
                let field = |c: Option<usize>| c.and_then(|i| row.record.get(i)).unwrap_or("");
                let (name, email) = (field(name_col), field(email_col));
                let target = Target {
                    group: group.id.clone(),
                    name: name.to_string(),
                    email: Some(email.to_string()),
                    key: keyed(&campaign.id, email),
                    ..Target::default()
                };
                targets.add(target);
            }
        }
        Ok(targets)
    }

    fn add(&mut self, target: Target) -> u32 {
        let group = self.index.entry(target.group.clone()).or_default();
        if let Some(&i) = group.get(&target.key) {
            return i;
        }
        let i = self.list.len() as u32;
        group.insert(target.key.clone(), i);
        self.list.push(target);
        i
    }

    /// The target an event is about; one the lists do not hold is added, unnamed.
    fn of_event(&mut self, event: &Line) -> u32 {
        let found = self
            .index
            .get(&*event.group)
            .and_then(|g| g.get(&*event.recipient));
        if let Some(&i) = found {
            return i;
        }
        let target = Target {
            group: event.group.to_string(),
            name: format!(
                "(not in the lists: {})",
                event.recipient.chars().take(8).collect::<String>()
            ),
            key: event.recipient.to_string(),
            ..Target::default()
        };
        self.add(target)
    }
}

/// What makes two events the same event: the same volunteer's letter in the same state.
fn identity(event: &Line) -> u128 {
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        (
            salt,
            &event.volunteer,
            &event.message_id,
            &event.group,
            event.state,
        )
            .hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

fn volunteer_id(key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

impl Report {
    /// Every ledger merged: a set union of their events, so order and repetition change nothing.
    pub fn build(campaign: &Campaign, ledgers: &[PathBuf]) -> Result<Report> {
        let mut targets = Targets::of(campaign)?;
        let mut seen: HashMap<u128, Seen> = HashMap::new();
        for path in ledgers {
            super::read(path, &campaign.id, |event| {
                let Ok(time) = event.time.parse::<jiff::Timestamp>() else {
                    eprintln!(
                        "warning: {}: an event with no valid time, skipped",
                        path.display()
                    );
                    return;
                };
                let target = targets.of_event(event);
                if let Some(code) = event
                    .status_code
                    .as_deref()
                    .filter(|_| event.state == State::Bounced)
                {
                    targets.list[target as usize]
                        .bounce_codes
                        .insert(code.to_string());
                }
                let new = Seen {
                    target,
                    volunteer: volunteer_id(&event.volunteer),
                    state: event.state,
                    time: time.as_second(),
                };
                seen.entry(identity(event))
                    .and_modify(|s| s.time = s.time.min(new.time))
                    .or_insert(new);
            })?;
        }
        let mut report = Report {
            campaign: campaign.id.clone(),
            title: campaign.statement.title.clone(),
            events: seen.len() as u64,
            ..Report::default()
        };
        report.tally(targets.list, seen.into_values());
        Ok(report)
    }

    fn tally(&mut self, mut targets: Vec<Target>, seen: impl Iterator<Item = Seen>) {
        let mut writers: HashSet<(u32, u64)> = HashSet::new();
        let mut volunteers: HashSet<u64> = HashSet::new();
        for s in seen {
            let t = &mut targets[s.target as usize];
            volunteers.insert(s.volunteer);
            match s.state {
                State::Sent => {
                    t.letters += 1;
                    writers.insert((s.target, s.volunteer));
                    let groups = self.days.entry(s.time.div_euclid(86_400)).or_default();
                    match groups.get_mut(&t.group) {
                        Some(n) => *n += 1,
                        None => _ = groups.insert(t.group.clone(), 1),
                    }
                }
                State::Drafted => t.drafted += 1,
                State::Replied => t.replies += 1,
                State::AutoReplied => t.auto_replies += 1,
                State::Bounced => t.bounces += 1,
                State::Failed => t.failed += 1,
                State::Uncertain => t.uncertain += 1,
            }
        }
        for (target, _) in writers {
            targets[target as usize].volunteers += 1;
        }
        self.volunteers = volunteers.len() as u64;
        self.targets = targets;
    }

    /// Targets with the fewest letters first, then the fewest volunteers; ties in list order,
    /// and targets the lists do not hold last, by group and key (they are met in ledger order,
    /// which must change nothing).
    pub fn fewest_first(&self) -> Vec<&Target> {
        let mut order: Vec<&Target> = self.targets.iter().collect();
        order.sort_by(|a, b| {
            let unlisted = |t: &Target| t.email.is_none().then(|| (t.group.clone(), t.key.clone()));
            (a.letters, a.volunteers, unlisted(a)).cmp(&(b.letters, b.volunteers, unlisted(b)))
        });
        order
    }

    /// Totals per group: letters sent, replies, bounces, targets, targets with no letter yet.
    pub fn groups(&self) -> BTreeMap<&str, [u64; 5]> {
        let mut groups: BTreeMap<&str, [u64; 5]> = BTreeMap::new();
        for t in &self.targets {
            let g = groups.entry(&t.group).or_default();
            g[0] += t.letters;
            g[1] += t.replies;
            g[2] += t.bounces;
            g[3] += 1;
            g[4] += u64::from(t.letters == 0);
        }
        groups
    }

    /// `coverage.csv`: one row per target, fewest letters first.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let mut w = csv::Writer::from_path(path).map_err(|e| Error::io(path, e.into()))?;
        let header = [
            "group",
            "name",
            "letters",
            "volunteers",
            "replies",
            "bounces",
            "drafted",
            "failed",
            "uncertain",
            "response_rate",
            "auto_replies",
            "bounce_codes",
        ];
        let io = |e: csv::Error| Error::io(path, e.into());
        w.write_record(header).map_err(io)?;
        for t in self.fewest_first() {
            let rate = rate(t.replies, t.letters);
            let counts = [
                t.letters,
                t.volunteers,
                t.replies,
                t.bounces,
                t.drafted,
                t.failed,
                t.uncertain,
            ];
            let mut row = vec![t.group.clone(), spreadsheet_safe(&t.name)];
            row.extend(counts.iter().map(u64::to_string));
            row.push(rate);
            row.push(t.auto_replies.to_string());
            row.push(t.bounce_codes.iter().cloned().collect::<Vec<_>>().join(" "));
            w.write_record(&row).map_err(io)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    }

    /// The targets some letter to bounced, by group and name: their addresses want fixing.
    pub fn bounced(&self) -> Vec<&Target> {
        let mut bounced: Vec<&Target> = self.targets.iter().filter(|t| t.bounces > 0).collect();
        bounced.sort_by(|a, b| (&a.group, &a.name, &a.key).cmp(&(&b.group, &b.name, &b.key)));
        bounced
    }

    /// The `n` targets a next volunteer should write to for even coverage, as ready command
    /// lines, one per group. Targets known only from a ledger cannot be named, so are left out.
    pub fn suggest(&self, n: usize) -> Vec<String> {
        let mut by_group: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let named = self
            .fewest_first()
            .into_iter()
            .filter(|t| t.email.is_some());
        for t in named.take(n) {
            let email = t.email.as_deref().unwrap_or_default();
            by_group.entry(&t.group).or_default().push(email);
        }
        by_group
            .into_iter()
            .map(|(g, emails)| format!("--group {g} --where email={}", emails.join(",")))
            .collect()
    }
}

/// Replies per letter, as a percentage with no decimals; empty with no letter.
pub fn rate(replies: u64, letters: u64) -> String {
    if letters == 0 {
        return String::new();
    }
    format!("{}%", (replies * 100 + letters / 2) / letters)
}

/// A cell a spreadsheet shows as text: one starting like a formula is quoted with `'`, since a
/// campaign's lists may come from anyone.
fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::*;
    use crate::campaign::source::Source;
    use crate::ledger::Event;

    fn event(campaign: &str, (g, r, v, s, day): (usize, usize, usize, usize, u32)) -> Event {
        let states = [
            State::Drafted,
            State::Sent,
            State::Failed,
            State::Uncertain,
            State::Replied,
            State::Bounced,
            State::AutoReplied,
        ];
        Event {
            campaign: campaign.to_string(),
            group: ["ohchr", "governments", "companies"][g].to_string(),
            recipient: format!("{r:032x}"),
            volunteer: format!("{v:032x}"),
            channel: "email".to_string(),
            state: states[s],
            time: format!("2026-11-{:02}T{:02}:00:00Z", 1 + day % 28, day % 24),
            message_id: format!("<{campaign}.{g}.{r:016x}@example.org>"),
            volunteer_name: None,
            status_code: (s == 5).then(|| format!("5.1.{}", (r + v) % 3)),
            personal: Vec::new(),
        }
    }

    /// The report's two files, from these ledgers in this order.
    fn outputs(campaign: &Campaign, dir: &Path, ledgers: &[PathBuf]) -> (String, String) {
        let report = Report::build(campaign, ledgers).unwrap();
        let csv = dir.join("coverage.csv");
        report.write_csv(&csv).unwrap();
        (
            std::fs::read_to_string(csv).unwrap(),
            crate::ledger::page(&report),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// report A B == report B A == report A A B, for ledgers that share events or not.
        #[test]
        fn merging_is_commutative_and_idempotent(
            a in prop::collection::vec((0..3usize, 0..6usize, 0..3usize, 0..7usize, 0..60u32), 0..40),
            b in prop::collection::vec((0..3usize, 0..6usize, 0..3usize, 0..7usize, 0..60u32), 0..40),
        ) {
            let campaign = Campaign::load(Source::Bundled).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let write = |name: &str, events: &[(usize, usize, usize, usize, u32)]| {
                let path = dir.path().join(name);
                let mut f = std::fs::File::create(&path).unwrap();
                for &e in events {
                    serde_json::to_writer(&mut f, &event(&campaign.id, e)).unwrap();
                    f.write_all(b"\n").unwrap();
                }
                path
            };
            // B shares its first events with A, as two exports of one journal would.
            let shared: Vec<_> = a.iter().take(5).chain(&b).copied().collect();
            let (pa, pb) = (write("a", &a), write("b", &shared));
            let ab = outputs(&campaign, dir.path(), &[pa.clone(), pb.clone()]);
            prop_assert_eq!(&ab, &outputs(&campaign, dir.path(), &[pb.clone(), pa.clone()]));
            prop_assert_eq!(&ab, &outputs(&campaign, dir.path(), &[pa.clone(), pa, pb]));
        }
    }
}
