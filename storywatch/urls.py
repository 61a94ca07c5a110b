"""URL handling: canonical form, stable IDs, outlets, aggregator unwrapping, address policy.

Pure functions only; DNS resolution happens in `flows/fetcher.py`, which asks `address_refusal`
about each resolved address.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import uuid
from functools import lru_cache
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

import courlan

ALLOWED_SCHEMES = frozenset({"http", "https"})
# Query parameters that aggregators (Bing News, Yahoo, Reddit out-links, newsletters) use to carry
# the publisher's URL.
_WRAPPER_PARAMS = ("url", "u", "q", "target", "dest", "destination", "redirect", "to")
_AMP_QUERY = re.compile(r"^(amp|outputtype|output)$", re.I)
_GOOGLE_NEWS_PATH = re.compile(r"/(?:rss/)?articles/([A-Za-z0-9_-]+)")
_EMBEDDED_URL = re.compile(rb"https?://[\x21-\x7e]+")


def canonicalize(url: str, base: str | None = None) -> str:
    """Return the canonical form of `url`: absolute, lower-case host, no tracking parameters,
    no fragment, no trailing slash, no default port. Never raises; returns "" for non-URLs."""
    url = (url or "").strip()
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not parts.hostname:
        return ""
    try:
        normalized = courlan.normalize_url(url, strict=False, trailing_slash=False)
        parts = urlsplit(normalized)
        hostname = parts.hostname or ""
        port = parts.port
    except (ValueError, TypeError):
        return ""
    netloc = hostname if hostname.count(":") == 0 else f"[{hostname}]"
    if port and not (parts.scheme == "http" and port == 80 or parts.scheme == "https" and port == 443):
        netloc = f"{netloc}:{port}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = "&".join(
        f"{k}={v}" if v else k
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _AMP_QUERY.match(k)
    ) if parts.query else ""
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def url_key(url: str) -> str:
    """The identity of a page: canonical URL with scheme, `www.`/`amp.` and AMP path forms folded,
    so http/https and AMP variants of one article share an ID."""
    canonical = canonicalize(url)
    if not canonical:
        return (url or "").strip()
    parts = urlsplit(canonical)
    host = re.sub(r"^(?:www\d?|amp|m)\.", "", parts.netloc)
    path = re.sub(r"(?:/amp|\.amp)$", "", parts.path) or "/"
    path = re.sub(r"^/amp/", "/", path)
    return urlunsplit(("", host, path, parts.query, "")).lstrip("/")


@lru_cache(maxsize=1 << 16)
def article_id(url: str) -> str:
    """A stable ID derived from the page's identity (uuid5 over `url_key`); cached, since a pass
    asks for each entry's twice (to look up what is known of it, then to plan its fetch)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, url_key(url)))


def outlet_of(url: str) -> str:
    """The publisher's registered domain, e.g. 'bbc.co.uk' for https://www.bbc.co.uk/news/x."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    domain = courlan.extract_domain(url) if host and not _is_ip(host) else None
    return domain or host


def server_of(url: str) -> str:
    """The server a URL names, host and port, lower-cased: what politeness limits count by."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1].lower()


def unwrap_aggregator(url: str) -> str:
    """Resolve aggregator links that carry the publisher's URL inside them (a query parameter,
    or Google News' base64 article token when it still embeds the URL). Other links are
    returned unchanged; HTTP redirects are followed at fetch time."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    params = dict(parse_qsl(parts.query))
    for name in _WRAPPER_PARAMS:
        inner = params.get(name, "")
        if inner.startswith(("http://", "https://")) and urlsplit(inner).hostname not in (None, host):
            return inner
    match = _GOOGLE_NEWS_PATH.search(parts.path) if host.endswith("news.google.com") else None
    if match:
        token = match.group(1)
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            return url
        found = _EMBEDDED_URL.search(raw)
        if found:
            return found.group(0).decode("ascii")
    return url


# Hosts whose article links lead to an interstitial page rather than the article when the
# publisher's URL cannot be recovered from the link; their pages are never judged as articles.
AGGREGATOR_HOSTS = ("news.google.com",)


def is_aggregator(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return any(host == h or host.endswith("." + h) for h in AGGREGATOR_HOSTS)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598: inside a provider's network
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, still routed internally in places
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: IPv4 reached through NAT64


def address_refusal(ip: str) -> str | None:
    """Why a fetch to this resolved address is refused by default, or None if it is public."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return f"unparseable address {ip!r}"
    if isinstance(addr, ipaddress.IPv6Address):  # IPv6 forms that carry an IPv4 address inside
        embedded = addr.ipv4_mapped or addr.sixtofour or (addr.teredo[1] if addr.teredo else None)
        if embedded is None and addr in _NAT64:
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None:
            addr = embedded
        if addr in _SITE_LOCAL:
            return f"site-local address {addr}"
    if isinstance(addr, ipaddress.IPv4Address) and addr in _SHARED:
        return f"shared (carrier-grade NAT) address {addr}"
    for label, flag in (
        ("loopback", addr.is_loopback),
        ("link-local", addr.is_link_local),
        ("private", addr.is_private),
        ("multicast", addr.is_multicast),
        ("reserved", addr.is_reserved),
        ("unspecified", addr.is_unspecified),
    ):
        if flag:
            return f"{label} address {addr}"
    return None


def scheme_refusal(url: str) -> str | None:
    """Why a URL's scheme is refused (file:, ftp:, data: …), or None for http(s)."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return "unparseable URL"
    return None if scheme in ALLOWED_SCHEMES else f"scheme {scheme or '(none)'!r} not allowed"
