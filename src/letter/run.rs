//! The one pipeline every command shares: stream a group's rows, keep the targeted ones, validate,
//! render, and hand each letter on. Problems are collected, not fatal, so a run reports every bad
//! row at once; once one is seen, nothing more is handed on, so no output is half made.

use std::sync::{Condvar, Mutex};

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

pub struct Run<'c> {
    pub campaign: &'c Campaign,
    pub group: &'c Group,
    pub settings: MessageSettings,
    pub rows: Recipients,
    pub filters: Vec<Filter>,
    pub renderer: Renderer<'c>,
    /// The letters become PDFs (`Run::print`).
    print: bool,
    check: recipients::RowCheck,
    inputs: LetterInputs,
}

/// What validating, rendering and building one row's letter reads, shared by `Run::letter` and
/// the render threads of `Run::each`.
struct RowContext<'a> {
    check: &'a recipients::RowCheck,
    file: &'a str,
    settings: &'a MessageSettings,
}

impl RowContext<'_> {
    fn letter(
        &self,
        renderer: &mut Renderer,
        row: &Row,
        with_message: bool,
    ) -> Result<(Letter, Option<lettre::Message>), Vec<Diag>> {
        let address = recipients::validate_row(row, self.check, self.file)?;
        let letter = renderer.render(row).map_err(|d| vec![d])?;
        if !with_message {
            return Ok((letter, None));
        }
        // The address validation parsed is the one the message goes to: parsing it again was a
        // sixtieth of the cost of a letter.
        let message = message::build_to(&letter, address, self.settings).map_err(|d| {
            vec![Diag {
                file: Some(self.file.to_string()),
                line: Some(row.line),
                ..d
            }]
        })?;
        Ok((letter, Some(message)))
    }
}

impl<'c> Run<'c> {
    pub fn open(campaign: &'c Campaign, target: &Target, inputs: &LetterInputs) -> Result<Run<'c>> {
        let group = campaign.group(&target.group)?;
        let rows = Recipients::open(&campaign.source, group)?;
        let filters = Filter::parse_all(&target.filters, &rows.columns, &rows.file)?;
        let renderer = Renderer::new(campaign, group, rows.columns.clone(), inputs)?;
        let settings = MessageSettings::new(
            &inputs.signer,
            inputs.date.timestamp().into(),
            &campaign.id,
            &group.id,
        )?;
        Ok(Run {
            campaign,
            group,
            settings,
            check: recipients::RowCheck::new(&rows.columns, group),
            rows,
            filters,
            renderer,
            print: false,
            inputs: inputs.clone(),
        })
    }

    /// The letters are to be printed (PDF): they carry their postal blocks, and as each takes a
    /// millisecond and tens of kilobytes, render threads take a few rows at a time.
    pub fn print(&mut self) {
        self.print = true;
    }

    /// Validate and render one row, and build its message when `with_message` is set.
    pub fn letter(
        &mut self,
        row: &Row,
        with_message: bool,
    ) -> Result<(Letter, Option<lettre::Message>), Vec<Diag>> {
        let context = RowContext {
            check: &self.check,
            file: &self.rows.file,
            settings: &self.settings,
        };
        context.letter(&mut self.renderer, row, with_message)
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
        let mut renderers = vec![self.renderer];
        for _ in 1..workers {
            renderers.push(Renderer::new(
                self.campaign,
                self.group,
                self.rows.columns.clone(),
                &self.inputs,
            )?);
        }
        for renderer in &mut renderers {
            renderer.postal = self.print;
        }
        let batch_size = if self.print { SLOW_BATCH } else { BATCH };
        let Run {
            campaign,
            group,
            settings,
            rows,
            filters,
            check,
            ..
        } = self;
        let file = rows.file.clone();
        let window = Window::new(workers * WINDOW_PER_WORKER);
        let feed = Mutex::new(Feed::new(rows, &filters, limit));
        let context = RowContext {
            check: &check,
            file: &file,
            settings: &settings,
        };
        let (diags, extra) = {
            let worker = Worker {
                feed: &feed,
                window: &window,
                context: &context,
                encode: &encode,
                with_message,
                batch_size,
            };
            std::thread::scope(|scope| {
                let (done_tx, done_rx) = crossbeam_channel::bounded(workers * WINDOW_PER_WORKER);
                for renderer in renderers {
                    let done_tx = done_tx.clone();
                    scope.spawn(move || worker.run(renderer, done_tx));
                }
                drop(done_tx);
                in_order(done_rx, &window, sink)
            })?
        };
        let feed = feed.into_inner().unwrap_or_else(|e| e.into_inner());
        let count = feed.count;
        report(campaign, group, &filters, feed, diags, extra)?;
        Ok(count)
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

/// A finished batch: its number, and each row's result.
type Finished<T> = (u64, Vec<Result<T, Vec<Diag>>>);

/// What one render thread shares with the others.
struct Worker<'a, 'f, E> {
    feed: &'a Mutex<Feed<'f>>,
    window: &'a Window,
    context: &'a RowContext<'a>,
    encode: &'a E,
    with_message: bool,
    batch_size: usize,
}

impl<E> Clone for Worker<'_, '_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Worker<'_, '_, E> {}

impl<E> Worker<'_, '_, E> {
    /// Takes batches of rows, renders and encodes them, and hands them back numbered, until the
    /// rows run out or the writing side stops.
    fn run<T>(self, mut renderer: Renderer, done: crossbeam_channel::Sender<Finished<T>>)
    where
        E: Fn(&Letter, Option<lettre::Message>) -> T,
    {
        // A thread that panics never returns the batch it took: without this, the window would
        // wait for that batch forever, and so would everything else.
        let _close = CloseOnPanic(self.window);
        loop {
            // Its own statement: in a `while let`, the lock would be held while the batch is
            // rendered.
            let next = self
                .feed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .next_batch(self.batch_size);
            let Some((seq, batch)) = next else {
                return;
            };
            if !self.window.admit(seq) {
                return;
            }
            let out = batch
                .iter()
                .map(|row| {
                    let (letter, message) =
                        self.context.letter(&mut renderer, row, self.with_message)?;
                    Ok((self.encode)(&letter, message))
                })
                .collect();
            if done.send((seq, out)).is_err() {
                return;
            }
        }
    }
}

/// Hands the finished letters to `sink` in file order, while no problem has been found, and
/// collects the problems: at most `MAX_LISTED`, and how many more there were.
fn in_order<T>(
    done: crossbeam_channel::Receiver<Finished<T>>,
    window: &Window,
    mut sink: impl FnMut(T) -> Result<()>,
) -> Result<(Vec<Diag>, usize)> {
    // Batches arrive out of order; early ones wait for their turn. The window bounds how many.
    let _closing = CloseOnDrop(window);
    let mut pending = std::collections::BTreeMap::new();
    let mut next = 0u64;
    let mut diags: Vec<Diag> = Vec::new();
    let mut extra = 0usize;
    for (seq, batch) in done.iter() {
        pending.insert(seq, batch);
        while let Some(batch) = pending.remove(&next) {
            next += 1;
            window.advance(next);
            for item in batch {
                match item {
                    Ok(t) if diags.is_empty() => sink(t)?,
                    Ok(_) => {}
                    Err(ds) => {
                        for d in ds {
                            if diags.len() < MAX_LISTED {
                                diags.push(d);
                            } else {
                                extra += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    Ok((diags, extra))
}

/// Every problem of the run in one error, in file order: the rows' own, those found rendering,
/// and duplicate addresses.
fn report(
    campaign: &Campaign,
    group: &Group,
    filters: &[Filter],
    feed: Feed,
    mut diags: Vec<Diag>,
    extra: usize,
) -> Result<()> {
    diags.extend(feed.diags);
    let dup_keys = feed.dups.duplicates();
    if !dup_keys.is_empty() {
        diags.extend(recipients::locate_duplicates(
            &campaign.source,
            group,
            &dup_keys,
            filters,
        )?);
    }
    diags.sort_by_key(|d| d.line);
    // Counted before the list is cut, or the problems cut would not be counted.
    let extra = extra + feed.unlisted + diags.len().saturating_sub(MAX_LISTED);
    diags.truncate(MAX_LISTED);
    if extra > 0 {
        diags.push(Diag::unlisted(extra));
    }
    Error::from_diags(diags)
}

/// The CSV side of `Run::each`: the rows read so far, what was found in them, and the batches
/// handed out, read under a lock by whichever render thread needs rows next.
struct Feed<'f> {
    rows: Recipients,
    filters: &'f [Filter],
    limit: Option<u64>,
    email_idx: Option<usize>,
    /// Rows that could not be read; at most `MAX_LISTED`, and how many more there were.
    diags: Vec<Diag>,
    unlisted: usize,
    dups: DuplicateTracker,
    /// Targeted rows handed out.
    count: u64,
    /// The next batch's number.
    seq: u64,
    done: bool,
}

impl<'f> Feed<'f> {
    fn new(rows: Recipients, filters: &'f [Filter], limit: Option<u64>) -> Feed<'f> {
        Feed {
            email_idx: rows.columns.get(EMAIL_COLUMN),
            rows,
            filters,
            limit,
            diags: Vec::new(),
            unlisted: 0,
            dups: DuplicateTracker::default(),
            count: 0,
            seq: 0,
            done: false,
        }
    }

    /// The next `size` targeted rows (fewer at the end) and the batch's number, or `None` when
    /// there are none left.
    fn next_batch(&mut self, size: usize) -> Option<(u64, Vec<Row>)> {
        let mut batch = Vec::with_capacity(size);
        while !self.done && batch.len() < size {
            let row = match self.rows.next_row() {
                None => {
                    self.done = true;
                    break;
                }
                Some(Err(d)) => {
                    if self.diags.len() < MAX_LISTED {
                        self.diags.push(d);
                    } else {
                        self.unlisted += 1;
                    }
                    continue;
                }
                Some(Ok(row)) => row,
            };
            if !recipients::matches_all(self.filters, &row) {
                continue;
            }
            if self.limit.is_some_and(|l| self.count >= l) {
                self.done = true;
                break;
            }
            self.count += 1;
            if let Some(email) = self.email_idx.and_then(|i| row.record.get(i)) {
                self.dups.add(email);
            }
            batch.push(row);
        }
        if batch.is_empty() {
            return None;
        }
        self.seq += 1;
        Some((self.seq - 1, batch))
    }
}

/// Rows per unit of work handed to a thread: large enough that channel traffic is negligible,
/// small enough that memory stays flat.
const BATCH: usize = 32;
/// For letters that take a millisecond each (PDF), a few rows are already plenty of work, and
/// each finished letter is tens of kilobytes, so a batch holds few.
const SLOW_BATCH: usize = 4;

/// Batches that may be handed out ahead of the one being written, per render thread: enough
/// that a render thread rarely waits for the writer, few enough that the letters waiting in
/// memory stay well under the memory floor (bench/README.md) at a million letters.
const WINDOW_PER_WORKER: usize = 5;

/// How far ahead of the batch being written render threads may render batches (each may hold one
/// more, taken and waiting to be let in). Without it, a render
/// thread held up by the machine (a busy neighbour, a page fault) would let the others run ahead
/// and their finished letters pile up in memory, waiting their turn: tens of megabytes over a
/// million rows on a busy machine.
struct Window {
    /// The next batch to be written, and whether the writing side has stopped.
    state: Mutex<(u64, bool)>,
    moved: Condvar,
    size: u64,
}

impl Window {
    fn new(size: usize) -> Window {
        Window {
            state: Mutex::new((0, false)),
            moved: Condvar::new(),
            size: size as u64,
        }
    }

    /// Wait until batch `seq` is within the window; false once the writing side has stopped.
    fn admit(&self, seq: u64) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while seq >= state.0 + self.size && !state.1 {
            state = self.moved.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        !state.1
    }

    fn advance(&self, next: u64) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0 = next;
        self.moved.notify_all();
    }

    fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.moved.notify_all();
    }
}

/// Closes the window if a render thread unwinds.
struct CloseOnPanic<'a>(&'a Window);

impl Drop for CloseOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.close();
        }
    }
}

/// Closes the window however the writing side ends, so no render thread waits for it forever.
struct CloseOnDrop<'a>(&'a Window);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
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
                personal_note: String::new(),
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
