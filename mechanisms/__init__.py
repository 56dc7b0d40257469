"""The bottom layer: the mechanisms petitions, letters and accounts share (the email outbox,
tokens, rate limits and abuse screening, the signing pipeline's shared steps, spreadsheet-safe
CSV, Markdown, sharing links, the page cache, the audit log, the personal-data registry and the
abstract signature and delivery models). It imports no app; apps plug in through registries
(email kinds, personal-data providers). See docs/architecture.md."""
