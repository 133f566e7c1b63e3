//! Recipient lists: CSV read one row at a time, every problem reported with file and line, and
//! `--where` filters checked against the header.

use std::collections::{BinaryHeap, HashMap};
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, BufReader, Read};
use std::str::FromStr;

use crate::campaign::source::Source;
use crate::campaign::{Group, EMAIL_COLUMN, LANGUAGE_COLUMN, NAME_COLUMN};
use crate::error::{Diag, Error, Result};

/// The file as csv reads it, its `"` bytes counted on the way: an odd count means a quoted field
/// never closed, which csv accepts silently by taking the rest of the file into that field.
struct CountQuotes<R> {
    inner: R,
    quotes: u64,
}

impl<R: Read> Read for CountQuotes<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
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
        let raw = CountQuotes { inner, quotes: 0 };
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
            if name.is_empty() {
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
    if diags.is_empty() {
        Ok(())
    } else {
        Err(diags)
    }
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

/// The key of an address, whatever its case and the space around it.
pub fn address_key(email: &str) -> Key {
    let mut h = std::hash::DefaultHasher::new();
    email.trim().to_lowercase().hash(&mut h);
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
        match first.get(&email.trim().to_lowercase()) {
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
                first.insert(email.trim().to_lowercase(), row.line);
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

    /// With Windows line ends (and a quoted field across two of them), rows are on the lines they
    /// are on, as with Unix ones, and every field is trimmed, its line breaks LFs.
    #[test]
    fn rows_of_a_crlf_file_are_on_their_lines() {
        for eol in ["\n", "\r\n"] {
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
            assert_eq!(lines[1].1[0], format!("B{eol}b").replace('\r', ""));
            assert_eq!(
                lines.iter().map(|l| l.0).collect::<Vec<_>>(),
                [2, 3, 5, 6],
                "line ends {eol:?}"
            );
            assert_eq!(lines[3].1, d, "line ends {eol:?}");
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
