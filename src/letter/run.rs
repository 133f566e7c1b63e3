//! The one pipeline every command shares: stream a group's rows, keep the targeted ones, validate,
//! render, and hand each letter on. Problems are collected, not fatal, so a run reports every bad
//! row at once; once one is seen, nothing more is handed on, so no output is half made.

use std::sync::{Mutex, PoisonError};

use crossbeam_channel::{Receiver, Sender};

use crate::campaign::recipients::{self, DuplicateTracker, Filter, Recipients, Row};
use crate::campaign::{Campaign, Group, EMAIL_COLUMN};
use crate::error::{Diag, Error, Result};
use crate::letter::message::{self, MessageSettings};
use crate::letter::render::{Letter, LetterInputs, Renderer};

/// Which recipients of which group.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub group: String,
    pub filters: Vec<String>,
    pub limit: Option<u64>,
}

/// At most this many problems are listed; a broken million-row file should not flood a terminal.
pub const MAX_LISTED: usize = 50;

/// Adds `d` to `diags` while they are fewer than `MAX_LISTED`; past that, only counts it. A
/// problem already listed (a template's, met again on the next row) is not listed twice.
pub(crate) fn push_capped(diags: &mut Vec<Diag>, unlisted: &mut usize, d: Diag) {
    if diags.contains(&d) {
        return;
    }
    if diags.len() < MAX_LISTED {
        diags.push(d);
    } else {
        *unlisted += 1;
    }
}

pub struct Run<'c> {
    pub campaign: &'c Campaign,
    pub group: &'c Group,
    pub settings: MessageSettings,
    pub rows: Recipients,
    pub filters: Vec<Filter>,
    pub renderer: Renderer<'c>,
    /// The letters become PDFs (`Run::print`).
    print: bool,
}

impl<'c> Run<'c> {
    pub fn open(campaign: &'c Campaign, target: &Target, inputs: &LetterInputs) -> Result<Run<'c>> {
        let group = campaign.group(&target.group)?;
        let rows = Recipients::open(&campaign.source, group)?;
        let filters = Filter::parse_all(&target.filters, &rows.columns, &rows.file)?;
        let renderer = Renderer::new(campaign, group, rows.columns.clone(), inputs)?;
        let date = inputs.date.timestamp().into();
        let settings = MessageSettings::new(&inputs.signer, date, &campaign.id, &group.id)?;
        Ok(Run {
            campaign,
            group,
            settings,
            rows,
            filters,
            renderer,
            print: false,
        })
    }

    /// The letters are to be printed (PDF): as each costs far more than a mail file (layout, a
    /// font subset) and takes tens of kilobytes, render threads take a few rows at a time.
    pub fn print(&mut self) {
        self.print = true;
    }

    /// Validate and render one row, and build its message when `with_message` is set.
    pub fn letter(
        &mut self,
        row: &Row,
        with_message: bool,
    ) -> Result<(Letter, Option<lettre::Message>), Vec<Diag>> {
        letter(&mut self.renderer, &self.settings, row, with_message)
    }

    /// Every targeted letter, in file order. Rows are read, rendered and encoded by worker
    /// threads (the per-letter work is CPU-bound); `sink` receives the results in file order on
    /// this thread, and only while no problem has been found. At the end, any problem (including
    /// duplicates) fails the whole run.
    pub fn each<T, E, S>(
        self,
        limit: Option<u64>,
        with_message: bool,
        encode: E,
        sink: S,
    ) -> Result<u64>
    where
        T: Send,
        E: Fn(&Letter, Option<lettre::Message>) -> T + Sync,
        S: FnMut(T) -> Result<()>,
    {
        let workers = worker_threads();
        let batch_size = if self.print { SLOW_BATCH } else { BATCH };
        let Run {
            campaign,
            group,
            settings,
            rows,
            filters,
            renderer,
            ..
        } = self;
        let feed = Mutex::new(Feed::new(rows, &filters, limit));
        let work = |renderer: &mut Renderer<'c>, row: Result<Row, Diag>| -> Result<T, Vec<Diag>> {
            let row = row.map_err(|d| vec![d])?;
            let (letter, message) = letter(renderer, &settings, &row, with_message)?;
            Ok(encode(&letter, message))
        };
        // The window: see `render_batches`.
        let (order_tx, order_rx) = crossbeam_channel::bounded(workers * WINDOW_PER_WORKER);
        let (diags, unlisted) = std::thread::scope(|scope| {
            for _ in 0..workers {
                let (feed, order, work) = (&feed, order_tx.clone(), &work);
                let renderer = renderer.clone();
                scope.spawn(move || render_batches(feed, order, renderer, batch_size, work));
            }
            drop(order_tx);
            write_in_order(order_rx, sink)
        })?;
        let feed = feed.into_inner().unwrap_or_else(PoisonError::into_inner);
        let count = feed.count;
        report(campaign, group, &filters, feed.dups, diags, unlisted)?;
        if count == 0 {
            return Err(no_letter(campaign, group, &filters));
        }
        Ok(count)
    }
}

/// `Run::letter` with any renderer: each render thread has its own.
fn letter(
    renderer: &mut Renderer,
    settings: &MessageSettings,
    row: &Row,
    with_message: bool,
) -> Result<(Letter, Option<lettre::Message>), Vec<Diag>> {
    renderer.validate(row)?;
    let letter = renderer.render(row).map_err(|d| vec![d])?;
    if !with_message {
        return Ok((letter, None));
    }
    match message::build(&letter, settings) {
        Ok(message) => Ok((letter, Some(message))),
        Err(d) => Err(vec![d.file(renderer.file()).line(row.line)]),
    }
}

/// Threads that render letters: one per core unless `LETTERDRIVE_THREADS` says otherwise (the
/// benchmark uses it to measure the cost per core).
pub fn worker_threads() -> usize {
    std::env::var("LETTERDRIVE_THREADS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, 8)
}

/// A batch's letters, or the problems of its rows, in file order.
type Batch<T> = Vec<Result<T, Vec<Diag>>>;

/// Rows per unit of work handed to a thread: large enough that channel traffic is negligible,
/// small enough that memory stays flat.
const BATCH: usize = 32;
/// For letters that cost far more each (PDF), a few rows are already plenty of work, and each
/// finished letter is tens of kilobytes, so a batch holds few.
const SLOW_BATCH: usize = 4;

/// Batches that may be handed out ahead of the one being written, per render thread: enough
/// that a render thread rarely waits for the writer, few enough that the letters waiting in
/// memory stay well under the memory floor (bench/README.md) at a million letters.
const WINDOW_PER_WORKER: usize = 5;

/// One render thread: takes batches of rows and renders them, until the rows run out or the
/// writing side stops.
///
/// Each batch's letters go back through a channel of its own, and those channels queue in `order`
/// in file order, as a batch is taken and queued under one lock: the writer empties them one after
/// another, however the threads finish. `order` is bounded, and that bound is the window: however
/// far one thread falls behind (a busy neighbour, a page fault), the others can take no more than
/// that many batches ahead of it, so the letters waiting their turn never pile up in memory. A
/// thread that panics drops its batch's sender, which the writer sees; one that finds `order`
/// closed stops.
fn render_batches<'c, T>(
    feed: &Mutex<Feed>,
    order: Sender<Receiver<Batch<T>>>,
    mut renderer: Renderer<'c>,
    batch_size: usize,
    work: &impl Fn(&mut Renderer<'c>, Result<Row, Diag>) -> Result<T, Vec<Diag>>,
) {
    loop {
        let (rows, done) = {
            let mut feed = feed.lock().unwrap_or_else(PoisonError::into_inner);
            let rows = feed.next_batch(batch_size);
            let (done, letters) = crossbeam_channel::bounded(1);
            if rows.is_empty() || order.send(letters).is_err() {
                return;
            }
            (rows, done)
        };
        let letters = rows.into_iter().map(|row| work(&mut renderer, row));
        // The writer may have stopped; then nobody wants these.
        let _ = done.send(letters.collect());
    }
}

/// Hands the finished letters to `sink` in file order, while no problem has been found, and
/// collects the problems: at most `MAX_LISTED`, and how many more there were.
fn write_in_order<T>(
    order: Receiver<Receiver<Batch<T>>>,
    mut sink: impl FnMut(T) -> Result<()>,
) -> Result<(Vec<Diag>, usize)> {
    let mut diags = Vec::new();
    let mut unlisted = 0;
    for batch in order {
        // No batch: its thread panicked, and the scope it ran in raises that panic again.
        let Ok(batch) = batch.recv() else { break };
        for item in batch {
            match item {
                Ok(t) if diags.is_empty() => sink(t)?,
                Ok(_) => {}
                Err(ds) => {
                    for d in ds {
                        push_capped(&mut diags, &mut unlisted, d);
                    }
                }
            }
        }
    }
    Ok((diags, unlisted))
}

/// A run with no letter is an error, so that it replaces no earlier output and sends nothing
/// unnoticed: which `--where` matched nothing, or that the group has no recipients.
pub fn no_letter(campaign: &Campaign, group: &Group, filters: &[Filter]) -> Error {
    if !filters.is_empty() {
        return recipients::no_match(&campaign.source, group, filters);
    }
    let file = campaign.source.display(&group.recipients);
    let diag = Diag::new(format!("group `{}` has no recipients", group.id)).file(file);
    Error::Invalid(diag.hint("add rows to the file, one recipient per row"))
}

/// Every problem of the run in one error, in file order: the rows' own, those found rendering,
/// and duplicate addresses.
fn report(
    campaign: &Campaign,
    group: &Group,
    filters: &[Filter],
    dups: DuplicateTracker,
    mut diags: Vec<Diag>,
    unlisted: usize,
) -> Result<()> {
    let keys = dups.duplicates();
    if !keys.is_empty() {
        let source = &campaign.source;
        diags.extend(recipients::locate_duplicates(
            source, group, &keys, filters,
        )?);
    }
    diags.sort_by_key(|d| d.line);
    // Counted before the list is cut, or the problems cut would not be counted.
    let unlisted = unlisted + diags.len().saturating_sub(MAX_LISTED);
    diags.truncate(MAX_LISTED);
    if unlisted > 0 {
        diags.push(Diag::unlisted(unlisted));
    }
    Error::from_diags(diags)
}

/// The CSV side of `Run::each`, read under a lock by whichever render thread needs rows next.
struct Feed<'f> {
    rows: Recipients,
    filters: &'f [Filter],
    limit: Option<u64>,
    dups: DuplicateTracker,
    /// Targeted rows handed out.
    count: u64,
    done: bool,
}

impl<'f> Feed<'f> {
    fn new(rows: Recipients, filters: &'f [Filter], limit: Option<u64>) -> Feed<'f> {
        Feed {
            rows,
            filters,
            limit,
            dups: DuplicateTracker::default(),
            count: 0,
            done: false,
        }
    }

    /// The next `size` targeted rows and unreadable ones (fewer at the end, none past it).
    fn next_batch(&mut self, size: usize) -> Vec<Result<Row, Diag>> {
        let mut batch = Vec::with_capacity(size);
        while !self.done && batch.len() < size {
            let Some(next) = self.rows.next_row() else {
                self.done = true;
                break;
            };
            if let Ok(row) = &next {
                if !recipients::matches_all(self.filters, row) {
                    continue;
                }
                if self.limit.is_some_and(|l| self.count >= l) {
                    self.done = true;
                    break;
                }
                self.count += 1;
                if let Some(email) = row.get(&self.rows.columns, EMAIL_COLUMN) {
                    self.dups.add(email);
                }
            }
            batch.push(next);
        }
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::source::Source;
    use crate::letter::render::{LetterInputs, Signer};
    use std::time::Duration;

    /// A campaign on disk whose `companies` group has `rows` recipients.
    fn campaign_with(rows: usize) -> tempfile::TempDir {
        let dir = crate::campaign::source::bundled_campaign_on_disk();
        let mut csv =
            String::from("name,title,organization,country,sector,email,salutation,language\n");
        for i in 0..rows {
            csv.push_str(&format!(
                "CEO,CEO,Sample {i},United States,apparel,ceo{i}@sample.example,Dear CEO,en\n"
            ));
        }
        std::fs::write(dir.path().join("recipients/companies.csv"), csv).unwrap();
        dir
    }

    /// A render thread that panics must make the run fail, not hang: the window would otherwise
    /// wait forever for the batch that thread took, and the other threads for the window.
    #[test]
    fn a_panicking_render_thread_fails_the_run_instead_of_hanging() {
        let dir = campaign_with(3000);
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let path = dir.path().to_path_buf();
        std::thread::spawn(move || {
            let campaign = Campaign::load(Source::Dir(path)).unwrap();
            let inputs = LetterInputs {
                signer: Signer {
                    name: "A Signer".into(),
                    email: "signer@example.org".into(),
                    ..Default::default()
                },
                notes: Default::default(),
                edits: Default::default(),
                date: crate::clock::now().to_zoned(jiff::tz::TimeZone::UTC),
            };
            let target = Target {
                group: "companies".into(),
                filters: Vec::new(),
                limit: None,
            };
            let run = Run::open(&campaign, &target, &inputs).unwrap();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run.each(
                    None,
                    false,
                    |letter, _| {
                        if letter.email == "ceo5@sample.example" {
                            panic!("a render thread panicked");
                        }
                    },
                    |_| Ok(()),
                )
            }));
            let _ = done_tx.send(r.is_err());
        });
        // A bound on a hang, not a speed check.
        assert_eq!(done_rx.recv_timeout(Duration::from_secs(60)), Ok(true));
    }
}
