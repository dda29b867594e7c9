"""Fixed vocabularies of the synthetic tenant: time zones, menu items, review comments, patterns.

Everything here is invented. Free text keeps what real free text holds (accents, an emoji, quotes,
a line break, a tab), so the loader's COPY escaping and every reader downstream meet it.
"""

import numpy as np

# Cafes take these zones in turn, so any tenant of eight cafes or more has every kind of offset the
# daily SQL must get right: UTC, half-hour (Kolkata, St John's, which also has DST), 45-minute
# (Kathmandu; Chatham, with DST at 02:45), and daylight saving on both hemispheres.
ZONES = (
    "UTC",
    "Asia/Kolkata",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Europe/London",
    "America/New_York",
    "Australia/Adelaide",
    "Europe/Berlin",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "Asia/Dubai",
)

# No IANA zone is more than 14 hours ahead of UTC: an event of local date d is never earlier than
# (d 00:00 UTC) - 14 h, which tells the loader when a UTC instant can receive no more rows.
MAX_UTC_OFFSET_HOURS = 14

# fmt: off
NAME_FIRST = (
    "Copper", "Juniper", "Little", "Blue", "Harbour", "Olive", "Maple", "Saffron", "Paper",
    "Velvet", "Corner", "Golden", "Quiet", "Wild", "Brass", "Hazel",
)
NAME_SECOND = (
    "Kettle", "Bean", "Spoon", "Lantern", "Table", "Sparrow", "Crumb", "Fern", "Press",
    "Garden", "Mill", "Bakehouse",
)

# (item name, base price in cents). Each cafe lists 15 to 30 of these at its own price level.
MENU = (
    ("Espresso", 280), ("Double Espresso", 340), ("Americano", 320), ("Flat White", 390),
    ("Cappuccino", 380), ("Caffè Latte", 400), ("Mocha", 430), ("Chai Latte", 410),
    ("Matcha Latte", 450), ("Hot Chocolate", 380), ("Iced Coffee", 420), ("Cold Brew", 450),
    ("Fresh Orange Juice", 480), ("Lemonade", 360), ("Sparkling Water", 250), ("Masala Chai", 300),
    ("Croissant", 320), ("Pain au Chocolat", 360), ("Blueberry Muffin", 340), ("Banana Bread", 350),
    ("Cinnamon Roll", 390), ("Scone with Jam", 380), ("Avocado Toast", 950),
    ("Eggs Benedict", 1250), ("Full Breakfast", 1450), ("Granola Bowl", 850),
    ("Pancake Stack", 1050),
    ("Shakshuka", 1150), ("Club Sandwich", 1180), ("BLT", 980), ("Grilled Cheese", 850),
    ("Chicken Caesar Salad", 1290), ("Greek Salad", 1090), ("Tomato Soup", 750),
    ("Soup of the Day", 790), ("Quiche Lorraine", 990), ("Chef's Burger", 1590),
    ("Veggie Burger", 1450), ("Fish & Chips", 1690), ("Margherita Pizza", 1390),
    ("Pasta Carbonara", 1490), ("Penne Arrabbiata", 1290), ("Butter Chicken", 1550),
    ("Pad Thai", 1450), ("Ramen", 1490), ("Poke Bowl", 1550), ("Steak Frites", 2450),
    ("Crème Brûlée", 790), ("Tiramisu", 820), ("Cheesecake", 780), ("Apple Pie", 720),
    ("Brownie", 450), ("Gelato (2 scoops)", 550), ("Affogato", 590), ("House Red Wine", 890),
    ("Craft Beer", 790), ("Kids' Pasta", 790), ("Side Fries", 450), ("Side Salad", 490),
    ("Bread & Butter", 390),
)

# fmt: on

# Review comments by tone.
COMMENTS_NEGATIVE = (
    "Order arrived cold.",
    "Waited 40 minutes for a coffee.",
    "Nobody picked up the phone, twice.",
    "Wrong order, and no apology.",
    "Too expensive for what it is.",
    "The soup was salty.\nWill not come back.",
)
COMMENTS_NEUTRAL = (
    "Fine, nothing special.",
    "Good coffee, slow service.",
    "OK for a quick lunch.",
    "Busy at noon; book ahead.",
    "Portions could be bigger.",
)
COMMENTS_POSITIVE = (
    "Lovely staff and great coffee!",
    "Best flat white in town.",
    "Booked by phone in seconds, table was ready.",
    "Très bon café ☕",
    "Delivery was quick and still hot.",
    "Kids loved the pancakes.\tThanks!",
    "Our go-to place for Sunday brunch.",
    '"Perfect" - said my mum.',
)

# Relative activity by local weekday, Monday first: quieter Mondays, busy Fridays and Saturdays.
WEEKDAY_FACTOR = np.array([0.72, 0.92, 0.97, 1.02, 1.15, 1.24, 0.98])
WEEKDAY_FACTOR = WEEKDAY_FACTOR / WEEKDAY_FACTOR.mean()

# Orders by local hour for three kinds of cafe; each has a lunch peak (12-13) and a dinner peak
# (18-20) above the afternoon lull, plus a thin late-night tail of delivery orders.
# fmt: off
ORDER_PROFILES = np.array(
    [
        # coffee house: strong breakfast, lunch, a modest evening
        [0.1, 0.05, 0.02, 0.02, 0.02, 0.1, 0.8, 3.2, 4.6, 3.6, 2.8, 3.6,
         5.6, 5.0, 2.6, 2.0, 2.0, 2.4, 2.9, 2.7, 1.6, 0.8, 0.4, 0.2],
        # bistro: lunch and a big dinner
        [0.3, 0.15, 0.05, 0.02, 0.02, 0.02, 0.1, 0.6, 1.2, 1.4, 1.8, 3.4,
         6.2, 5.6, 2.4, 1.6, 1.8, 3.6, 6.4, 6.8, 4.8, 2.6, 1.2, 0.6],
        # all-day cafe
        [0.2, 0.1, 0.03, 0.02, 0.02, 0.05, 0.4, 1.8, 2.8, 2.6, 2.6, 3.6,
         5.8, 5.2, 2.8, 2.2, 2.4, 3.2, 4.8, 4.9, 3.4, 1.8, 0.9, 0.4],
    ]
)
# fmt: on
# Calls run a little ahead of orders (people ring before they eat) and spread wider.
CALL_PROFILES = 0.7 * np.roll(ORDER_PROFILES, -1, axis=1) + 0.3 * ORDER_PROFILES + 0.15
# Reviews come after the meal, through the evening.
REVIEW_PROFILES = np.roll(ORDER_PROFILES, 2, axis=1) + 0.1
# Bookings are made during the day (the phone line is busiest around lunch).
# fmt: off
BOOKING_PROFILE = np.array(
    [0.05, 0.02, 0.01, 0.01, 0.01, 0.02, 0.1, 0.5, 1.4, 2.2, 2.6, 3.0,
     3.2, 3.0, 2.6, 2.4, 2.4, 2.6, 2.8, 2.4, 1.8, 1.0, 0.4, 0.1]
)
# fmt: on
# Reservation slots, by quarter hour of the local day: lunch 11:30-14:00, dinner 17:30-21:30.
SLOT_WEIGHTS = np.zeros(96)
SLOT_WEIGHTS[46:57] = [1, 2, 4, 5, 5, 4, 3, 2, 2, 1, 1]
SLOT_WEIGHTS[70:87] = [1, 2, 3, 4, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 2, 1, 1]

PARTY_SIZES = np.arange(1, 13)
PARTY_WEIGHTS = np.array([6, 38, 12, 20, 7, 8, 2, 3, 1, 1, 0.5, 0.5])

# Enumerations: the values DESIGN section 4 allows, then values an app may also hold (a new value,
# a case variant, an empty string), which the tenant writes only into deliberately invalid rows.
DELIVERY_TYPES = ("delivery", "dine_in", "takeaway")
UNKNOWN_DELIVERY_TYPES = ("drive_thru", "Delivery", "")
ORDER_STATUSES = ("completed", "cancelled")
UNKNOWN_ORDER_STATUSES = ("refunded", "COMPLETED")
CALL_STATUSES = ("answered", "missed")
UNKNOWN_CALL_STATUSES = ("voicemail", "")
RESERVATION_STATUSES = ("pending", "confirmed", "completed", "cancelled", "no_show")
UNKNOWN_RESERVATION_STATUSES = ("waitlist", "no-show")
