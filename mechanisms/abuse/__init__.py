"""Abuse resistance that tracks no one: rate limits on keyed IP hashes (`rate_limits`), a
honeypot, a minimum fill time and a self-hosted proof of work on forms (`forms`,
`proof_of_work`), and signals that hold a signature for a moderator (`signals`).

Only a rate limit and the honeypot refuse; every other signal flags (`mechanisms.models.AbuseFlag`)
and the signature waits, uncounted, for a moderator. Counters live in the cache (Redis in
production) and fail open: the database is the source of truth and Redis may die at any moment.
Nothing here imports petitions or letters; their views pass a campaign id as `scope`.

Nothing is re-exported here: import from the module that holds the idea, so grep finds it.
"""
