"""Tuntas message contracts and pure domain rules (pydantic v2; no Kafka, no database).

- ``schemas.envelope``: ``Envelope``, ``parse_event``, ``InvalidEvent``, ``UnknownEventType``
- ``schemas.events``: one payload model per event type, ``EVENT_TYPES`` registry
- ``schemas.topics``: ``Topics(prefix)``, the topic catalog and per-kecamatan print routing
- ``schemas.states``: ``ApplicationState``, ``next_state``, ``EVENT_STATE``
- ``schemas.application`` / ``schemas.requirements``: applicant data, the requirement matrix,
  ``check_application``
- ``schemas.values``: NIK, KK, region codes, phones, names, ``mask_nik``
- ``schemas.workdays``: ``WorkingCalendar`` (deadline, add_working_days, working_days_between)
- ``schemas.regions``: region reference data (Lumajang shipped)
- ``python -m schemas.export``: JSON Schemas and golden samples
"""
