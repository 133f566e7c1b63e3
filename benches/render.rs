//! Per-letter cost of the pipeline, stage by stage, with no file I/O: template rendering, the
//! Markdown-to-HTML part, and the whole MIME message. `cargo bench --bench render`.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use letterdrive::campaign::recipients::Row;
use letterdrive::campaign::source::Source;
use letterdrive::campaign::Campaign;
use letterdrive::letter::message;
use letterdrive::letter::render::{LetterInputs, Signer};
use letterdrive::letter::run::{Run, Target};

/// Row `i`: every field a letter shows differs from row to row, as it does in a real list, so no
/// paragraph is ever the same twice and nothing is measured from a cache.
fn row(i: usize) -> Row {
    const NAMES: [&str; 6] = [
        "Zoë Müller",
        "Дмитрий",
        "王芳",
        "Νίκος",
        "Ana \"Nena\" Pérez",
        "O'Brien, Siobhán",
    ];
    const COUNTRIES: [&str; 4] = ["Deutschland", "France", "Côte d'Ivoire", "日本"];
    Row {
        index: i as u64 + 1,
        line: i as u64 + 2,
        record: csv::StringRecord::from(vec![
            format!("person.{i}@example.org"),
            format!("{} {i}", NAMES[i % NAMES.len()]),
            "Programme Manager".to_string(),
            format!("The \"Clean Water\" Initiative No. {i}, Ltd."),
            format!("{} ({})", COUNTRIES[i % COUNTRIES.len()], i % 97),
            "de".to_string(),
            "Dear".to_string(),
        ]),
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/campaign");
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::create_dir_all(dir.path().join("recipients")).unwrap();
    std::fs::copy(src.join("campaign.toml"), dir.path().join("campaign.toml")).unwrap();
    std::fs::copy(
        src.join("templates/bench.md.hbs"),
        dir.path().join("templates/bench.md.hbs"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("recipients/bench.csv"),
        "email,name,title,organization,country,language,salutation\nzoe@example.org,Zoë,Director,Org,DE,de,Dear\n",
    )
    .unwrap();
    let campaign = Campaign::load(Source::Dir(dir.path().to_path_buf())).unwrap();
    let inputs = LetterInputs {
        signer: Signer {
            name: "Ada Volunteer".into(),
            email: "ada@example.org".into(),
            city: "Lyon".into(),
            country: "France".into(),
            organisation: String::new(),
        },
        notes: Default::default(),
        edits: Default::default(),
        date: jiff::Timestamp::UNIX_EPOCH.to_zoned(jiff::tz::TimeZone::UTC),
    };
    let target = Target {
        group: "bench".into(),
        ..Default::default()
    };
    let mut run = Run::open(&campaign, &target, &inputs).unwrap();

    // Rows are read from the CSV on their own thread in a run; here they are made beforehand, so
    // only the rendering is timed. More of them than the block cache remembers, so no letter's own
    // paragraphs are ever found in it.
    let rows: Vec<Row> = (0..4096).map(row).collect();
    let mut g = c.benchmark_group("letter");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("template", |b| {
        b.iter(|| {
            i += 1;
            run.letter(&rows[i % rows.len()], false).unwrap()
        })
    });
    let (letter, _) = run.letter(&row(0), false).unwrap();
    g.bench_function("html_part", |b| b.iter(|| message::html_part(&letter)));
    let letters: Vec<_> = rows
        .iter()
        .map(|r| run.letter(r, false).unwrap().0)
        .collect();
    let mut k = 0;
    g.bench_function("mime", |b| {
        b.iter(|| {
            k += 1;
            message::build(&letters[k % letters.len()], &run.settings)
                .unwrap()
                .formatted()
        })
    });
    g.bench_function("template+mime", |b| {
        b.iter(|| {
            i += 1;
            let (_, msg) = run.letter(&rows[i % rows.len()], true).unwrap();
            msg.unwrap().formatted()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
