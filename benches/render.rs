//! Per-letter cost of the pipeline, stage by stage, with no file I/O: template rendering, the
//! Markdown-to-HTML part, and the whole MIME message. `cargo bench --bench render`.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use letterdrive::campaign::Campaign;
use letterdrive::letters::{Run, Target};
use letterdrive::message;
use letterdrive::recipients::Row;
use letterdrive::render::{LetterInputs, Signer};
use letterdrive::source::Source;

fn rows(n: usize) -> Vec<csv::StringRecord> {
    let names = [
        "Zoë Müller",
        "Дмитрий",
        "王芳",
        "Νίκος",
        "Ana \"Nena\" Pérez",
        "O'Brien, Siobhán",
    ];
    (0..n)
        .map(|i| {
            csv::StringRecord::from(vec![
                format!("person.{i}@example.org"),
                names[i % names.len()].to_string(),
                "Programme Manager".to_string(),
                "The \"Clean Water\" Initiative, Ltd.".to_string(),
                "Deutschland".to_string(),
                "de".to_string(),
                "Dear".to_string(),
            ])
        })
        .collect()
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
        personal_note: String::new(),
        date: jiff::Timestamp::UNIX_EPOCH.to_zoned(jiff::tz::TimeZone::UTC),
    };
    let target = Target {
        group: "bench".into(),
        ..Default::default()
    };
    let mut run = Run::open(&campaign, &target, &inputs).unwrap();
    let records = rows(1024);
    let row_at = |i: usize| Row {
        index: i as u64 + 1,
        line: i as u64 + 2,
        record: records[i % records.len()].clone(),
    };

    let mut g = c.benchmark_group("letter");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("template", |b| {
        b.iter(|| {
            i += 1;
            run.letter(&row_at(i), false).unwrap()
        })
    });
    let (letter, _) = run.letter(&row_at(0), false).unwrap();
    g.bench_function("html_part", |b| b.iter(|| message::html_part(&letter)));
    g.bench_function("template+mime", |b| {
        b.iter(|| {
            i += 1;
            let (_, msg) = run.letter(&row_at(i), true).unwrap();
            msg.unwrap().formatted()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
