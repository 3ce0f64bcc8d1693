"""The membership service: communities (tenants), member lifecycle, membership credentials, the roll."""
