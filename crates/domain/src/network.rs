//! Practice-network rules (seed promise S10): the networks (IPv4/IPv6 CIDR) from which a
//! practice's staff may work — the practice LAN, the VPN's egress, the proxy — optionally
//! only for some roles. Pure rules; the client address they are checked against is resolved
//! by the web layer (forwarding headers only from the operator's trusted proxies).

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use crate::error::{DomainError, FieldErrors};
use crate::user::Role;

/// An IPv4 or IPv6 network in CIDR notation (`192.168.10.0/24`, `2001:db8::/48`); a bare
/// address is a network of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a network in CIDR notation (e.g. 192.168.10.0/24 or 2001:db8::/48)")]
pub struct InvalidCidr;

impl Cidr {
    pub fn parse(raw: &str) -> Result<Self, InvalidCidr> {
        let raw = raw.trim();
        let (address, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let address: IpAddr = address.parse().map_err(|_| InvalidCidr)?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| InvalidCidr)?
            }
            Some(_) => return Err(InvalidCidr),
            None => max,
        };
        if prefix > max {
            return Err(InvalidCidr);
        }
        Ok(Self {
            network: mask(address, prefix),
            prefix,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == self.network
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let kept = if prefix == 0 {
                0
            } else {
                bits & (u32::MAX << (32 - u32::from(prefix)))
            };
            IpAddr::V4(kept.into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let kept = if prefix == 0 {
                0
            } else {
                bits & (u128::MAX << (128 - u32::from(prefix)))
            };
            IpAddr::V6(kept.into())
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A practice's rule: staff (of the listed roles, or all when none are listed) may act in
/// the practice only from these networks. No networks: no restriction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkRule {
    pub allowed: Vec<Cidr>,
    pub roles: BTreeSet<Role>,
}

impl NetworkRule {
    /// From the API or the settings page; every bad entry is reported.
    pub fn parse(networks: &[String], roles: &[String]) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let mut allowed = Vec::new();
        for raw in networks {
            match Cidr::parse(raw) {
                Ok(cidr) if !allowed.contains(&cidr) => allowed.push(cidr),
                Ok(_) => {}
                Err(err) => errors.add("allowed_networks", format!("{raw} {err}")),
            }
        }
        let mut applies_to = BTreeSet::new();
        for raw in roles {
            if let Some(role) = errors.take("roles", Role::parse(raw)) {
                applies_to.insert(role);
            }
        }
        errors.into_result()?;
        Ok(Self {
            allowed,
            roles: applies_to,
        })
    }

    /// Whether a member with `role` may act from `ip`.
    pub fn allows(&self, role: Role, ip: Option<IpAddr>) -> bool {
        if self.allowed.is_empty() || !(self.roles.is_empty() || self.roles.contains(&role)) {
            return true;
        }
        ip.is_some_and(|ip| self.allowed.iter().any(|cidr| cidr.contains(ip)))
    }

    /// As stored: networks and roles comma-separated. `None` for a corrupt value.
    pub fn from_stored(networks: &str, roles: &str) -> Option<Self> {
        let split = |s: &str| -> Vec<String> {
            s.split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Self::parse(&split(networks), &split(roles)).ok()
    }

    pub fn networks_text(&self) -> String {
        self.allowed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn roles_text(&self) -> String {
        self.roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The client's address behind reverse proxies: the peer, unless the peer is a trusted
/// proxy; then the forwarded chain (`X-Forwarded-For`, oldest first) is read from the right,
/// skipping trusted proxies, and the first untrusted address is the client. Anything that
/// does not parse stops the walk at the last trusted hop's word: the proxy that appended it.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|cidr| cidr.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .rev()
    {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// The `for=` hops of RFC 7239 `Forwarded` headers, oldest first, as plain addresses
/// (`for=192.0.2.43`, `for="[2001:db8::17]:4711"` → `2001:db8::17`). A hop that names no
/// address (`unknown`, an obfuscated `_id`) is kept as it is, so that the walk in
/// [`client_address`] stops there.
pub fn forwarded_hops(headers: &[&str]) -> Vec<String> {
    let mut hops = Vec::new();
    for element in headers.iter().flat_map(|h| h.split(',')) {
        for pair in element.split(';') {
            let Some((name, value)) = pair.trim().split_once('=') else {
                continue;
            };
            if !name.trim().eq_ignore_ascii_case("for") {
                continue;
            }
            hops.push(forwarded_node(value.trim().trim_matches('"')));
        }
    }
    hops
}

/// An RFC 7239 node without its port: `[v6]:port` → `v6`, `v4:port` → `v4`.
fn forwarded_node(node: &str) -> String {
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_owned();
    }
    match node.split_once(':') {
        Some((v4, _port)) if v4.parse::<std::net::Ipv4Addr>().is_ok() => v4.to_owned(),
        _ => node.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7239_forwarded_hops_are_read() {
        let hops = forwarded_hops(&[
            "for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\";proto=https",
            "For=198.51.100.7:8080;by=10.0.0.1, for=unknown, for=_hidden",
        ]);
        assert_eq!(
            hops,
            [
                "192.0.2.43",
                "2001:db8:cafe::17",
                "198.51.100.7",
                "unknown",
                "_hidden"
            ]
        );
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let refs: Vec<&str> = ["203.0.113.9", "10.0.0.5"].to_vec();
        assert_eq!(
            client_address(ip("10.0.0.2"), &refs, &trusted),
            ip("203.0.113.9")
        );
        let forwarded = forwarded_hops(&["for=203.0.113.9;proto=https, for=10.0.0.5"]);
        let forwarded: Vec<&str> = forwarded.iter().map(String::as_str).collect();
        assert_eq!(
            client_address(ip("10.0.0.2"), &forwarded, &trusted),
            ip("203.0.113.9")
        );
        // An obfuscated hop behind the trusted ones stops the walk at the proxy.
        let hidden = forwarded_hops(&["for=203.0.113.9, for=_hidden"]);
        let hidden: Vec<&str> = hidden.iter().map(String::as_str).collect();
        assert_eq!(
            client_address(ip("10.0.0.2"), &hidden, &trusted),
            ip("10.0.0.2")
        );
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn cidrs_parse_and_contain() {
        let lan = Cidr::parse("192.168.10.7/24").unwrap();
        assert_eq!(lan.to_string(), "192.168.10.0/24");
        assert!(lan.contains(ip("192.168.10.200")));
        assert!(!lan.contains(ip("192.168.11.1")));
        assert!(lan.contains(ip("::ffff:192.168.10.9")));
        let v6 = Cidr::parse("2001:db8:10::/48").unwrap();
        assert!(v6.contains(ip("2001:db8:10:ffff::1")));
        assert!(!v6.contains(ip("2001:db8:11::1")));
        assert!(!v6.contains(ip("192.168.10.1")));
        assert!(Cidr::parse("10.0.0.1").unwrap().contains(ip("10.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "praxis",
            "10.0.0.0/",
            "::/129",
            "10.0.0.0/-1",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_rule_binds_its_roles_only() {
        let rule = NetworkRule::parse(
            &["192.168.10.0/24".to_owned()],
            &["administrator".to_owned()],
        )
        .unwrap();
        assert!(rule.allows(Role::Administrator, Some(ip("192.168.10.5"))));
        assert!(!rule.allows(Role::Administrator, Some(ip("203.0.113.5"))));
        assert!(!rule.allows(Role::Administrator, None));
        assert!(rule.allows(Role::Reception, Some(ip("203.0.113.5"))));
        let everyone = NetworkRule::parse(&["192.168.10.0/24".to_owned()], &[]).unwrap();
        assert!(!everyone.allows(Role::Reception, Some(ip("203.0.113.5"))));
        assert!(NetworkRule::default().allows(Role::Owner, None));
        assert_eq!(
            NetworkRule::from_stored(&rule.networks_text(), &rule.roles_text()),
            Some(rule)
        );
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let proxies = [Cidr::parse("10.0.0.0/8").unwrap()];
        // From a trusted proxy: the client is the last untrusted hop.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["198.51.100.7"], &proxies),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &["192.168.10.5, 198.51.100.7, 10.0.0.3"],
                &proxies
            ),
            ip("198.51.100.7"),
            "a spoofed first entry is ignored"
        );
        // From anyone else the header is ignored.
        assert_eq!(
            client_address(ip("203.0.113.9"), &["192.168.10.5"], &proxies),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &["garbage"], &proxies),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &[], &proxies),
            ip("10.0.0.2")
        );
    }
}
