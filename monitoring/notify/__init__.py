"""Rollout notifications, like Flagger's alert providers: a message per decision sent to a
generic webhook (JSON, HMAC-SHA256 signature), Slack or Microsoft Teams.

``messages`` builds the notification and each provider's request (pure); ``sender`` posts
them from a background worker with a bounded timeout and retries, so sending never blocks
or fails a decision. Plain httpx rather than Apprise: Apprise's JSON target sends its own
fixed body and cannot sign it, and it sends synchronously in the caller.
"""
