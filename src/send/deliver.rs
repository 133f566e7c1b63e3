//! The seam between the journaled sender and the wire: one message in, the server's reply or a
//! classified failure out. SMTP implements it in `connection.rs`; unit tests use a scripted stub,
//! so every rule of the sender is tested without a network.

use lettre::address::Envelope;

/// What kind of trouble a failed send is, which decides what happens next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// 5xx for this recipient: recorded as failed; the run goes on.
    Permanent,
    /// 4xx: retried, then recorded as deferred; the run goes on.
    Transient,
    /// The server could not be reached or the connection broke: retried, then the run stops.
    Network,
    /// Nothing will work until the user changes something (TLS, login): the run stops now.
    Fatal,
    /// The whole letter went, but no verdict came back (a timeout or a broken connection while
    /// the server had it): it may have arrived. Recorded as uncertain and never retried
    /// unasked; the run goes on.
    Unknown,
}

/// Why a letter did not go, or may not have: the kind of trouble and the words to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub trouble: Trouble,
    /// The server's reply, or what went wrong, as the journal and the report keep it.
    pub reply: String,
}

impl Failure {
    pub fn new(trouble: Trouble, reply: impl Into<String>) -> Failure {
        Failure {
            trouble,
            reply: reply.into(),
        }
    }
}

/// Hands messages to a server, one at a time. Each connection thread owns one, so it may keep a
/// connection open between messages.
pub trait Deliver {
    /// Deliver `message` (formatted, CRLF line ends) to the envelope's recipients. `Ok` is the
    /// server's reply, as the journal keeps it.
    fn deliver(&mut self, envelope: &Envelope, message: &[u8]) -> Result<String, Failure>;
}
