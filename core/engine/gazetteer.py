"""Word lists the entity extractor reads: well-known places, cue words before and after names.

Small on purpose: a name that is not listed is still found (it is capitalised) and labelled from
its context; these lists only settle the label when the context says nothing.  English only.
"""

from __future__ import annotations

__all__ = [
    "DEMONYMS",
    "EVENT_HEADS",
    "EVENT_NAMES",
    "EVENT_NOUNS_AFTER",
    "GENERIC_ACRONYMS",
    "NOT_NAMES",
    "ORG_HEADS_OF",
    "ORG_NOUNS_AROUND",
    "ORG_SUFFIXES",
    "PERSON_TITLES",
    "PLACES",
    "PLACE_ACRONYMS",
    "PLACE_FIRST_WORDS",
    "PLACE_HEADS",
    "PRODUCT_HEADS",
    "PRODUCT_NOUNS_AFTER",
    "ROLE_NOUNS",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(text: str) -> frozenset[str]:
    return frozenset(line.strip() for line in text.strip().splitlines() if line.strip())


PLACES = _phrases(
    """
    Africa
    Asia
    Europe
    America
    Americas
    North America
    South America
    Latin America
    Antarctica
    Oceania
    Middle East
    Arctic
    Atlantic
    Pacific
    Mediterranean
    Afghanistan
    Albania
    Algeria
    Angola
    Argentina
    Armenia
    Australia
    Austria
    Azerbaijan
    Bangladesh
    Belarus
    Belgium
    Bolivia
    Bosnia
    Brazil
    Britain
    Great Britain
    Bulgaria
    Cambodia
    Cameroon
    Canada
    Chile
    China
    Colombia
    Congo
    Costa Rica
    Croatia
    Cuba
    Cyprus
    Czechia
    Czech Republic
    Denmark
    Ecuador
    Egypt
    England
    Estonia
    Ethiopia
    Finland
    France
    Georgia
    Germany
    West Germany
    East Germany
    Ghana
    Greece
    Guatemala
    Haiti
    Honduras
    Hong Kong
    Hungary
    Iceland
    India
    Indonesia
    Iran
    Iraq
    Ireland
    Israel
    Italy
    Jamaica
    Japan
    Jordan
    Kazakhstan
    Kenya
    Korea
    South Korea
    North Korea
    Kosovo
    Kuwait
    Latvia
    Lebanon
    Libya
    Lithuania
    Luxembourg
    Madagascar
    Malawi
    Malaysia
    Mali
    Malta
    Mexico
    Moldova
    Mongolia
    Morocco
    Mozambique
    Myanmar
    Namibia
    Nepal
    Netherlands
    New Zealand
    Nicaragua
    Niger
    Nigeria
    Norway
    Oman
    Pakistan
    Palestine
    Panama
    Paraguay
    Peru
    Philippines
    Poland
    Portugal
    Qatar
    Romania
    Russia
    Rwanda
    Saudi Arabia
    Scotland
    Senegal
    Serbia
    Singapore
    Slovakia
    Slovenia
    Somalia
    South Africa
    Spain
    Sri Lanka
    Sudan
    South Sudan
    Sweden
    Switzerland
    Syria
    Taiwan
    Tanzania
    Thailand
    Tunisia
    Turkey
    Uganda
    Ukraine
    United Arab Emirates
    United Kingdom
    United States
    Uruguay
    Uzbekistan
    Venezuela
    Vietnam
    Wales
    Yemen
    Zambia
    Zimbabwe
    Alabama
    Alaska
    Arizona
    California
    Colorado
    Florida
    Hawaii
    Illinois
    Massachusetts
    Michigan
    Minnesota
    Nevada
    New Jersey
    New Mexico
    New York
    North Carolina
    Ohio
    Oregon
    Pennsylvania
    Texas
    Virginia
    Alberta
    British Columbia
    Manitoba
    Ontario
    Quebec
    Saskatchewan
    Nova Scotia
    Queensland
    New South Wales
    Victoria
    Tasmania
    Bavaria
    Lower Saxony
    Catalonia
    Andalusia
    Siberia
    Amsterdam
    Athens
    Auckland
    Austin
    Baghdad
    Bangkok
    Barcelona
    Beijing
    Beirut
    Berlin
    Bogotá
    Boston
    Brisbane
    Bristol
    Brussels
    Bucharest
    Budapest
    Buenos Aires
    Cairo
    Cape Town
    Chicago
    Copenhagen
    Dallas
    Delhi
    New Delhi
    Denver
    Detroit
    Dubai
    Dublin
    Edinburgh
    Frankfurt
    Geneva
    Glasgow
    Hamburg
    Hanoi
    Havana
    Helsinki
    Houston
    Istanbul
    Jakarta
    Jerusalem
    Johannesburg
    Kabul
    Karachi
    Kyiv
    Kiev
    Lagos
    Lima
    Lisbon
    London
    Los Angeles
    Madrid
    Manchester
    Manila
    Melbourne
    Mexico City
    Miami
    Milan
    Montreal
    Moscow
    Mumbai
    Munich
    Nairobi
    Naples
    Oslo
    Ottawa
    Paris
    Perth
    Philadelphia
    Prague
    Rio de Janeiro
    Riyadh
    Rome
    Rotterdam
    San Francisco
    Santiago
    São Paulo
    Seattle
    Seoul
    Shanghai
    Singapore
    Stockholm
    Stuttgart
    Sydney
    Taipei
    Tehran
    Tokyo
    Toronto
    Vancouver
    Vienna
    Warsaw
    Washington
    Wellington
    Zurich
    Antwerp
    Valencia
    Porto
    Leipzig
    Dresden
    Cologne
    Düsseldorf
    Heidelberg
    Gdańsk
    Tallinn
    Riga
    Vilnius
    """
)
PLACE_ACRONYMS = _words("US U.S. USA U.S.A. UK U.K. UAE EU E.U.")
#: The last word of a place name: "Coral Sea", "North Thompson River", "Fenwick Park".
PLACE_HEADS = _words(
    """Sea Ocean River Lake Lakes Mount Mountain Mountains Island Islands Isle Isles Bay Gulf Valley
    Coast Delta Reef Region Province County District Peninsula Desert Strait Canal Square Street
    Avenue Road Highway Park Airport Harbour Harbor Basin Plateau Forest Falls Beach Canyon Creek
    Glacier Hills Heights Plain Plains Channel State States City Kingdom Republic Territory"""
)
#: The first word of a place name: "Lake Victoria", "Mount Everest", "Port Said".
PLACE_FIRST_WORDS = _words("Lake Mount Cape Port Isle Gulf Bay Fort Praça Plaza Rue Via")
ORG_SUFFIXES = _words(
    """Inc Corp Corporation Ltd LLC PLC AG SE SA NV GmbH Group Company Co University Institute
    Institution Agency Association Bank Council Commission Ministry Department Foundation
    Organization Organisation Authority Fund Party Union Bureau Office Board Committee Society
    Center Centre Laboratory Labs Industries Motors Energy Systems Technologies Partners Capital
    Holdings Service Services Administration Reserve Court Parliament Congress Senate Assembly
    Federation Alliance Programme Program Inspectorate Forces Army Navy Police Unit School
    College Academy Club Advisors Advisers Airlines Airways Pharmaceuticals Media Studios
    Software Foods Trucks Rail Railways Lines Water Timber Network Trust Corps Consortium
    Generalitat Commons Lords Cabinet Government Secretariat Guard Hospital Clinic Observatory
    Museum Library Press Times Post Echo Herald Journal Review News Magazine Weekly Daily"""
)
#: "University of Oxford", "Ministry of Health", "Institute of Marine Science".
ORG_HEADS_OF = _words(
    """University Ministry Institute Institution Bank Department Office Society Association Council
    Commission College School Academy Federation Union Museum Court House Board Church Order"""
)
#: Nouns that make the capitalised name next to them an organisation: "the utility EnerNord",
#: "Nordlink chief executive ...", "Quillon shares".
ORG_NOUNS_AROUND = _words(
    """company firm group maker manufacturer operator operators retailer insurer regulator utility
    bank union party agency charity club publisher carrier carriers airline startup start-up
    broker lender chain supplier developer developers brand brands site website platform network
    team side board shareholders shares stock spokesman spokeswoman spokesperson restaurant cafe
    bar hotel shop store alliance association organisation organization institute"""
)
PERSON_TITLES = _words(
    """Dr Dr. Mr Mr. Mrs Mrs. Ms Ms. Prof Prof. Professor Sir Dame Lord Lady President Minister
    Premier Chancellor Governor Senator Mayor Judge Justice General Colonel Captain Coach Chair
    Chairman Chairwoman Secretary Commissioner King Queen Prince Princess Pope Rev Reverend
    Bishop Archbishop Sheikh Ambassador Director Inspector Detective Sergeant Officer"""
)
#: Lower-case words that often come right before a person's name: "goalkeeper Leon Achterberg".
ROLE_NOUNS = _words(
    """executive officer founder co-founder chairman chairwoman chair president minister secretary
    director manager captain coach striker goalkeeper defender midfielder forward player winger
    substitute economist analyst strategist spokesman spokeswoman spokesperson scientist ecologist
    biologist researcher professor astronomer astrophysicist physicist engineer architect novelist
    author writer poet artist singer actor actress pharmacist nurse doctor surgeon commander
    negotiator leader head governor premier mayor senator lawyer judge official officer editor
    reporter journalist correspondent farmer teacher student chef owner landlord resident
    translator designer developer programmer candidate incumbent rival colleague daughter son
    wife husband widow mother father brother sister partner friend neighbour neighbor"""
)
EVENT_HEADS = _words(
    """Cup Championship Championships Olympics Paralympics Prize Award Awards Summit Conference
    Festival Trophy Expo Games War Bill Act Treaty Accord Election Referendum Marathon Prix
    Open Tournament League Series Fair Biennale"""
)
EVENT_NAMES = _phrases(
    """
    El Niño
    La Niña
    El Nino
    La Nina
    Brexit
    World War I
    World War II
    Black Friday
    """
)
#: Lower-case nouns after a name that make it an event: "the Sunset Ridge fire".
EVENT_NOUNS_AFTER = _words("fire wildfire blaze earthquake hurricane storm flood floods eruption spill outbreak")
PRODUCT_HEADS = _words("Telescope Phone Pro Max Ultra Mini Plus Edition")
#: Lower-case nouns after a name that make it a product: "the R21 vaccine", "Ledgerly software".
PRODUCT_NOUNS_AFTER = _words(
    """vaccine drug medicine pill smartphone phone handset laptop tablet console app software
    processor chip chips camera car model truck van engine aircraft jet satellite telescope
    browser platform game driver drivers headset device watch robot"""
)
GENERIC_ACRONYMS = _words(
    """AI CEO CFO CTO COO GDP EV EVS PDF URL API IT TV PC USB GPS DNA RNA OK FAQ HTML LED LNG GW MW
    KW KWH MWH GWH TWH AM PM CO NB PS VAT IPO ESG FY HQ ID GPU CPU PSU RAM SSD HDD BIOS OLED LCD
    CO2 UV PR HR QA UI UX OS FAQ AGM DIY ASAP FYI TBD ETA PhD MP MPS MEP MEPS NGO NGOS SUV SUVS"""
)
DEMONYMS = _words(
    """American British English French German Dutch Spanish Portuguese Italian Australian Canadian
    Kenyan Chinese Japanese Indian Russian Ukrainian European African Asian Romanian Polish
    Swedish Norwegian Danish Finnish Irish Scottish Welsh Mexican Brazilian Argentine Argentinian
    Nigerian Ethiopian Egyptian Turkish Greek Israeli Iranian Iraqi Korean Vietnamese Thai
    Indonesian Filipino Pakistani Bangladeshi Swiss Austrian Belgian Czech Hungarian Baltic
    Nordic Arab Arabic Latin Western Eastern Northern Southern Mediterranean Atlantic Pacific
    Catalan Basque Bavarian Texan Californian Scandinavian Balkan Persian Saudi Emirati Qatari
    Moroccan Algerian Tunisian Ghanaian Ugandan Tanzanian Rwandan Somali Sudanese Chilean
    Peruvian Colombian Venezuelan Cuban Jamaican Haitian Mongolian Malaysian Singaporean
    Taiwanese Tibetan Afghan Syrian Lebanese Jordanian Yemeni Kazakh Uzbek Georgian Armenian
    Serbian Croatian Bosnian Albanian Bulgarian Slovak Slovenian Estonian Latvian Lithuanian
    Icelandic Maltese Cypriot Christian Muslim Jewish Hindu Buddhist Catholic Protestant"""
)
#: Capitalised words that are never a name on their own: weekdays, months, seasons, titles.
NOT_NAMES = _words(
    """Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
    June July August September October November December Spring Summer Autumn Fall Winter
    Today Tomorrow Yesterday Tonight Morning Evening Q A I OK Thanks Update Note Notes
    Present Apologies Verdict Highlights Media Contact About Read More"""
)
