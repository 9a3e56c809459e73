"""The notices and opt-outs the policy promises: marketing unsubscribe that sticks, push opt-out,
legal disclosures, business-transfer and policy-change notices, and the public facts."""
