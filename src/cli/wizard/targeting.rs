//! Which group, and whom in it: the targeting questions of the guided run.

use super::*;

impl Wizard<'_> {
    pub(super) fn ask_group(&self, prev: Option<&WizardAnswers>) -> Ask<&Group> {
        let groups = &self.campaign.groups;
        let count = |g: &Group| {
            self.report
                .groups
                .iter()
                .find(|r| r.id == g.id)
                .map_or(0, |r| r.recipients)
        };
        if groups.len() == 1 {
            let g = &groups[0];
            eprintln!(
                "Writing to: {} ({})\n  {}\n  languages: {}\n",
                g.label,
                plural(count(g), "recipient"),
                g.description,
                self.campaign.languages_line(g)
            );
            return Ok(g);
        }
        eprintln!("Who can you write to?");
        for g in groups {
            eprintln!("  {} ({})", g.label, plural(count(g), "recipient"));
            eprintln!("      {}", g.description);
            eprintln!("      languages: {}", self.campaign.languages_line(g));
        }
        eprintln!();
        let items: Vec<String> = groups
            .iter()
            .map(|g| format!("{} ({})", g.label, plural(count(g), "recipient")))
            .collect();
        let default = prev
            .and_then(|p| groups.iter().position(|g| g.id == p.group))
            .unwrap_or(0);
        let i = chosen(
            Select::with_theme(&self.theme)
                .with_prompt("Which group do you want to write to?")
                .items(&items)
                .default(default)
                .interact_opt(),
        )?;
        Ok(&groups[i])
    }

    /// The distinct values of the group's `target_by` columns, read in one pass over the file.
    pub(super) fn columns(&self, group: &Group) -> Result<(u64, Vec<Column>)> {
        let mut rows = Recipients::open(&self.campaign.source, group)?;
        let idx: Vec<Option<usize>> = group
            .target_by
            .iter()
            .map(|c| rows.columns.get(c))
            .collect();
        let mut seen: Vec<IndexMap<String, (String, u64)>> = vec![IndexMap::new(); idx.len()];
        let mut total = 0u64;
        while let Some(next) = rows.next_row() {
            let Ok(row) = next else { continue };
            total += 1;
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
        let columns = group
            .target_by
            .iter()
            .zip(seen)
            .map(|(name, map)| {
                let mut values: Vec<(String, u64)> = map.into_values().collect();
                values.sort_by_key(|v| v.0.to_lowercase());
                Column {
                    name: name.clone(),
                    values,
                }
            })
            .collect();
        Ok((total, columns))
    }

    pub(super) fn count_matching(&self, group: &Group, filters: &[String]) -> Result<u64> {
        let mut rows = Recipients::open(&self.campaign.source, group)?;
        let filters = Filter::parse_all(filters, &rows.columns, &rows.file)?;
        let mut n = 0;
        while let Some(next) = rows.next_row() {
            if next.is_ok_and(|row| recipients::matches_all(&filters, &row)) {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Step 2: which recipients of the group, as `--where` conditions.
    pub(super) fn ask_targeting(
        &self,
        group: &Group,
        prev: Option<&WizardAnswers>,
    ) -> Ask<Vec<String>> {
        let (total, columns) = self.columns(group)?;
        let choosable: Vec<&Column> = columns.iter().filter(|c| c.values.len() > 1).collect();
        // Writing to one's own government is the letter that counts most: offer it first.
        let home = prev
            .map(|p| p.signer.country.clone())
            .or_else(|| self.saved.as_ref().map(|p| p.country.clone()))
            .unwrap_or_default();
        let own = columns
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case("country"))
            .find_map(|c| {
                c.values
                    .iter()
                    .find(|(v, _)| !home.is_empty() && v.to_lowercase() == home.to_lowercase())
                    .map(|(v, n)| (format!("{}={v}", c.name), v.clone(), *n))
            });

        #[derive(Clone, Copy, PartialEq)]
        enum Way {
            Own,
            All,
            Choose,
        }
        let mut ways = Vec::new();
        let mut items = Vec::new();
        if let Some((_, value, n)) = &own {
            ways.push(Way::Own);
            items.push(format!(
                "Only {value}, your own country: the letter that counts most ({})",
                plural(*n, "recipient")
            ));
        }
        ways.push(Way::All);
        items.push(format!("All {} in this group", plural(total, "recipient")));
        if !choosable.is_empty() {
            ways.push(Way::Choose);
            let names: Vec<&str> = choosable.iter().map(|c| c.name.as_str()).collect();
            items.push(format!("Let me choose by {}", names.join(", ")));
        }
        if ways.len() == 1 {
            return Ok(Vec::new());
        }
        let want = match prev {
            Some(p) if p.filters.is_empty() => Way::All,
            Some(p) if own.as_ref().is_some_and(|o| p.filters == [o.0.clone()]) => Way::Own,
            Some(_) => Way::Choose,
            None => ways[0],
        };
        let default = ways.iter().position(|w| *w == want).unwrap_or(0);
        let i = chosen(
            Select::with_theme(&self.theme)
                .with_prompt("Who in this group?")
                .items(&items)
                .default(default)
                .interact_opt(),
        )?;
        match ways[i] {
            Way::Own => Ok(vec![own.expect("offered only when known").0]),
            Way::All => Ok(Vec::new()),
            Way::Choose => loop {
                let filters = self.choose_values(&choosable, prev)?;
                let n = self.count_matching(group, &filters)?;
                if n > 0 {
                    eprintln!("{} chosen.\n", plural(n, "recipient"));
                    break Ok(filters);
                }
                eprintln!("No recipient matches all of these together; choose again.\n");
            },
        }
    }

    pub(super) fn choose_values(
        &self,
        columns: &[&Column],
        prev: Option<&WizardAnswers>,
    ) -> Ask<Vec<String>> {
        let mut filters = Vec::new();
        for col in columns {
            let ticked: Vec<String> = prev
                .into_iter()
                .flat_map(|p| &p.filters)
                .filter_map(|f| f.split_once('='))
                .filter(|(c, _)| c.trim() == col.name)
                .flat_map(|(_, vals)| vals.split(',').map(|v| v.trim().to_lowercase()))
                .collect();
            let items: Vec<String> = col
                .values
                .iter()
                .map(|(v, n)| format!("{v} ({n})"))
                .collect();
            let defaults: Vec<bool> = col
                .values
                .iter()
                .map(|(v, _)| ticked.contains(&v.to_lowercase()))
                .collect();
            let picked = chosen(
                MultiSelect::with_theme(&self.theme)
                    .with_prompt(format!(
                        "{}: space ticks, enter goes on (nothing ticked = all)",
                        col.name
                    ))
                    .items(&items)
                    .defaults(&defaults)
                    .max_length(15)
                    .report(false)
                    .interact_opt(),
            )?;
            if picked.is_empty() || picked.len() == col.values.len() {
                eprintln!("  {}: all", col.name);
                continue;
            }
            let values: Vec<&str> = picked.iter().map(|&i| col.values[i].0.as_str()).collect();
            eprintln!("  {}: {}", col.name, values.join(", "));
            filters.push(format!("{}={}", col.name, values.join(",")));
        }
        Ok(filters)
    }
}
