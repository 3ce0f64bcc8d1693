"""PLANET social: signed blog posts, feeds, introductions and the encrypted vault."""
