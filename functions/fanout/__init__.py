"""Mail to many people: batches of at most 1,000, each sent at most once, delivery proven by
SendGrid's signed events. Breach notices and the other notices the policy promises use it."""
