//! Recipient lists: CSV read one row at a time, every problem reported with file and line, and
//! `--where` filters checked against the header.

use std::collections::{BinaryHeap, HashMap};
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, BufReader, Read};
use std::str::FromStr;

use crate::campaign::source::Source;
use crate::campaign::NAME_COLUMN;
use crate::campaign::{too_long, Group, EMAIL_COLUMN, LANGUAGE_COLUMN, MAX_EMAIL, MAX_NAME};
use crate::error::{Diag, Error, Result};

/// The file as csv reads it, its `"` bytes counted on the way: an odd count means a quoted field
/// never closed, which csv accepts silently by taking the rest of the file into that field. A CR
/// not followed by LF (old Mac line ends) is read as LF: csv ends a row there too, but counts
/// lines by LFs alone, so every row of such a file would be named line 1.
struct CountQuotes<R> {
    inner: R,
    quotes: u64,
    /// The byte after a CR that ended the last read, read early to tell CRLF from CR.
    peeked: Option<u8>,
}

impl<R: Read> Read for CountQuotes<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(first) = buf.first_mut() else {
            return Ok(0);
        };
        let mut n = 0;
        if let Some(b) = self.peeked.take() {
            *first = b;
            n = 1;
        }
        n += self.inner.read(&mut buf[n..])?;
        if n > 0 && buf[n - 1] == b'\r' {
            let mut next = [0u8];
            if self.inner.read(&mut next)? == 1 {
                self.peeked = Some(next[0]);
            }
        }
        for i in 0..n {
            let next = if i + 1 < n {
                Some(buf[i + 1])
            } else {
                self.peeked
            };
            if buf[i] == b'\r' && next != Some(b'\n') {
                buf[i] = b'\n';
            }
        }
        self.quotes += buf[..n].iter().filter(|&&b| b == b'"').count() as u64;
        Ok(n)
    }
}

/// The header row.
#[derive(Debug, Clone)]
pub struct Columns {
    pub names: Vec<String>,
}

impl Columns {
    /// The column `name` names, its case aside: spreadsheets export `Name` and `Email` as often as
    /// `name` and `email`. The header never holds two names that differ only in case.
    pub fn get(&self, name: &str) -> Option<usize> {
        let exact = self.names.iter().position(|n| n == name);
        // Looked up for every row: the ASCII comparison first, as it rejects on length at once.
        let caseless = |n: &String| {
            n.eq_ignore_ascii_case(name)
                || (!(n.is_ascii() && name.is_ascii()) && same_name(n, name))
        };
        exact.or_else(|| self.names.iter().position(caseless))
    }
    pub fn list(&self) -> String {
        self.names.join(", ")
    }
}

/// Whether two column names are the same but for case.
pub fn same_name(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// The separator of a CSV file whose group does not set `delimiter`: whichever of `,`, `;` and
/// tab the header line holds most of outside quotes, `,` when none. Spreadsheets in much of
/// Europe export `;`, and "text" exports use tabs.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let mut quoted = false;
    let mut counts = [(0, b','), (0, b';'), (0, b'\t')];
    for &b in line {
        quoted ^= b == b'"';
        if let Some(c) = counts.iter_mut().find(|(_, d)| *d == b && !quoted) {
            c.0 += 1;
        }
    }
    // The first of the largest counts: a tie, or no separator at all, keeps `,`.
    let most = counts.iter().map(|c| c.0).max().unwrap_or(0);
    counts.iter().find(|c| c.0 == most).map_or(b',', |c| c.1)
}

/// The separator a group sets with `delimiter`: one ASCII character other than a quote or a line
/// end (`"tab"` is accepted for a tab), or `None` to detect it from the header line.
fn group_delimiter(source: &Source, group: &Group) -> Result<Option<u8>> {
    let Some(d) = group.delimiter.as_deref() else {
        return Ok(None);
    };
    match d.as_bytes() {
        _ if d.eq_ignore_ascii_case("tab") => Ok(Some(b'\t')),
        [b] if b.is_ascii() && !matches!(b, b'"' | b'\n' | b'\r') => Ok(Some(*b)),
        _ => Err(Error::Invalid(
            Diag::new(format!(
                "`delimiter` must be one character, such as \",\", \";\" or \"\\t\", not `{d}`"
            ))
            .file(source.display(crate::campaign::source::CAMPAIGN_FILE))
            .field(format!("groups.{}.delimiter", group.id))
            .hint("or leave it out: letterdrive detects `,`, `;` and tab from the header line"),
        )),
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based position among the data rows of the file (the header is not counted).
    pub index: u64,
    /// Line of the file where the row starts.
    pub line: u64,
    pub record: csv::StringRecord,
}

impl Row {
    pub fn get<'a>(&'a self, columns: &Columns, name: &str) -> Option<&'a str> {
        columns.get(name).and_then(|i| self.record.get(i))
    }
}

pub struct Recipients {
    pub file: String,
    pub columns: Columns,
    reader: csv::Reader<CountQuotes<BufReader<Box<dyn Read + Send>>>>,
    /// The field separator, as set for the group or detected.
    delimiter: u8,
    /// 1 when the header row ends in CRLF (a file keeps to one kind of line end), else 0, added to
    /// every row's line. csv counts a line when it consumes an LF, and consumes the LF of a CRLF
    /// only when it starts on the next row (BurntSushi/rust-csv#395): without this, every row of a
    /// file with Windows line ends, as spreadsheets save them, would be named a line early.
    crlf: u64,
    /// Rows read, readable or not.
    rows: u64,
    /// Where a quote never closed most likely opened: the first row with the wrong number of
    /// fields (the quote took in what follows), else the last one across lines, else the last.
    misshapen: Option<u64>,
    multiline: Option<u64>,
    last_line: u64,
    done: bool,
}

impl Recipients {
    pub fn open(source: &Source, group: &Group) -> Result<Recipients> {
        let file = source.display(&group.recipients);
        let set = group_delimiter(source, group)?;
        let mut inner = BufReader::new(source.open(&group.recipients)?);
        let delimiter = match set {
            Some(d) => d,
            // Peeked, not consumed: the header line is in the first buffer of any real file.
            None => sniff_delimiter(inner.fill_buf().map_err(|e| Error::io(&file, e))?),
        };
        let raw = CountQuotes {
            inner,
            quotes: 0,
            peeked: None,
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .delimiter(delimiter)
            .from_reader(raw);
        let names: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(String::from).collect(),
            Err(e) => return Err(Error::Invalid(csv_diag(&file, &e, &[], 0))),
        };
        let at_header = |message: String| Diag::new(message).file(&file).line(1);
        if names.len() <= 1 && names.iter().all(String::is_empty) {
            let example = group.required.join(",");
            return Err(Error::Invalid(
                at_header("the file is empty: it has no header row".into()).hint(format!(
                    "the first line must name the columns, for example: {example}"
                )),
            ));
        }
        let mut diags = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if let Some((_, _, c)) = crate::campaign::control_char(name) {
                let d = crate::campaign::control_diag(c).file(&file).line(1);
                let message = format!("column {} of the header row {}", i + 1, d.message);
                diags.push(Diag { message, ..d });
            } else if name.is_empty() {
                diags.push(
                    at_header(format!("column {} of the header row has no name", i + 1))
                        .hint("give every column a name, or remove the empty column"),
                );
            } else if names[..i].contains(name) {
                diags.push(
                    at_header(format!("column `{name}` appears twice in the header row"))
                        .hint("rename or remove one of them"),
                );
            } else if let Some(other) = names[..i].iter().find(|n| same_name(n, name)) {
                let message = format!("columns `{other}` and `{name}` differ only in case, so it is ambiguous which one `{}` means", name.to_lowercase());
                diags.push(at_header(message).hint("rename or remove one of them"));
            }
        }
        let has = |c: &String| names.iter().any(|n| same_name(n, c));
        for col in group.required.iter().filter(|c| !has(c)) {
            let columns = names.join(", ");
            diags.push(
                at_header(format!("missing required column `{col}`")).hint(format!(
                    "add `{col}` to the header row (columns now: {columns})"
                )),
            );
        }
        Error::from_diags(diags)?;
        Ok(Recipients {
            file,
            columns: Columns { names },
            crlf: u64::from(reader.position().line() == 1),
            reader,
            delimiter,
            rows: 0,
            misshapen: None,
            multiline: None,
            last_line: 1,
            done: false,
        })
    }

    /// The next row, or the problem that made it unreadable. Reading goes on after an error, so a
    /// caller can report every bad row in one pass.
    pub fn next_row(&mut self) -> Option<Result<Row, Diag>> {
        if self.done {
            return None;
        }
        let mut record = csv::StringRecord::new();
        match self.reader.read_record(&mut record) {
            Ok(true) => {
                self.rows += 1;
                self.last_line = record.position().map_or(0, |p| p.line()) + self.crlf;
                if record.as_slice().contains('\n') {
                    self.multiline = Some(self.last_line);
                }
                // A line break inside a quoted field is an LF alone, as a letter writes it.
                if record.as_slice().contains('\r') {
                    record = record.iter().map(|f| f.replace("\r\n", "\n")).collect();
                }
                Some(Ok(Row {
                    index: self.rows,
                    line: self.last_line,
                    record,
                }))
            }
            Ok(false) => {
                self.done = true;
                self.end()
            }
            Err(e) => {
                match e.kind() {
                    csv::ErrorKind::Io(_) => self.done = true,
                    csv::ErrorKind::UnequalLengths { pos: Some(p), .. } => {
                        self.rows += 1;
                        self.last_line = p.line() + self.crlf;
                        self.misshapen.get_or_insert(self.last_line);
                    }
                    _ => self.rows += 1,
                }
                let d = csv_diag(&self.file, &e, &self.columns.names, self.crlf);
                Some(Err(self.separator_hint(d)))
            }
        }
    }

    /// In a file not separated by commas, a hint about commas names its own separator.
    fn separator_hint(&self, mut d: Diag) -> Diag {
        if self.delimiter != b',' {
            let name = match self.delimiter {
                b'\t' => "tabs".to_string(),
                b => format!("`{}`", b as char),
            };
            let hint = format!("this file is separated by {name}; quote fields that contain one, and close every opening quote");
            d.hint = d.hint.map(|h| {
                if h.starts_with("quote fields") {
                    hint
                } else {
                    h
                }
            });
        }
        d
    }

    /// What the end of the file shows: a quote never closed, or no rows at all.
    fn end(&self) -> Option<Result<Row, Diag>> {
        let problem = if self.reader.get_ref().quotes % 2 == 1 {
            Diag::new("unbalanced quotes: a quoted field opened in this row is never closed")
                .file(&self.file)
                .line(self.misshapen.or(self.multiline).unwrap_or(self.last_line))
                .hint(
                    "add the missing closing `\"`; a quote inside a quoted field is written `\"\"`",
                )
        } else if self.rows == 0 {
            Diag::new("the file has a header row but no recipients")
                .file(&self.file)
                .line(2)
                .hint("add at least one recipient row below the header")
        } else {
            return None;
        };
        Some(Err(problem))
    }
}

/// A csv error as a problem of `file`; `crlf` is added to data rows' lines (see `Recipients`).
fn csv_diag(file: &str, e: &csv::Error, columns: &[String], crlf: u64) -> Diag {
    let d = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            let d = match columns.get(err.field()) {
                Some(name) => Diag::new("not valid UTF-8").field(name),
                None => Diag::new(format!("field {} is not valid UTF-8", err.field() + 1)),
            };
            d.hint("save the file with UTF-8 encoding (a byte-order mark is fine; UTF-16 and Latin-1 are not)")
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Diag::new(format!(
            "this row has {len} fields but the header has {expected_len}"
        ))
        .hint("quote fields that contain commas (\"Paris, France\") and close every opening quote"),
        csv::ErrorKind::Io(io) => Diag::new(format!("cannot read the file: {io}")),
        _ => Diag::new(e.to_string()),
    };
    match e.position() {
        Some(p) => d.file(file).line(p.line() + crlf),
        None => d.file(file),
    }
}

/// `--where COLUMN=VALUE[,VALUE...]`: a row is kept when its value is one of the values.
#[derive(Debug, Clone)]
pub struct Filter {
    column: String,
    /// The values as given, for messages.
    given: String,
    idx: usize,
    values: Vec<String>,
}

impl Filter {
    pub fn parse_all(specs: &[String], columns: &Columns, file: &str) -> Result<Vec<Filter>> {
        specs
            .iter()
            .map(|spec| {
                let Some((col, vals)) = spec.split_once('=') else {
                    return Err(Error::Usage(
                        Diag::new(format!("--where `{spec}` has no `=`"))
                            .hint("write --where COLUMN=VALUE, for example --where country=Japan"),
                    ));
                };
                let col = col.trim();
                let idx = columns.get(col).ok_or_else(|| {
                    Error::Usage(
                        Diag::new(format!("--where: unknown column `{col}`"))
                            .file(file)
                            .line(1)
                            .hint(format!("columns in this file: {}", columns.list())),
                    )
                })?;
                Ok(Filter {
                    column: col.to_string(),
                    given: vals.trim().to_string(),
                    idx,
                    values: vals.split(',').map(|v| v.trim().to_lowercase()).collect(),
                })
            })
            .collect()
    }

    pub fn matches(&self, row: &Row) -> bool {
        let v = row.record.get(self.idx).unwrap_or("").to_lowercase();
        self.values.contains(&v)
    }
}

pub fn matches_all(filters: &[Filter], row: &Row) -> bool {
    filters.iter().all(|f| f.matches(row))
}

/// Values listed in a "matches no recipient" message; a column with more is cut short.
const VALUES_LISTED: usize = 25;

/// Why `filters` (at least one) match no recipient of `group`: the first filter none of whose
/// values occurs among the rows the other filters keep, with the values that do (and their
/// counts), and the nearest of them to each value asked for.
pub fn no_match(source: &Source, group: &Group, filters: &[Filter]) -> Error {
    let Some(counts) = Recipients::open(source, group).ok().map(|mut rows| {
        let mut counts = vec![HashMap::<String, u64>::new(); filters.len()];
        let readable = std::iter::from_fn(|| rows.next_row()).flatten();
        for row in readable {
            for (i, f) in filters.iter().enumerate() {
                let others = filters.iter().enumerate().filter(|(j, _)| *j != i);
                if others.into_iter().all(|(_, g)| g.matches(&row)) {
                    let value = row.record.get(f.idx).unwrap_or("").to_string();
                    *counts[i].entry(value).or_default() += 1;
                }
            }
        }
        counts
    }) else {
        return Error::Usage(Diag::new(format!(
            "--where matches no recipient of group `{}`",
            group.id
        )));
    };
    let missing = |(f, c): &(&Filter, &HashMap<String, u64>)| {
        !c.keys().any(|v| f.values.contains(&v.to_lowercase()))
    };
    let pairs: Vec<_> = filters.iter().zip(&counts).collect();
    let (filter, counts) = pairs.iter().find(|p| missing(p)).unwrap_or(&pairs[0]);
    let (col, id, asked) = (&filter.column, &group.id, &filter.given);
    let mut values: Vec<(&String, &u64)> = counts.iter().filter(|(v, _)| !v.is_empty()).collect();
    values.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let listed: Vec<String> = values
        .iter()
        .take(VALUES_LISTED)
        .map(|(v, n)| format!("{v} ({n})"))
        .collect();
    let more = values.len().saturating_sub(VALUES_LISTED);
    let more = if more > 0 {
        format!(", and {more} more")
    } else {
        String::new()
    };
    let mut message = format!("--where {col}={asked} matches no recipient of group `{id}`");
    if filters.len() > 1 {
        message.push_str(" with the other --where conditions");
    }
    let hint = match values
        .iter()
        .map(|(v, _)| v.as_str())
        .filter_map(|v| {
            filter
                .values
                .iter()
                .map(|w| (similarity(w, v), v))
                .max_by(|a, b| a.0.total_cmp(&b.0))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
    {
        Some((score, v)) if score >= 0.8 => format!("did you mean --where \"{col}={v}\"? "),
        _ => String::new(),
    };
    let has = if listed.is_empty() {
        "no values".to_string()
    } else {
        listed.join(", ")
    };
    let diag = Diag::new(message).file(source.display(&group.recipients));
    Error::Usage(diag.hint(format!("{hint}`{col}` has: {has}{more}")))
}

/// How alike a value asked for (lowercase) and one the column has are, from 0 to 1: 1 when the
/// asked one is the other's initials (`uk`, United Kingdom) or the start of one of its words.
fn similarity(asked: &str, value: &str) -> f64 {
    let lower = value.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let initials: String = words.iter().filter_map(|w| w.chars().next()).collect();
    let starts = asked.chars().count() >= 3 && words.iter().any(|w| w.starts_with(asked));
    // `usa` for United States as well as `us`.
    let abbreviates =
        initials.len() > 1 && asked.starts_with(&initials) && asked.len() <= initials.len() + 1;
    if abbreviates || starts {
        return 1.0;
    }
    strsim::jaro_winkler(asked, &lower)
}

/// Every problem of a row that would stop its letter from being built or sent safely.
pub fn validate_row(
    row: &Row,
    columns: &Columns,
    group: &Group,
    file: &str,
) -> Result<(), Vec<Diag>> {
    let mut diags = Vec::new();
    let mut problem = |col: &str, message: String, hint: &str| {
        let d = Diag::new(message).file(file).line(row.line);
        diags.push(d.field(col).hint(hint));
    };
    let field = |col: &str| row.get(columns, col);
    for col in &group.required {
        if field(col).is_some_and(str::is_empty) {
            let hint = "fill it in, or remove the row";
            problem(col, "required field is empty".into(), hint);
        }
    }
    for col in [NAME_COLUMN, EMAIL_COLUMN] {
        if field(col).is_some_and(|v| v.contains(['\r', '\n'])) {
            let message = "contains a line break, which a mail header cannot hold".into();
            let hint = "put the value on one line (line breaks here could inject mail headers)";
            problem(col, message, hint);
        }
    }
    let tag = field(LANGUAGE_COLUMN).unwrap_or("");
    if !tag.is_empty() && !crate::campaign::is_language_tag(tag) {
        let message = format!("`{tag}` is not a language tag");
        let hint = "write a BCP 47 tag such as en, fr, es or pt-BR, or leave it empty for the default language";
        problem(LANGUAGE_COLUMN, message, hint);
    }
    let email = field(EMAIL_COLUMN).unwrap_or("");
    if !email.is_empty()
        && !email.contains(['\r', '\n'])
        && lettre::Address::from_str(email).is_err()
    {
        let message = format!("`{email}` is not a valid e-mail address");
        let hint = "write it as name@domain, one address per row";
        problem(EMAIL_COLUMN, message, hint);
    }
    for (col, max) in [(NAME_COLUMN, MAX_NAME), (EMAIL_COLUMN, MAX_EMAIL)] {
        let length = field(col).map_or(0, |v| v.chars().count());
        if let Some(d) = too_long("the value", length, max) {
            diags.push(d.file(file).line(row.line).field(col));
        }
    }
    for (col, value) in columns.names.iter().zip(row.record.iter()) {
        if let Some((line, _, c)) = crate::campaign::control_char(value) {
            let d = crate::campaign::control_diag(c).file(file);
            diags.push(d.line(row.line + line - 1).field(col));
        }
    }
    if diags.is_empty() {
        Ok(())
    } else {
        Err(diags)
    }
}

/// What `render` and `send` say of the `n` of `total` targeted recipients whose addresses are
/// placeholders.
pub fn placeholders_said(n: u64, total: u64) -> String {
    let are = if n == 1 {
        "is a placeholder"
    } else {
        "are placeholders"
    };
    format!("{n} of {total} addresses {are} on reserved example domains (such as example.org): letters to them reach no one")
}

/// Reserved domains (RFC 2606, RFC 6761) mark addresses a campaigner must still replace.
pub fn is_placeholder_address(email: &str) -> bool {
    const RESERVED: [&str; 7] = [
        "example.org",
        "example.com",
        "example.net",
        "example",
        "invalid",
        "test",
        "localhost",
    ];
    let domain = email.rsplit('@').next().unwrap_or("");
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    // The domain itself or any domain it is under.
    std::iter::successors(Some(domain.as_str()), |d| {
        d.split_once('.').map(|(_, up)| up)
    })
    .any(|d| RESERVED.contains(&d))
}

/// Finds repeated addresses in 6 bytes per row, not the rows themselves: at a million rows that is
/// 6 MiB of a memory budget of 20. The keys live in fixed-size chunks rather than one growing
/// vector, since growing a vector copies it, which for a moment needs half as much memory again.
///
/// A key is 48 bits of a hash: at a million rows, two different addresses share one about once in
/// 500 runs, and then the second pass (`locate_duplicates`), which compares the addresses
/// themselves, finds nothing to report.
#[derive(Default)]
pub struct DuplicateTracker {
    /// Full chunks, each sorted.
    full: Vec<Box<[Key]>>,
    current: Vec<Key>,
}

pub type Key = [u8; 6];

/// Keys per chunk: 384 KiB.
const CHUNK: usize = 1 << 16;

/// An address as one mailbox, however it is spelt: without the space around it, lowercase, the
/// local part in Unicode's composed form (NFC: `é` one character, not `e` and an accent) and the
/// domain as DNS sees it (IDNA: `bücher.example` is `xn--bcher-kva.example`).
pub fn normalized_address(email: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let email = email.trim();
    // Both forms leave ASCII as it is, but lowercase: the common case, kept cheap.
    if email.is_ascii() {
        return email.to_ascii_lowercase();
    }
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let local: String = local.nfc().collect::<String>().to_lowercase();
    let domain = idna::domain_to_ascii(domain)
        .unwrap_or_else(|_| domain.nfc().collect::<String>().to_lowercase());
    format!("{local}@{domain}")
}

/// The key of an address, however it is spelt (see [`normalized_address`]).
pub fn address_key(email: &str) -> Key {
    let mut h = std::hash::DefaultHasher::new();
    normalized_address(email).hash(&mut h);
    let [_, _, key @ ..] = h.finish().to_be_bytes();
    key
}

impl DuplicateTracker {
    pub fn add(&mut self, email: &str) {
        if self.current.capacity() == 0 {
            self.current.reserve_exact(CHUNK);
        }
        self.current.push(address_key(email));
        if self.current.len() == CHUNK {
            let mut chunk = std::mem::take(&mut self.current).into_boxed_slice();
            chunk.sort_unstable();
            self.full.push(chunk);
        }
    }

    /// Keys seen more than once, sorted.
    pub fn duplicates(self) -> Vec<Key> {
        let mut chunks = self.full;
        let mut current = self.current;
        current.sort_unstable();
        chunks.push(current.into_boxed_slice());
        // Merged, the sorted chunks give equal keys one after another. The heap holds the next
        // key of each chunk, with where it is.
        let mut next: BinaryHeap<_> = (0..chunks.len())
            .filter(|&c| !chunks[c].is_empty())
            .map(|c| std::cmp::Reverse((chunks[c][0], c, 0)))
            .collect();
        let mut dups: Vec<Key> = Vec::new();
        let mut last = None;
        while let Some(std::cmp::Reverse((key, c, i))) = next.pop() {
            if last == Some(key) && dups.last() != Some(&key) {
                dups.push(key);
            }
            last = Some(key);
            if let Some(&k) = chunks[c].get(i + 1) {
                next.push(std::cmp::Reverse((k, c, i + 1)));
            }
        }
        dups
    }
}

/// Second pass, only when duplicates exist: name every line that repeats an earlier address.
pub fn locate_duplicates(
    source: &Source,
    group: &Group,
    keys: &[Key],
    filters: &[Filter],
) -> Result<Vec<Diag>> {
    let mut rows = Recipients::open(source, group)?;
    let mut first: HashMap<String, u64> = HashMap::new();
    let mut diags = Vec::new();
    while let Some(row) = rows.next_row() {
        let Ok(row) = row else { continue };
        let email = row.get(&rows.columns, EMAIL_COLUMN).unwrap_or("");
        if !matches_all(filters, &row) || keys.binary_search(&address_key(email)).is_err() {
            continue;
        }
        match first.get(&normalized_address(email)) {
            Some(line) => diags.push(
                Diag::new(format!(
                    "duplicate recipient `{email}`, already on line {line}"
                ))
                .file(&rows.file)
                .line(row.line)
                .field(EMAIL_COLUMN)
                .hint("remove one of the rows, so nobody gets the same letter twice"),
            ),
            None => {
                first.insert(normalized_address(email), row.line);
            }
        }
    }
    Ok(diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_whatever_their_case() {
        let columns = Columns {
            names: vec!["Name".into(), "EMAIL".into(), "Élu".into(), "role".into()],
        };
        assert_eq!(columns.get("name"), Some(0));
        assert_eq!(columns.get("email"), Some(1));
        assert_eq!(columns.get("élu"), Some(2));
        assert_eq!(columns.get("role"), Some(3));
        assert_eq!(columns.get("country"), None);
    }

    #[test]
    fn the_separator_is_read_off_the_header_line() {
        assert_eq!(sniff_delimiter(b"name,email\na;b;c;d\n"), b',');
        assert_eq!(sniff_delimiter(b"Name;Email;\"Ward, north\"\r\n"), b';');
        assert_eq!(sniff_delimiter(b"name\temail\tward\n"), b'\t');
        assert_eq!(sniff_delimiter(b"email\n"), b',');
        assert_eq!(sniff_delimiter(b"a;b,c\n"), b',');
    }
    use crate::campaign::Campaign;

    /// The bundled campaign on disk, its `companies` recipients replaced by `csv`.
    fn companies(csv: &str) -> (tempfile::TempDir, Campaign) {
        let dir = crate::campaign::source::bundled_campaign_on_disk();
        std::fs::write(dir.path().join("recipients/companies.csv"), csv).unwrap();
        let campaign = Campaign::load(Source::Dir(dir.path().to_path_buf())).unwrap();
        (dir, campaign)
    }

    fn read_all(campaign: &Campaign) -> Vec<Result<Row, Diag>> {
        let group = campaign.group("companies").unwrap();
        let mut rows = Recipients::open(&campaign.source, group).unwrap();
        std::iter::from_fn(|| rows.next_row()).collect()
    }

    const HEADER: &str = "name,title,organization,country,sector,email,salutation,language";

    /// With Windows or old Mac line ends (and a quoted field across two of them), rows are on the
    /// lines they are on, as with Unix ones, and every field is trimmed, its line breaks LFs.
    #[test]
    fn rows_of_a_crlf_or_cr_file_are_on_their_lines() {
        for eol in ["\n", "\r\n", "\r"] {
            let text = [
                HEADER,
                "A,t,o,c,s,a@x.example,d,en",
                "\"B",
                "b\",t,o,c,s,b@x.example,d,en",
                "C,t,o,c,s,c@x.example,d,en,extra",
                " D ,t,\" o\r\nx \",c,s,d@x.example,d,en",
                "",
            ]
            .join(eol);
            let (_dir, campaign) = companies(&text);
            let lines: Vec<_> = read_all(&campaign)
                .into_iter()
                .map(|r| match r {
                    Ok(row) => (row.line, row.record.iter().map(String::from).collect()),
                    Err(d) => (d.line.unwrap(), vec![]),
                })
                .collect();
            let d = ["D", "t", "o\nx", "c", "s", "d@x.example", "d", "en"];
            assert_eq!(lines[0].0, 2, "line ends {eol:?}");
            assert_eq!(lines[1].1[0], "B\nb");
            assert_eq!(
                lines.iter().map(|l| l.0).collect::<Vec<_>>(),
                [2, 3, 5, 6],
                "line ends {eol:?}"
            );
            assert_eq!(lines[3].1, d, "line ends {eol:?}");
        }
    }

    /// CRLF stays, a CR alone becomes LF, wherever the reads of the file happen to end.
    #[test]
    fn a_lone_cr_reads_as_lf_across_read_boundaries() {
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let text = b"a\r\nb\r\"c\r\r\n\"\r";
        for chunk in [1, 2, 3, 64] {
            let inner = OneByte(text);
            let mut r = CountQuotes {
                inner,
                quotes: 0,
                peeked: None,
            };
            let (mut out, mut buf) = (Vec::new(), vec![0; chunk]);
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            assert_eq!(out, b"a\r\nb\n\"c\n\r\n\"\n", "reads of {chunk}");
            assert_eq!(r.quotes, 2);
        }
    }

    #[test]
    fn an_unclosed_quote_is_found_on_the_row_it_opens() {
        let text = format!("{HEADER}\nA,t,o,c,s,a@x.example,d,en\nB,t,o,c,s,b@x.example,d,\"en\n");
        let (_dir, campaign) = companies(&text);
        let last = read_all(&campaign).pop().unwrap().unwrap_err();
        assert!(last.message.starts_with("unbalanced quotes"), "{last:?}");
        assert_eq!(last.line, Some(3));
    }

    #[test]
    fn keys_ignore_case_and_surrounding_space() {
        let long = format!("{}@example.org", "A".repeat(200));
        assert_eq!(address_key(&long), address_key(&long.to_lowercase()));
        assert_eq!(
            address_key("ZOË@Example.ORG"),
            address_key(" zoë@example.org\t")
        );
        assert_ne!(
            address_key("zoe@example.org"),
            address_key("zoe@example.com")
        );
    }

    #[test]
    fn keys_ignore_unicode_composition_and_idna_spelling() {
        assert_eq!(
            address_key("jos\u{e9}@x.example"),
            address_key("jose\u{301}@x.example")
        );
        assert_eq!(
            address_key("a@b\u{fc}cher.example"),
            address_key("a@XN--BCHER-KVA.example")
        );
        assert_eq!(
            normalized_address(" A@B\u{dc}cher.Example "),
            "a@xn--bcher-kva.example"
        );
        assert_ne!(
            address_key("jose@x.example"),
            address_key("jos\u{e9}@x.example")
        );
    }

    /// Two different addresses may share a 48-bit key. The second pass is handed every row's key,
    /// so every row gets past the key filter as colliding rows would, and only the comparison of
    /// the addresses decides: nothing is reported until a real duplicate is added.
    #[test]
    fn only_equal_addresses_are_reported_whatever_the_keys() {
        let text = format!("{HEADER}\nA,t,o,c,s,a@x.example,d,en\nB,t,o,c,s,b@x.example,d,en\n");
        let (_dir, campaign) = companies(&text);
        let group = campaign.group("companies").unwrap();
        let mut keys = vec![address_key("a@x.example"), address_key("b@x.example")];
        keys.sort_unstable();
        let diags = locate_duplicates(&campaign.source, group, &keys, &[]).unwrap();
        assert!(diags.is_empty(), "{diags:?}");

        let (_dir, campaign) = companies(&format!("{text}C,t,o,c,s,A@X.example,d,en\n"));
        let group = campaign.group("companies").unwrap();
        let diags = locate_duplicates(&campaign.source, group, &keys, &[]).unwrap();
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(
            diags[0].message,
            "duplicate recipient `A@X.example`, already on line 2"
        );
    }

    /// Duplicates within a chunk, across chunks and in the unfinished last chunk are all found,
    /// each once, and nothing else is.
    #[test]
    fn duplicate_tracker_finds_every_repeat_across_chunks() {
        let n = CHUNK * 2 + 1000;
        let mut tracker = DuplicateTracker::default();
        let mut expected = Vec::new();
        for i in 0..n {
            tracker.add(&format!("person{i}@example.org"));
        }
        for i in [0, 5, CHUNK - 1, CHUNK, CHUNK + 7, n - 1] {
            let email = format!("Person{i}@Example.org ");
            tracker.add(&email);
            expected.push(address_key(&email));
        }
        // Three times still counts as one duplicate key.
        tracker.add("person5@example.org");
        expected.sort_unstable();
        assert_eq!(tracker.duplicates(), expected);
    }

    #[test]
    fn duplicate_tracker_with_no_rows_or_no_repeats_finds_nothing() {
        assert!(DuplicateTracker::default().duplicates().is_empty());
        let mut tracker = DuplicateTracker::default();
        for i in 0..CHUNK + 1 {
            tracker.add(&format!("p{i}@example.org"));
        }
        assert!(tracker.duplicates().is_empty());
    }

    #[test]
    fn placeholder_addresses_are_on_reserved_domains() {
        for email in [
            "a@example.org",
            "a@mail.EXAMPLE.com.",
            "a@x.test",
            "a@localhost",
        ] {
            assert!(is_placeholder_address(email), "{email}");
        }
        for email in ["a@notexample.org", "a@example.org.uk", "a@testing.org"] {
            assert!(!is_placeholder_address(email), "{email}");
        }
    }
}
