"""Personas and a post-text generator for the demo and scale seeders.

The demo society argues about transport in a fictional city, Eastbridge. Two
camps hold opposite views — "streets for people" (trams, buses, bike lanes,
fewer cars in the centre) and "keep the city moving" (drivers, parking, the
ring road) — and moderates look for common ground. Every post is written from
sentence templates with a hidden slant; a few are mildly uncivil, so the
incivility signal has something to find and the ranker something to demote.

Everything is driven by a caller-supplied ``random.Random`` so a seed always
produces the same society. Nothing here touches the database.
"""

# The sentence templates read better unbroken than wrapped at 88 columns.
# ruff: noqa: E501
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final, Literal

Stance = Literal["people", "moving", "moderate"]

# Printed by seed_demo; documented in the README. Demo data only.
DEMO_PASSWORD: Final = "demo-password-2026"

CITY: Final = "Eastbridge"
STANCES: Final[tuple[Stance, ...]] = ("people", "moving", "moderate")
CAMP_LABELS: Final[dict[Stance, str]] = {
    "people": "streets for people",
    "moving": "keep the city moving",
    "moderate": "moderate",
}

# Topic -> what each camp says about it. {city} is filled in.
CLAIMS: Final[dict[str, dict[Stance, tuple[str, ...]]]] = {
    "tram": {
        "people": (
            "the tram extension to the east side is the best money {city} could spend",
            "extending the tram line would finally connect the east side to the jobs in the centre",
            "a tram every six minutes would take thousands of cars off Harbour Road",
        ),
        "moving": (
            "the tram extension is a vanity project that will dig up Harbour Road for three years",
            "the tram budget would fix every pothole in {city} twice over",
            "nobody on the east side asked for a tram; they asked for a faster ring road",
        ),
        "moderate": (
            "whatever you think of the tram, the council should publish the full business case",
            "the tram debate would be calmer if we saw the construction timetable street by street",
            "both camps want the east side better connected; the question is only how",
        ),
    },
    "bikes": {
        "people": (
            "protected bike lanes on Market Street would make it safe for kids to cycle to school",
            "every city that built a real cycle network saw more people cycling within two years",
            "painted bike lanes are not enough; cyclists on Market Street need kerbs",
        ),
        "moving": (
            "the new bike lanes sit empty while the traffic next to them crawls",
            "removing a car lane on Market Street for bikes has doubled my commute",
            "cycle lanes are fine for students but useless for a plumber with a van full of tools",
        ),
        "moderate": (
            "the bike lane counts should be published monthly so we can argue about facts",
            "maybe the answer is bike lanes on the side streets and the main road left for buses",
            "delivery vans and cyclists both need kerb space on Market Street; a loading plan would help",
        ),
    },
    "parking": {
        "people": (
            "free parking in the old town is a subsidy for cars paid by everyone else",
            "turning the Quayside car park into housing would do more good than another 400 spaces",
            "the parking spaces on Mill Lane could become a playground and a bus stop",
        ),
        "moving": (
            "the shops in the old town are closing because nobody can park near them",
            "raising parking charges again punishes people who have no bus to use",
            "older people and carers rely on parking near the clinic; it should stay",
        ),
        "moderate": (
            "disabled bays and loading zones should be protected whatever happens to parking",
            "a parking survey before any change would settle half of this argument",
            "short-stay parking for the shops and fewer all-day spaces seems a fair trade",
        ),
    },
    "charge": {
        "people": (
            "a congestion charge would fund better buses and clear the air on the ring road",
            "the congestion charge worked in other cities and air quality improved within a year",
            "charging cars to enter the centre is fairer than making everyone breathe their fumes",
        ),
        "moving": (
            "a congestion charge is a tax on people who cannot work from home",
            "the congestion charge would hit nurses on night shifts hardest",
            "tradespeople would pass the congestion charge straight on to every household",
        ),
        "moderate": (
            "if there is a congestion charge, night-shift workers and carers need exemptions",
            "a trial charge for six months with a public review would be a sensible start",
            "whatever the charge is, the money should be ring-fenced for transport in {city}",
        ),
    },
    "buses": {
        "people": (
            "a bus lane on Station Road would make the number 12 reliable at last",
            "buses every ten minutes until midnight would change how the whole city gets around",
            "bus priority at the junctions costs little and helps thousands of people a day",
        ),
        "moving": (
            "the bus lanes on Station Road are empty most of the day while cars queue",
            "half-empty buses do not justify taking a lane away from everyone else",
            "fix the bus timetable before taking road space from drivers",
        ),
        "moderate": (
            "bus lanes that only run at peak hours might suit both drivers and passengers",
            "everyone agrees the number 12 is unreliable; let's start by fixing that",
            "real-time bus arrival screens would help whichever way the lanes go",
        ),
    },
    "schools": {
        "people": (
            "school streets that close to cars at drop-off time keep children safe",
            "low-traffic neighbourhoods mean kids can walk to school again",
            "the air outside Riverside Primary is worse at drop-off than anywhere else in {city}",
        ),
        "moving": (
            "the low-traffic scheme just pushed all the cars onto Canal Street",
            "closing roads at school time makes life impossible for parents who work shifts",
            "the planters blocking Elm Road were put there without asking residents",
        ),
        "moderate": (
            "the low-traffic trial needs traffic counts on the boundary roads too",
            "school streets could start with the schools whose parents voted for them",
            "residents on Canal Street deserve a say in the low-traffic trial as well",
        ),
    },
}

OPENERS: Final[dict[Stance, tuple[str, ...]]] = {
    "people": (
        "",
        "Honestly, ",
        "After this morning's commute: ",
        "Reminder: ",
        "Said it before, saying it again: ",
        "Walked through the centre today. ",
        "Look at the numbers: ",
    ),
    "moving": (
        "",
        "Honestly, ",
        "Another hour in traffic. ",
        "Let's be realistic: ",
        "Said it before, saying it again: ",
        "Talked to the shop owners on Market Street: ",
        "Speaking as someone who drives for work, ",
    ),
    "moderate": (
        "",
        "A thought for both sides: ",
        "Reading the consultation replies, ",
        "Trying to find the middle here: ",
        "From the residents' meeting last night: ",
        "Genuine question for both sides: ",
    ),
}

REASONS: Final[dict[Stance, tuple[str, ...]]] = {
    "people": (
        "Cleaner air is not a luxury.",
        "Streets are for people, not just for parking.",
        "Most trips in the centre are under three kilometres.",
        "Fewer cars means safer streets for everyone.",
        "Other cities did it and nobody wants to go back.",
        "Buses stuck in traffic are a waste of everyone's time.",
    ),
    "moving": (
        "Not everyone can cycle or take the bus.",
        "Small businesses depend on customers who drive.",
        "Deliveries and tradespeople need the roads too.",
        "People on the outskirts have no real alternative.",
        "The council should fix the basics first.",
        "Traffic doesn't disappear, it moves to someone else's street.",
    ),
    "moderate": (
        "There are good points on both sides.",
        "Let's look at the data before deciding.",
        "Most people just want to get to work on time.",
        "A small trial would tell us more than another year of arguing.",
        "The consultation deserves more than slogans.",
        "Worth asking the people who live on those streets.",
    ),
}

CLOSERS: Final[tuple[str, ...]] = (
    "",
    "",
    " Thoughts?",
    " Change my mind.",
    " #Eastbridge",
    " #EastbridgeTransport",
    " See you at the council meeting on Thursday.",
    " Write to your councillor.",
)

# Mild incivility aimed at the other camp: rude but not hateful, which is the
# band the incivility signal has to separate from plain disagreement.
JABS: Final[dict[Stance, tuple[str, ...]]] = {
    "people": (
        "The car lobby is clueless as usual.",
        "Anyone who still defends this has clearly never walked anywhere.",
        "The drivers moaning about it can stay stuck in their own traffic.",
        "What a pathetic excuse from the keep-the-city-moving crowd.",
        "Honestly, their arguments are just ridiculous.",
    ),
    "moving": (
        "The bike brigade are completely out of touch.",
        "Only smug people with nowhere to be think this is a good idea.",
        "The streets-for-people lot should get a real job and see how it works.",
        "What a stupid scheme from people who never carry anything heavier than a latte.",
        "Honestly, their arguments are just ridiculous.",
    ),
    "moderate": (
        "Both camps are being childish about this.",
        "The shouting on here is embarrassing.",
    ),
}

AGREE_OPENERS: Final[tuple[str, ...]] = (
    "Exactly this. ",
    "Couldn't agree more: ",
    "Yes, and ",
    "Well put. ",
    "Thank you for saying it. ",
    "This. ",
)
DISAGREE_OPENERS: Final[tuple[str, ...]] = (
    "I see it differently: ",
    "Respectfully, no. ",
    "That's not my experience. ",
    "I'm not convinced. ",
    "Have you considered this? ",
)
UNCIVIL_REPLY_OPENERS: Final[tuple[str, ...]] = (
    "What nonsense. ",
    "Are you serious? ",
    "This is a ridiculous take. ",
    "Spare us the lecture. ",
)
BRIDGE_REPLY_OPENERS: Final[tuple[str, ...]] = (
    "Fair point, though ",
    "I disagree on the rest, but ",
    "Good to see some common ground: ",
    "Not my side of the argument, but ",
)

FIRST_NAMES: Final[tuple[str, ...]] = (
    "alice",
    "bob",
    "chen",
    "dana",
    "emeka",
    "farah",
    "gus",
    "hana",
    "ivan",
    "jade",
    "kofi",
    "lena",
    "mateo",
    "nadia",
    "oscar",
    "priya",
    "quinn",
    "rosa",
    "sami",
    "tove",
    "umar",
    "vera",
    "wes",
    "xin",
    "yara",
    "zane",
    "amir",
    "bea",
    "carlos",
    "dina",
    "eli",
    "fatima",
    "george",
    "helga",
    "isaac",
    "jun",
    "kira",
    "leo",
    "maya",
    "nils",
    "olga",
    "pablo",
    "rania",
    "stefan",
    "tara",
    "ugo",
    "vik",
    "wanda",
    "yusuf",
    "zoe",
    "anya",
    "bruno",
    "cleo",
    "dev",
    "esme",
    "finn",
    "greta",
    "hugo",
    "ines",
    "jonas",
    "kai",
    "lucia",
    "marek",
    "noor",
    "otto",
    "petra",
    "rafael",
    "sofia",
    "theo",
    "una",
)
SURNAMES: Final[tuple[str, ...]] = (
    "Moreno",
    "Okafor",
    "Lindqvist",
    "Haddad",
    "Kowalski",
    "Nakamura",
    "Brennan",
    "Silva",
    "Mensah",
    "Dubois",
    "Petrov",
    "Ahmed",
    "Fischer",
    "Rossi",
    "Byrne",
    "Novak",
    "Jansen",
    "Costa",
    "Osei",
    "Larsen",
    "Ward",
    "Bianchi",
    "Sato",
    "Quinn",
)

BIOS: Final[dict[Stance, tuple[str, ...]]] = {
    "people": (
        "Cycles to work year-round. Wants {city} to be a city for walking.",
        "Bus commuter, parent of two, fan of the number 12 when it turns up.",
        "Urban planner by training. Trams, trees and wider pavements.",
        "Runs the east side cycling club. Ask me about safe routes to school.",
        "Nurse. Car-free for six years and not going back.",
    ),
    "moving": (
        "Electrician. My van is my office. {city} born and bred.",
        "Runs a bakery on Market Street. Customers need somewhere to park.",
        "Commutes in from the outskirts; no bus goes where I work.",
        "Taxi driver for 20 years. I know every pothole in {city}.",
        "Carer for my mum. The car is how we get to the clinic.",
    ),
    "moderate": (
        "Local history teacher. Listens to both sides before deciding.",
        "Drives some days, cycles others. Wants the numbers, not the shouting.",
        "Residents' association secretary. Minutes, maps and patience.",
        "Retired engineer. Interested in what actually works.",
        "Runs the community notice board. All views welcome, politely.",
    ),
}


@dataclass(frozen=True)
class Persona:
    """A demo citizen: a public face and a hidden viewpoint (-1 .. +1)."""

    username: str
    display_name: str
    bio: str
    stance: Stance
    viewpoint: float


def stance_for_index(index: int) -> Stance:
    """Deterministic camp assignment: of every 7 accounts, 3 per camp and 1 moderate.

    The first three accounts (alice, bob, chen) are one of each, so the printed
    demo logins show all three perspectives.
    """
    cycle: tuple[Stance, ...] = (
        "people",
        "moving",
        "moderate",
        "people",
        "moving",
        "people",
        "moving",
    )
    return cycle[index % len(cycle)]


def personas_make(rng: random.Random, count: int) -> list[Persona]:
    """`count` personas with unique usernames; deterministic for the rng's seed."""
    personas: list[Persona] = []
    for index in range(count):
        base = FIRST_NAMES[index % len(FIRST_NAMES)]
        username = (
            base if index < len(FIRST_NAMES) else f"{base}{index // len(FIRST_NAMES)}"
        )
        stance = stance_for_index(index)
        if stance == "people":
            viewpoint = -rng.uniform(0.35, 1.0)
        elif stance == "moving":
            viewpoint = rng.uniform(0.35, 1.0)
        else:
            viewpoint = rng.uniform(-0.3, 0.3)
        personas.append(
            Persona(
                username=username,
                display_name=f"{base.capitalize()} {rng.choice(SURNAMES)}",
                bio=rng.choice(BIOS[stance]).format(city=CITY),
                stance=stance,
                viewpoint=round(viewpoint, 3),
            )
        )
    return personas


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:]


def _join(opener: str, claim: str) -> str:
    # After a full stop or question mark the claim starts a new sentence;
    # after a comma or colon it continues the opener's.
    if opener.endswith((". ", "? ")):
        return opener + _sentence(claim)
    return opener + claim


def _claim(
    rng: random.Random, stance: Stance, topic: str | None = None
) -> tuple[str, str]:
    topic = topic or rng.choice(sorted(CLAIMS))
    return topic, rng.choice(CLAIMS[topic][stance]).format(city=CITY)


def post_body(rng: random.Random, *, stance: Stance, uncivil: bool) -> tuple[str, str]:
    """A top-level post in the voice of `stance`; returns (topic, body)."""
    topic, claim = _claim(rng, stance)
    opener = rng.choice(OPENERS[stance])
    body = _sentence(_join(opener, claim)) + "."
    if rng.random() < 0.6:
        body += " " + rng.choice(REASONS[stance])
    if uncivil:
        body += " " + rng.choice(JABS[stance])
    body += rng.choice(CLOSERS)
    return topic, body


def reply_body(
    rng: random.Random,
    *,
    stance: Stance,
    topic: str,
    agrees: bool,
    uncivil: bool,
    mention: str | None,
) -> str:
    """A reply on `topic`: agreement, disagreement, or a moderate's bridge."""
    _, claim = _claim(rng, stance, topic)
    if uncivil:
        opener = rng.choice(UNCIVIL_REPLY_OPENERS)
    elif stance == "moderate":
        opener = rng.choice(BRIDGE_REPLY_OPENERS)
    elif agrees:
        opener = rng.choice(AGREE_OPENERS)
    else:
        opener = rng.choice(DISAGREE_OPENERS)
    body = _join(opener, claim) + "."
    if uncivil:
        body += " " + rng.choice(JABS[stance])
    elif rng.random() < 0.3:
        body += " " + rng.choice(REASONS[stance])
    if mention:
        body = f"@{mention} {body}"
    return body


def scale_bodies(rng: random.Random, count: int) -> list[str]:
    """A pool of varied bodies for bulk loading; none contains a tab, newline or backslash."""
    bodies: list[str] = []
    for index in range(count):
        stance = STANCES[index % len(STANCES)]
        _, claim = _claim(rng, stance)
        bodies.append(
            f"{_sentence(claim)}. {rng.choice(REASONS[stance])}{rng.choice(CLOSERS)}"
        )
    return bodies
