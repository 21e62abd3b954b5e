//! The hosts a job may send requests to: the configured POS and nothing else.
//!
//! A job carries `allowed_hosts` (PHP lists the API base's and the token
//! URL's hosts); without it the core allows exactly those two hosts of its
//! settings. Every request the session sends is checked here first, the
//! `next` links of a paged answer included, so a POS answer (or a proxy)
//! cannot steer the sidecar — and the bearer token it carries — anywhere else.

/// One allowed authority. A listed host without a port means https's 443:
/// plain http is allowed only where a port is named (the loopback demo POS).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Authority {
    host: String,
    port: u16,
}

/// The allow-list of one job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHosts {
    hosts: Vec<Authority>,
}

/// Why a URL was refused (the host only: never a query string or a token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRefused {
    pub host: String,
    pub allowed: String,
}

impl AllowedHosts {
    /// From the job's list (`"host"` or `"host:port"` each); an empty list means
    /// the hosts of `api_base` and `token_url`.
    pub fn new(list: &[String], api_base: &str, token_url: &str) -> Self {
        let mut hosts: Vec<Authority> = list.iter().filter_map(|h| parse_entry(h)).collect();
        if list.is_empty() {
            for url in [api_base, token_url] {
                if let Some((scheme, host, port)) = split_url(url) {
                    if let Some(port) = port.or_else(|| default_port(&scheme)) {
                        hosts.push(Authority { host, port });
                    }
                }
            }
        }
        hosts.dedup();
        AllowedHosts { hosts }
    }

    /// `Ok` when the URL is http(s) and its host (and port) is on the list.
    pub fn check(&self, url: &str) -> Result<(), HostRefused> {
        let refused = |host: String| HostRefused {
            host,
            allowed: self.describe(),
        };
        let Some((scheme, host, port)) = split_url(url) else {
            return Err(refused("(not an http or https URL)".into()));
        };
        let port = port.or_else(|| default_port(&scheme));
        let ok = self
            .hosts
            .iter()
            .any(|a| a.host == host && Some(a.port) == port);
        if ok {
            Ok(())
        } else {
            Err(refused(match port {
                Some(p) if Some(p) != default_port(&scheme) => format!("{host}:{p}"),
                _ => host,
            }))
        }
    }

    fn describe(&self) -> String {
        if self.hosts.is_empty() {
            return "none".into();
        }
        self.hosts
            .iter()
            .map(|a| match a.port {
                443 => a.host.clone(),
                p => format!("{}:{p}", a.host),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

/// `"host"` or `"host:port"` (IPv6 in brackets), lower-cased.
fn parse_entry(entry: &str) -> Option<Authority> {
    let (host, port) = split_authority(entry.trim())?;
    Some(Authority {
        host,
        port: port.unwrap_or(443),
    })
}

/// Scheme, host and explicit port of an http(s) URL; `None` for anything else.
/// User info (`user@host`) is refused outright: it only ever serves to disguise
/// the real host.
fn split_url(url: &str) -> Option<(String, String, Option<u16>)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    default_port(&scheme)?;
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') {
        return None;
    }
    let (host, port) = split_authority(authority)?;
    Some((scheme, host, port))
}

fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        (format!("[{}]", h.to_ascii_lowercase()), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    let host = host.trim_end_matches('.').to_string();
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '%') {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    Some((host, port))
}
