"""The data inventory: where personal data lives, and one class per kind of place that can find,
export, plan and erase a subject's data there. Data-subject requests and retention share it."""
