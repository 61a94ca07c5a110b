"""Alert delivery: send a planned message through Apprise (Slack, Discord, Teams, e-mail, ntfy,
JSON webhooks …) or the run log, and report its outcome. The flow records each message as being
sent before it goes out and its outcome after; channel URLs (which may hold tokens) never leave
this module except through `redact`."""

from __future__ import annotations

import logging

import apprise

from storywatch.alerts import ChannelSpec, Message, redact

# Apprise and urllib3 (under Apprise's HTTP plugins) log each notification URL, tokens and all,
# at DEBUG: keep them above it whatever level the user's logging is at.
for _name in ("apprise", "urllib3"):
    logging.getLogger(_name).setLevel(logging.INFO)


def send(spec: ChannelSpec, message: Message) -> str | None:
    """Send one message; None on success, else a one-line error with the URL's secrets masked."""
    if spec.url == "stdout://":
        print(f"ALERT {message.title}\n{message.body}\n", flush=True)
        return None
    notifier = apprise.Apprise()
    if not notifier.add(spec.url):
        return f"{spec.label}: not a valid Apprise URL"
    try:
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            ok = notifier.notify(title=message.title, body=message.body)
    except Exception as exc:  # a plugin bug must not lose the alert: it is retried later
        return redact(f"{spec.label}: {type(exc).__name__}: {exc}", spec.url)[:500]
    if ok:
        return None
    detail = " ".join(captured.getvalue().split()) or "delivery failed"
    return redact(f"{spec.label}: {detail}", spec.url)[:500]
