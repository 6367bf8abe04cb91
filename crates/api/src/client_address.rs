//! The client's address, as limits and guards count it: the TCP peer, unless the peer is a
//! proxy the operator trusts (`trusted_proxies`); then the right-most `X-Forwarded-For` address
//! that is not one of those proxies. A client cannot choose its own address by sending a header.

use std::net::{IpAddr, SocketAddr};

use crate::config::{named, ConfigError};

/// One address or range of `trusted_proxies`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
            None => {
                let a = text.trim().parse::<IpAddr>().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr {
            network: addr,
            prefix,
        })
    }

    /// Whether `ip` is in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// `trusted_proxies`: comma-separated addresses or CIDR ranges (empty: trust none).
pub fn parse_trusted(setting: &str) -> Result<Vec<Cidr>, ConfigError> {
    setting
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            Cidr::parse(s).ok_or_else(|| {
                ConfigError(format!(
                    "{}: {s:?} is not an address or CIDR range",
                    named("trusted_proxies")
                ))
            })
        })
        .collect()
}

/// The client's address of a request from `peer` carrying the `X-Forwarded-For` values
/// `forwarded` (in header order).
pub fn client_address(peer: Option<SocketAddr>, forwarded: &[&str], trusted: &[Cidr]) -> String {
    let Some(peer) = peer.map(|p| p.ip()) else {
        return "unknown".into();
    };
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer.to_string();
    }
    let hops: Vec<&str> = forwarded
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(ip) => continue,
            Ok(ip) => return ip.to_string(),
            // Garbage in the chain: whatever is left of it cannot be believed.
            Err(_) => return peer.to_string(),
        }
    }
    peer.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 40000))
    }

    #[test]
    fn headers_count_only_behind_a_trusted_proxy() {
        let trusted = parse_trusted("10.0.0.0/8, 192.168.1.7").unwrap();
        // A client sending the header itself is its TCP peer.
        assert_eq!(
            client_address(peer("203.0.113.9"), &["1.2.3.4"], &trusted),
            "203.0.113.9"
        );
        assert_eq!(
            client_address(peer("203.0.113.9"), &["1.2.3.4"], &[]),
            "203.0.113.9"
        );
        // Behind trusted proxies: the right-most address that is not one of them.
        assert_eq!(
            client_address(
                peer("10.1.2.3"),
                &["6.6.6.6, 198.51.100.4", "192.168.1.7"],
                &trusted
            ),
            "198.51.100.4"
        );
        assert_eq!(client_address(peer("10.1.2.3"), &[], &trusted), "10.1.2.3");
        assert_eq!(
            client_address(peer("10.1.2.3"), &["nonsense"], &trusted),
            "10.1.2.3"
        );
        assert_eq!(client_address(None, &[], &trusted), "unknown");
    }

    #[test]
    fn ranges() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.255.0.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        let v6 = Cidr::parse("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(parse_trusted("10.0.0.1, nope").is_err());
        assert_eq!(parse_trusted(" ").unwrap(), vec![]);
    }
}
