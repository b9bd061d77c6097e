"""Retrieval: knowledge files, hybrid index, search, evaluation."""
