//! The HTTP/1.1 keep-alive connections a target's client keeps itself
//! (`engine::owned`), against a server on 127.0.0.1:0 that counts the
//! connections it accepted: one connection serves every request in turn;
//! one the server closes is replaced at the next request; one older than
//! `max_connection_age` is not used again.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meshdrill::engine::buffers::{BodyBudget, BodyPool};
use meshdrill::engine::client::{ClientSpec, Reply, TargetClient};
use meshdrill::engine::connect::ConnectSpec;
use meshdrill::engine::resolve::Resolver;
use meshdrill::scenario::{ConnectionPolicy, FollowRedirects, HttpVersion};

const BODY: &str = "hello";

/// Request lines seen, in order.
type Lines = Arc<Mutex<Vec<String>>>;

/// Answers every request with `BODY`; with `close`, says `Connection:
/// close` and closes after the response. Returns the address, the count
/// of connections accepted, and the request lines.
fn server(close: bool) -> (SocketAddr, Arc<AtomicUsize>, Lines) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let lines = Lines::default();
    let (counted, seen) = (accepted.clone(), lines.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let seen = seen.clone();
            std::thread::spawn(move || serve(conn, close, seen));
        }
    });
    (addr, accepted, lines)
}

fn serve(mut conn: std::net::TcpStream, close: bool, lines: Lines) {
    let connection = if close { "close" } else { "keep-alive" };
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: {connection}\r\n\r\n{BODY}",
        BODY.len()
    );
    let mut buf = vec![0u8; 8192];
    let mut have = 0;
    loop {
        match conn.read(&mut buf[have..]) {
            Ok(0) | Err(_) => return,
            Ok(n) => have += n,
        }
        while let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let line = head.lines().next().unwrap_or_default().to_string();
            lines.lock().unwrap().push(line);
            if conn.write_all(response.as_bytes()).is_err() || close {
                return;
            }
            buf.copy_within(end + 4..have, 0);
            have -= end + 4;
        }
    }
}

fn client(addr: SocketAddr, max_connection_age: Option<Duration>) -> TargetClient {
    TargetClient::new(&ClientSpec {
        uri: format!("http://{addr}/x?y=1").parse().unwrap(),
        host: addr.to_string(),
        connect: ConnectSpec {
            pin: None,
            connect_timeout: Duration::from_secs(5),
            tls: None,
        },
        resolver: Arc::new(Resolver::system()),
        policy: ConnectionPolicy::KeepAlive,
        follow: FollowRedirects::No,
        http: HttpVersion::H1,
        h2_connections: 1,
        timeout: Duration::from_secs(10),
        max_body_bytes: 1 << 20,
        body_budget: BodyBudget::new(1 << 20),
        max_idle: 4,
        max_connection_age,
    })
    .unwrap()
}

/// `n` requests one after another: each one's status, body length and
/// answering address.
async fn requests(client: &TargetClient, n: usize) -> Vec<(u16, usize, Option<SocketAddr>)> {
    let mut pool = BodyPool::new(client.body_budget());
    let mut seen = Vec::new();
    for _ in 0..n {
        let mut body = pool.take();
        let answer = client
            .exchange(&mut body, tokio::time::Instant::now())
            .await;
        let status = match answer.reply {
            Reply::Response { status, .. } => status.as_u16(),
            Reply::Failed(kind) => panic!("request failed: {kind:?}"),
        };
        seen.push((status, body.len(), answer.peer));
        pool.give(body, 0);
    }
    seen
}

#[tokio::test]
async fn one_connection_serves_every_request_in_turn() {
    let (addr, accepted, lines) = server(false);
    let client = client(addr, None);
    let seen = requests(&client, 10).await;
    assert_eq!(seen, vec![(200, BODY.len(), Some(addr)); 10]);
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    // Origin form, as HTTP/1.1 sends a request to an origin server.
    assert_eq!(
        *lines.lock().unwrap(),
        vec!["GET /x?y=1 HTTP/1.1".to_string(); 10]
    );
    assert_eq!(client.versions(), vec![("1.1", 10)]);
}

#[tokio::test]
async fn a_connection_the_server_closes_is_replaced_at_the_next_request() {
    let (addr, accepted, _) = server(true);
    let client = client(addr, None);
    let seen = requests(&client, 5).await;
    assert_eq!(seen, vec![(200, BODY.len(), Some(addr)); 5]);
    assert_eq!(accepted.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_connection_older_than_max_connection_age_is_not_used_again() {
    let (addr, accepted, _) = server(false);
    let client = client(addr, Some(Duration::from_nanos(1)));
    let seen = requests(&client, 4).await;
    assert_eq!(seen, vec![(200, BODY.len(), Some(addr)); 4]);
    assert_eq!(accepted.load(Ordering::SeqCst), 4);
}
