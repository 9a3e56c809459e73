"""Retention: every kind of personal data kept only as long as its purpose needs. A daily purge through
the inventory's locations, legal holds that stop it (and erasure) where legal claims need the data,
run reports and dry runs for staff, and the public retention table."""
