//! What the host trusts on the way out and on the way in (issue 18):
//! - a tenant on this machine is never reached through a proxy, and plain
//!   http:// through a proxy is refused naming the variable, never its
//!   value (the proxy plays a listener that records every connection);
//! - a tenant URL carrying a user name and password is refused naming the
//!   field, and the password is printed nowhere;
//! - the compile cache: a folder others may write is not used (a warning,
//!   a fresh compile), and an entry swapped for another component's is
//!   detected and the asked-for plugin runs. Tests run as root, so "another
//!   user could write it" is played by `chmod o+w` (the runtime's own tests
//!   also hand a folder and an entry to another user with `chown`).

use crate::fixtures::*;
use cto_test_components::WEBHOOK_PLUGIN;
use serde_json::json;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

const PROXY_SECRET: &str = "proxyPw7731";
const URL_SECRET: &str = "Hunter2pw";

/// A proxy that must not be used: it records the address of every
/// connection it is offered, in order, and closes it.
struct Recorder {
    addr: SocketAddr,
    peers: Arc<Mutex<Vec<SocketAddr>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let peers = Arc::new(Mutex::new(Vec::new()));
        let seen = peers.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Ok(peer) = stream.peer_addr() {
                    seen.lock().unwrap().push(peer);
                }
            }
        });
        Recorder { addr, peers }
    }

    /// Its URL, with credentials of its own (which must never be printed).
    fn url(&self) -> String {
        format!("http://proxyuser:{PROXY_SECRET}@{}", self.addr)
    }

    /// How many connections were made to it before now: it is connected
    /// to once more, and connections are accepted in the order they came.
    fn connections_so_far(&self) -> usize {
        let marker = TcpStream::connect(self.addr).unwrap();
        let me = marker.local_addr().unwrap();
        wait_for("the proxy to accept the marker connection", || {
            self.peers.lock().unwrap().contains(&me)
        });
        let peers = self.peers.lock().unwrap();
        peers.iter().position(|p| *p == me).unwrap()
    }
}

/// Every proxy variable a client might read, all pointing at `proxy`.
fn proxy_env(proxy: &Recorder) -> Vec<(&'static str, String)> {
    [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .into_iter()
    .map(|k| (k, proxy.url()))
    .collect()
}

fn cto_env(args: &[&str], envs: &[(&str, String)]) -> Outcome {
    let mut cmd = host();
    cmd.args(args).env_remove("NO_PROXY").env_remove("no_proxy");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    finish(cmd.spawn().expect("cto-host starts"))
}

#[test]
fn a_tenant_on_this_machine_is_never_sent_through_a_proxy() {
    let sim = sim();
    let proxy = Recorder::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "c.json", &basic(&sim, json!({})).to_string());
    let o = cto_env(&["validate", "--config", &config], &proxy_env(&proxy));
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert_eq!(sim.calls().login, 1, "the tenant got the login");
    assert_eq!(proxy.connections_so_far(), 0, "the proxy got nothing");
    assert!(!o.all().contains(PROXY_SECRET), "{}", o.all());
}

#[test]
fn plain_http_through_a_proxy_is_refused_naming_the_variable_not_its_value() {
    let sim = sim_with(|c| c.tenant_host = "tenant.test".into());
    let proxy = Recorder::start();
    let dir = tempfile::tempdir().unwrap();
    let port = sim.url().rsplit(':').next().unwrap().to_owned();
    let tenant = format!("http://tenant.test:{port}");
    let doc = basic(&sim, json!({"tenant_url": tenant}));
    let config = write(dir.path(), "c.json", &doc.to_string());
    let envs = [("http_proxy", proxy.url())];
    let o = cto_env(
        &["--allow-insecure-http", "validate", "--config", &config],
        &envs,
    );
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr.contains("http_proxy") && o.stderr.contains("NO_PROXY"),
        "{}",
        o.stderr
    );
    assert!(
        !o.all().contains(PROXY_SECRET) && !o.all().contains("proxyuser"),
        "{}",
        o.all()
    );
    assert_eq!(o.json()["error"]["kind"], "input");
    assert_eq!(sim.calls().login, 0);
    assert_eq!(proxy.connections_so_far(), 0, "nothing reached the proxy");
}

#[test]
fn a_tenant_url_with_credentials_is_refused_without_echoing_them() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let local = sim
        .url()
        .replace("http://", &format!("http://alice:{URL_SECRET}@"));
    for (i, url) in [
        format!("http://alice:{URL_SECRET}@tenant.example.com"),
        format!("https://alice:{URL_SECRET}@tenant.example.com/HEAT"),
        format!("ftp://alice:{URL_SECRET}@tenant.example.com"),
        local,
    ]
    .iter()
    .enumerate()
    {
        let doc = basic(&sim, json!({"tenant_url": url}));
        let config = write(dir.path(), &format!("c{i}.json"), &doc.to_string());
        for extra in [&[][..], &["--allow-insecure-http"][..]] {
            let mut args = extra.to_vec();
            args.extend(["validate", "--config", &config]);
            let o = cto(&args);
            assert_eq!(o.code, Some(2), "{url}: {}", o.all());
            assert!(o.stderr.contains("tenant_url"), "{url}: {}", o.stderr);
            assert!(
                !o.all().contains(URL_SECRET) && !o.all().contains("alice:"),
                "{url}: {}",
                o.all()
            );
        }
    }
    assert_eq!(sim.calls().login, 0);
}

fn info(cache: &Path, plugin: Option<&str>) -> Outcome {
    let mut args = vec!["--cache-dir", cache.to_str().unwrap(), "info"];
    if let Some(p) = plugin {
        args.extend(["--plugin", p]);
    }
    cto(&args)
}

/// The plugin's name, the component's SHA-256 and whether it came from the cache.
fn loaded(o: &Outcome) -> (String, String, bool) {
    assert_eq!(o.code, Some(0), "{}", o.all());
    let v = o.json();
    (
        v["plugin"]["name"].as_str().unwrap().to_owned(),
        v["component"]["sha256"].as_str().unwrap().to_owned(),
        v["component"]["from_cache"].as_bool().unwrap(),
    )
}

fn entry_of(cache: &Path, sha256: &str) -> std::path::PathBuf {
    std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(sha256) && !n.ends_with(".tmp"))
        })
        .unwrap_or_else(|| panic!("an entry for {sha256} in {}", cache.display()))
}

#[test]
fn a_cache_folder_others_may_write_is_not_used() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let (name, sha, _) = loaded(&info(&cache, None));
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "created private");
    let entry = entry_of(&cache, &sha);
    let entry_mode = std::fs::metadata(&entry).unwrap().permissions().mode() & 0o777;
    assert_eq!(entry_mode, 0o600, "written private");
    assert!(loaded(&info(&cache, None)).2, "used while private");

    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let o = info(&cache, None);
    let (again, _, from_cache) = loaded(&o);
    assert_eq!((again.as_str(), from_cache), (name.as_str(), false));
    assert_eq!(
        o.stderr.matches("not using the compile cache").count(),
        1,
        "warned once: {}",
        o.stderr
    );
    assert!(o.stderr.contains("every user"), "{}", o.stderr);
}

#[test]
fn a_cache_entry_swapped_for_another_components_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path();
    let (ivanti, ivanti_sha, _) = loaded(&info(cache, None));
    let (webhook, webhook_sha, _) = loaded(&info(cache, Some(WEBHOOK_PLUGIN)));
    assert_ne!(ivanti, webhook);
    std::fs::copy(entry_of(cache, &webhook_sha), entry_of(cache, &ivanti_sha)).unwrap();

    let o = info(cache, None);
    let (name, _, from_cache) = loaded(&o);
    assert_eq!(name, ivanti, "the plugin asked for runs");
    assert!(!from_cache, "compiled afresh");
    assert!(o.stderr.contains("another component"), "{}", o.stderr);
    let (name, _, from_cache) = loaded(&info(cache, None));
    assert_eq!(
        (name.as_str(), from_cache),
        (ivanti.as_str(), true),
        "rewritten"
    );
}
