"""Converters of peer projects' published checkpoints into keras-disent models."""
