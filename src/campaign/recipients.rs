//! Recipient lists: CSV read one row at a time, every problem reported with file and line, and
//! `--where` filters checked against the header.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::{self, Read};
use std::str::FromStr;

use crate::campaign::source::Source;
use crate::campaign::{Group, EMAIL_COLUMN, LANGUAGE_COLUMN, NAME_COLUMN};
use crate::error::{Diag, Error, Result};

/// The file as the CSV parser reads it: every CR that comes right before an LF dropped, and the
/// `"` bytes counted as they stream past.
///
/// The csv crate counts a line when it consumes an LF, and it consumes the LF of a CRLF only when
/// it starts on the next row (BurntSushi/rust-csv#395): every row of a file with Windows line
/// ends, as spreadsheets save them, was reported one line too early. Without the CRs each line
/// ends in an LF alone. A quoted field that spans lines then holds LF line breaks, which is what
/// a letter uses anyway; a CR anywhere else stays, for the header checks to find. An odd count of
/// quotes means a quoted field never closed, which the csv crate otherwise accepts silently when
/// it swallows the rest of the file into one field.
struct CsvInput<R> {
    inner: R,
    quotes: u64,
    /// A CR that ended the last read, held back until the next shows whether an LF follows.
    held_cr: bool,
}

impl<R> CsvInput<R> {
    fn new(inner: R) -> CsvInput<R> {
        CsvInput {
            inner,
            quotes: 0,
            held_cr: false,
        }
    }
}

impl<R: Read> Read for CsvInput<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.len() < 2 {
            // No room for a held-back CR and the byte after it. The csv crate reads into a buffer
            // of kilobytes; nothing else reads this.
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "recipients are read at least two bytes at a time",
            ));
        }
        loop {
            let start = usize::from(self.held_cr);
            if self.held_cr {
                buf[0] = b'\r';
            }
            let n = self.inner.read(&mut buf[start..])?;
            self.held_cr = false;
            if n == 0 {
                // The end: a held CR had no LF after it.
                return Ok(start);
            }
            let mut len = start + n;
            if buf[len - 1] == b'\r' {
                self.held_cr = true;
                len -= 1;
            }
            let len = drop_cr_before_lf(&mut buf[..len]);
            self.quotes += buf[..len].iter().filter(|&&b| b == b'"').count() as u64;
            // Nothing left (the read was one CR, held back): read on, as 0 would mean the end.
            if len > 0 {
                return Ok(len);
            }
        }
    }
}

/// Removes every CR directly followed by an LF from `buf`, returning the length left.
fn drop_cr_before_lf(buf: &mut [u8]) -> usize {
    let (mut read, mut written) = (0, 0);
    while let Some(i) = memchr::memchr(b'\r', &buf[read..]).map(|i| read + i) {
        let keep_cr = buf.get(i + 1) != Some(&b'\n');
        let end = if keep_cr { i + 1 } else { i };
        if read != written {
            buf.copy_within(read..end, written);
        }
        written += end - read;
        read = i + 1;
    }
    if read != written {
        buf.copy_within(read.., written);
    }
    written + (buf.len() - read)
}

/// The header row, with a lookup from column name to position.
#[derive(Debug, Clone)]
pub struct Columns {
    pub names: Vec<String>,
    // Looked up a dozen times per row; FxHash is several times cheaper than SipHash on short names.
    index: std::collections::HashMap<String, usize>,
}

impl Columns {
    pub fn new(names: Vec<String>) -> Columns {
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        Columns { names, index }
    }
    pub fn get(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
    pub fn list(&self) -> String {
        self.names.join(", ")
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
    reader: csv::Reader<CsvInput<Box<dyn Read + Send>>>,
    index: u64,
    last_line: u64,
    last_multiline: Option<u64>,
    /// Bytes and fields of the last row read.
    last_size: (usize, usize),
    /// A row whose field count was wrong: the usual sign of a quote opened and never closed.
    misshapen: Option<u64>,
    done: bool,
}

impl Recipients {
    pub fn open(source: &Source, group: &Group) -> Result<Recipients> {
        let file = source.display(&group.recipients);
        let raw = source.open(&group.recipients)?;
        let mut reader = csv::ReaderBuilder::new()
            // Fields are trimmed in `next_row`, only when one needs it.
            .trim(csv::Trim::Headers)
            .flexible(false)
            .from_reader(CsvInput::new(raw));
        let headers = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => return Err(Error::Invalid(csv_diag(&file, &e, None))),
        };
        if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
            return Err(Error::Invalid(
                Diag::new("the file is empty: it has no header row")
                    .file(&file)
                    .line(1)
                    .hint(format!(
                        "the first line must name the columns, for example: {}",
                        group.required.join(",")
                    )),
            ));
        }
        let mut diags = Vec::new();
        let mut index = std::collections::HashMap::default();
        let mut names = Vec::new();
        for (i, h) in headers.iter().enumerate() {
            if h.is_empty() {
                diags.push(
                    Diag::new(format!("column {} of the header row has no name", i + 1))
                        .file(&file)
                        .line(1)
                        .hint("give every column a name, or remove the empty column"),
                );
            } else if index.insert(h.to_string(), i).is_some() {
                diags.push(
                    Diag::new(format!("column `{h}` appears twice in the header row"))
                        .file(&file)
                        .line(1)
                        .hint("rename or remove one of them"),
                );
            }
            names.push(h.to_string());
        }
        for col in &group.required {
            if !index.contains_key(col) {
                diags.push(
                    Diag::new(format!("missing required column `{col}`"))
                        .file(&file)
                        .line(1)
                        .hint(format!(
                            "add `{col}` to the header row (columns now: {})",
                            names.join(", ")
                        )),
                );
            }
        }
        Error::from_diags(diags)?;
        Ok(Recipients {
            file,
            columns: Columns { names, index },
            reader,
            index: 0,
            last_line: 1,
            last_multiline: None,
            last_size: (0, 0),
            misshapen: None,
            done: false,
        })
    }

    /// The next row, or the problem that made it unreadable. Reading goes on after an error, so a
    /// caller can report every bad row in one pass.
    pub fn next_row(&mut self) -> Option<Result<Row, Diag>> {
        if self.done {
            return None;
        }
        // Sized like the row before, so a row is not read into a buffer that grows three times.
        let mut record = csv::StringRecord::with_capacity(self.last_size.0 + 16, self.last_size.1);
        match self.reader.read_record(&mut record) {
            Ok(true) => {
                // What `Trim::All` gives (`str::trim` of every field), but csv copies the whole
                // record twice to trim it, needed or not, which was a thirtieth of the cost of a
                // letter; values with spaces around them are rare.
                if record.iter().any(|f| f.trim().len() != f.len()) {
                    record.trim();
                }
                self.index += 1;
                self.last_size = (record.as_slice().len(), record.len());
                let line = record.position().map_or(0, |p| p.line());
                self.last_line = line;
                if memchr::memchr(b'\n', record.as_slice().as_bytes()).is_some() {
                    self.last_multiline = Some(line);
                }
                Some(Ok(Row {
                    index: self.index,
                    line,
                    record,
                }))
            }
            Ok(false) => {
                self.done = true;
                if self.reader.get_ref().quotes % 2 == 1 {
                    let line = self
                        .misshapen
                        .or(self.last_multiline)
                        .unwrap_or(self.last_line);
                    return Some(Err(Diag::new(
                        "unbalanced quotes: a quoted field opened in this row is never closed",
                    )
                    .file(&self.file)
                    .line(line)
                    .hint("add the missing closing `\"`; a quote inside a quoted field is written `\"\"`")));
                }
                if self.index == 0 {
                    return Some(Err(Diag::new(
                        "the file has a header row but no recipients",
                    )
                    .file(&self.file)
                    .line(2)
                    .hint("add at least one recipient row below the header")));
                }
                None
            }
            Err(e) => {
                match e.kind() {
                    csv::ErrorKind::Io(_) => self.done = true,
                    csv::ErrorKind::UnequalLengths { pos, .. } => {
                        self.index += 1;
                        if let Some(p) = pos {
                            self.last_line = p.line();
                            self.misshapen.get_or_insert(p.line());
                        }
                    }
                    _ => self.index += 1,
                }
                Some(Err(csv_diag(&self.file, &e, Some(&self.columns))))
            }
        }
    }
}

fn csv_diag(file: &str, e: &csv::Error, columns: Option<&Columns>) -> Diag {
    let d = Diag::new("").file(file);
    match e.kind() {
        csv::ErrorKind::Utf8 { pos, err } => {
            let d = match pos {
                Some(p) => d.line(p.line()),
                None => d,
            };
            let d = match columns.and_then(|c| c.names.get(err.field())) {
                Some(name) => Diag {
                    message: "not valid UTF-8".into(),
                    ..d
                }
                .field(name.clone()),
                None => Diag {
                    message: format!("field {} is not valid UTF-8", err.field() + 1),
                    ..d
                },
            };
            d.hint("save the file with UTF-8 encoding (a byte-order mark is fine; UTF-16 and Latin-1 are not)")
        }
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => {
            let d = match pos {
                Some(p) => d.line(p.line()),
                None => d,
            };
            Diag {
                message: format!("this row has {len} fields but the header has {expected_len}"),
                ..d
            }
            .hint("quote fields that contain commas (\"Paris, France\") and close every opening quote")
        }
        csv::ErrorKind::Io(io) => Diag {
            message: format!("cannot read the file: {io}"),
            ..d
        },
        _ => Diag {
            message: e.to_string(),
            ..d
        },
    }
}

/// `--where COLUMN=VALUE[,VALUE...]`: a row is kept when its value is one of the values.
#[derive(Debug, Clone)]
pub struct Filter {
    pub column: String,
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

/// Problems with one row that would stop its letter from being built or sent safely.
/// Where the columns `validate_row` looks at are, found once per run: looking each up by name
/// for every row was a twentieth of the cost of a letter.
#[derive(Debug, Clone)]
pub struct RowCheck {
    /// The group's required columns, each with its position if the file has it.
    required: Vec<(String, Option<usize>)>,
    name: Option<usize>,
    email: Option<usize>,
    language: Option<usize>,
}

impl RowCheck {
    pub fn new(columns: &Columns, group: &Group) -> RowCheck {
        RowCheck {
            required: group
                .required
                .iter()
                .map(|c| (c.clone(), columns.get(c)))
                .collect(),
            name: columns.get(NAME_COLUMN),
            email: columns.get(EMAIL_COLUMN),
            language: columns.get(LANGUAGE_COLUMN),
        }
    }
}

/// Every problem of a row that stops its letter, or else its parsed e-mail address (none when the
/// row has no address column).
pub fn validate_row(
    row: &Row,
    check: &RowCheck,
    file: &str,
) -> Result<Option<lettre::Address>, Vec<Diag>> {
    let mut diags = Vec::new();
    let mut address = None;
    let at = |col: &str, msg: String| Diag::new(msg).file(file).line(row.line).field(col);
    let field = |i: Option<usize>| i.and_then(|i| row.record.get(i));
    for (col, i) in &check.required {
        if field(*i).is_some_and(str::is_empty) {
            diags.push(
                at(col, "required field is empty".into()).hint("fill it in, or remove the row"),
            );
        }
    }
    for (col, i) in [(NAME_COLUMN, check.name), (EMAIL_COLUMN, check.email)] {
        if let Some(v) = field(i) {
            if v.contains(['\r', '\n']) {
                diags.push(
                    at(
                        col,
                        "contains a line break, which a mail header cannot hold".into(),
                    )
                    .hint("put the value on one line (line breaks here could inject mail headers)"),
                );
            }
        }
    }
    if let Some(tag) = field(check.language) {
        if !tag.is_empty() && !crate::campaign::is_language_tag(tag) {
            diags.push(
                at(
                    LANGUAGE_COLUMN,
                    format!("`{tag}` is not a language tag"),
                )
                .hint("write a BCP 47 tag such as en, fr, es or pt-BR, or leave it empty for the default language"),
            );
        }
    }
    if let Some(email) = field(check.email) {
        if !email.is_empty() && !email.contains(['\r', '\n']) {
            match lettre::Address::from_str(email) {
                Ok(parsed) => address = Some(parsed),
                Err(_) => diags.push(
                    at(
                        EMAIL_COLUMN,
                        format!("`{email}` is not a valid e-mail address"),
                    )
                    .hint("write it as name@domain, one address per row"),
                ),
            }
        }
    }
    if diags.is_empty() {
        Ok(address)
    } else {
        Err(diags)
    }
}

/// Reserved domains (RFC 2606, RFC 6761) mark addresses a campaigner must still replace.
pub fn is_placeholder_address(email: &str) -> bool {
    let domain = email.rsplit('@').next().unwrap_or("").to_ascii_lowercase();
    let domain = domain.trim_end_matches('.');
    ["example.org", "example.com", "example.net"]
        .iter()
        .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
        || [".example", ".invalid", ".test", ".localhost"]
            .iter()
            .any(|tld| domain.ends_with(tld))
        || ["example", "invalid", "test", "localhost"].contains(&domain)
}

/// Finds duplicate addresses in 6 bytes per row, not the rows themselves. The keys live in
/// fixed-size chunks rather than one growing vector: growing a vector of a million keys copies it,
/// which for a moment needs half as much memory again.
///
/// A key is 48 bits of a hash: at a million rows, two different addresses share one about once in
/// 500 runs, and then the second pass (`locate_duplicates`), which compares the addresses
/// themselves, finds nothing to report. Full 64-bit keys cost 2 MiB more at a million rows, a
/// tenth of the memory budget.
#[derive(Default)]
pub struct DuplicateTracker {
    full: Vec<Box<[Key]>>,
    current: Vec<Key>,
}

/// A 48-bit key, big-endian, so that sorting the bytes sorts the numbers.
type Key = [u8; 6];

/// Keys per chunk: 384 KiB.
const CHUNK: usize = 1 << 16;

pub fn address_key(email: &str) -> u64 {
    let email = email.trim();
    let mut h = std::hash::DefaultHasher::new();
    let mut buf = [0u8; 128];
    match buf.get_mut(..email.len()) {
        // What `to_lowercase` gives for ASCII, without a new string for every row.
        Some(lower) if email.is_ascii() => {
            lower.copy_from_slice(email.as_bytes());
            lower.make_ascii_lowercase();
            std::str::from_utf8(lower).expect("ASCII").hash(&mut h);
        }
        _ => email.to_lowercase().hash(&mut h),
    }
    h.finish() >> 16
}

fn to_key(k: u64) -> Key {
    let b = k.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

fn from_key(k: Key) -> u64 {
    u64::from_be_bytes([0, 0, k[0], k[1], k[2], k[3], k[4], k[5]])
}

impl DuplicateTracker {
    pub fn add(&mut self, email: &str) {
        if self.current.capacity() == 0 {
            self.current.reserve_exact(CHUNK);
        }
        self.current.push(to_key(address_key(email)));
        if self.current.len() == CHUNK {
            let mut chunk = std::mem::take(&mut self.current).into_boxed_slice();
            chunk.sort_unstable();
            self.full.push(chunk);
        }
    }

    /// Keys seen more than once, in ascending order.
    pub fn duplicates(self) -> Vec<u64> {
        let mut current = self.current;
        current.sort_unstable();
        let mut chunks = self.full;
        chunks.push(current.into_boxed_slice());
        // Every chunk is sorted, so a merge of them meets equal keys one after another.
        let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<(Key, usize)>> = chunks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.first().map(|&k| std::cmp::Reverse((k, i))))
            .collect();
        let mut next = vec![1usize; chunks.len()];
        let mut dups = Vec::new();
        let mut last = None;
        while let Some(std::cmp::Reverse((key, i))) = heap.pop() {
            let key64 = from_key(key);
            if last == Some(key) && dups.last() != Some(&key64) {
                dups.push(key64);
            }
            last = Some(key);
            if let Some(&k) = chunks[i].get(next[i]) {
                next[i] += 1;
                heap.push(std::cmp::Reverse((k, i)));
            }
        }
        dups
    }
}

/// Second pass, only when duplicates exist: name every line that repeats an earlier address.
pub fn locate_duplicates(
    source: &Source,
    group: &Group,
    keys: &[u64],
    filters: &[Filter],
) -> Result<Vec<Diag>> {
    let mut rows = Recipients::open(source, group)?;
    let mut first: HashMap<String, u64> = HashMap::new();
    let mut diags = Vec::new();
    let email_idx = rows.columns.get(EMAIL_COLUMN);
    while let Some(row) = rows.next_row() {
        let Ok(row) = row else { continue };
        if !matches_all(filters, &row) {
            continue;
        }
        let email = email_idx.and_then(|i| row.record.get(i)).unwrap_or("");
        if !keys.contains(&address_key(email)) {
            continue;
        }
        let norm = email.trim().to_lowercase();
        match first.get(&norm) {
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
                first.insert(norm, row.line);
            }
        }
    }
    Ok(diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader handing out its bytes `step` at a time, so a CRLF can be split between reads.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn crs_before_lfs_are_dropped_wherever_reads_split_them() {
        let input = b"a,b\r\n\"x\r\ny\",\"q\"\r\nlone\rcr,\r\r\n\r\n\r";
        let want = b"a,b\n\"x\ny\",\"q\"\nlone\rcr,\r\n\n\r";
        for step in 1..=input.len() {
            for size in [2, 3, 5, 8192] {
                let mut r = CsvInput::new(Trickle { bytes: input, step });
                let mut out = Vec::new();
                let mut buf = vec![0; size];
                loop {
                    let n = r.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                }
                assert_eq!(out, want, "reads of {step}, buffer of {size}");
                assert_eq!(r.quotes, 4);
            }
        }
        let mut r = CsvInput::new(Trickle {
            bytes: input,
            step: 1,
        });
        assert!(r.read(&mut [0u8; 1]).is_err());
    }

    /// With Windows line ends (and a quoted field across two of them), rows are on the lines they
    /// are on, as with Unix ones.
    #[test]
    fn rows_of_a_crlf_file_are_on_their_lines() {
        for eol in ["\n", "\r\n"] {
            let text = [
                "name,email",
                "A,a@x.example",
                "\"B",
                "b\",b@x.example",
                "C,c@x.example",
                "",
            ]
            .join(eol);
            let mut reader = csv::Reader::from_reader(CsvInput::new(text.as_bytes()));
            let lines: Vec<u64> = reader
                .records()
                .map(|r| r.unwrap().position().unwrap().line())
                .collect();
            assert_eq!(lines, [2, 3, 5], "line ends {eol:?}");
        }
    }

    #[test]
    fn keys_sort_as_the_numbers_they_hold() {
        let mut numbers: Vec<u64> = (0..2000u64)
            .map(|i| address_key(&format!("k{i}@example.org")))
            .chain([0, 1, 255, 256, (1 << 48) - 1])
            .collect();
        assert!(numbers.iter().all(|&k| k < 1 << 48));
        let mut keys: Vec<Key> = numbers.iter().map(|&k| to_key(k)).collect();
        numbers.sort_unstable();
        keys.sort_unstable();
        assert_eq!(keys.into_iter().map(from_key).collect::<Vec<_>>(), numbers);
    }

    /// The key is that of the trimmed address in lower case, however it is spelled and however
    /// long; the stack buffer is only a shortcut.
    #[test]
    fn keys_ignore_case_and_surrounding_space() {
        let reference = |e: &str| {
            let mut h = std::hash::DefaultHasher::new();
            e.trim().to_lowercase().hash(&mut h);
            h.finish() >> 16
        };
        let long = format!("{}@example.org", "A".repeat(200));
        for e in [
            "Zoe@Example.ORG",
            " zoe@example.org\t",
            "ZOË@example.org",
            &long,
            "",
            "x",
        ] {
            assert_eq!(address_key(e), reference(e), "{e:?}");
        }
        assert_eq!(
            address_key("Zoe@Example.ORG"),
            address_key(" zoe@example.org")
        );
        assert_ne!(
            address_key("zoe@example.org"),
            address_key("zoe@example.com")
        );
    }

    /// Two different addresses may share a 48-bit key. The second pass is handed every row's key,
    /// so every row gets past the key filter as colliding rows would, and only the comparison of
    /// the addresses decides: nothing is reported until a real duplicate is added.
    #[test]
    fn only_equal_addresses_are_reported_whatever_the_keys() {
        let dir = crate::campaign::source::bundled_campaign_on_disk();
        let load =
            || crate::campaign::Campaign::load(Source::Dir(dir.path().to_path_buf())).unwrap();
        let campaign = load();
        let group = campaign.group("companies").unwrap();
        let mut rows = Recipients::open(&campaign.source, group).unwrap();
        let email_idx = rows.columns.get(EMAIL_COLUMN).unwrap();
        let mut emails = Vec::new();
        while let Some(row) = rows.next_row() {
            emails.push(row.unwrap().record.get(email_idx).unwrap().to_string());
        }
        assert!(emails.len() >= 2, "the test needs different addresses");
        let keys: Vec<u64> = emails.iter().map(|e| address_key(e)).collect();
        let diags = locate_duplicates(&campaign.source, group, &keys, &[]).unwrap();
        assert!(diags.is_empty(), "{diags:?}");

        let csv = dir.path().join("recipients/companies.csv");
        let mut text = std::fs::read_to_string(&csv).unwrap();
        let first = text.lines().nth(1).unwrap().to_string();
        text.push_str(&first.replace(&emails[0], &emails[0].to_uppercase()));
        text.push('\n');
        std::fs::write(&csv, text).unwrap();
        let campaign = load();
        let group = campaign.group("companies").unwrap();
        let diags = locate_duplicates(&campaign.source, group, &keys, &[]).unwrap();
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0].message.contains("duplicate recipient"),
            "{diags:?}"
        );
    }

    /// Rows come out as csv's `Trim::All` gives them (every field `str::trim`-med, lines kept),
    /// though only rows that need it are trimmed.
    #[test]
    fn rows_are_trimmed_as_trim_all_trims_them() {
        let dir = crate::campaign::source::bundled_campaign_on_disk();
        let campaign =
            crate::campaign::Campaign::load(Source::Dir(dir.path().to_path_buf())).unwrap();
        let group = campaign.group("companies").unwrap();
        let path = dir.path().join(&group.recipients);
        let header = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string();
        let n = header.split(',').count();
        let values = [
            "plain",
            "  spaced  ",
            "\t tabbed\t",
            "\"\u{a0}no-break, quoted\u{a0}\"",
            "\"ends in a line break\n\"",
            "\"\u{3000}ideographic\"",
            "Zoë",
            "\"\"",
        ];
        let mut csv_text = format!("{header}\r\n");
        for r in 0..24 {
            let row: Vec<&str> = (0..n)
                .map(|c| values[(r * 5 + c * 3) % values.len()])
                .collect();
            csv_text.push_str(&row.join(","));
            csv_text.push_str("\r\n");
        }
        std::fs::write(&path, &csv_text).unwrap();
        // The csv crate alone puts CRLF rows a line early (see `CsvInput`): the reference
        // reads the same rows with LF line ends.
        let lf_text = csv_text.replace("\r\n", "\n");
        let mut reference = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(lf_text.as_bytes());
        let want: Vec<(Vec<String>, u64)> = reference
            .records()
            .map(|r| {
                let r = r.unwrap();
                let line = r.position().unwrap().line();
                (r.iter().map(str::to_string).collect(), line)
            })
            .collect();
        let mut rows = Recipients::open(&campaign.source, group).unwrap();
        let mut got = Vec::new();
        while let Some(row) = rows.next_row() {
            let row = row.unwrap();
            got.push((
                row.record.iter().map(str::to_string).collect::<Vec<_>>(),
                row.line,
            ));
        }
        assert_eq!(got, want);
        assert!(got.iter().any(|(r, _)| r.iter().any(|f| f == "spaced")));
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
}
