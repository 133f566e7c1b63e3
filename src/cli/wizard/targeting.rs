//! Which group, and whom in it: the targeting questions of the guided run.

use super::*;

impl Wizard<'_> {
    /// Step 1: the group, asked only when there is a choice.
    pub(super) fn ask_group(&self, prev: Option<&Answers>) -> Ask<&Group> {
        let groups = &self.campaign.groups;
        let label = |g: &Group| format!("{} ({})", g.label, self.recipients(g));
        // The label, then what the group is and its languages, indented under it.
        let about = |g: &Group, indent: &str| {
            let (label, description) = (label(g), &g.description);
            let languages = language::names(self.campaign, g, false);
            format!("{label}\n{indent}{description}\n{indent}languages: {languages}")
        };
        if let [g] = groups.as_slice() {
            eprintln!("Writing to: {}\n", about(g, "  "));
            return Ok(g);
        }
        eprintln!("Who can you write to?");
        for g in groups {
            eprintln!("  {}", about(g, "      "));
        }
        eprintln!();
        let items: Vec<String> = groups.iter().map(label).collect();
        let default = prev.and_then(|p| groups.iter().position(|g| g.id == p.target.group));
        let i = self.select("Which group do you want to write to?", &items, default)?;
        Ok(&groups[i])
    }

    /// "N recipients" of the group, as `check` counted them before the first question.
    fn recipients(&self, group: &Group) -> String {
        let report = self.report.groups.iter().find(|r| r.id == group.id);
        plural(report.map_or(0, |r| r.recipients), "recipient")
    }

    /// The distinct values of the group's `target_by` columns among the rows that match
    /// `filters` (`--where` conditions), read in one pass over the file.
    fn columns(&self, group: &Group, filters: &[String]) -> Result<Vec<Column>> {
        let mut rows = Recipients::open(&self.campaign.source, group)?;
        let filters = Filter::parse_all(filters, &rows.columns, &rows.file)?;
        let names = &group.target_by;
        let idx: Vec<_> = names.iter().map(|c| rows.columns.get(c)).collect();
        // Per column: each value under its lowercase form, which orders them, as first written
        // and with its count.
        let mut seen = vec![BTreeMap::<String, (String, u64)>::new(); idx.len()];
        let rows = rows_of(&mut rows).filter(|row| recipients::matches_all(&filters, row));
        for row in rows {
            for (i, map) in idx.iter().zip(seen.iter_mut()) {
                let value = i.and_then(|i| row.record.get(i)).unwrap_or("").trim();
                // A value with a comma cannot be written in `--where`, so it is not offered.
                if value.is_empty() || value.contains(',') {
                    continue;
                }
                map.entry(value.to_lowercase())
                    .or_insert_with(|| (value.to_string(), 0))
                    .1 += 1;
            }
        }
        let columns = names.iter().zip(seen).map(|(name, values)| {
            let (name, values) = (name.clone(), values.into_values().collect());
            Column { name, values }
        });
        Ok(columns.collect())
    }

    /// The languages of the targeted letters with their counts, the default language first.
    pub(super) fn languages_of(
        &self,
        target: &Target,
        inputs: &LetterInputs,
    ) -> Result<Vec<(String, u64)>> {
        let mut run = Run::open(self.campaign, target, inputs)?;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for row in rows_of(&mut run.rows) {
            if recipients::matches_all(&run.filters, &row) {
                *counts
                    .entry(run.renderer.language_tag(&row).to_string())
                    .or_default() += 1;
            }
        }
        let default = counts.remove_entry(&self.campaign.language);
        Ok(default.into_iter().chain(counts).collect())
    }

    /// The languages whose template has a place for the volunteer's paragraph.
    pub(super) fn languages_with_note(
        &self,
        target: &Target,
        inputs: &LetterInputs,
    ) -> Result<Vec<String>> {
        let run = Run::open(self.campaign, target, inputs)?;
        let places = run.renderer.places().filter(|p| p.note);
        Ok(places.map(|p| p.tag.to_string()).collect())
    }

    pub(super) fn count_matching(&self, group: &Group, filters: &[String]) -> Result<u64> {
        let mut rows = Recipients::open(&self.campaign.source, group)?;
        let filters = Filter::parse_all(filters, &rows.columns, &rows.file)?;
        let matching = rows_of(&mut rows).filter(|row| recipients::matches_all(&filters, row));
        Ok(matching.count() as u64)
    }

    /// Step 2: which recipients of the group, as `--where` conditions.
    pub(super) fn ask_targeting(&self, group: &Group, prev: Option<&Answers>) -> Ask<Vec<String>> {
        let columns = self.columns(group, &[])?;
        let choosable: Vec<&str> = columns
            .iter()
            .filter(|c| c.values.len() > 1)
            .map(|c| c.name.as_str())
            .collect();
        // Each way offered, with the `--where` conditions it stands for; `None` asks per column.
        let mut ways: Vec<(String, Option<Vec<String>>)> = Vec::new();
        if let Some((item, filter)) = self.own_country(group, &columns, prev) {
            ways.push((item, Some(vec![filter])));
        }
        let all = format!("All {} in this group", self.recipients(group));
        ways.push((all, Some(Vec::new())));
        if !choosable.is_empty() {
            ways.push((format!("Let me choose by {}", choosable.join(", ")), None));
        }
        if ways.len() == 1 {
            return Ok(Vec::new());
        }
        // Going back, the way chosen before: the same conditions, else choosing per column.
        let way = |filters: Option<&Vec<String>>| ways.iter().position(|w| w.1.as_ref() == filters);
        let default = prev.and_then(|p| way(Some(&p.target.filters)).or_else(|| way(None)));
        let items: Vec<&String> = ways.iter().map(|(item, _)| item).collect();
        let i = self.select("Who in this group?", &items, default)?;
        if let Some(filters) = ways.swap_remove(i).1 {
            return Ok(filters);
        }
        // Each column offers only values some recipient still matches, so any choice matches
        // at least one.
        let filters = self.choose_values(group, &choosable, prev)?;
        let n = self.count_matching(group, &filters)?;
        eprintln!("{} chosen.\n", plural(n, "recipient"));
        Ok(filters)
    }

    /// Writing to one's own government is the letter that counts most, so it is offered first
    /// when the volunteer's country is one of the group's: the menu item, and its condition.
    fn own_country(
        &self,
        group: &Group,
        columns: &[Column],
        prev: Option<&Answers>,
    ) -> Option<(String, String)> {
        let home = match prev {
            Some(p) => p.inputs.signer.country.to_lowercase(),
            None => self.saved.as_ref()?.country.to_lowercase(),
        };
        // No value is empty, so a volunteer without a country matches none.
        let country = |c: &&Column| c.name.eq_ignore_ascii_case("country");
        for c in columns.iter().filter(country) {
            if let Some((value, n)) = c.values.iter().find(|(v, _)| v.to_lowercase() == home) {
                let (n, label) = (plural(*n, "recipient"), group.label_of(&c.name, value));
                let item =
                    format!("Only {label}, your own country: the letter that counts most ({n})");
                return Some((item, format!("{}={value}", c.name)));
            }
        }
        None
    }

    /// The values to keep, column by column; ticking none or all keeps the whole column. Each
    /// column offers the values of the recipients the columns before it kept, with their
    /// labels and counts.
    fn choose_values(
        &self,
        group: &Group,
        names: &[&str],
        prev: Option<&Answers>,
    ) -> Ask<Vec<String>> {
        let mut filters = Vec::new();
        for name in names {
            let columns = self.columns(group, &filters)?;
            let Some(col) = columns.iter().find(|c| c.name == *name) else {
                continue;
            };
            let label = |v: &str| group.label_of(name, v).to_string();
            match col.values.as_slice() {
                [] => continue,
                [(value, _)] => {
                    eprintln!("  {name}: {}, the only one left", label(value));
                    continue;
                }
                _ => {}
            }
            // Going back, the values ticked before are ticked again.
            let ticked: Vec<String> = prev
                .into_iter()
                .flat_map(|p| &p.target.filters)
                .filter_map(|f| f.split_once('='))
                .filter(|(c, _)| c.trim() == *name)
                .flat_map(|(_, vals)| vals.split(',').map(|v| v.trim().to_lowercase()))
                .collect();
            let (items, defaults): (Vec<String>, Vec<bool>) = col
                .values
                .iter()
                .map(|(v, n)| {
                    (
                        format!("{} ({n})", label(v)),
                        ticked.contains(&v.to_lowercase()),
                    )
                })
                .unzip();
            let prompt = format!("{name}: space ticks, enter goes on (nothing ticked = all)");
            let select = MultiSelect::with_theme(&self.theme).with_prompt(prompt);
            let select = select.items(&items).defaults(&defaults).max_length(15);
            let picked = chosen(select.report(false).interact_opt())?;
            if picked.is_empty() || picked.len() == col.values.len() {
                eprintln!("  {name}: all");
                continue;
            }
            let values: Vec<&str> = picked.iter().map(|&i| col.values[i].0.as_str()).collect();
            let labels: Vec<String> = values.iter().map(|v| label(v)).collect();
            eprintln!("  {name}: {}", labels.join(", "));
            filters.push(format!("{name}={}", values.join(",")));
        }
        Ok(filters)
    }
}
