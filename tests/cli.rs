//! The `plantiles` binary as a deployer runs it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_plantiles"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn unknown_config_key_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plantiles.toml");
    std::fs::write(&path, "bind = \"127.0.0.1:0\"\ncahce_mb = 5\n").expect("write");
    let out = bin()
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cahce_mb"), "{err}");
}

#[test]
fn serves_the_sample_and_stops_cleanly_on_sigterm() {
    let mut child = bin()
        .args(["serve", "--bind", "127.0.0.1:0", "--cache-mb", "16"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("utf8");
    let addr = first
        .strip_prefix("catalog: http://")
        .and_then(|s| s.strip_suffix("/catalog"))
        .expect("catalog URL first")
        .to_string();
    let second = lines.next().expect("a line").expect("utf8");
    assert_eq!(
        second,
        format!("tileset sample: http://{addr}/tiles/sample")
    );
    let started = Instant::now();
    while !get(&addr, "/health").starts_with("HTTP/1.1 200") {
        assert!(started.elapsed() < Duration::from_secs(20), "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(get(&addr, "/tiles/sample/15/25997/14446").starts_with("HTTP/1.1 200"));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let code = child.wait().expect("wait");
    assert!(code.success(), "exit {code:?}");
}
