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
        "Excelentísimo/a señor/a ministro/a:",
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

/// A line of text on a page: where it starts, the PostScript name of its font, and its text.
struct Line {
    x: f32,
    y: f32,
    font: String,
    text: String,
}

/// The lines of every page, in the order they are drawn.
fn pdf_lines(bytes: &[u8]) -> Vec<Line> {
    let doc = lopdf::Document::load_mem(bytes).expect("the PDF parses");
    let mut lines = Vec::new();
    for page in doc.get_pages().into_values() {
        page_lines(&doc, page, &mut lines);
    }
    lines
}

fn page_lines(doc: &lopdf::Document, page: lopdf::ObjectId, lines: &mut Vec<Line>) {
    let fonts = doc.get_page_fonts(page).expect("page fonts");
    let content = doc.get_and_decode_page_content(page).expect("content");
    let num = |o: &lopdf::Object| o.as_float().or_else(|_| o.as_i64().map(|i| i as f32));
    let (mut font, mut at) = (None, (0.0, 0.0));
    for op in &content.operations {
        match op.operator.as_str() {
            "Tf" => font = Some(fonts[op.operands[0].as_name().unwrap()]),
            "Tm" => at = (num(&op.operands[4]).unwrap(), num(&op.operands[5]).unwrap()),
            "Tj" => {
                let dict = font.expect("a font is set before text");
                let encoding = dict.get_font_encoding(doc).unwrap();
                let bytes = op.operands[0].as_str().unwrap();
                lines.push(Line {
                    x: at.0,
                    y: at.1,
                    font: String::from_utf8_lossy(
                        dict.get(b"BaseFont").unwrap().as_name().unwrap(),
                    )
                    .into_owned(),
                    text: lopdf::Document::decode_text(&encoding, bytes).unwrap(),
                });
            }
            _ => {}
        }
    }
}

#[test]
fn a_french_letter_has_room_to_sign_a_bold_labelled_subject_and_a_french_address() {
    let sb = Sandbox::empty();
    sb.render("governments", "pdf", "out")
        .args(["--where", "country=France"])
        .run()
        .success();
    let files = sb.files("out");
    let lines = pdf_lines(&sb.read_bytes(&format!("out/{}", files[0])));
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();

    // The subject: labelled in French, in the bold face, which no other line uses.
    let subject = lines
        .iter()
        .find(|l| l.text.starts_with("Objet\u{a0}: Xinjiang"))
        .unwrap_or_else(|| panic!("no French subject label: {texts:?}"));
    assert!(subject.font.ends_with("-Bold"), "{}", subject.font);
    let bold: Vec<&str> = lines
        .iter()
        .filter(|l| l.font == subject.font)
        .map(|l| l.text.as_str())
        .collect();
    let salutation = texts.iter().position(|t| *t == "Excellence,").unwrap();
    let regular = &lines[salutation..];
    assert!(regular.iter().all(|l| l.font != subject.font), "{bold:?}");
    assert!(bold.join(" ").ends_with("musulmans turciques"), "{bold:?}");

    // The recipient block, in the window of the envelope (20 mm from the left): French, and
    // the country named once.
    let window: Vec<&str> = lines
        .iter()
        .filter(|l| (l.x - 20.0 * 72.0 / 25.4).abs() < 0.5)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(
        window.join(" "),
        "Ministre de l'Europe et des Affaires étrangères \
         Ministère de l'Europe et des Affaires étrangères France"
    );

    // Room to sign: the typed name sits far below the closing line, much further than the
    // space between paragraphs.
    let name = lines
        .iter()
        .rposition(|l| l.text == SIGNER_NAME)
        .unwrap_or_else(|| panic!("no typed name: {texts:?}"));
    let gap = lines[name - 1].y - lines[name].y;
    let paragraph = lines[name - 2].y - lines[name - 1].y;
    assert!(gap >= 20.0 * 72.0 / 25.4, "{gap} pt to sign in");
    assert!(
        paragraph < 30.0,
        "{paragraph} pt between lines of the closing"
    );
    assert!(
        lines[name - 1].text.contains("très haute considération"),
        "{texts:?}"
    );
}

#[test]
fn english_and_spanish_subjects_are_labelled_in_their_language() {
    let sb = Sandbox::empty();
    sb.render("governments", "pdf", "out")
        .args(["--where", "country=Japan,Spain", "--one-file"])
        .run()
        .success();
    let text = flat(&read_pdf(&sb.read_bytes("out/governments.pdf")).0);
    assert!(text.contains("Subject: "), "{text}");
    assert!(text.contains("Asunto: "), "{text}");
    assert!(text.contains("Ministerio de Asuntos Exteriores"), "{text}");
}

#[test]
fn pdf_file_names_are_cut_at_a_word_boundary() {
    let sb = Sandbox::empty();
    sb.render("governments", "pdf", "out")
        .args(["--where", "country=Australia"])
        .run()
        .success();
    // "minister-for-foreign-affairs-of-australia" is 41 characters: the last word goes whole.
    assert_eq!(
        sb.files("out"),
        ["governments-000007-minister-for-foreign-affairs-of.pdf"]
    );
}
