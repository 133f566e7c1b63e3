//! Delivery over SMTP with lettre's published `SmtpConnection`. Each connection thread owns one
//! connection: opened at its first letter (greeting, TLS as the URL says, login), reused for the
//! next ones, opened again after a failure, and closed with QUIT at the end.
//!
//! Each letter goes stage by stage (MAIL, RCPT, DATA, the message), so a failure is known to
//! have come before or after the whole message was handed over. Before, the end-of-data marker
//! was never written and the letter surely did not arrive: it may be retried. After, anything but
//! a 4xx or 5xx reply (a timeout, a closed connection, a reply that cannot be read) leaves the
//! server holding a letter it may have taken: it is recorded as uncertain and never sent again
//! unasked.

use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::client::{Certificate, SmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use lettre::transport::smtp::Error as SmtpError;

use super::deliver::{Deliver, Failure, Trouble};
use super::server::{Login, Security, Server};
use super::usage;
use crate::error::Error;

/// A connection idle longer than this is tested with NOOP before it carries a letter: a server
/// may have closed it meanwhile, and the letter would then fail on it and wait for a retry. Back
/// to back, letters skip the round trip; spaced out by a rate, it costs nothing.
const TEST_AFTER_IDLE: Duration = Duration::from_secs(1);

/// How to reach the server and log in: made once per run (TLS set up, the login read) and
/// shared by every connection.
pub struct Dial {
    server: Server,
    tls: Tls,
    login: Option<Login>,
}

impl Dial {
    /// `login` is what [`Server::credentials`] read.
    pub fn new(server: &Server, login: Option<Login>) -> crate::error::Result<Dial> {
        let tls = match server.security {
            Security::Implicit => Tls::Wrapper(tls_parameters(server)?),
            Security::StartTls => Tls::Required(tls_parameters(server)?),
            Security::LoopbackOpportunistic => Tls::Opportunistic(tls_parameters(server)?),
            Security::Plain => Tls::None,
        };
        let server = server.clone();
        Ok(Dial { server, tls, login })
    }

    /// A connection ready for letters: greeted, encrypted as the URL says, logged in.
    fn open(&self) -> Result<SmtpConnection, SmtpError> {
        let implicit = match &self.tls {
            Tls::Wrapper(params) => Some(params),
            _ => None,
        };
        let (server, hello) = (&self.server, ClientId::default());
        let address = (server.host.as_str(), server.port);
        let mut conn =
            SmtpConnection::connect(address, Some(server.timeout), &hello, implicit, None)?;
        match &self.tls {
            // Fails, and stops the run, when the server does not offer STARTTLS.
            Tls::Required(params) => conn.starttls(params, &hello)?,
            Tls::Opportunistic(params) if conn.can_starttls() => conn.starttls(params, &hello)?,
            _ => {}
        }
        if let Some((credentials, mechanisms)) = &self.login {
            conn.auth(mechanisms, credentials)?;
        }
        Ok(conn)
    }
}

/// The server's certificate checked against the system's roots, or `--ca-file`'s.
fn tls_parameters(server: &Server) -> crate::error::Result<TlsParameters> {
    let mut b = TlsParameters::builder(server.host.clone());
    if let Some(ca) = &server.ca_file {
        let pem = std::fs::read(ca).map_err(|e| Error::io(ca, e))?;
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            let why = format!("--ca-file {}: {e}", ca.display());
            usage(why, "give a PEM file with the CA certificate")
        })?;
        b = b.add_root_certificate(cert);
    }
    b.build_rustls()
        .map_err(|e| usage(format!("cannot set up TLS: {e}"), "check --ca-file"))
}

/// One connection thread's link to the server. The connection is kept only while it is in step
/// with the server, between letters; whatever leaves it otherwise is dropped with it.
pub struct Smtp<'a> {
    dial: &'a Dial,
    conn: Option<(SmtpConnection, Instant)>,
}

impl<'a> Smtp<'a> {
    pub fn new(dial: &'a Dial) -> Smtp<'a> {
        Smtp { dial, conn: None }
    }

    /// The kept connection if it still answers, or a new one.
    fn connection(&mut self) -> Result<SmtpConnection, SmtpError> {
        if let Some((mut conn, idle_since)) = self.conn.take() {
            if idle_since.elapsed() < TEST_AFTER_IDLE || conn.test_connected() {
                return Ok(conn);
            }
        }
        self.dial.open()
    }
}

impl Deliver for Smtp<'_> {
    fn deliver(&mut self, envelope: &Envelope, message: &[u8]) -> Result<String, Failure> {
        let mut conn = self.connection().map_err(|e| failure(&e, false))?;
        let params = match mail_parameters(&conn, envelope, message) {
            Ok(params) => params,
            Err(why) => {
                // Nothing was sent: the connection is still in step.
                self.conn = Some((conn, Instant::now()));
                return Err(Failure::new(Trouble::Fatal, why));
            }
        };
        let mut whole = false;
        match transaction(&mut conn, envelope, params, message, &mut whole) {
            Ok(response) => {
                self.conn = Some((conn, Instant::now()));
                let words = response.message().collect::<Vec<_>>().join(" ");
                // As the journal keeps it: `250 2.0.0 Ok: queued as ...`.
                Ok(format!("{} {words}", response.code()))
            }
            Err(e) => {
                if is_reply(&e) {
                    // In step with the server, which has just answered: QUIT, as lettre does.
                    conn.abort();
                }
                // Otherwise it is dropped without QUIT: in the middle of the message QUIT would
                // be message text, and over TLS writing it would first push out what is still
                // buffered of the message, end-of-data marker included.
                Err(failure(&e, whole))
            }
        }
    }
}

impl Drop for Smtp<'_> {
    fn drop(&mut self) {
        if let Some((mut conn, _)) = self.conn.take() {
            let _ = conn.quit();
        }
    }
}

/// The MAIL parameters lettre's own `send` adds: SMTPUTF8 for an address that is not ASCII,
/// 8BITMIME for a message that is not; refused with lettre's words when the server lacks the
/// extension.
fn mail_parameters(
    conn: &SmtpConnection,
    envelope: &Envelope,
    message: &[u8],
) -> Result<Vec<MailParameter>, &'static str> {
    let info = conn.server_info();
    let mut params = Vec::new();
    let addresses = envelope.from().into_iter().chain(envelope.to());
    if addresses.map(AsRef::<str>::as_ref).any(|a| !a.is_ascii()) {
        if !info.supports_feature(Extension::SmtpUtfEight) {
            return Err("Envelope contains non-ascii chars but server does not support SMTPUTF8");
        }
        params.push(MailParameter::SmtpUtfEight);
    }
    if !message.is_ascii() {
        if !info.supports_feature(Extension::EightBitMime) {
            return Err("Message contains non-ascii chars but server does not support 8BITMIME");
        }
        params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    Ok(params)
}

/// MAIL, every RCPT and DATA, each waiting for its reply, then the message and its verdict.
/// `whole` is set once every byte of the message has been written, when only the end-of-data
/// marker is left to write.
fn transaction(
    conn: &mut SmtpConnection,
    envelope: &Envelope,
    params: Vec<MailParameter>,
    message: &[u8],
    whole: &mut bool,
) -> Result<Response, SmtpError> {
    conn.command(Mail::new(envelope.from().cloned(), params))?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), Vec::new()))?;
    }
    conn.command(Data)?;
    // The message, then an empty part, then nothing: when lettre asks for more after the last
    // part, every byte of the message has been written, whether lettre writes each part as it
    // arrives or when the next one arrives.
    let mut parts = [message, b""].into_iter();
    conn.message_iter(std::iter::from_fn(|| {
        let part = parts.next();
        *whole = part.is_none();
        part
    }))
}

/// A 4xx or 5xx reply: a verdict, with the connection in step.
fn is_reply(e: &SmtpError) -> bool {
    e.is_transient() || e.is_permanent()
}

/// What a failed letter means for the run, given whether the whole message was handed over.
fn failure(e: &SmtpError, whole: bool) -> Failure {
    let trouble = if whole && !is_reply(e) {
        Trouble::Unknown
    } else if e.is_permanent() {
        // A refused login fails every letter the same way: stop instead of failing them all.
        let code = e.status().map(|c| c.to_string());
        match code.as_deref() {
            Some("530" | "534" | "535" | "538") => Trouble::Fatal,
            _ => Trouble::Permanent,
        }
    } else if e.is_transient() {
        Trouble::Transient
    } else if e.is_tls() || e.is_client() || is_bad_data(e) {
        Trouble::Fatal
    } else {
        Trouble::Network
    };
    Failure::new(trouble, e.to_string())
}

/// TLS failures (an untrusted certificate, a server that does not speak TLS) reach us as I/O
/// errors of kind `InvalidData`; retrying them cannot help.
fn is_bad_data(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::InvalidData;
        }
        source = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;

    use crate::send::server::{Request, Secret};

    /// What the fake server does once it has answered DATA with 354.
    #[derive(Clone, Copy)]
    enum AtData {
        /// Read the message to its end marker, then answer this.
        Reply(&'static str),
        /// Read the message to its end marker, then close without a word.
        Close,
        /// Read the message to its end marker, answer this, and close the connection, as a
        /// server that takes one message per connection does.
        ReplyAndHangUp(&'static str),
        /// Read nothing more until told to go, as a stuck server would.
        StopReading,
    }

    /// A scripted SMTP server on 127.0.0.1 for `connections` connections, one after the other,
    /// logging every command it reads (and `connect` for each connection).
    struct Fake {
        port: u16,
        log: Arc<Mutex<Vec<String>>>,
        /// Lets a server that stopped reading go.
        release: mpsc::Sender<()>,
        thread: JoinHandle<()>,
    }

    impl Fake {
        fn start(connections: usize, rcpt: &'static str, at_data: AtData) -> Fake {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let log = Arc::new(Mutex::new(Vec::new()));
            let (release, released) = mpsc::channel();
            let server_log = Arc::clone(&log);
            let thread = std::thread::spawn(move || {
                for conn in listener.incoming().take(connections) {
                    server_log.lock().unwrap().push("connect".to_string());
                    serve(conn.unwrap(), rcpt, at_data, &server_log, &released);
                }
            });
            Fake {
                port,
                log,
                release,
                thread,
            }
        }

        fn dial(&self, timeout: Duration) -> Dial {
            let server = Server::parse(Request {
                url: &format!("smtp://127.0.0.1:{}?tls=none", self.port),
                insecure: false,
                secret: Secret::None,
                can_ask: false,
                ca_file: None,
                timeout,
            })
            .unwrap();
            Dial::new(&server, None).unwrap()
        }

        /// Every command the server read, once it has served all its connections.
        fn finish(self) -> Vec<String> {
            let _ = self.release.send(());
            self.thread.join().unwrap();
            Arc::try_unwrap(self.log).unwrap().into_inner().unwrap()
        }
    }

    fn serve(
        conn: TcpStream,
        rcpt: &str,
        at_data: AtData,
        log: &Mutex<Vec<String>>,
        released: &mpsc::Receiver<()>,
    ) {
        let mut out = conn.try_clone().unwrap();
        let mut lines = BufReader::new(conn);
        let mut say = |reply: &str| {
            let _ = out.write_all(format!("{reply}\r\n").as_bytes());
        };
        say("220 fake.test ready");
        let mut line = String::new();
        while matches!(lines.read_line(&mut line), Ok(n) if n > 0) {
            let verb = line.split([' ', '\r']).next().unwrap().to_ascii_uppercase();
            log.lock().unwrap().push(verb.clone());
            line.clear();
            match verb.as_str() {
                "RCPT" => say(rcpt),
                "DATA" => {
                    say("354 go ahead");
                    if let AtData::StopReading = at_data {
                        let _ = released.recv_timeout(Duration::from_secs(30));
                        return;
                    }
                    while matches!(lines.read_line(&mut line), Ok(n) if n > 0) {
                        let end = line == ".\r\n";
                        line.clear();
                        if end {
                            break;
                        }
                    }
                    match at_data {
                        AtData::Reply(reply) => say(reply),
                        AtData::ReplyAndHangUp(reply) => return say(reply),
                        _ => return,
                    }
                }
                "QUIT" => {
                    say("221 bye");
                    return;
                }
                _ => say("250 ok"),
            }
        }
    }

    fn envelope() -> Envelope {
        let from = "sam@signers.example".parse().unwrap();
        Envelope::new(Some(from), vec!["ada@x.example".parse().unwrap()]).unwrap()
    }

    const MESSAGE: &[u8] = b"Subject: s\r\n\r\nA letter.\r\n.a line with a dot\r\n";

    fn verbs(log: &[String]) -> Vec<&str> {
        log.iter().map(String::as_str).collect()
    }

    #[test]
    fn letters_share_one_connection_which_ends_with_quit() {
        let fake = Fake::start(1, "250 ok", AtData::Reply("250 2.0.0 queued as 1"));
        let dial = fake.dial(Duration::from_secs(10));
        let mut link = Smtp::new(&dial);
        for _ in 0..2 {
            let reply = link.deliver(&envelope(), MESSAGE).unwrap();
            assert_eq!(reply, "250 2.0.0 queued as 1");
        }
        drop(link);
        assert_eq!(
            verbs(&fake.finish()),
            ["connect", "EHLO", "MAIL", "RCPT", "DATA", "MAIL", "RCPT", "DATA", "QUIT"]
        );
    }

    #[test]
    fn a_refused_recipient_is_a_verdict_and_the_next_letter_gets_a_new_connection() {
        let fake = Fake::start(2, "550 5.1.1 no such user", AtData::Reply("250 ok"));
        let dial = fake.dial(Duration::from_secs(10));
        let mut link = Smtp::new(&dial);
        for _ in 0..2 {
            let failure = link.deliver(&envelope(), MESSAGE).unwrap_err();
            assert_eq!(failure.trouble, Trouble::Permanent);
            assert!(failure.reply.contains("no such user"), "{failure:?}");
        }
        drop(link);
        // In step with the server after its reply: QUIT, and no DATA ever.
        let once = ["connect", "EHLO", "MAIL", "RCPT", "QUIT"];
        assert_eq!(verbs(&fake.finish()), [once, once].concat());
    }

    #[test]
    fn a_temporary_refusal_of_the_whole_message_is_retried() {
        let fake = Fake::start(1, "250 ok", AtData::Reply("451 4.3.0 try later"));
        let dial = fake.dial(Duration::from_secs(10));
        let failure = Smtp::new(&dial).deliver(&envelope(), MESSAGE).unwrap_err();
        assert_eq!(failure.trouble, Trouble::Transient);
        let log = fake.finish();
        assert_eq!(log.last().map(String::as_str), Some("QUIT"));
    }

    /// The server read the whole message and its end marker, and closed without a verdict: it
    /// may have taken the letter.
    #[test]
    fn no_verdict_after_the_whole_message_means_it_may_have_arrived() {
        let fake = Fake::start(1, "250 ok", AtData::Close);
        let dial = fake.dial(Duration::from_secs(10));
        let failure = Smtp::new(&dial).deliver(&envelope(), MESSAGE).unwrap_err();
        assert_eq!(failure.trouble, Trouble::Unknown, "{failure:?}");
        // Given up without QUIT.
        assert_eq!(
            verbs(&fake.finish()),
            ["connect", "EHLO", "MAIL", "RCPT", "DATA"]
        );
    }

    /// The server stopped reading in the middle of the message, so the end marker was never
    /// written: the letter surely did not arrive, and may be tried again.
    #[test]
    fn a_server_that_stops_reading_mid_message_surely_did_not_get_it() {
        let fake = Fake::start(1, "250 ok", AtData::StopReading);
        let dial = fake.dial(Duration::from_secs(1));
        // Far more than the socket buffers on both sides hold.
        let mut big = b"Subject: s\r\n\r\n".to_vec();
        big.extend(std::iter::repeat_n(b"0123456789abcdef0123456789abcdef\r\n", 1 << 20).flatten());
        let failure = Smtp::new(&dial).deliver(&envelope(), &big).unwrap_err();
        assert_eq!(failure.trouble, Trouble::Network, "{failure:?}");
        assert_eq!(
            verbs(&fake.finish()),
            ["connect", "EHLO", "MAIL", "RCPT", "DATA"]
        );
    }

    /// A kept connection the server closed meanwhile: right after a letter it is used untested,
    /// and the next letter fails on it before anything is handed over (the sender retries it);
    /// after a second idle it is tested with NOOP first and replaced.
    #[test]
    fn a_connection_closed_by_the_server_fails_before_the_letter_or_is_replaced() {
        let fake = Fake::start(3, "250 ok", AtData::ReplyAndHangUp("250 ok"));
        let dial = fake.dial(Duration::from_secs(10));
        let mut link = Smtp::new(&dial);
        link.deliver(&envelope(), MESSAGE).unwrap();
        let failure = link.deliver(&envelope(), MESSAGE).unwrap_err();
        assert_eq!(failure.trouble, Trouble::Network, "{failure:?}");
        link.deliver(&envelope(), MESSAGE).unwrap();
        std::thread::sleep(TEST_AFTER_IDLE + Duration::from_millis(100));
        link.deliver(&envelope(), MESSAGE).unwrap();
        drop(link);
        let once = ["connect", "EHLO", "MAIL", "RCPT", "DATA"];
        assert_eq!(verbs(&fake.finish()), [once, once, once].concat());
    }

    #[test]
    fn errors_are_classified_by_reply_and_by_how_much_was_handed_over() {
        let fake = Fake::start(1, "535 5.7.8 bad login", AtData::Reply("250 ok"));
        let dial = fake.dial(Duration::from_secs(10));
        // A refused login fails every letter alike: the run stops.
        let failure = Smtp::new(&dial).deliver(&envelope(), MESSAGE).unwrap_err();
        assert_eq!(failure.trouble, Trouble::Fatal);
        fake.finish();
        // Nothing listens on a port that was just free: not reached, retried.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = Server::parse(Request {
            url: &format!("smtp://127.0.0.1:{port}?tls=none"),
            insecure: false,
            secret: Secret::None,
            can_ask: false,
            ca_file: None,
            timeout: Duration::from_secs(5),
        })
        .unwrap();
        let dial = Dial::new(&server, None).unwrap();
        let failure = Smtp::new(&dial).deliver(&envelope(), MESSAGE).unwrap_err();
        assert_eq!(failure.trouble, Trouble::Network, "{failure:?}");
    }
}
