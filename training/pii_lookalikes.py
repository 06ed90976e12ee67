"""PII-free messages that look like addresses or names: products with model numbers, public places
named in general statements, numbered things (levels, platforms, routes), and code.

The over-redaction rows of the ``grammar`` source in ``bench/pii_eval.py``: a message here that
reaches the upstream altered is a false positive. The sentences are written for Bedside
(Apache-2.0); the product, street and place names in them are public names, not personal data.
Deterministic by seed: :func:`benign_rows` fills each template from its lists with a seeded
random generator.
"""

from __future__ import annotations

import random

__all__ = ["benign_rows"]

_PRODUCTS = (
    "Pixel 8 Pro", "Galaxy Tab S9", "Surface Laptop 5", "Xbox Series X", "AirPods Pro 2", "iPad Air 5",
    "Canon EOS R6", "Fiat 500", "Peugeot 208", "Model 3", "Kindle Oasis", "Echo Dot", "Nintendo Switch OLED",
    "MacBook Air M2", "Fitbit Charge 6", "GoPro Hero 12", "Sony WH-1000XM5", "Dell XPS 13", "Roomba 694",
    "Instant Pot Duo 7", "Garmin Forerunner 265", "Bosch Serie 6", "Miele Complete C3", "Vitamix 5200",
)  # fmt: skip
#: Streets, squares and roads that everyone knows, named in general statements.
_STREETS = (
    "Oxford Street", "Fifth Avenue", "Abbey Road", "the Champs-Élysées", "Via del Corso", "Unter den Linden",
    "Las Ramblas", "Boulevard Saint-Germain", "Wall Street", "Downing Street", "Baker Street", "Rue de Rivoli",
    "Sunset Boulevard", "Grafton Street", "George Street", "Orchard Road", "Carnaby Street", "Kurfürstendamm",
    "Gran Vía", "Nevsky Prospect", "Lombard Street", "Bourbon Street", "Via Appia", "Strøget", "Drottninggatan",
    "Nowy Świat", "Rua Augusta", "Damrak", "Princes Street", "Queen Street West", "Collins Street", "MG Road",
)  # fmt: skip
_PLACES = (
    "the Louvre", "Trafalgar Square", "the Golden Gate Bridge", "Piazza Navona", "the Rijksmuseum",
    "Plaza Mayor", "Marienplatz", "Dam Square", "the Sydney Opera House", "the Gateway of India",
    "Stanley Park", "Phoenix Park", "Tivoli Gardens", "the Acropolis", "Wawel Castle", "Belém Tower",
)  # fmt: skip
_NUMBERED = (
    "Route 66", "Highway 1", "Interstate 95", "the A1", "Platform 9", "Terminal 5", "Gate 22", "Level 3",
    "Studio 54", "Apollo 11", "Area 51", "Chapter 12", "Unit 4 of the course", "Room 101", "Flight 370",
    "Section 8", "Article 17", "Windows 11", "Python 3.12", "Ubuntu 22.04", "Symphony No. 5", "Ocean's 11",
)  # fmt: skip

_TEMPLATES = (
    "{street} gets packed on Saturdays, so we shop there on weekday mornings.",
    "Is {street} worth visiting, or is it just chain stores now?",
    "Rents on {street} have doubled in ten years, according to the article.",
    "We walked from {place} to {street} in about 20 minutes.",
    "Every guidebook sends you to {place}, but the queue is two hours long.",
    "The 3 best views in the city are from {place}, the old harbour and the cathedral roof.",
    "My {product} keeps disconnecting from Wi-Fi after the last update.",
    "Does the {product} come with a charger in the box, or do I buy it separately?",
    "I compared the {product} and the {product2}: the first one has 2 more hours of battery.",
    "Ordered 2 {product} cases, only 1 arrived.",
    "Driving {numbered} in 5 days: is that too rushed?",
    "The answer is in {numbered}, not in the appendix.",
    "We finished {numbered} in 40 minutes, the boss fight was easy.",
    "My train leaves from {numbered} at 7:45, is there a lift?",
    "Upgrading to {numbered} broke my printer driver.",
    "Run `docker run -p 8080:80 nginx:1.25` and open localhost in the browser.",
    "In SQL: SELECT street, city, postcode FROM addresses WHERE id = 42;",
    "The form field `address_line_2` is optional, and `postcode` must match the country.",
    "for (int i = 0; i < 10; i++) {{ total += price[i]; }}",
    "Set `max_items = 25` and `retry_after = 30` in settings.toml, then restart.",
    "git checkout -b fix/123-street-name-validation && git push -u origin HEAD",
    "The error says: line 42, in parse_address: KeyError: 'house_number'",
    "const user = {{ name: req.body.name, street: req.body.street }};",
    "Our office moved, but the new address is on the website, not in this chat.",
    "Which is cheaper for 3 people: a taxi or the 42 bus from the station?",
    "Can I change the delivery address after the order has been dispatched?",
    "The warehouse on the industrial estate closes at 6 pm on Fridays.",
    "What postcode format does Canada use? Is it letters and digits mixed?",
    "How do I write an Irish Eircode on an international form?",
    "A PO box is cheaper than renting a mailbox at a shop, isn't it?",
)


def benign_rows(seed: int = 11, repeats: int = 3) -> list[str]:
    """Each template of :data:`_TEMPLATES` filled ``repeats`` times from the lists, seeded."""
    rng = random.Random(seed)  # noqa: S311 - reproducible generated data, not cryptography
    out: list[str] = []
    for tpl in _TEMPLATES:
        for _ in range(repeats):
            a, b = rng.sample(_PRODUCTS, 2)
            out.append(tpl.format(street=rng.choice(_STREETS), place=rng.choice(_PLACES), product=a, product2=b, numbered=rng.choice(_NUMBERED)))
    return list(dict.fromkeys(out))
