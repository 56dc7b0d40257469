"""Demo content for `manage.py seed_demo`: real organizations and campaigns, our own words.

Names and numbers come from public campaigns (see shared SEED_FACTS); every sentence is ours.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from petitions.models import Petition

DEFAULT_ADMIN_EMAIL = "admin@cosign.test"

TOPICS: tuple[dict[str, Any], ...] = (
    {
        "slug": "biometric-surveillance",
        "name_it": "Sorveglianza biometrica",
        "description_it": (
            "Campagne contro i sistemi che identificano e seguono le persone attraverso il volto,"
            " la voce, l'andatura o altre caratteristiche del corpo."
        ),
        "name": "Biometric surveillance",
        "position": 1,
        "description": (
            "Campaigns against systems that identify and follow people by their faces, voices, "
            "gait or other features of their bodies."
        ),
    },
    {
        "slug": "encryption",
        "name_it": "Crittografia forte",
        "description_it": (
            "Campagne per difendere gli strumenti che proteggono messaggi, dispositivi e "
            "pagamenti dalle falle che i governi chiedono di inserirvi."
        ),
        "name": "Strong encryption",
        "position": 2,
        "description": (
            "Campaigns to keep the tools that protect our messages, devices and payments free of "
            "weak spots that governments ask to have built in."
        ),
    },
    {
        "slug": "video-surveillance",
        "name_it": "Videosorveglianza",
        "description_it": (
            "Campagne sulle telecamere nelle nostre strade e davanti alle nostre porte, e su chi "
            "può guardare ciò che registrano."
        ),
        "name": "Video surveillance",
        "position": 3,
        "description": (
            "Campaigns about the cameras on our streets and doorsteps, and about who gets to "
            "watch what they record."
        ),
    },
    {
        "slug": "other",
        "name_it": "Altro",
        "description_it": (
            "Campagne per la privacy e i diritti digitali che non rientrano nelle altre categorie."
        ),
        "name": "Other",
        "position": 4,
        "description": (
            "Campaigns for privacy and digital rights that do not fit neatly under the other "
            "headings."
        ),
    },
)

ORGANIZATIONS: tuple[dict[str, str], ...] = (
    {
        "slug": "fight-for-the-future",
        "name": "Fight for the Future",
        "website": "https://www.fightforthefuture.org/",
        "email_domain": "fightforthefuture.org",
        "description": (
            "A small, mostly online team that rallies large numbers of people against technology "
            "used to control or exploit them."
        ),
    },
    {
        "slug": "media-alliance",
        "name": "Media Alliance",
        "website": "https://media-alliance.org/",
        "email_domain": "media-alliance.org",
        "description": (
            "A Bay Area resource center for media workers and community groups that campaigns on "
            "media access, fairness and privacy."
        ),
    },
    {
        "slug": "restore-the-fourth",
        "name": "Restore The Fourth",
        "website": "https://restorethe4th.com/",
        "email_domain": "restorethe4th.com",
        "description": (
            "A nonpartisan, volunteer-run group defending the right to be free of unreasonable "
            "searches, on the internet and off it."
        ),
    },
    {
        "slug": "oakland-privacy",
        "name": "Oakland Privacy",
        "website": "https://oaklandprivacy.org/",
        "email_domain": "oaklandprivacy.org",
        "description": (
            "A coalition of East Bay residents who examine local surveillance programs and press "
            "for public oversight of them."
        ),
    },
    {
        "slug": "secure-justice",
        "name": "Secure Justice",
        "website": "https://www.secure-justice.org/",
        "email_domain": "secure-justice.org",
        "description": (
            "An Oakland nonprofit that works with local governments to rein in surveillance and "
            "police overreach through binding oversight rules."
        ),
    },
    {
        "slug": "media-justice",
        "name": "Media Justice",
        "website": "https://mediajustice.org/",
        "email_domain": "mediajustice.org",
        "description": (
            "A national organization helping communities of color gain a real say over the media "
            "and technology that shape their lives."
        ),
    },
    {
        "slug": "eff",
        "name": "Electronic Frontier Foundation",
        "website": "https://www.eff.org/",
        "email_domain": "eff.org",
        "description": (
            "A nonprofit that defends civil liberties in the digital world through lawsuits, "
            "policy work, grassroots activism and software."
        ),
    },
    {
        "slug": "access-now",
        "name": "Access Now",
        "website": "https://www.accessnow.org/",
        "email_domain": "accessnow.org",
        "description": (
            "An international organization protecting and expanding the digital rights of people "
            "and communities most at risk."
        ),
    },
    {
        "slug": "aclu",
        "name": "ACLU",
        "website": "https://www.aclu.org/",
        "email_domain": "aclu.org",
        "description": (
            "A U.S. nonprofit that goes to court, to legislatures and to communities to defend the "
            "rights the Constitution promises to everyone."
        ),
    },
    {
        "slug": "amnesty-international",
        "name": "Amnesty International",
        "website": "https://www.amnesty.org/",
        "email_domain": "amnesty.org",
        "description": (
            "A worldwide movement of people who investigate human rights abuses and campaign to "
            "end them."
        ),
    },
    {
        "slug": "edri",
        "name": "EDRi",
        "website": "https://edri.org/",
        "email_domain": "edri.org",
        "description": (
            "European Digital Rights, a network of civil and human rights groups across Europe "
            "that defends people's rights and freedoms online."
        ),
    },
)

# Fields each petition has unless its entry says otherwise.
PETITION_DEFAULTS: dict[str, Any] = {
    "status": Petition.Status.OPEN,
    "opens_at": None,
    "closes_at": None,
    "goal": None,
    "language": "en",
}

# Bodies are tuples of paragraphs, joined with blank lines into Markdown paragraphs.
PETITIONS: tuple[dict[str, Any], ...] = (
    {
        "slug": "cancel-police-doorbell-partnerships",
        "title": "Cancel our city's police partnership with Amazon Ring",
        "addressed_to": "Your mayor and city council",
        "demand": (
            "End the police partnership with Amazon Ring, and put every future surveillance deal "
            "to a public vote."
        ),
        "topic": "video-surveillance",
        "sponsors": ("fight-for-the-future", "oakland-privacy", "secure-justice"),
        "summary": (
            "Police departments across the country have signed agreements with Amazon's Ring "
            "that turn private doorbell cameras into a neighborhood surveillance network. Nobody "
            "voted for it and few residents were asked. Add your name and we will deliver it to "
            "the mayor and council members who represent you, asking them to end the partnership "
            "and to bring any future surveillance deal before the public first."
        ),
        "body": (
            "Amazon's Ring sells doorbell cameras that record the street outside people's homes. "
            "Through partnership agreements, well over a thousand police departments can ask "
            "camera owners for their recordings on Ring's own platform, without a warrant and "
            "often without any public debate in the city that signed up.",
            "These deals blur the line between something you buy for your front door and public "
            "policing. They nudge neighbors to treat one another as suspects, they weigh most on "
            "people who are already watched too closely, and they let one company set the rules "
            "for how our streets are recorded, rules it can change whenever it likes.",
            "Decisions about surveillance belong to the people who live under it. A city can "
            "cancel its agreement, and it can pass an oversight ordinance so that no department "
            "takes on new surveillance technology without public notice, a hearing and a vote.",
            "When you sign, your postal code tells us who your mayor and council members are, and "
            "we deliver your signature to them together with your neighbors'. They never see "
            "your email address or postal code.",
        ),
    },
    {
        "slug": "ban-facial-recognition",
        "title": "Ban government use of face recognition",
        "addressed_to": "Members of the U.S. Congress",
        "demand": "Ban federal use of face recognition and stop funding it in states and cities.",
        "topic": "biometric-surveillance",
        "sponsors": ("fight-for-the-future", "eff", "aclu"),
        "summary": (
            "Face recognition lets the government put a name to anyone a camera sees: at a "
            "protest, outside a place of worship, on the way to a clinic. It gets some people "
            "wrong far more often than others, and innocent people have already been arrested "
            "because of a false match. Tell your members of Congress to ban government use of "
            "this technology."
        ),
        "body": (
            "Face recognition compares pictures of our faces with enormous collections of "
            "driver's license photos, mug shots and images copied from the web. Once it is "
            "switched on, a camera that used to record a street can identify everyone walking "
            "along it.",
            "The technology is not neutral. Independent tests have found that many systems make "
            "more mistakes with women and with people who have darker skin, and more than one "
            "person in the United States has been jailed after software pointed at the wrong "
            "face. A more accurate system would not be safer, though: it would only make "
            "constant tracking easier.",
            "Several cities have already stopped their police from using face recognition. A "
            "patchwork of local rules cannot protect us while federal agencies use the same "
            "tools. Congress should prohibit federal use and stop paying for it in states and "
            "cities.",
            "Sign to tell your senators and your representative that face surveillance has no "
            "place in a free society.",
        ),
    },
    {
        "slug": "no-encryption-backdoors",
        "title": "No backdoors in our encryption",
        "addressed_to": "Governments of the world",
        "demand": "Reject every law or policy that forces companies to weaken encryption.",
        "topic": "encryption",
        "sponsors": ("access-now", "eff"),
        "summary": (
            "Strong encryption protects our conversations, medical records, bank accounts and "
            "the systems that keep the lights on. Governments keep asking technology companies "
            "to build in a special way in for investigators, but no door opens only for the good "
            "guys. Tell governments everywhere to defend encryption instead of weakening it."
        ),
        "body": (
            "Encryption quietly protects billions of messages, payments and software updates "
            "every day. Reporters depend on it to shield their sources, activists to organize "
            "safely, and everyone else to keep scammers and abusers out of their accounts.",
            "Proposals for so-called exceptional access ask companies to hold a spare copy of "
            "the keys, or to scan messages before they are encrypted. Whatever the label, the "
            "result is a flaw built into tools that everyone uses, waiting to be found by "
            "criminals or exploited by hostile states.",
            "Security researchers have warned for decades that a backdoor cannot be kept for "
            "lawful use alone. Once one government has a way in, others will insist on the same, "
            "including those that jail journalists and dissidents.",
            "Sign to ask governments to reject any law or policy that would force or pressure "
            "companies to undermine the encryption we all rely on.",
        ),
    },
    {
        "slug": "fourth-amendment-not-for-sale",
        "title": "Support the Fourth Amendment Is Not For Sale Act",
        "addressed_to": "Members of the U.S. Congress",
        "demand": (
            "Co-sponsor and pass the Fourth Amendment Is Not For Sale Act (H.R. 2738 / S.1265)."
        ),
        "topic": "other",
        "sponsors": ("eff", "restore-the-fourth"),
        "goal": 5000,
        "summary": (
            "Government agencies have found a way around the warrant requirement: rather than "
            "asking a judge, they buy our location history and other personal data from data "
            "brokers. The Fourth Amendment Is Not For Sale Act (H.R. 2738 / S.1265) would close "
            "that loophole. Ask your representative and senators to co-sponsor it and vote for it."
        ),
        "body": (
            "The apps on our phones keep detailed records of where we go and what we do. Much of "
            "that information ends up with data brokers, who sell it to whoever pays, police "
            "departments and federal agencies included.",
            "To get the same records straight from a phone company, investigators would "
            "normally need a court order. By buying them on the open market instead, agencies "
            "leave the judge out entirely, and the people being tracked never learn about it.",
            "The Fourth Amendment Is Not For Sale Act, introduced as H.R. 2738 in the House and "
            "S.1265 in the Senate, would stop law enforcement and intelligence agencies from "
            "purchasing data about people that they could otherwise obtain only through legal "
            "process.",
            "We aim to collect 5,000 signatures. Add yours and we will deliver them to your "
            "representative and senators, asking each of them to co-sponsor the bill.",
        ),
    },
    {
        "slug": "reclaim-your-face",
        "title": "Ban biometric mass surveillance in Europe's public spaces",
        "addressed_to": "The European Commission and the European Parliament",
        "demand": (
            "Ban biometric mass surveillance in publicly accessible spaces, by authorities and "
            "companies alike."
        ),
        "topic": "biometric-surveillance",
        "sponsors": ("edri", "access-now", "amnesty-international"),
        "summary": (
            "Cameras that recognize faces, and systems that analyze how we walk or speak, are "
            "being tried out in stations, stadiums and streets across Europe. They treat "
            "everyone as a suspect and make people think twice before they protest or gather. "
            "Join civil society groups across Europe in asking EU lawmakers to ban biometric "
            "mass surveillance in public spaces."
        ),
        "body": (
            "Our biometric data is part of our bodies. Unlike a password, a face cannot be "
            "replaced once it has been captured, copied or leaked.",
            "When these systems scan a public square, they do not follow only suspects; they "
            "record everyone who crosses it. People who know they are being watched are less "
            "likely to join a demonstration, visit a clinic or meet a reporter, and the harm "
            "lands hardest on communities that are already policed more than others.",
            "Judging each new deployment after the fact is not enough. The only dependable "
            "protection is a clear ban in law on using these technologies for mass surveillance "
            "in publicly accessible places, whether by public authorities or private companies.",
            "Sign to add your voice to the call from civil society across Europe for a law that "
            "keeps our streets free of biometric mass surveillance.",
        ),
    },
    {
        "slug": "drop-proctorio",
        "title": "Tell McGraw-Hill to drop Proctorio",
        "addressed_to": "McGraw-Hill",
        "demand": "Stop bundling Proctorio with McGraw-Hill course tools.",
        "topic": "other",
        "sponsors": ("fight-for-the-future",),
        "status": Petition.Status.CLOSED,
        "opens_at": datetime(2020, 10, 1, tzinfo=UTC),
        "closes_at": datetime(2021, 6, 30, tzinfo=UTC),
        "summary": (
            "Remote proctoring software watches students through their webcams, records their "
            "rooms and flags them as possible cheaters based on how they look and move. "
            "McGraw-Hill offers Proctorio with its online course tools. Nobody should have to "
            "give up their privacy to sit a test. This petition asked McGraw-Hill to end the "
            "partnership."
        ),
        "body": (
            "When classes moved online, many schools turned to automated exam monitoring. "
            "Proctorio watches students through their camera and microphone during a test and "
            "reports whatever its software decides looks suspicious.",
            "Students and teachers have described exams that would not start because the "
            "software could not find a face in dim light or on darker skin, and disabled "
            "students flagged for movements they cannot control. Filming a bedroom or a shared "
            "family home is an intrusion that no test should demand.",
            "As one of the largest publishers of course materials, McGraw-Hill helps decide "
            "which tools millions of students are told to use. It can stop offering invasive "
            "proctoring and back forms of assessment that respect students.",
            "This petition is now closed. Thank you to everyone who signed and shared it.",
        ),
        "outcome": (
            "The petition closed on 30 June 2021 and its signatures were delivered to "
            "McGraw-Hill. Students and teachers keep pressing schools to choose assessments "
            "that do not film them at home."
        ),
    },
)

# The sign form of the petition to local officials asks for what delivery needs.
FORM_SETTINGS: dict[str, dict[str, Any]] = {
    "cancel-police-doorbell-partnerships": {
        "postal_code_required": True,
        "countries": ["US"],
        "ask_comment": True,
        "offer_sponsor_opt_in": True,
    },
}

# Italian versions; the other petitions show their English text on the Italian site.
ITALIAN: dict[str, dict[str, Any]] = {
    "cancel-police-doorbell-partnerships": {
        "title": "Chiedi alla tua città di chiudere l'accordo tra polizia e Amazon Ring",
        "addressed_to": "Il sindaco e il consiglio comunale della tua città",
        "demand": (
            "Chiudete l'accordo della polizia con Amazon Ring e sottoponete ogni futuro "
            "accordo di sorveglianza a un voto pubblico."
        ),
        "summary": (
            "In tutti gli Stati Uniti le polizie locali hanno firmato accordi con Ring, la società "
            "di Amazon che vende campanelli con telecamera, trasformando le telecamere private in "
            "una rete di sorveglianza di quartiere. Nessuno l'ha votato e pochi residenti sono "
            "stati consultati. Firma e consegneremo il tuo nome al sindaco e ai consiglieri che "
            "ti rappresentano, chiedendo di chiudere l'accordo."
        ),
        "body": (
            "I campanelli con telecamera di Ring registrano la strada davanti alle case. Grazie "
            "agli accordi di collaborazione, più di mille dipartimenti di polizia possono "
            "chiedere quelle registrazioni ai proprietari direttamente sulla piattaforma di Ring, "
            "senza mandato e spesso senza alcun dibattito pubblico.",
            "Questi accordi confondono un oggetto comprato per la porta di casa con l'attività "
            "di polizia. Spingono i vicini a guardarsi come sospetti, pesano soprattutto su chi è "
            "già troppo sorvegliato e lasciano a un'azienda le regole su come vengono registrate "
            "le nostre strade.",
            "Le decisioni sulla sorveglianza spettano a chi la subisce. Una città può chiudere "
            "l'accordo e approvare un regolamento che imponga avviso pubblico, un'udienza e un "
            "voto prima di adottare nuove tecnologie di sorveglianza.",
            "Quando firmi, il tuo codice postale ci dice chi sono il tuo sindaco e i tuoi "
            "consiglieri. Non vedranno mai il tuo indirizzo email né il tuo codice postale.",
        ),
    },
    "reclaim-your-face": {
        "title": "Vietare la sorveglianza biometrica di massa negli spazi pubblici europei",
        "addressed_to": "La Commissione europea e il Parlamento europeo",
        "demand": (
            "Vietate la sorveglianza biometrica di massa negli spazi accessibili al pubblico, "
            "da parte di autorità e aziende."
        ),
        "summary": (
            "Telecamere che riconoscono i volti e sistemi che analizzano come camminiamo o "
            "parliamo vengono sperimentati in stazioni, stadi e strade di tutta Europa. Trattano "
            "tutti come sospetti e fanno pensare due volte prima di manifestare o riunirsi. "
            "Unisciti alla società civile europea e chiedi ai legislatori dell'UE di vietarli."
        ),
        "body": (
            "I nostri dati biometrici fanno parte del nostro corpo. A differenza di una password, "
            "un volto non si può cambiare dopo che è stato catturato, copiato o diffuso.",
            "Quando questi sistemi scansionano una piazza non seguono solo i sospettati: "
            "registrano chiunque la attraversi. Chi sa di essere osservato partecipa meno a una "
            "manifestazione, evita una clinica o un incontro con un giornalista.",
            "Valutare ogni nuova installazione a cose fatte non basta. L'unica protezione "
            "affidabile è un divieto chiaro per legge della sorveglianza biometrica di massa "
            "nei luoghi accessibili al pubblico.",
            "Firma per unire la tua voce a quella della società civile europea.",
        ),
    },
}

# Published on the petition's page; not emailed, since the demo has no signers yet.
UPDATES: tuple[dict[str, Any], ...] = (
    {
        "petition": "cancel-police-doorbell-partnerships",
        "title": "Thirty-six organizations back the call",
        "title_it": "Trentasei organizzazioni sostengono la richiesta",
        "body": (
            "A coalition of 36 civil-rights organizations has written to local, state and "
            "federal officials asking them to end these partnerships and to pass surveillance "
            "oversight rules. Every signature here adds weight to their letter."
        ),
        "body_it": (
            "Una coalizione di 36 organizzazioni per i diritti civili ha scritto ai "
            "rappresentanti locali, statali e federali chiedendo di chiudere questi accordi e di "
            "approvare regole di controllo sulla sorveglianza. Ogni firma qui dà più peso alla "
            "loro lettera."
        ),
    },
)


# Officials and decision makers; the offices are real, the addresses are the demo's own.
TARGETS: tuple[dict[str, str], ...] = (
    *(
        {
            "name": f"Mayor and City Council of {city}",
            "title": f"Mayor of {city}",
            "level": "local",
            "country": "US",
            "region": region,
            "locality": city,
            "email": f"mayor.{city.lower().replace(' ', '-')}@example.org",
        }
        for city, region in (
            ("Oakland", "CA"),
            ("San Francisco", "CA"),
            ("Los Angeles", "CA"),
            ("Chicago", "IL"),
            ("New York", "NY"),
            ("Houston", "TX"),
        )
    ),
    {
        "name": "Members of the U.S. Congress",
        "title": "U.S. Congress",
        "level": "national",
        "country": "US",
        "email": "congress@example.org",
    },
    {
        "name": "European Commission and European Parliament",
        "title": "EU lawmakers",
        "level": "international",
        "email": "eu-lawmakers@example.org",
    },
    {
        "name": "Governments of the world",
        "title": "Governments of the world",
        "level": "international",
        "email": "governments@example.org",
    },
    {"name": "McGraw-Hill", "title": "McGraw-Hill", "level": "company", "email": ""},
)

# Which petition addresses which targets (by title), and how often it is delivered.
PETITION_TARGETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "cancel-police-doorbell-partnerships": (
        "weekly",
        tuple(t["title"] for t in TARGETS if t["level"] == "local"),
    ),
    "ban-facial-recognition": ("milestone", ("U.S. Congress",)),
    "fourth-amendment-not-for-sale": ("milestone", ("U.S. Congress",)),
    "reclaim-your-face": ("weekly", ("EU lawmakers",)),
    "no-encryption-backdoors": ("close", ("Governments of the world",)),
    "drop-proctorio": ("close", ("McGraw-Hill",)),
}
