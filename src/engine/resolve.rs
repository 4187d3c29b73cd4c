//! Name resolution for the targets' connectors: the one place a host name
//! becomes addresses, so the failure is its own outcome kind (`dns`) and
//! the addresses that answered can be recorded.
//!
//! hickory-resolver, not `getaddrinfo`: its cache keeps each answer for its
//! TTL (clamped by `[dns] min_ttl`/`max_ttl`), so a drill that moves a name
//! to another address sees the move when the TTL says, not when the C
//! library's resolver happens to ask again; and `[dns] nameservers` can
//! point at a drill's own DNS server without touching the machine's.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ProtocolConfig, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;

use crate::scenario::DnsPlan;

#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot resolve {host}: {message}")]
pub struct ResolveError {
    pub host: String,
    pub message: String,
}

/// Every target's resolver: one cache for the run. Cloning shares it.
#[derive(Clone)]
pub struct Resolver {
    /// `Err`: the system's configuration could not be read (no
    /// resolv.conf); every lookup of a name fails with it, IP literals
    /// still work.
    inner: Result<TokioResolver, String>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Ok(_) => f.write_str("Resolver(hickory)"),
            Err(e) => write!(f, "Resolver(unusable: {e})"),
        }
    }
}

impl Default for Resolver {
    fn default() -> Resolver {
        Resolver::system()
    }
}

/// What one lookup may take at most when nothing else bounds it.
const DEFAULT_LOOKUP_TIMEOUT: Duration = Duration::from_secs(1);

impl Resolver {
    /// The system's configuration (resolv.conf), hickory's default options.
    pub fn system() -> Resolver {
        Resolver::new(&DnsPlan::default(), DEFAULT_LOOKUP_TIMEOUT)
    }

    /// As `[dns]` says: its nameservers (else the system's), its TTL
    /// clamps. `lookup_timeout` bounds a whole lookup (two attempts of half
    /// of it each), so an unreachable nameserver is `dns` within the
    /// connect timeout rather than the request's `timeout`.
    pub fn new(plan: &DnsPlan, lookup_timeout: Duration) -> Resolver {
        let builder = if plan.nameservers.is_empty() {
            // hickory 0.26's `ResolverConfig::default()` has no nameservers:
            // the system's configuration is read by this builder.
            TokioResolver::builder_tokio()
                .map_err(|e| format!("reading the system's DNS configuration: {e}"))
        } else {
            let servers = plan
                .nameservers
                .iter()
                .map(|addr| nameserver(*addr))
                .collect();
            Ok(TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(servers),
                TokioRuntimeProvider::default(),
            ))
        };
        let inner = builder.and_then(|mut builder| {
            let opts: &mut ResolverOpts = builder.options_mut();
            opts.attempts = 2;
            opts.timeout = (lookup_timeout / 2).max(Duration::from_millis(10));
            opts.positive_min_ttl = plan.min_ttl;
            opts.positive_max_ttl = plan.max_ttl;
            builder
                .build()
                .map_err(|e| format!("building the resolver: {e}"))
        });
        Resolver { inner }
    }

    /// Every address of `host`, each with `port`, in the resolver's order.
    /// An IP literal is returned as it is, without a lookup.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ResolveError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let failed = |message: String| ResolveError {
            host: host.to_string(),
            message,
        };
        let resolver = self.inner.as_ref().map_err(|e| failed(e.clone()))?;
        let found: Vec<SocketAddr> = resolver
            .lookup_ip(bare)
            .await
            .map_err(|e| failed(e.to_string()))?
            .iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect();
        if found.is_empty() {
            return Err(failed("no addresses".to_string()));
        }
        Ok(found)
    }
}

/// A nameserver asked over UDP, and over TCP when an answer is truncated.
fn nameserver(addr: SocketAddr) -> NameServerConfig {
    let on_port = |protocol: ProtocolConfig| {
        let mut connection = ConnectionConfig::new(protocol);
        connection.port = addr.port();
        connection
    };
    NameServerConfig::new(
        addr.ip(),
        true,
        vec![on_port(ProtocolConfig::Udp), on_port(ProtocolConfig::Tcp)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_ip_literal_is_not_looked_up() {
        // No nameserver listens on port 9 of loopback: a lookup would fail.
        let plan = DnsPlan {
            nameservers: vec!["127.0.0.1:9".parse().unwrap()],
            ..DnsPlan::default()
        };
        let r = Resolver::new(&plan, Duration::from_millis(200));
        assert_eq!(
            r.resolve("127.0.0.1", 8080).await.unwrap(),
            vec!["127.0.0.1:8080".parse().unwrap()]
        );
        assert_eq!(
            r.resolve("[::1]", 443).await.unwrap(),
            vec!["[::1]:443".parse().unwrap()]
        );
    }

    #[tokio::test]
    async fn no_nameserver_answering_is_an_error_naming_the_host() {
        let plan = DnsPlan {
            nameservers: vec!["127.0.0.1:9".parse().unwrap()],
            ..DnsPlan::default()
        };
        let r = Resolver::new(&plan, Duration::from_millis(200));
        let err = r.resolve("bookinfo.test", 80).await.unwrap_err();
        assert_eq!(err.host, "bookinfo.test");
    }
}
