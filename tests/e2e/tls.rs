//! The production path: an https:// tenant behind a certificate from a
//! private CA. The host trusts it only with `--ca-bundle`, and says what
//! is wrong without it.

use crate::fixtures::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

struct Tls {
    ca_pem: String,
    addr: SocketAddr,
    tokio_rt: tokio::runtime::Runtime,
}

/// A TLS front for the simulated tenant: `https://localhost:PORT` (or
/// `https://tenant.test:PORT` through a proxy that resolves that name) with
/// a certificate signed by a CA made here.
fn tls_front(backend: SocketAddr) -> Tls {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "cto-host test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string(), REMOTE.to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = tokio_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio_rt.spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    Tls {
        ca_pem: ca.pem(),
        addr,
        tokio_rt,
    }
}

/// The simulated tenant behind the TLS front, its configuration and CA file.
struct HttpsTenant {
    sim: ivanti_sim::Sim,
    tls: Tls,
    dir: tempfile::TempDir,
    config: String,
    ca: String,
}

/// A tenant name that is not this machine's: only the test proxy resolves it.
const REMOTE: &str = "tenant.test";

fn https_tenant() -> HttpsTenant {
    https_tenant_at("localhost")
}

fn https_tenant_at(host: &str) -> HttpsTenant {
    let sim = sim_with(|c| c.tenant_host = host.into());
    let backend: SocketAddr = sim.url().trim_start_matches("http://").parse().unwrap();
    let tls = tls_front(backend);
    let dir = tempfile::tempdir().unwrap();
    let c = sim.config();
    let config = write(
        dir.path(),
        "config.json",
        &json!({
            "auth": {"tenant_url": format!("https://{host}:{}", tls.addr.port()), "authentication_method": "basic_auth",
                     "employee_rec_id": c.employee_rec_id},
            "params": {"username": c.username, "password": c.password, "user_role": c.role},
        })
        .to_string(),
    );
    let ca = write(dir.path(), "ca.pem", &tls.ca_pem);
    HttpsTenant {
        sim,
        tls,
        dir,
        config,
        ca,
    }
}

#[test]
fn an_https_tenant_with_a_private_ca_needs_the_ca_bundle() {
    let HttpsTenant {
        sim,
        tls,
        dir,
        config,
        ca,
    } = https_tenant();
    let alert = write(
        dir.path(),
        "alert.json",
        &json!({"id": "tls-1", "alertName": "Over TLS", "alertType": "DLP", "app": "Box",
        "appCategory": "Cloud Storage", "user": "u", "type": "dlp", "timestamp": 0, "rawData": {}})
        .to_string(),
    );

    let untrusted = cli(&["validate", "--config", &config], &[]);
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert_eq!(untrusted.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("TLS certificate was not trusted"),
        "{stderr}"
    );
    assert_eq!(
        sim.calls().total,
        0,
        "nothing reached the tenant over an untrusted connection"
    );

    let trusted = cli(&["--ca-bundle", &ca, "validate", "--config", &config], &[]);
    assert_eq!(
        trusted.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    let created = cli(
        &[
            "--ca-bundle",
            &ca,
            "create",
            "--config",
            &config,
            "--alert",
            &alert,
        ],
        &[],
    );
    assert_eq!(
        created.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let task = stdout_json(&created)["task"].clone();
    assert!(
        task["link"]
            .as_str()
            .unwrap()
            .starts_with(&format!("https://localhost:{}/Login.aspx", tls.addr.port())),
        "{task}"
    );
    assert_eq!(sim.incidents().len(), 1);

    let bad = write(dir.path(), "bad.pem", "not a certificate");
    let o = cli(&["--ca-bundle", &bad, "info"], &[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("PEM"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A CONNECT proxy that counts the tunnels it opens (it resolves
/// `localhost` and [`REMOTE`] to 127.0.0.1).
fn connect_proxy(tokio_rt: &tokio::runtime::Runtime) -> (SocketAddr, Arc<AtomicU64>) {
    let tunnels = Arc::new(AtomicU64::new(0));
    let listener = tokio_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let counter = tunnels.clone();
    tokio_rt.spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut client = tokio::io::BufReader::new(socket);
                let mut line = String::new();
                if client.read_line(&mut line).await.is_err() {
                    return;
                }
                let target = match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                    ["CONNECT", target, _] => target
                        .replace("localhost", "127.0.0.1")
                        .replace(REMOTE, "127.0.0.1"),
                    _ => return,
                };
                loop {
                    let mut header = String::new();
                    if client.read_line(&mut header).await.unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                }
                let Ok(mut upstream) = tokio::net::TcpStream::connect(&target).await else {
                    return;
                };
                counter.fetch_add(1, Ordering::Relaxed);
                let mut client = client.into_inner();
                if client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_ok()
                {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (addr, tunnels)
}

/// A remote tenant goes through `HTTPS_PROXY`, unless `NO_PROXY` names it
/// (then the host connects directly, and `tenant.test` does not resolve);
/// a tenant on this machine never goes through a proxy.
#[test]
fn https_proxy_and_no_proxy_are_honoured() {
    let HttpsTenant {
        sim,
        tls,
        dir: _dir,
        config,
        ca,
    } = https_tenant_at(REMOTE);
    let (proxy, tunnels) = connect_proxy(&tls.tokio_rt);
    let proxy_url = format!("http://{proxy}");
    let via = cli(
        &["--ca-bundle", &ca, "validate", "--config", &config],
        &[("HTTPS_PROXY", &proxy_url), ("NO_PROXY", "")],
    );
    assert_eq!(
        via.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&via.stderr)
    );
    assert!(
        tunnels.load(Ordering::Relaxed) >= 1,
        "the request went through the proxy"
    );
    assert_eq!(sim.calls().login, 1);
    let before = tunnels.load(Ordering::Relaxed);
    let direct = cli(
        &["--ca-bundle", &ca, "validate", "--config", &config],
        &[("HTTPS_PROXY", &proxy_url), ("NO_PROXY", REMOTE)],
    );
    assert_eq!(
        direct.status.code(),
        Some(1),
        "the name does not resolve without the proxy: {}",
        String::from_utf8_lossy(&direct.stderr)
    );
    assert_eq!(
        tunnels.load(Ordering::Relaxed),
        before,
        "NO_PROXY bypassed the proxy"
    );
    assert_eq!(sim.calls().login, 1);

    let local = https_tenant();
    let (proxy, tunnels) = connect_proxy(&local.tls.tokio_rt);
    let proxy_url = format!("http://{proxy}");
    let o = cli(
        &[
            "--ca-bundle",
            &local.ca,
            "validate",
            "--config",
            &local.config,
        ],
        &[("HTTPS_PROXY", &proxy_url), ("NO_PROXY", "")],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(local.sim.calls().login, 1);
    assert_eq!(
        tunnels.load(Ordering::Relaxed),
        0,
        "this machine is reached directly"
    );
}
