//! Print-ready PDF: the text is read back out of the files with a PDF library (lopdf), so the
//! tests see what a reader or a printer sees: the recipient, the demands, non-ASCII names intact,
//! the paper size, and an error naming the recipient when the font lacks a glyph.

use crate::util::{self, Sandbox, SIGNER_NAME};

/// Every page's text, and the page size (width, height) in points.
fn read_pdf(bytes: &[u8]) -> (Vec<String>, (f32, f32)) {
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let doc = lopdf::Document::load_mem(bytes).expect("the PDF parses");
    let pages = doc.get_pages();
    let texts = pages
        .keys()
        .map(|n| doc.extract_text(&[*n]).expect("text extracts"))
        .collect();
    let first = doc
        .get_dictionary(*pages.values().next().expect("a page"))
        .expect("page dictionary");
    let media = first
        .get(b"MediaBox")
        .and_then(|m| m.as_array())
        .expect("MediaBox");
    let num = |o: &lopdf::Object| o.as_float().or_else(|_| o.as_i64().map(|i| i as f32));
    let size = (num(&media[2]).unwrap(), num(&media[3]).unwrap());
    (texts, size)
}

/// Text as extracted, with line breaks and runs of spaces made single spaces.
fn flat(pages: &[String]) -> String {
    pages
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

const NAMES_CSV: &str = "name,email,organization,country,role
Zoë Müller-Łukasiewicz,zoe@corp-one.example,Société Générale d'Essai,France,boss
Дмитрий Ковалёв,dmitry@corp-two.example,Корпорация Два,Russia,staff
Νίκος Παπαδόπουλος,nikos@corp-three.example,Εταιρεία Τρία,Greece,
";

#[test]
fn one_pdf_per_letter_with_recipient_demands_and_non_ascii_names() {
    let sb = Sandbox::campaign();
    sb.write(util::CSV_FILE, NAMES_CSV);
    sb.render("test", "pdf", "out")
        .run()
        .success()
        .stdout_has("wrote 3 PDF files to out");
    let files = sb.files("out");
    assert_eq!(files.len(), 3, "{files:?}");
    // The country is in no template line: it shows only in the letter's recipient block.
    for (name, org, country, demands, not) in [
        (
            "Zoë Müller-Łukasiewicz",
            "Société Générale d'Essai",
            "France",
            vec![
                "Demand meant for every recipient.",
                "Demand meant for bosses only.",
            ],
            "Demand meant for staff only.",
        ),
        (
            "Дмитрий Ковалёв",
            "Корпорация Два",
            "Russia",
            vec![
                "Demand meant for every recipient.",
                "Demand meant for staff only.",
            ],
            "Demand meant for bosses only.",
        ),
        (
            "Νίκος Παπαδόπουλος",
            "Εταιρεία Τρία",
            "Greece",
            vec!["Demand meant for every recipient."],
            "Demand meant for staff only.",
        ),
    ] {
        let file = files
            .iter()
            .find(|f| {
                let text = flat(&read_pdf(&sb.read_bytes(&format!("out/{f}"))).0);
                text.contains(name)
            })
            .unwrap_or_else(|| panic!("no PDF shows `{name}`: {files:?}"));
        assert!(
            file.starts_with("test-") && file.ends_with(".pdf"),
            "{file}"
        );
        let (pages, size) = read_pdf(&sb.read_bytes(&format!("out/{file}")));
        let text = flat(&pages);
        assert!(
            (size.0 - 595.28).abs() < 0.5 && (size.1 - 841.89).abs() < 0.5,
            "A4: {size:?}"
        );
        for want in [
            name,
            org,
            country,
            "Letter to",
            "27 November 2026",
            SIGNER_NAME,
        ] {
            assert!(text.contains(want), "{file} lacks `{want}`:\n{text}");
        }
        for d in demands {
            assert!(text.contains(d), "{file} lacks `{d}`:\n{text}");
        }
        assert!(!text.contains(not), "{file} has `{not}`");
        assert!(!text.contains("{{"), "{file}: {text}");
    }
}

#[test]
fn one_file_holds_every_letter_on_us_letter_paper() {
    let sb = Sandbox::campaign();
    sb.write(util::CSV_FILE, NAMES_CSV);
    sb.render("test", "pdf", "out")
        .args(["--one-file", "--paper", "letter"])
        .run()
        .success()
        .stdout_has("wrote 3 letters in one PDF to out/test.pdf");
    assert_eq!(sb.files("out"), vec!["test.pdf".to_string()]);
    let (pages, size) = read_pdf(&sb.read_bytes("out/test.pdf"));
    assert_eq!(size, (612.0, 792.0), "US Letter");
    assert_eq!(pages.len(), 3, "one page per short letter");
    for (page, name) in pages.iter().zip(["Zoë Müller", "Дмитрий", "Νίκος"]) {
        assert!(flat(std::slice::from_ref(page)).contains(name), "{page}");
    }
}

#[test]
fn a_long_letter_runs_onto_numbered_pages() {
    let sb = Sandbox::campaign();
    let note = "A sentence of my own that goes on for a while to fill the page. ".repeat(120);
    sb.write("note.md", &note);
    sb.render("test", "pdf", "out")
        .args(["--where", "country=France", "--note", "note.md"])
        .run()
        .success();
    let files = sb.files("out");
    let (pages, _) = read_pdf(&sb.read_bytes(&format!("out/{}", files[0])));
    assert!(pages.len() >= 2, "{} pages", pages.len());
    let n = pages.len();
    for (i, page) in pages.iter().enumerate() {
        assert!(
            flat(std::slice::from_ref(page)).contains(&format!("{} / {n}", i + 1)),
            "page {} has no number",
            i + 1
        );
    }
}

#[test]
fn a_letter_the_font_cannot_show_is_an_error_naming_the_recipient() {
    let sb = Sandbox::campaign();
    sb.write(
        util::CSV_FILE,
        "name,email,organization,country,role\nAlice Boss,alice@corp-one.example,Corp One,France,boss\n王芳,wang@corp-two.example,Corp Two,China,staff\n",
    );
    sb.render("test", "pdf", "out")
        .run()
        .code(1)
        .stderr_has("error: recipients/test.csv:3: the PDF font has no glyph for `王` (U+738B), needed in the letter to `王芳`")
        .stderr_has("help: pass --font FILE");
    sb.assert_nothing_written("out");
}

#[test]
fn font_flag_rejects_a_file_that_is_not_a_font() {
    let sb = Sandbox::campaign();
    sb.write("not-a-font.ttf", "hello");
    sb.render("test", "pdf", "out")
        .args(["--font", "not-a-font.ttf"])
        .run()
        .code(2)
        .stderr_has("`not-a-font.ttf` is not a TrueType or OpenType font");
    sb.assert_nothing_written("out");
}

#[test]
fn french_and_spanish_bundled_letters_print_in_their_language() {
    let sb = Sandbox::empty();
    sb.render("governments", "pdf", "out")
        .args(["--where", "country=France,Spain", "--one-file"])
        .run()
        .success()
        .stdout_has("wrote 2 letters in one PDF");
    let (pages, _) = read_pdf(&sb.read_bytes("out/governments.pdf"));
    let text = flat(&pages);
    for want in [
        "27 novembre 2026",
        "Excellence,",
        "Imposer des sanctions ciblées",
        "27 de noviembre de 2026",
        "Excelentísimo/a Señor/a Ministro/a:",
        "Imponer sanciones selectivas",
    ] {
        assert!(text.contains(want), "lacks `{want}`:\n{text}");
    }
}

#[test]
fn pdf_flags_without_pdf_format_are_refused() {
    let sb = Sandbox::campaign();
    sb.render("test", "eml", "out")
        .arg("--one-file")
        .run()
        .code(2)
        .stderr_has("error: --one-file, --paper and --font are for PDF output")
        .stderr_has("help: add --format pdf");
    sb.assert_nothing_written("out");
}
