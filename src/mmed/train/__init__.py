"""Continued pretraining (CPT) on packed corpus shards and supervised fine-tuning (SFT) on benchmark items.

Kept light on purpose: torch, transformers and peft are imported by the submodules that need them.
"""
