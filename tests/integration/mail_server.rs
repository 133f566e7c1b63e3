//! A real SMTP server speaking SMTP over TCP on 127.0.0.1 (mailin-embedded), started by each
//! test and told to answer 451 or 550 where a test needs it, with STARTTLS and AUTH PLAIN on
//! request.

use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mailin_embedded::response::{AUTH_OK, INVALID_CREDENTIALS};
use mailin_embedded::response::{NO_SERVICE, OK};
use mailin_embedded::{AuthMechanism, Handler, Response, Server, SslConfig};

use tempfile::TempDir;

#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Default)]
pub struct Shared {
    pub received: Vec<Received>,
    /// Per recipient address: the next answers to RCPT TO, used up one by one.
    pub rcpt_answers: HashMap<String, VecDeque<(u16, &'static str)>>,
    /// The user and password AUTH accepts; every user who logged in.
    pub account: Option<(&'static str, &'static str)>,
    pub logins: Vec<String>,
    /// Hold the reply to the DATA of a letter to this address until the server is dropped, as a
    /// server would that is slow to answer while the client is killed.
    pub stall: Option<String>,
    pub stopped: bool,
}

#[derive(Clone)]
struct Recorder {
    shared: Arc<Mutex<Shared>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Recorder {
    fn helo(&mut self, _ip: std::net::IpAddr, _domain: &str) -> Response {
        if self.shared.lock().unwrap().stopped {
            return NO_SERVICE;
        }
        OK
    }

    fn mail(&mut self, _ip: std::net::IpAddr, _domain: &str, _from: &str) -> Response {
        self.to.clear();
        self.data.clear();
        OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let mut shared = self.shared.lock().unwrap();
        if let Some((code, text)) = shared
            .rcpt_answers
            .get_mut(&to.to_lowercase())
            .and_then(VecDeque::pop_front)
        {
            return Response::custom(code, text.to_string());
        }
        self.to.push(to.to_string());
        OK
    }

    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        let mut shared = self.shared.lock().unwrap();
        if shared.account == Some((user, password)) {
            shared.logins.push(user.to_string());
            AUTH_OK
        } else {
            INVALID_CREDENTIALS
        }
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let to = std::mem::take(&mut self.to);
        let mut shared = self.shared.lock().unwrap();
        let stall = shared.stall.as_ref().is_some_and(|s| to.contains(s));
        shared.received.push(Received {
            to,
            data: std::mem::take(&mut self.data),
        });
        drop(shared);
        while stall && !self.shared.lock().unwrap().stopped {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        OK
    }
}

/// A real SMTP server on 127.0.0.1 and a port of its own. When the test ends it refuses every
/// new session (mailin-embedded has no way to close its listener; the thread ends with the test
/// binary).
pub struct MailServer {
    pub port: u16,
    pub shared: Arc<Mutex<Shared>>,
    /// The CA certificate (PEM) of a TLS server, and where its files are.
    tls: Option<(PathBuf, TempDir)>,
}

/// A CA and a leaf certificate for 127.0.0.1 signed by it (rustls rejects a self-signed leaf).
fn test_pki(dir: &Path) -> SslConfig {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let mut ca = CertificateParams::new(Vec::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "letterdrive test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    leaf.use_authority_key_identifier_extension = true;
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    SslConfig::Trusted {
        cert_path: write("leaf.pem", leaf_cert.pem()),
        key_path: write("leaf.key", leaf_key.serialize_pem()),
        chain_path: write("ca.pem", ca_cert.pem()),
    }
}

impl MailServer {
    pub fn start() -> MailServer {
        Self::start_with(false, None)
    }

    /// STARTTLS with a certificate from a test CA, and AUTH PLAIN for one account.
    pub fn start_tls(user: &'static str, password: &'static str) -> MailServer {
        Self::start_with(true, Some((user, password)))
    }

    pub fn start_with(tls: bool, account: Option<(&'static str, &'static str)>) -> MailServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Mutex::new(Shared {
            account,
            ..Shared::default()
        }));
        let mut server = Server::new(Recorder {
            shared: shared.clone(),
            to: Vec::new(),
            data: Vec::new(),
        });
        let mut tls_files = None;
        let ssl = if tls {
            // Both of rustls's crypto back ends are compiled in (lettre and the server each pick
            // one), so the server's needs naming.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let dir = tempfile::tempdir().unwrap();
            let ssl = test_pki(dir.path());
            tls_files = Some((dir.path().join("ca.pem"), dir));
            ssl
        } else {
            SslConfig::None
        };
        server
            .with_name("smtp.test.localhost")
            .with_ssl(ssl)
            .expect("TLS set-up")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        if account.is_some() {
            server.with_auth(AuthMechanism::Plain);
        }
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        MailServer {
            port,
            shared,
            tls: tls_files,
        }
    }

    pub fn ca_file(&self) -> &Path {
        &self.tls.as_ref().expect("a TLS server").0
    }

    pub fn logins(&self) -> Vec<String> {
        self.shared.lock().unwrap().logins.clone()
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The next answers to `RCPT TO:<email>`, in order; after them, 250.
    pub fn answer_rcpt(&self, email: &str, answers: &[(u16, &'static str)]) {
        self.shared
            .lock()
            .unwrap()
            .rcpt_answers
            .insert(email.to_string(), answers.iter().copied().collect());
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().unwrap().received.clone()
    }

    /// Recipients of everything received, sorted.
    pub fn recipients(&self) -> Vec<String> {
        let mut all: Vec<String> = self.received().into_iter().flat_map(|r| r.to).collect();
        all.sort();
        all
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        if let Ok(mut s) = self.shared.lock() {
            s.stopped = true;
        }
    }
}
