"""Response thresholds: the answer link and its page, the emails, the reads of the public
page's block, and the workspace page. The writes are petitions.services.thresholds; the
models petitions.models.thresholds."""
