//! `letterdrive export`: this machine's journal as a ledger a volunteer can hand on.

use std::io::BufRead;
use std::path::Path;

use super::{keyed, Event, State};
use crate::error::{Error, Result};
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

/// Writes the ledger of `campaign_id` from the journal at `journal` to `out`, in full or not at
/// all, and says how many events it holds. No address or name goes in unless `volunteer.name`
/// is given, and then only the volunteer's name.
pub fn export(campaign_id: &str, journal: &Path, volunteer: &Volunteer, out: &Path) -> Result<u64> {
    let file = match std::fs::File::open(journal) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let why = format!(
                "no journal at {}: nothing was sent from here yet",
                journal.display()
            );
            return Err(crate::error::Error::Usage(
                crate::error::Diag::new(why).hint("pass --journal FILE if it is elsewhere"),
            ));
        }
        Err(e) => return Err(Error::io(journal, e)),
    };
    let volunteer_key = keyed(campaign_id, volunteer.email);
    let mut count = 0u64;
    super::write_whole(out, |w| {
        for line in std::io::BufReader::new(file).lines() {
            // Torn or foreign lines are the journal's business; `status` reports them.
            let Ok(record) = serde_json::from_str::<Record>(&line?) else {
                continue;
            };
            let Some(state) = state(record.status).filter(|_| record.campaign == campaign_id)
            else {
                continue;
            };
            let event = Event {
                campaign: record.campaign,
                recipient: keyed(campaign_id, &record.email),
                group: record.group,
                volunteer: volunteer_key.clone(),
                channel: "email".to_string(),
                state,
                time: record.time,
                message_id: record.message_id,
                volunteer_name: volunteer.name.map(str::to_string),
            };
            serde_json::to_writer(&mut *w, &event)?;
            w.write_all(b"\n")?;
            count += 1;
        }
        Ok(())
    })?;
    Ok(count)
}
