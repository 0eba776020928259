"""Key-account terms: the price engine, agreements, discount rules, bonuses and approvals."""
