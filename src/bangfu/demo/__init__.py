"""A demo university for trying Bangfu: `bangfu seed_demo`."""
