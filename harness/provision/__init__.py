"""Provisioning: runs on the host Python, stdlib only. Builds the interpreters under test."""
