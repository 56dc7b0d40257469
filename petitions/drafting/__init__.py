"""Campaigns that organizations write themselves: drafts, their versions, co-sponsor and co-lead
invitations, and staff's review before anything is published.

One workflow for petitions and open letters. It lives in petitions, the lowest app that knows
both organizations and campaigns; letters plug their letters in with a `DraftKind`
(`petitions.drafting.kinds`), as they plug their personal data into mechanisms' registry.
"""
