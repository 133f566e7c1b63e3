//! Ctrl-C, SIGTERM and SIGHUP: one handler for the whole process, set before the campaign is
//! opened. It runs what the command under way asked for (`on_interrupt`), or else `stop`.
//! Exiting from the handler drops nothing, so whatever must not be left behind is removed here:
//! a campaign unpacked from a zip, a render's staging folder.

use std::sync::Mutex;

use crate::campaign::archive;

/// The exit code of a run stopped by the volunteer (128 + SIGINT, as shells report it).
pub const EXIT_CANCELLED: i32 = 130;

static ON_INTERRUPT: Mutex<Option<fn()>> = Mutex::new(None);

/// Sets the handler. It fails only when one is already set, by an earlier run in this process,
/// which then serves this one too.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        let hook = *ON_INTERRUPT.lock().unwrap_or_else(|e| e.into_inner());
        match hook {
            Some(hook) => hook(),
            None => stop(),
        }
    });
}

/// What an interrupt does from now on, instead of `stop`. `hook` may return (to note the
/// interrupt and act on it later) or exit.
pub fn on_interrupt(hook: fn()) {
    *ON_INTERRUPT.lock().unwrap_or_else(|e| e.into_inner()) = Some(hook);
}

/// Removes an unpacked campaign and exits as a cancelled run.
pub fn stop() -> ! {
    archive::remove_unpacked();
    std::process::exit(EXIT_CANCELLED)
}
