//! The HTTP/1.1 keep-alive connections a target's client keeps itself
//! (`engine::owned`), against a server on 127.0.0.1:0 that counts the
//! connections it accepted: one connection serves every request in turn;
//! one the server closes is replaced at the next request; one older than
//! `max_connection_age` is not used again; with `connection = "new"`
//! every request has a connection of its own and says `Connection: close`.

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

/// Request heads seen, in order.
type Lines = Arc<Mutex<Vec<String>>>;

/// Answers every request with `BODY`; with `close`, says `Connection:
/// close` and closes after the response. Returns the address, the count
/// of connections accepted, and the request heads.
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
            lines.lock().unwrap().push(head);
            if conn.write_all(response.as_bytes()).is_err() || close {
                return;
            }
            buf.copy_within(end + 4..have, 0);
            have -= end + 4;
        }
    }
}

fn client(addr: SocketAddr, max_connection_age: Option<Duration>) -> TargetClient {
    client_with(addr, max_connection_age, ConnectionPolicy::KeepAlive)
}

fn client_with(
    addr: SocketAddr,
    max_connection_age: Option<Duration>,
    policy: ConnectionPolicy,
) -> TargetClient {
    TargetClient::new(&ClientSpec {
        uri: format!("http://{addr}/x?y=1").parse().unwrap(),
        host: addr.to_string(),
        connect: ConnectSpec {
            pin: None,
            connect_timeout: Duration::from_secs(5),
            tls: None,
        },
        resolver: Arc::new(Resolver::system()),
        policy,
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
    let first_lines: Vec<_> = lines
        .lock()
        .unwrap()
        .iter()
        .map(|head| head.lines().next().unwrap().to_string())
        .collect();
    assert_eq!(first_lines, vec!["GET /x?y=1 HTTP/1.1".to_string(); 10]);
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

#[tokio::test]
async fn connection_new_dials_a_connection_per_request_and_says_close() {
    // A keep-alive server: only the client's policy closes the connections.
    let (addr, accepted, heads) = server(false);
    let client = client_with(addr, None, ConnectionPolicy::New);
    let seen = requests(&client, 6).await;
    assert_eq!(seen, vec![(200, BODY.len(), Some(addr)); 6]);
    assert_eq!(accepted.load(Ordering::SeqCst), 6);
    let heads = heads.lock().unwrap();
    assert_eq!(heads.len(), 6);
    for head in heads.iter() {
        let mut lines = head.lines();
        assert_eq!(lines.next(), Some("GET /x?y=1 HTTP/1.1"));
        let connection: Vec<_> = lines
            .filter_map(|l| l.split_once(':'))
            .filter(|(name, _)| name.eq_ignore_ascii_case("connection"))
            .map(|(_, value)| value.trim().to_string())
            .collect();
        assert_eq!(connection, vec!["close".to_string()]);
    }
    assert_eq!(client.versions(), vec![("1.1", 6)]);
}
