"""Engines that regenerate a range: the offline ``local`` context fill and hosted models."""
