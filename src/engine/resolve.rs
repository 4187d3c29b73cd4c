//! Name resolution for the targets' connectors: the one place a host name
//! becomes addresses, so the failure is its own outcome kind (`dns`) and
//! the addresses that answered can be recorded.

use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot resolve {host}: {message}")]
pub struct ResolveError {
    pub host: String,
    pub message: String,
}

/// Resolves with the operating system's resolver (`getaddrinfo`). An IP
/// literal is returned as it is, without a lookup.
#[derive(Debug, Default)]
pub struct Resolver {}

impl Resolver {
    pub fn system() -> Resolver {
        Resolver {}
    }

    /// Every address of `host`, each with `port`, in the resolver's order.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ResolveError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let failed = |message: String| ResolveError {
            host: host.to_string(),
            message,
        };
        let found: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| failed(e.to_string()))?
            .collect();
        if found.is_empty() {
            return Err(failed("no addresses".to_string()));
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_ip_literal_is_not_looked_up() {
        let r = Resolver::system();
        assert_eq!(
            r.resolve("127.0.0.1", 8080).await.unwrap(),
            vec!["127.0.0.1:8080".parse().unwrap()]
        );
        assert_eq!(
            r.resolve("[::1]", 443).await.unwrap(),
            vec!["[::1]:443".parse().unwrap()]
        );
    }
}
