"""The reference rollout as data: a nationwide insurer, one lead firm and seven partners.

Coordinates are real city centres; firms, people, addresses and prices are invented.
"""

import datetime as dt

PASSWORD = "staffing-demo-2027"
LEAD = "rheinwerk"
ROLE_PEOPLE = ("admin", "coordinator", "member")  # one user per role and firm, in this order


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def days(first: str, last: str) -> list[dt.date]:
    start, end = day(first), day(last)
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


PROJECT = dict(
    name="Nationwide workplace upgrade 2027",
    client_name="Hanse Versicherung AG",
    description=(
        "Replace 220 desktops and 14 servers in the 13 offices of Hanse Versicherung AG, "
        "with network refreshes at the four largest. Servers first, desktops after."
    ),
    start_on=day("2027-03-01"),
    end_on=day("2027-06-30"),
    working_weekdays=[1, 2, 3, 4, 5],
    # Nationwide public holidays in the period: Good Friday, Easter Monday, Labour Day,
    # Ascension, Whit Monday.
    holidays=[day("2027-03-26"), day("2027-03-29"), day("2027-05-01"), day("2027-05-06"),
              day("2027-05-17")],
    max_firms_per_site=2,
    site_face_policy="lead",
)

SKILLS = {
    "desktop": "Desktop rollout (Windows 11)",
    "winserver": "Windows Server",
    "sqlserver": "SQL Server",
    "exchange": "Exchange Server",
    "network": "Network and switching",
}

# key: name, region, address, latitude, longitude, email domain, (admin, coordinator, member)
FIRMS = {
    "rheinwerk": ("Rheinwerk Systemhaus GmbH", "Nordrhein-Westfalen",
                  "Hohenzollernring 52, 50672 Köln", 50.9375, 6.9603, "rheinwerk.example",
                  ("Katrin Weber", "Jonas Hoffmann", "Leonie Schäfer")),
    "nordlicht": ("Nordlicht IT GmbH", "Hamburg",
                  "Steindamm 71, 20099 Hamburg", 53.5511, 9.9937, "nordlicht-it.example",
                  ("Hauke Petersen", "Maren Jansen", "Finn Lorenzen")),
    "spree": ("Spree Digital Services GmbH", "Berlin",
              "Köpenicker Straße 145, 10997 Berlin", 52.5200, 13.4050, "spree-digital.example",
              ("Aylin Demir", "Tobias Krüger", "Sophie Lange")),
    "isar": ("Isar Netzwerk & Systeme GmbH", "Bayern",
             "Landsberger Straße 110, 80339 München", 48.1351, 11.5820, "isar-systeme.example",
             ("Korbinian Huber", "Theresa Maier", "Lukas Gruber")),
    "mainfeld": ("Mainfeld IT-Service GmbH", "Hessen",
                 "Hanauer Landstraße 161, 60314 Frankfurt am Main", 50.1109, 8.6821,
                 "mainfeld-it.example", ("Daniel Roth", "Miriam Schmitt", "Paul Wagner")),
    "neckar": ("Neckar Technik Dienste GmbH", "Baden-Württemberg",
               "Pragstraße 26, 70376 Stuttgart", 48.7758, 9.1829, "neckar-technik.example",
               ("Simone Keller", "Markus Bauer", "Elias Vogt")),
    "elbsand": ("Elbsand Systemhaus GmbH", "Sachsen",
                "Königsbrücker Straße 96, 01099 Dresden", 51.0504, 13.7373, "elbsand.example",
                ("Ronny Seidel", "Franziska Richter", "Tom Hartmann")),
    "weserbrueck": ("Weserbrück IT GmbH", "Bremen",
                    "Am Wall 140, 28195 Bremen", 53.0793, 8.8017, "weserbrueck-it.example",
                    ("Gesa Meyer", "Ole Brinkmann", "Nele Ahrens")),
}
OPERATOR = ("operator", "Olaf Betrieb")  # the platform operator, employed by the lead firm

# firm key: radius km, cost per km, min %, max %, {skill: (proficiency, hourly rate)},
# availability [(first day, last day, technicians, hours each)], blackout dates
OFFERS = {
    "rheinwerk": (250, "0.50", 10, 40,
                  {"desktop": (3, "68.00"), "winserver": (4, "95.00"),
                   "sqlserver": (4, "112.00"), "exchange": (4, "110.00"),
                   "network": (3, "88.00")},
                  [("2027-03-01", "2027-06-30", 3, 8.0)],
                  days("2027-04-19", "2027-04-23")),
    "nordlicht": (300, "0.45", 5, 35,
                  {"desktop": (3, "62.00"), "winserver": (3, "85.00"),
                   "exchange": (4, "105.00"), "network": (3, "79.00")},
                  [("2027-03-01", "2027-04-30", 4, 8.0), ("2027-05-03", "2027-06-30", 3, 7.5)],
                  days("2027-03-30", "2027-04-02")),
    "spree": (250, "0.40", 5, 30,
              {"desktop": (2, "55.00"), "winserver": (3, "82.00"), "network": (4, "90.00")},
              [("2027-03-15", "2027-06-30", 3, 8.0)],
              days("2027-05-18", "2027-05-21")),
    "isar": (200, "0.55", 0, 30,
             {"desktop": (3, "70.00"), "winserver": (4, "98.00"), "sqlserver": (4, "115.00"),
              "network": (3, "92.00")},
             [("2027-03-01", "2027-04-30", 2, 8.0), ("2027-05-03", "2027-06-30", 4, 8.0)],
             [day("2027-05-27")]),
    "mainfeld": (250, "0.48", 5, 30,
                 {"desktop": (2, "58.00"), "winserver": (3, "88.00"),
                  "sqlserver": (3, "100.00"), "exchange": (3, "98.00")},
                 [("2027-03-08", "2027-06-25", 3, 8.0)],
                 [day("2027-05-27"), day("2027-05-28")]),
    "neckar": (180, "0.50", 0, 25,
               {"desktop": (3, "64.00"), "winserver": (3, "86.00"), "network": (3, "85.00")},
               [("2027-03-01", "2027-06-30", 2, 8.0)],
               days("2027-05-24", "2027-05-28")),
    "elbsand": (220, "0.38", 0, 25,
                {"desktop": (2, "52.00"), "winserver": (3, "78.00")},
                [("2027-03-01", "2027-03-31", 1, 8.0), ("2027-04-01", "2027-06-30", 2, 8.0)],
                []),
    "weserbrueck": (200, "0.42", 0, 20,
                    {"desktop": (3, "60.00"), "winserver": (3, "84.00"),
                     "exchange": (4, "108.00")},
                    [("2027-03-01", "2027-06-18", 2, 7.5)],
                    [day("2027-04-30")]),
}

# What each kind of work item needs: skill, minimum proficiency, hours per unit, crew size.
DESKTOP = ("desktop", 2, 1.5, 1)
NETWORK = ("network", 3, 16.0, 2)
SERVERS = {
    "file": ("winserver", 3, 10.0, 1, "File and print server"),
    "dc": ("winserver", 3, 8.0, 1, "Domain controller"),
    "sql": ("sqlserver", 4, 16.0, 2, "SQL Server cluster (claims system)"),
    "mail": ("exchange", 4, 20.0, 2, "Exchange server"),
}
CORPUS_CHRISTI = day("2027-05-27")  # a holiday in NRW, Hesse, Bavaria, Baden-Württemberg

# code: name, region, address, latitude, longitude, ready on, access weekdays, blackout dates,
# servers, desktop batch quantities, network refresh, due date of the desktops
SITES = {
    "HAM": ("Hamburg head office", "Hamburg", "Ballindamm 17, 20095 Hamburg",
            53.5503, 10.0006, "2027-03-01", [1, 2, 3, 4, 5],
            [day("2027-04-15"), day("2027-04-16")], ["file", "mail"], [20, 20], True,
            "2027-05-28"),
    "BER": ("Berlin regional office", "Berlin", "Friedrichstraße 68, 10117 Berlin",
            52.5163, 13.3889, "2027-03-08", [1, 2, 3, 4, 5], [], ["dc"], [15, 15], True,
            None),
    "MUC": ("Munich regional office", "Bayern", "Arnulfstraße 31, 80636 München",
            48.1429, 11.5480, "2027-03-15", [1, 2, 3, 4, 5], [CORPUS_CHRISTI], ["sql"],
            [15, 10], True, None),
    "CGN": ("Cologne office", "Nordrhein-Westfalen", "Gereonstraße 18, 50670 Köln",
            50.9430, 6.9497, "2027-03-01", [1, 2, 3, 4, 5], [CORPUS_CHRISTI], ["dc"], [20],
            False, None),
    "FRA": ("Frankfurt office", "Hessen", "Mainzer Landstraße 50, 60325 Frankfurt am Main",
            50.1107, 8.6647, "2027-03-22", [1, 2, 3, 4, 5], [CORPUS_CHRISTI, day("2027-06-01")],
            ["sql"], [20], True, "2027-06-11"),
    "STR": ("Stuttgart office", "Baden-Württemberg", "Kronenstraße 20, 70173 Stuttgart",
            48.7794, 9.1778, "2027-04-05", [1, 2, 3, 4, 5], [CORPUS_CHRISTI], ["dc"], [15],
            False, None),
    "DUS": ("Düsseldorf office", "Nordrhein-Westfalen", "Berliner Allee 22, 40212 Düsseldorf",
            51.2206, 6.7818, "2027-03-15", [1, 2, 3, 4], [CORPUS_CHRISTI], ["dc"], [10],
            False, None),
    "LEJ": ("Leipzig office", "Sachsen", "Brühl 52, 04109 Leipzig",
            51.3434, 12.3780, "2027-04-12", [1, 2, 3, 4, 5], [day("2027-05-20")], ["dc"], [10],
            False, None),
    "HAJ": ("Hanover office", "Niedersachsen", "Georgstraße 36, 30159 Hannover",
            52.3727, 9.7381, "2027-03-15", [2, 3, 4, 5], [], ["dc"], [10], False, None),
    "NUE": ("Nuremberg office", "Bayern", "Königstraße 39, 90402 Nürnberg",
            49.4500, 11.0790, "2027-04-19", [1, 2, 3, 4, 5], [CORPUS_CHRISTI], ["dc"], [10],
            False, None),
    "DRS": ("Dresden office", "Sachsen", "Prager Straße 8, 01069 Dresden",
            51.0463, 13.7357, "2027-04-06", [1, 2, 3, 4, 5], [], ["dc"], [10], False, None),
    "BRE": ("Bremen office", "Bremen", "Obernstraße 40, 28195 Bremen",
            53.0768, 8.8046, "2027-03-08", [1, 2, 3, 4, 5], [], ["dc"], [10], False, None),
    "DTM": ("Dortmund office", "Nordrhein-Westfalen", "Kampstraße 45, 44137 Dortmund",
            51.5149, 7.4616, "2027-05-03", [1, 2, 3, 4, 5], [CORPUS_CHRISTI], ["dc"], [10],
            False, None),
}

# firm key, site code (None: the whole client), reason
EXCLUSIONS = (
    ("weserbrueck", "HAM", "The client's facility management has barred the firm from the "
                           "head office since a 2026 access-badge incident."),
    ("elbsand", None, "Exclusive service contract with a competing insurer until 2028."),
)
