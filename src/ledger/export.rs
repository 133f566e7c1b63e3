//! `letterdrive export`: this machine's journal as a ledger a volunteer can hand on.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use super::written;
use super::{keyed, Event, State};
use crate::error::{Diag, Error, Result};
use crate::send::journal::{Record, Status};

/// Who wrote the letters of a journal, as the ledger names them.
pub struct Volunteer<'a> {
    pub email: &'a str,
    /// Written only when asked for (`--with-names`).
    pub name: Option<&'a str>,
}

/// The ledger state a journal record stands for; records of steps on the way (queued, attempt,
/// deferred) are not events of the ledger.
fn state(status: Status) -> Option<State> {
    match status {
        Status::Sent => Some(State::Sent),
        Status::Failed => Some(State::Failed),
        Status::Uncertain => Some(State::Uncertain),
        Status::Queued | Status::Attempt | Status::Deferred => None,
    }
}

/// Writes the ledger of `campaign_id` from the journal at `journal`, and the letters written
/// outside `send` kept beside it, to `out`, in full or not at all, and says how many events it
/// holds. No address or name goes in unless `volunteer.name` is given, and then only the
/// volunteer's name.
pub fn export(campaign_id: &str, journal: &Path, volunteer: &Volunteer, out: &Path) -> Result<u64> {
    let file = match std::fs::File::open(journal) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(journal, e)),
    };
    if file.is_none() && !written::path_beside(journal).exists() {
        let why = format!(
            "no journal at {}: no letter was written or sent from here yet",
            journal.display()
        );
        let hint = "pass --journal FILE if it is elsewhere";
        return Err(Error::Usage(Diag::new(why).hint(hint)));
    }
    let mut count = 0u64;
    let event = |group, email: &str, channel, state, time, message_id, status_code| Event {
        campaign: campaign_id.to_string(),
        group,
        recipient: keyed(campaign_id, email),
        volunteer: keyed(campaign_id, volunteer.email),
        channel,
        state,
        time,
        message_id,
        volunteer_name: volunteer.name.map(str::to_string),
        status_code,
        personal: Vec::new(),
    };
    // The sketch of each letter's personal paragraph, by message id: `send` records it when it
    // queues a letter, `render` with the letter it writes; every event of the letter carries it.
    let mut sketches: HashMap<String, Vec<String>> = HashMap::new();
    super::write_whole(out, |w| {
        let mut put = |mut e: Event, personal: Vec<String>| {
            if !personal.is_empty() {
                sketches.insert(e.message_id.clone(), personal);
            }
            e.personal = sketches.get(&e.message_id).cloned().unwrap_or_default();
            count += 1;
            serde_json::to_writer(&mut *w, &e)?;
            w.write_all(b"\n")
        };
        let mut queued: HashMap<String, Vec<String>> = HashMap::new();
        for line in file
            .map(|f| std::io::BufReader::new(f).lines())
            .into_iter()
            .flatten()
        {
            // Torn or foreign lines are the journal's business; `status` reports them.
            let Ok(r) = serde_json::from_str::<Record>(&line?) else {
                continue;
            };
            if r.campaign != campaign_id {
                continue;
            }
            if r.status == Status::Queued && !r.personal.is_empty() {
                queued.insert(r.message_id.clone(), r.personal.clone());
            }
            if let Some(state) = state(r.status) {
                let personal = queued.get(&r.message_id).cloned().unwrap_or_default();
                let e = event(
                    r.group,
                    &r.email,
                    "email".into(),
                    state,
                    r.time,
                    r.message_id,
                    None,
                );
                put(e, personal)?;
            }
        }
        written::read(journal, campaign_id, |r| {
            let (group, channel, state, time, id) =
                (r.group, r.channel, r.state, r.time, r.message_id);
            let e = event(group, &r.email, channel, state, time, id, r.status_code);
            put(e, r.personal)
        })
    })?;
    Ok(count)
}
