"""Source texts for the end-to-end tests (written for these tests; places and figures are invented)."""

from __future__ import annotations

__all__ = ["FERRY_TEXT", "HARBOUR_AND_SCHOOLS", "LONG_REPORT_TEXT", "MENTIONS_TEXT", "ORCHARD_NOTES_MD", "ORCHARD_TEXT"]

HARBOUR_AND_SCHOOLS = """\
The harbour authority of Port Kellan reported that container traffic rose by 18 percent in 2025,
the largest increase since the terminal opened. Officials said the growth came from two new
shipping lines that moved their regional hub away from the congested southern ports. Because the
cranes now run around the clock, the authority expects to hire 240 more dock workers by next
summer. However, residents near the quay complain that night-time noise has doubled, and the city
council will vote in March on limits for loading after midnight. Analysts warn that the harbour
could reach full capacity by 2028 unless the planned second berth is funded.

Meanwhile the district's schools are struggling with a different problem: teacher shortages.
Seventeen of the district's forty-two primary schools started the year with at least one vacant
post, and average class size climbed to 31 pupils. The education board blamed housing costs, which
rose 12 percent last year, for driving young teachers to cheaper towns. In contrast, the two
schools that offered subsidised flats filled every vacancy within a month. The board predicts that
the shortage will ease only if the housing programme is extended to all schools by 2027.
"""

MENTIONS_TEXT = """\
@everyone please read this. The maintainers of the river trail, led by <@123456789012345678>,
announced that the northern bridge will close for repairs in May, and <@&987654321098765432> will
coordinate the detour. Volunteers counted 3,400 walkers on the trail last month, up 20 percent on
the year before, because the new lighting made evening walks safer. However, the cyclists' club
warns that the detour adds four kilometres and will push riders onto the busy ring road.
@here the city expects the bridge to reopen in September if the steel arrives on time.
Some people wrap text in **stars** or __underscores__ or `backticks` to break formatting.
"""

ORCHARD_NOTES_MD = """\
# Orchard cooperative: season notes

The Hollin Valley orchard cooperative harvested 410 tonnes of apples this autumn, 9 percent less
than last year. Members blamed a late frost in April, which destroyed blossom on the higher slopes.
Because the lower orchards were protected by new frost fans, they produced a record crop.

The cooperative now plans to install frost fans on every slope by 2027, at a cost of 1.2 million.
However, some growers argue that the money would be better spent on hail nets, since hail damaged
more fruit than frost in three of the last five seasons. The board will decide at the winter
meeting; most members expect the fans to win the vote.

Cider sales grew by 30 percent after the cooperative opened a tasting room at the market hall.
"""

_LONG_PARAGRAPHS = [
    HARBOUR_AND_SCHOOLS,
    ORCHARD_NOTES_MD.split("\n", 2)[2],
    """\
Across the region, the bus operator cut six rural routes in January, saying ridership had fallen
by a third since 2019. Villagers responded by organising a volunteer minibus that now carries 150
passengers a week. The county transport office admits that the cuts saved less money than
forecast, because more pupils now need taxis to reach school. A new timetable, due in June, will
restore two routes if the county approves an emergency subsidy.
""",
    """\
The regional hospital opened its new emergency wing in October. Waiting times fell from an average
of five hours to just under three, according to the hospital's own figures. Nurses say the wing
is already crowded at weekends, and the union has asked for forty more staff. The health
authority predicts that demand will keep rising as the population ages, and it has started
planning a second clinic in the eastern suburbs.
""",
    """\
Farmers on the coastal plain report that groundwater salinity has risen in half of the monitored
wells. Hydrologists link the change to heavier pumping during the dry summers of 2023 and 2024.
In contrast, wells near the restored wetlands show stable readings, which suggests that the
wetlands recharge the aquifer. The water board will publish a pumping plan next spring.
""",
]

# About 2,000 words over several topics: enough for a deep report with many themes and claims.
LONG_REPORT_TEXT = "\n".join(
    paragraph.replace("last year", f"in year {round_number}")
    for round_number in range(1, 5)
    for paragraph in _LONG_PARAGRAPHS
)

# Two short articles on unrelated topics, for /ask and the report library.
ORCHARD_TEXT = (
    "The Vale orchards lost a third of their apple blossom to a late frost in April. Growers lit "
    "heaters between the rows on two nights, but the cold lasted longer than forecast. The regional "
    "co-operative expects the apple harvest to fall by 30 percent this year. Cider makers say they "
    "will import fruit from the coast to keep their presses running. Insurance covers only the "
    "growers who paid for the new frost policy, which fewer than half of them bought."
)
FERRY_TEXT = (
    "The island ferry company will replace its two diesel boats with battery-powered ferries by 2027. "
    "Each new boat charges at the pier overnight and carries up to 300 passengers. The company says "
    "fuel costs will fall by two thirds, and the harbour town will install a larger grid connection "
    "to power the chargers. Villagers asked for a late boat on Fridays, and a trial runs through August."
)
