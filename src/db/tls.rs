//! TLS for every connection, with libpq's `sslmode` and `sslrootcert` (read from the URL, else from
//! `PGSSLMODE` / `PGSSLROOTCERT`).
//!
//! tokio-postgres only knows `sslmode` disable/prefer/require and has no `sslrootcert`: the URL loses
//! both, and the mode parsed here decides how tokio-postgres is driven (disable, prefer or require)
//! and what the rustls verifier checks:
//!
//! - `disable`: plain. `allow`: plain, and TLS if the server turns the plain connection down.
//! - `prefer` (libpq's default): TLS when the server offers it, plain when it does not or when the
//!   TLS attempt fails. `require`: TLS or nothing.
//! - These three verify nothing — unless a root certificate is given (or `~/.postgresql/root.crt`
//!   exists), then the chain is verified as with `verify-ca` (libpq's rule).
//! - `verify-ca`: the chain must lead to the root certificate; the host name is not checked.
//!   `verify-full`: the chain and the host name (against the certificate's subject alternative
//!   names).
//! - `sslrootcert=system`: the operating system's roots, and then (as in libpq 16) `verify-full`
//!   by default and nothing weaker.
//! - SCRAM gets the server certificate's hash for channel binding (`tls-server-end-point`).

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use postgres::config::{Host, SslMode as PgSslMode};
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use postgres::{Client, Config, NoTls, Socket};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// libpq's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, String> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "invalid sslmode \"{other}\" (disable, allow, prefer, require, verify-ca or verify-full)"
                ));
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where the trusted roots come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootCert {
    /// None given and no `~/.postgresql/root.crt`.
    None,
    File(PathBuf),
    System,
}

/// The TLS settings of one URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    pub root: RootCert,
    /// `sslsni=0` turns Server Name Indication off.
    pub sni: bool,
}

/// What the certificate check covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

impl TlsSettings {
    fn check(&self) -> Check {
        match (self.mode, &self.root) {
            (SslMode::VerifyFull, _) => Check::ChainAndName,
            (SslMode::VerifyCa, _) => Check::Chain,
            (_, RootCert::None) => Check::Nothing,
            _ => Check::Chain,
        }
    }

    /// The mode and root certificate for messages: `sslmode=verify-ca, sslrootcert=/x/ca.pem`.
    fn describe(&self) -> String {
        match &self.root {
            RootCert::None => format!("sslmode={}", self.mode.name()),
            RootCert::File(path) => format!(
                "sslmode={}, sslrootcert={}",
                self.mode.name(),
                path.display()
            ),
            RootCert::System => format!("sslmode={}, sslrootcert=system", self.mode.name()),
        }
    }
}

/// Take libpq's TLS parameters out of `url` (the rest goes to tokio-postgres), falling back to
/// `PGSSLMODE` / `PGSSLROOTCERT`.
pub fn split_url(url: &str) -> Result<(String, TlsSettings), String> {
    split_url_with(url, &|name| std::env::var(name).ok(), default_root_file())
}

fn default_root_file() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".postgresql/root.crt"))
}

fn split_url_with(
    url: &str,
    env: &dyn Fn(&str) -> Option<String>,
    default_root: Option<PathBuf>,
) -> Result<(String, TlsSettings), String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let mut mode = None;
    let mut root = None;
    let mut sni = true;
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match key {
            "sslmode" => mode = Some(SslMode::parse(&value)?),
            "sslrootcert" => root = Some(value),
            "sslsni" => sni = value != "0",
            // libpq's settings that change nothing here: rustls speaks TLS 1.2 and 1.3 only and
            // never compresses.
            "sslcompression" | "ssl_min_protocol_version" | "ssl_max_protocol_version" => {}
            "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir" => {
                return Err(format!(
                    "{key} is not supported (client certificates and revocation lists); for the \
                     server's CA use sslrootcert=PATH"
                ));
            }
            _ => kept.push(pair),
        }
    }
    let mode = match mode {
        Some(mode) => Some(mode),
        None => env("PGSSLMODE")
            .filter(|v| !v.is_empty())
            .map(|v| SslMode::parse(&v).map_err(|e| format!("PGSSLMODE: {e}")))
            .transpose()?,
    };
    let root = root.or_else(|| env("PGSSLROOTCERT").filter(|v| !v.is_empty()));
    let root = match root.as_deref() {
        Some("system") => RootCert::System,
        Some(path) => RootCert::File(PathBuf::from(path)),
        None => match default_root {
            Some(path) if path.is_file() => RootCert::File(path),
            _ => RootCert::None,
        },
    };
    let mode = match (mode, &root) {
        (None, RootCert::System) => SslMode::VerifyFull,
        (Some(mode), RootCert::System) if mode != SslMode::VerifyFull => {
            return Err(format!(
                "weak sslmode \"{}\" may not be used with sslrootcert=system (use \"verify-full\")",
                mode.name()
            ));
        }
        (mode, _) => mode.unwrap_or(SslMode::Prefer),
    };
    if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && root == RootCert::None {
        return Err(format!(
            "sslmode={} needs a root certificate: give sslrootcert=PATH (or sslrootcert=system for \
             the operating system's roots), or put it in ~/.postgresql/root.crt",
            mode.name()
        ));
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, TlsSettings { mode, root, sni }))
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Connect with `settings`: the message of an error says the mode and what failed.
pub fn connect(config: &mut Config, settings: &TlsSettings) -> Result<Client, String> {
    // libpq never uses TLS over a Unix-domain socket, whatever the mode.
    let unix_only = !config.get_hosts().is_empty()
        && config
            .get_hosts()
            .iter()
            .all(|host| !matches!(host, Host::Tcp(_)));
    if settings.mode == SslMode::Disable || unix_only {
        config.ssl_mode(PgSslMode::Disable);
        return config.connect(NoTls).map_err(|e| super::describe(&e));
    }
    let connector = Connector::new(settings)?;
    match settings.mode {
        SslMode::Allow => {
            config.ssl_mode(PgSslMode::Disable);
            match config.connect(NoTls) {
                Ok(client) => Ok(client),
                // Turned down by the server (pg_hba.conf's hostssl): try TLS.
                Err(plain) if plain.as_db_error().is_some() => {
                    config.ssl_mode(PgSslMode::Require);
                    config.connect(connector.clone()).map_err(|e| {
                        format!(
                            "{} (and without SSL: {})",
                            connector.explain(&e, settings),
                            super::describe(&plain)
                        )
                    })
                }
                Err(plain) => Err(super::describe(&plain)),
            }
        }
        SslMode::Prefer => {
            config.ssl_mode(PgSslMode::Prefer);
            match config.connect(connector.clone()) {
                Ok(client) => Ok(client),
                // The server offered TLS and the attempt failed: libpq tries once more without.
                Err(tls) if connector.handshake_started() => {
                    config.ssl_mode(PgSslMode::Disable);
                    config.connect(NoTls).map_err(|plain| {
                        format!(
                            "{} (and without SSL: {})",
                            connector.explain(&tls, settings),
                            super::describe(&plain)
                        )
                    })
                }
                Err(error) => Err(connector.explain(&error, settings)),
            }
        }
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            config.ssl_mode(PgSslMode::Require);
            config
                .connect(connector.clone())
                .map_err(|e| connector.explain(&e, settings))
        }
        SslMode::Disable => unreachable!("handled above"),
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn load_roots(root: &RootCert) -> Result<Option<Arc<RootCertStore>>, String> {
    let mut store = RootCertStore::empty();
    match root {
        RootCert::None => return Ok(None),
        RootCert::File(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
            let mut any = false;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| {
                    format!("sslrootcert {}: not a PEM certificate: {e}", path.display())
                })?;
                store.add(cert).map_err(|e| {
                    format!("sslrootcert {}: unusable certificate: {e}", path.display())
                })?;
                any = true;
            }
            if !any {
                return Err(format!(
                    "sslrootcert {}: no PEM certificate in the file",
                    path.display()
                ));
            }
        }
        RootCert::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(format!(
                    "sslrootcert=system: no root certificates found on this system{}",
                    found
                        .errors
                        .first()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ));
            }
        }
    }
    Ok(Some(Arc::new(store)))
}

/// The `MakeTlsConnect` given to tokio-postgres: rustls with the verifier of the settings. It
/// remembers whether a handshake began (so that `prefer` knows the server offered TLS).
#[derive(Clone)]
struct Connector {
    config: Arc<ClientConfig>,
    started: Arc<AtomicBool>,
    verifier: Arc<Verifier>,
}

impl Connector {
    fn new(settings: &TlsSettings) -> Result<Self, String> {
        let provider = provider();
        let verifier = Arc::new(Verifier {
            roots: load_roots(&settings.root)?,
            check: settings.check(),
            provider: provider.clone(),
            failure: Mutex::new(None),
        });
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        config.enable_sni = settings.sni;
        // What libpq 17 sends (and what a server taking `sslnegotiation=direct` insists on).
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(Connector {
            config: Arc::new(config),
            started: Arc::new(AtomicBool::new(false)),
            verifier,
        })
    }

    fn handshake_started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    /// A failed connection's message, with the mode and what failed.
    fn explain(&self, error: &postgres::Error, settings: &TlsSettings) -> String {
        let how = settings.describe();
        if let Some(failure) = self.verifier.failure.lock().unwrap().take() {
            return format!("{how}: {failure}");
        }
        let cause = error.source();
        if let Some(rustls) = cause.and_then(|c| c.downcast_ref::<rustls::Error>()) {
            return format!("{how}: TLS handshake failed: {rustls}");
        }
        if !self.handshake_started() && error.to_string().starts_with("error performing TLS") {
            return format!(
                "{how}: the server does not support SSL (it refused the SSL request), and this mode \
                 requires it"
            );
        }
        let mut message = super::describe(error);
        // The client's own words ("error performing TLS handshake") leave out the cause.
        if let Some(cause) = cause.map(|c| c.to_string())
            && !message.contains(&cause)
        {
            message = format!("{message}: {cause}");
        }
        if self.handshake_started() {
            format!("{message} ({how})")
        } else {
            message
        }
    }
}

impl MakeTlsConnect<Socket> for Connector {
    type Stream = RustlsStream;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, io::Error> {
        Ok(RustlsConnect {
            config: self.config.clone(),
            started: self.started.clone(),
            domain: domain.to_string(),
        })
    }
}

pub struct RustlsConnect {
    config: Arc<ClientConfig>,
    started: Arc<AtomicBool>,
    domain: String,
}

type BoxError = Box<dyn StdError + Send + Sync>;

impl TlsConnect<Socket> for RustlsConnect {
    type Stream = RustlsStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<RustlsStream, BoxError>> + Send>>;

    fn connect(self, stream: Socket) -> Self::Future {
        self.started.store(true, Ordering::SeqCst);
        Box::pin(async move {
            let name = ServerName::try_from(self.domain.clone())
                .map_err(|_| format!("\"{}\" is not a host name TLS can check", self.domain))?;
            let connector = tokio_rustls::TlsConnector::from(self.config);
            match connector.connect(name, stream).await {
                Ok(stream) => {
                    let end_point = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|certs| certs.first())
                        .and_then(|cert| tls_server_end_point(cert));
                    Ok(RustlsStream(Box::new(stream), end_point))
                }
                Err(error) => {
                    // tokio-rustls wraps rustls's error: unwrap it so that the message can say more.
                    if error
                        .get_ref()
                        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
                    {
                        let inner = error.into_inner().unwrap();
                        Err(inner as BoxError)
                    } else {
                        Err(Box::new(error) as BoxError)
                    }
                }
            }
        })
    }
}

pub struct RustlsStream(
    Box<tokio_rustls::client::TlsStream<Socket>>,
    /// The server certificate's hash for SCRAM channel binding, when its algorithm is known.
    Option<Vec<u8>>,
);

/// RFC 5929's `tls-server-end-point`: the hash of the server's certificate with the hash function
/// of its signature algorithm (SHA-256 for MD5 and SHA-1), as the PostgreSQL server computes it.
/// `None` for other algorithms (RSASSA-PSS, Ed25519): SCRAM then runs without channel binding.
fn tls_server_end_point(cert: &[u8]) -> Option<Vec<u8>> {
    use sha2::Digest;
    const RSA: [u8; 8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    const ECDSA_SHA2: [u8; 7] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03];
    const ECDSA_SHA1: [u8; 7] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
    let (body, _) = der(cert, 0x30)?;
    let (_tbs, rest) = der(body, 0x30)?;
    let (algorithm, _) = der(rest, 0x30)?;
    let (oid, _) = der(algorithm, 0x06)?;
    let bits = match oid {
        // md5, sha1, sha256, sha384, sha512 WithRSAEncryption
        [prefix @ .., last] if prefix == RSA => match last {
            0x04 | 0x05 | 0x0b => 256,
            0x0c => 384,
            0x0d => 512,
            _ => return None,
        },
        o if o == ECDSA_SHA1 => 256,
        [prefix @ .., last] if prefix == ECDSA_SHA2 => match last {
            0x02 => 256,
            0x03 => 384,
            0x04 => 512,
            _ => return None,
        },
        _ => return None,
    };
    Some(match bits {
        256 => sha2::Sha256::digest(cert).to_vec(),
        384 => sha2::Sha384::digest(cert).to_vec(),
        _ => sha2::Sha512::digest(cert).to_vec(),
    })
}

/// One DER element with tag `tag` at the start of `data`: (its content, what follows it).
fn der(data: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = data.split_first()?;
    if first != tag {
        return None;
    }
    let (&len, mut rest) = rest.split_first()?;
    let len = if len < 0x80 {
        len as usize
    } else {
        let count = (len & 0x7f) as usize;
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let value = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        rest = &rest[count..];
        value
    };
    (rest.len() >= len).then(|| (&rest[..len], &rest[len..]))
}

impl AsyncRead for RustlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for RustlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

impl TlsStream for RustlsStream {
    fn channel_binding(&self) -> ChannelBinding {
        match &self.1 {
            Some(hash) => ChannelBinding::tls_server_end_point(hash.clone()),
            // SCRAM then authenticates without channel binding (tokio-postgres says so to the server).
            None => ChannelBinding::none(),
        }
    }
}

/// rustls's certificate check, cut to what the mode asks: nothing, the chain, or the chain and the
/// host name. Handshake signatures are always verified. The last failure is kept for the message.
#[derive(Debug)]
struct Verifier {
    roots: Option<Arc<RootCertStore>>,
    check: Check,
    provider: Arc<CryptoProvider>,
    failure: Mutex<Option<String>>,
}

impl Verifier {
    fn fail(&self, error: rustls::Error, server_name: &ServerName<'_>) -> rustls::Error {
        let host = server_name.to_str();
        let text = match &error {
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
                "the server's certificate is not signed by the root certificate (unknown CA)"
                    .to_string()
            }
            rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
                presented,
                ..
            }) => format!(
                "host name mismatch: the server's certificate is not valid for \"{host}\" (it names {})",
                if presented.is_empty() {
                    "no subject alternative name".to_string()
                } else {
                    presented
                        .iter()
                        .map(|name| plain_name(name))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            rustls::Error::InvalidCertificate(CertificateError::NotValidForName) => {
                format!("host name mismatch: the server's certificate is not valid for \"{host}\"")
            }
            rustls::Error::InvalidCertificate(CertificateError::Expired)
            | rustls::Error::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
                "the server's certificate has expired".to_string()
            }
            other => format!("the server's certificate was rejected: {other}"),
        };
        *self.failure.lock().unwrap() = Some(text);
        error
    }
}

/// `DnsName("localhost")` (how rustls lists a certificate's names) as `localhost`.
fn plain_name(name: &str) -> &str {
    ["DnsName(\"", "IpAddress(\"", "DnsName(", "IpAddress("]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
        .map(|rest| rest.trim_end_matches(')').trim_end_matches('"'))
        .unwrap_or(name)
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.roots else {
            return match self.check {
                Check::Nothing => Ok(ServerCertVerified::assertion()),
                // Ruled out when the settings were read.
                _ => Err(rustls::Error::General("no root certificate".into())),
            };
        };
        if self.check == Check::Nothing {
            return Ok(ServerCertVerified::assertion());
        }
        let cert =
            ParsedCertificate::try_from(end_entity).map_err(|e| self.fail(e, server_name))?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )
        .map_err(|e| self.fail(e, server_name))?;
        if self.check == Check::ChainAndName {
            rustls::client::verify_server_name(&cert, server_name)
                .map_err(|e| self.fail(e, server_name))?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(url: &str, env: &[(&str, &str)]) -> Result<(String, TlsSettings), String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        split_url_with(
            url,
            &|name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            None,
        )
    }

    #[test]
    fn modes_leave_the_url_and_the_rest_stays() {
        let (rest, settings) = split(
            "postgresql://u@h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&application_name=x",
            &[],
        )
        .unwrap();
        assert_eq!(rest, "postgresql://u@h/db?application_name=x");
        assert_eq!(settings.mode, SslMode::VerifyFull);
        assert_eq!(settings.root, RootCert::File("/tmp/ca.pem".into()));
        assert_eq!(settings.check(), Check::ChainAndName);
    }

    #[test]
    fn prefer_is_the_default_and_the_environment_fills_in() {
        let (rest, settings) = split("postgresql://h/db", &[]).unwrap();
        assert_eq!(rest, "postgresql://h/db");
        assert_eq!(settings.mode, SslMode::Prefer);
        assert_eq!(settings.check(), Check::Nothing);
        let (_, settings) = split(
            "postgresql://h/db",
            &[("PGSSLMODE", "require"), ("PGSSLROOTCERT", "/ca.pem")],
        )
        .unwrap();
        assert_eq!(settings.mode, SslMode::Require);
        // libpq: require with a root certificate verifies the chain.
        assert_eq!(settings.check(), Check::Chain);
        // The URL wins over the environment.
        let (_, settings) = split(
            "postgresql://h/db?sslmode=disable",
            &[("PGSSLMODE", "require")],
        )
        .unwrap();
        assert_eq!(settings.mode, SslMode::Disable);
    }

    #[test]
    fn system_roots_mean_verify_full() {
        let (_, settings) = split("postgresql://h/db?sslrootcert=system", &[]).unwrap();
        assert_eq!(settings.mode, SslMode::VerifyFull);
        let error = split("postgresql://h/db?sslrootcert=system&sslmode=require", &[]).unwrap_err();
        assert!(error.contains("weak sslmode \"require\""), "{error}");
    }

    #[test]
    fn channel_binding_hashes_the_certificate_with_its_signature_hash() {
        // Debian's snakeoil certificate (sha256WithRSAEncryption) where it exists: SHA-256 of its DER,
        // what `openssl x509 -outform DER | sha256sum` prints.
        let Ok(pem) = std::fs::read("/etc/ssl/certs/ssl-cert-snakeoil.pem") else {
            return;
        };
        let cert = CertificateDer::from_pem_slice(&pem).unwrap();
        let hash = tls_server_end_point(&cert).expect("an RSA/SHA-256 certificate");
        use sha2::Digest;
        assert_eq!(hash, sha2::Sha256::digest(&cert).to_vec());
        // Truncated or foreign input gives no binding rather than a wrong one.
        assert_eq!(tls_server_end_point(&cert[..cert.len() / 2]), None);
        assert_eq!(tls_server_end_point(b"\x30\x03\x02\x01\x00"), None);
    }

    #[test]
    fn verification_without_a_root_and_bad_values_are_refused() {
        let error = split("postgresql://h/db?sslmode=verify-ca", &[]).unwrap_err();
        assert!(error.contains("needs a root certificate"), "{error}");
        let error = split("postgresql://h/db?sslmode=strict", &[]).unwrap_err();
        assert!(error.contains("invalid sslmode \"strict\""), "{error}");
        let error = split("postgresql://h/db?sslcert=/c.pem", &[]).unwrap_err();
        assert!(error.contains("sslcert is not supported"), "{error}");
    }
}
