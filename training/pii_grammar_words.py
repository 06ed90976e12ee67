"""Words that fill the formats of ``training/pii_grammar.py``: real town names per country (public
facts), state and province codes, Irish counties, and street types per English-speaking country.
Written for Bedside (Apache-2.0)."""

from __future__ import annotations

_TOWNS = {
    "QC": ("Montréal", "Québec", "Laval", "Gatineau", "Sherbrooke", "Trois-Rivières"),
    "IN": ("Bengaluru", "Hyderabad", "Chennai", "Pune", "Kolkata", "New Delhi", "Mumbai", "Jaipur", "Lucknow"),
    "DE": ("Berlin", "München", "Köln", "Leipzig", "Freiburg im Breisgau", "Bad Homburg", "Hamburg"),
    "AT": ("Wien", "Graz", "Linz", "Salzburg", "Innsbruck", "Klagenfurt am Wörthersee"),
    "FR": ("Paris", "Lyon", "Marseille", "Toulouse", "Aix-en-Provence", "Saint-Étienne", "Nantes"),
    "BE": ("Bruxelles", "Antwerpen", "Gent", "Liège", "Leuven", "Namur"),
    "ES": ("Madrid", "Barcelona", "Sevilla", "Valencia", "San Sebastián", "A Coruña", "Málaga"),
    "IT": ("Milano", "Roma", "Torino", "Napoli", "Bologna", "Reggio Emilia", "Firenze"),
    "NL": ("Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Eindhoven", "Groningen", "Zwolle"),
    "PL": ("Warszawa", "Kraków", "Gdańsk", "Wrocław", "Poznań", "Łódź", "Bielsko-Biała"),
    "PT": ("Lisboa", "Porto", "Braga", "Coimbra", "Faro", "Vila Nova de Gaia"),
    "SE": ("Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro"),
    "DK": ("København K", "Aarhus C", "Odense", "Aalborg", "Frederiksberg", "Esbjerg"),
    "FI": ("Helsinki", "Espoo", "Tampere", "Turku", "Oulu", "Jyväskylä"),
}
_STATES = {
    "US": ("CA", "NY", "TX", "IL", "WA", "FL", "MA", "OR", "GA", "OH"),
    "CA": ("ON", "BC", "AB", "NS", "MB", "SK"),
    "AU": ("NSW", "VIC", "QLD", "WA", "SA", "TAS", "ACT", "NT"),
    "IN": ("Karnataka", "Telangana", "Tamil Nadu", "Maharashtra", "Kerala"),
    "IT": ("MI", "RM", "TO", "NA", "BO", "RE", "FI"),
}
_COUNTIES = ("Cork", "Galway", "Kerry", "Mayo", "Wicklow", "Kildare", "Donegal", "Clare")

_US_KINDS = (
    "Street",
    "St",
    "St.",
    "Avenue",
    "Ave",
    "Ave.",
    "Road",
    "Rd",
    "Boulevard",
    "Blvd",
    "Drive",
    "Dr",
    "Lane",
    "Ln",
    "Court",
    "Ct",
    "Way",
    "Place",
    "Pl",
    "Terrace",
    "Circle",
    "Parkway",
    "Pkwy",
    "Highway",
    "Trail",
)
_UK_KINDS = ("Road", "Street", "Lane", "Close", "Crescent", "Avenue", "Way", "Gardens", "Grove", "Mews", "Terrace", "Drive", "Place", "Row", "Hill", "Walk", "Rise", "Green")
_AU_KINDS = ("Street", "St", "Road", "Rd", "Parade", "Pde", "Avenue", "Ave", "Crescent", "Cres", "Circuit", "Cct", "Esplanade", "Highway", "Hwy", "Drive", "Dr", "Place", "Terrace")
_IN_KINDS = ("Road", "Main Road", "Marg", "Street", "Cross Road", "Nagar Main Road", "Lane")
