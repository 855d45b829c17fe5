"""Fingerprint templates and matching: the shared TOF1 format of :mod:`schemas.fingerprint`."""

from schemas.fingerprint import TemplateError, fingerprint_template, match_score, template_of

__all__ = ["TemplateError", "fingerprint_template", "match_score", "template_of"]
