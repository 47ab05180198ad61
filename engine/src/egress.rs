//! Outbound network for contained functions (`--function-network internet`, the default).
//!
//! A contained function's network namespace has only its loopback, so it cannot reach the host's
//! services. As on Lambda it may still call the internet: through an HTTP proxy the engine serves
//! on `127.0.0.1:9002` inside the namespace (`HTTPS_PROXY`/`HTTP_PROXY` point at it, and every
//! AWS SDK, `requests`, `urllib`, curl and Node's `fetch` with `NODE_USE_ENV_PROXY` follow them).
//! The proxy connects only to public addresses: never to this host (loopback or any of its own
//! addresses), a private or link-local network (so not the cloud metadata service), unless an
//! operator allowed that `host:port` (`--function-allow-connect`, e.g. a local mock service).
//! A name is resolved here and every address it resolves to is checked, so DNS cannot point a
//! function at the host.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// Where a contained function finds the proxy.
pub const PROXY: &str = "127.0.0.1:9002";
pub(crate) const PROXY_PORT: u16 = 9002;
/// The most a request head may take before the proxy gives up on it.
const MAX_HEAD: usize = 16 * 1024;

/// Whether contained functions reach the internet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FunctionNetwork {
    /// Public addresses over the engine's proxy, as Lambda functions outside a VPC.
    #[default]
    Internet,
    /// No network at all but the function's own Runtime API.
    None,
}

impl std::str::FromStr for FunctionNetwork {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "internet" => Ok(Self::Internet),
            "none" => Ok(Self::None),
            other => Err(format!("expected internet or none, got {other:?}")),
        }
    }
}

/// Where functions may connect.
#[derive(Debug, Default)]
pub struct Policy {
    /// `host:port` the operator allowed whatever their address.
    pub allowed: Vec<String>,
    /// This host's own addresses (any interface), read at start.
    pub local: Vec<IpAddr>,
}

impl Policy {
    /// The policy for this host, with the operator's exceptions.
    pub fn new(allowed: Vec<String>) -> Self {
        let local = nix::ifaddrs::getifaddrs()
            .map(|addrs| {
                addrs
                    .filter_map(|a| {
                        let address = a.address?;
                        if let Some(v4) = address.as_sockaddr_in() {
                            Some(IpAddr::V4(v4.ip()))
                        } else {
                            address.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self { allowed, local }
    }

    /// Resolves `host:port` and answers the address to connect to, or why not.
    async fn resolve(&self, host: &str, port: u16) -> Result<SocketAddr, String> {
        let name = format!("{}:{port}", host.trim_start_matches('[').trim_end_matches(']'));
        let exception =
            self.allowed.iter().any(|a| a.eq_ignore_ascii_case(&format!("{host}:{port}")));
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host(&name)
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        let first = *addresses.first().ok_or_else(|| format!("{host} has no address"))?;
        if !exception && let Some(denied) = addresses.iter().find(|a| !self.is_public(a.ip())) {
            return Err(format!(
                "functions may not connect to {} ({host}): it is this host or a private network",
                denied.ip()
            ));
        }
        Ok(first)
    }

    fn is_public(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        !self.local.contains(&ip)
            && match ip {
                IpAddr::V4(v4) => public_v4(v4),
                IpAddr::V6(v6) => public_v6(v6),
            }
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b)))
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80)
}

/// Serves the proxy on a listener inside a function's network namespace until it is dropped.
pub async fn serve(listener: TcpListener, policy: Arc<Policy>) {
    loop {
        let Ok((client, _)) = listener.accept().await else { return };
        let policy = policy.clone();
        tokio::spawn(async move {
            if let Err(error) = proxy(client, &policy).await {
                tracing::debug!(%error, "a function's proxied connection ended");
            }
        });
    }
}

/// One client connection: `CONNECT host:port` (HTTPS and anything else over TLS) or a plain HTTP
/// request in absolute form (`GET http://host/path`), forwarded with `Connection: close`.
async fn proxy(mut client: TcpStream, policy: &Policy) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let end = loop {
        let mut buf = [0u8; 4096];
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if head.len() > MAX_HEAD {
            return refuse(&mut client, "400 Bad Request", "the request head is too large").await;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target, version) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or("HTTP/1.1"),
    );
    if method.eq_ignore_ascii_case("CONNECT") {
        let Some((host, port)) = split_host_port(target, 443) else {
            return refuse(&mut client, "400 Bad Request", "CONNECT needs host:port").await;
        };
        let Some(mut upstream) = connect(&mut client, policy, &host, port).await? else {
            return Ok(());
        };
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?;
        upstream.write_all(&head[end..]).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
        return Ok(());
    }
    let Some(rest) = target.strip_prefix("http://") else {
        return refuse(&mut client, "400 Bad Request", "send absolute http:// URLs or CONNECT")
            .await;
    };
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let Some((host, port)) = split_host_port(authority, 80) else {
        return refuse(&mut client, "400 Bad Request", "no host in the URL").await;
    };
    let Some(mut upstream) = connect(&mut client, policy, &host, port).await? else {
        return Ok(());
    };
    let mut forwarded = format!("{method} {path} {version}\r\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !matches!(
            name.as_str(),
            "connection" | "proxy-connection" | "proxy-authorization" | "keep-alive"
        ) {
            forwarded.push_str(line);
            forwarded.push_str("\r\n");
        }
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    upstream.write_all(forwarded.as_bytes()).await?;
    upstream.write_all(&head[end..]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// Connects to `host:port` if the policy allows it; otherwise answers the client why not (and
/// gives `None`).
async fn connect(
    client: &mut TcpStream,
    policy: &Policy,
    host: &str,
    port: u16,
) -> std::io::Result<Option<TcpStream>> {
    let address = match policy.resolve(host, port).await {
        Ok(address) => address,
        Err(reason) => return refuse(client, "403 Forbidden", &reason).await.map(|()| None),
    };
    match TcpStream::connect(address).await {
        Ok(stream) => Ok(Some(stream)),
        Err(e) => refuse(client, "502 Bad Gateway", &e.to_string()).await.map(|()| None),
    }
}

fn split_host_port(authority: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !port.contains(']') => (host, port.parse().ok()?),
        _ => (authority, default_port),
    };
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

async fn refuse(client: &mut TcpStream, status: &str, reason: &str) -> std::io::Result<()> {
    let body = format!("Lambdaport: {reason}\n");
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(response.as_bytes()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_reachable() {
        let policy = Policy { allowed: Vec::new(), local: vec!["10.1.2.3".parse().expect("ip")] };
        for ip in [
            "127.0.0.1",
            "10.0.0.5",
            "172.16.1.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "10.1.2.3",
            "224.0.0.1",
        ] {
            assert!(!policy.is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["1.1.1.1", "151.101.1.1", "2606:4700::1111"] {
            assert!(policy.is_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[tokio::test]
    async fn names_are_checked_by_every_address_they_resolve_to() {
        let policy = Policy::new(vec!["localhost:5000".to_owned()]);
        assert!(policy.resolve("localhost", 4010).await.is_err());
        assert!(policy.resolve("127.0.0.1", 5432).await.is_err());
        assert!(policy.resolve("localhost", 5000).await.is_ok(), "the operator's exception");
        assert_eq!(split_host_port("[::1]:80", 443), Some(("[::1]".to_owned(), 80)));
        assert_eq!(split_host_port("example.com", 443), Some(("example.com".to_owned(), 443)));
    }
}
