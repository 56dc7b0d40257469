"""Demo letters for `manage.py seed_letters`: the organizations are real (see shared SEED_FACTS),
every sentence is ours, and every person named here is invented for the demo."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# A member of the coalition letter's lead organization, to approve co-signers in the demo.
LEAD_MEMBER_EMAIL = "lead@cosign.test"

# The coalition letter's signers (SEED_FACTS); the seven the petitions demo already created
# are found by slug, the others are added as verified organizations without a website.
COALITION_ORGANIZATIONS: tuple[str, ...] = (
    "Fight for the Future",
    "Media Justice",
    "Color of Change",
    "Secure Justice",
    "Demand Progress",
    "Defending Rights & Dissent",
    "Muslim Justice League",
    "X-Lab",
    "Media Mobilizing Project",
    "Restore The Fourth",
    "Media Alliance",
    "Youth Art & Self Empowerment Project",
    "Center for Human Rights and Privacy",
    "Oakland Privacy",
    "Justice For Muslims Collective",
    "The Black Alliance for Just Immigration (BAJI)",
    "Project On Government Oversight",
    "OpenMedia",
    "Council on American-Islamic Relations-SFBA",
    "Million Hoodies Movement for Justice",
    "MPower Change",
    "Mijente",
    "Access Humboldt",
    "RAICES",
    "National Immigration Law Center",
    "The Tor Project",
    "Constitutional Alliance",
    "RootsAction.org",
    "CREDO Action",
    "Presente.org",
)

LETTERS: tuple[dict[str, Any], ...] = (
    {
        "slug": "end-police-doorbell-partnerships",
        "title": "Investigate and end police partnerships with Amazon Ring",
        "addressed_to": "Local, state and federal officials",
        "ask": (
            "Investigate police partnerships with Amazon's Ring, end them, and pass "
            "surveillance-oversight ordinances."
        ),
        "summary": (
            "More than 400 police departments have partnered with Amazon's Ring doorbell cameras "
            "without public debate. Civil-rights organizations ask officials at every level to "
            "investigate the deals, end them, and give communities a vote on surveillance."
        ),
        "body": (
            "We, the undersigned civil-rights, privacy and community organizations, write to "
            "urge you to investigate the partnerships between police departments and Amazon's "
            "Ring, and to end them.",
            "Through these agreements, police can ask residents for footage from their doorbell "
            "cameras on a platform that Amazon runs, with no warrant and with rules that Amazon "
            "alone writes. Most were signed without a public hearing, and few residents know "
            "they exist.",
            "The partnerships turn a consumer product into a private surveillance network that "
            "no voter approved. They encourage neighbors to report one another, and their "
            "burden falls hardest on Black and brown communities, immigrants and activists.",
            "We ask mayors and city councils to cancel their agreements; state and federal "
            "officials to investigate how the data is shared and kept; and every jurisdiction "
            "to pass an ordinance requiring public notice, a hearing and a vote before any "
            "surveillance technology is acquired.",
        ),
        "status": "published",
        "published_at": datetime(2019, 10, 7, 14, 0, tzinfo=UTC),
        "leads": ("Fight for the Future",),
        "signers": COALITION_ORGANIZATIONS,
        "topic": "video-surveillance",
        "related_petition": "cancel-police-doorbell-partnerships",
        "targets": ("U.S. Congress", "Mayor of Oakland", "Mayor of Chicago", "Mayor of New York"),
        "media_contact_name": "Robin Castellanos (demo)",
        "media_contact_email": "press@example.org",
        "media_contact_phone": "+1 555 0100",
        "statements": (
            (
                "Fight for the Future",
                "Jamie Okafor (demo)",
                "Deputy Director",
                "Amazon has built a surveillance network in our neighborhoods without asking "
                "any of us. Elected officials can end these deals, and they should do it now.",
            ),
            (
                "Media Alliance",
                "Lee Marchetti (demo)",
                "Executive Director",
                "A doorbell should not double as a police informant. Communities deserve to "
                "decide in public how they are watched, and by whom.",
            ),
            (
                "Restore The Fourth",
                "Sam Whitcombe (demo)",
                "National Chair",
                "The Fourth Amendment does not stop at the front door because a company "
                "put a camera on it. Warrantless requests for footage must end.",
            ),
        ),
        "updates": (
            (
                datetime(2019, 10, 8, 16, 0, tzinfo=UTC),
                "update",
                "Six more organizations have joined the letter since it was published.",
            ),
        ),
    },
    {
        "slug": "we-wont-build-it",
        "title": "We won't build it",
        "addressed_to": "Amazon's CEO and the head of AWS",
        "ask": (
            "Stop selling face recognition to law enforcement and stop providing cloud "
            "services to companies that power immigration enforcement."
        ),
        "summary": (
            "Employees ask their own company's leadership to stop selling face recognition to "
            "police. Many sign without their names shown; Cosign's staff confirm each one "
            "works there."
        ),
        "body": (
            "We are employees of the company that builds these systems, and we are writing to "
            "ask you to stop selling face recognition to law enforcement.",
            "We do not want the tools we build to be used to watch protesters, to track "
            "immigrants or to misidentify people of color. We refuse to contribute to that.",
            "We ask that the company stop these sales, and that employees have a say in how "
            "what we make is used.",
        ),
        "status": "open",
        "published_at": None,
        "leads": (),
        "signers": (),
        "topic": "biometric-surveillance",
        "individuals_may_sign": True,
        "names_may_be_withheld": True,
        "individual_email_domains": "amazon.com",
        "withheld_label": "Employee",
        "targets": ("Amazon's CEO",),
        "individuals": (
            ("Dana Whitfield (demo)", "Software Engineer", "", False),
            ("Priya Raman (demo)", "Applied Scientist", "", True),
            ("Tom Becker (demo)", "Solutions Architect", "", True),
            ("Ana Souza (demo)", "Product Manager", "", False),
            ("Kenji Mori (demo)", "Software Engineer", "", True),
        ),
    },
    {
        "slug": "stop-selling-face-recognition",
        "title": "Stop selling face recognition to governments",
        "addressed_to": "Amazon's CEO",
        "ask": "Stop selling the Rekognition face recognition product to governments.",
        "summary": (
            "A coalition of civil-liberties organizations asks Amazon to stop selling face "
            "recognition to governments. The public can add its voice through the petition."
        ),
        "body": (
            "We write as organizations that defend civil rights and civil liberties to ask "
            "Amazon to stop selling its face recognition product to governments.",
            "Face recognition lets authorities identify and follow people at protests, at "
            "places of worship and in their daily lives. In the hands of governments it "
            "threatens the communities that are already most surveilled.",
            "Amazon can choose not to be the supplier of this surveillance. We ask it to make "
            "that choice.",
        ),
        "status": "published",
        "published_at": datetime(2018, 5, 22, 14, 0, tzinfo=UTC),
        "leads": ("ACLU",),
        "signers": ("ACLU", "Electronic Frontier Foundation", "Media Justice", "Color of Change"),
        "topic": "biometric-surveillance",
        "related_petition": "ban-facial-recognition",
        "targets": ("Amazon's CEO",),
        "media_contact_name": "Morgan Ellis (demo)",
        "media_contact_email": "media@example.org",
        "media_contact_phone": "+1 555 0142",
        "statements": (),
        "updates": (),
    },
)
