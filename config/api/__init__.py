"""Cosign's API, version 1 (/api/v1/): the public read API, open data about published
campaigns for anyone, and the organization API, an organization's own campaigns, signatures and
supporters for its tools, with its tokens, in the Open Supporter Data Interface's shape (osdi.py).

In config, the top layer: it reads petitions, letters and accounts alike."""
