//! The recipient block of a printed letter: who it goes to and where, in the letter's language.

use crate::campaign::recipients::{Columns, Row};
use crate::campaign::NAME_COLUMN;

/// The recipient block of a printed letter in `language`, its empty lines left out: name,
/// organisation (unless it is the name), the address lines, postcode and city, country (unless
/// a line above already names it). A column `COLUMN.LANG` (`name.fr`), when filled in, stands
/// for `COLUMN` in a letter in that language.
pub fn postal_block(row: &Row, columns: &Columns, language: &str) -> Vec<String> {
    let primary = language.split('-').next().unwrap_or("");
    let localised = columns.names.iter().any(|n| n.contains('.'));
    let field = |col: &str| {
        [language, primary]
            .iter()
            .filter(|_| localised)
            .filter_map(|l| row.get(columns, &format!("{col}.{l}")))
            .chain(row.get(columns, col))
            .find(|v| !v.trim().is_empty())
            .unwrap_or("")
    };
    let name = field(NAME_COLUMN);
    let organisation = Some(field("organization")).filter(|o| *o != name);
    let place = format!("{} {}", field("postcode"), field("city"));
    let mut block: Vec<String> = std::iter::once(name)
        .chain(organisation)
        .chain(field("address").lines())
        .chain([place.as_str()])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let country = field("country").trim();
    if !country.is_empty() && !block.iter().any(|l| names(l, country)) {
        block.push(country.to_string());
    }
    block
}

/// Whether `line` has `words` in it as whole words, case aside.
fn names(line: &str, words: &str) -> bool {
    let (line, words) = (line.to_lowercase(), words.to_lowercase());
    line.match_indices(&words).any(|(i, m)| {
        let before = line[..i].chars().next_back();
        let after = line[i + m.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_postal_block_leaves_out_what_is_empty_or_repeated() {
        let block = |pairs: &[(&str, &str)]| {
            let columns = Columns {
                names: pairs.iter().map(|(c, _)| c.to_string()).collect(),
            };
            let record = pairs.iter().map(|(_, v)| *v).collect();
            let row = Row {
                index: 1,
                line: 2,
                record,
            };
            postal_block(&row, &columns, "fr")
        };
        let full = block(&[
            ("name", "Zoë"),
            ("organization", "Org"),
            ("address", "1 Rue\n BP 2 "),
            ("postcode", "75001"),
            ("city", "Paris"),
            ("country", "France"),
        ]);
        assert_eq!(
            full,
            ["Zoë", "Org", "1 Rue", "BP 2", "75001 Paris", "France"]
        );
        let bare = block(&[("name", "Org"), ("organization", "Org"), ("city", "Paris")]);
        assert_eq!(bare, ["Org", "Paris"]);
        let named = block(&[("name", "Minister of France"), ("country", "France")]);
        assert_eq!(named, ["Minister of France"]);
        let french = block(&[
            ("name", "Minister of Belgium"),
            ("name.fr", "Ministre"),
            ("organization.es", "Ministerio"),
            ("country", "Belgium"),
            ("country.fr", "Belgique"),
        ]);
        assert_eq!(french, ["Ministre", "Belgique"]);
    }
}
