"""The demo's synthetic homelab, scenario files, and scoring detection against them."""
