//! One simulated cluster's ingress gateway as a listener lifecycle: bind,
//! accept, and for `Down` close the listener and reset every connection;
//! re-bind the same address when any other fault replaces `Down`.
//!
//! Each up period is a `Serving` generation: a cancellation token and the
//! accept-loop task, which owns the listener and a `JoinSet` of its
//! connection tasks. Stopping cancels the token and awaits the accept loop,
//! which closes the listener and then drains the set, so when `apply(Down)`
//! or `shutdown` returns the sockets are closed and no task is left.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Mutex;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::server::{ClusterState, serve_connection};
use super::{Cluster, SimFault};

/// Pending connections the kernel queues for us; the load generator opens
/// its whole pool at once at run start.
const BACKLOG: u32 = 1024;

#[derive(Debug)]
pub struct Gateway {
    pub state: Arc<ClusterState>,
    addr: SocketAddr,
    /// Parent of every generation's token: cancelling it (on `Sim` drop)
    /// stops all tasks even without an orderly `shutdown`.
    root: CancellationToken,
    /// `None` while the cluster is `Down`. The lock serialises fault changes.
    serving: Mutex<Option<Serving>>,
}

#[derive(Debug)]
struct Serving {
    cancel: CancellationToken,
    accept: JoinHandle<()>,
}

impl Gateway {
    pub fn start(
        state: Arc<ClusterState>,
        addr: SocketAddr,
        root: CancellationToken,
    ) -> io::Result<Gateway> {
        let listener = bind(state.cluster, addr)?;
        let addr = listener.local_addr()?;
        let serving = Serving::spawn(listener, &state, &root);
        Ok(Gateway {
            state,
            addr,
            root,
            serving: Mutex::new(Some(serving)),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn tls_ca(&self) -> Option<&rustls::pki_types::CertificateDer<'static>> {
        self.state.site.tls.as_ref().map(|tls| &tls.ca)
    }

    pub async fn apply(&self, fault: SimFault) -> io::Result<()> {
        let mut serving = self.serving.lock().await;
        if fault == SimFault::Down {
            if let Some(s) = serving.take() {
                s.stop().await;
            }
            self.state.fault.set(fault);
            return Ok(());
        }
        // Set first so the first request on a re-bound listener sees it.
        self.state.fault.set(fault);
        if serving.is_none() {
            match bind(self.state.cluster, self.addr) {
                Ok(listener) => *serving = Some(Serving::spawn(listener, &self.state, &self.root)),
                Err(e) => {
                    self.state.fault.set(SimFault::Down);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Closes the listener and every connection, and waits for their tasks.
    pub async fn stop(&self) {
        if let Some(s) = self.serving.lock().await.take() {
            s.stop().await;
        }
    }
}

impl Serving {
    fn spawn(
        listener: TcpListener,
        state: &Arc<ClusterState>,
        root: &CancellationToken,
    ) -> Serving {
        let cancel = root.child_token();
        let accept = tokio::spawn(accept_loop(listener, state.clone(), cancel.clone()));
        Serving { cancel, accept }
    }

    async fn stop(self) {
        self.cancel.cancel();
        // A panic in a connection task is already reported by the runtime;
        // the accept loop itself does not panic.
        let _ = self.accept.await;
    }
}

/// Binds with `SO_REUSEADDR` so `Restore` gets the same port back even when
/// connections the sim closed first still sit in TIME_WAIT on it.
/// A listener on `addr`; its error names the cluster and the address (two
/// ingresses, two addresses: "address already in use" alone says neither),
/// keeping the error's kind for the caller's advice.
fn bind(cluster: Cluster, addr: SocketAddr) -> io::Result<TcpListener> {
    let listen = || {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(BACKLOG)
    };
    listen().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("{} ingress cannot listen on {addr}: {e}", cluster.name()),
        )
    })
}

/// Accepts until cancelled, then closes the listener (from then on a connect
/// is refused) and waits for every connection task, which see the same
/// cancellation and reset their sockets.
async fn accept_loop(listener: TcpListener, state: Arc<ClusterState>, cancel: CancellationToken) {
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            // Reap finished connections so the set stays as big as what is open.
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                state.stats.connection_accepted();
                conns.spawn(serve_connection(stream, state.clone(), cancel.clone()));
            }
            // Out of file descriptors and the like: pause instead of spinning;
            // the kernel keeps queueing connections meanwhile.
            Err(_) => {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(10)) => {}
                }
            }
        }
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
}
