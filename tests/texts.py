"""Plain news sentences shared by tests that need many different, ordinary English texts."""

NEWS_SENTENCES = [
    "The city council voted on Tuesday to approve a new budget for the coming year.",
    "Months of debate over the cost of repairing roads and bridges came to an end.",
    "Scientists said the new telescope would let them study distant planets in detail.",
    "The company reported higher profits as demand for its products grew overseas.",
    "Heavy rain flooded several streets and closed the main highway for hours.",
    "The school board agreed to hire more teachers before the start of the autumn term.",
]
