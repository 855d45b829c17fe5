"""The local real components (Kafka, PostgreSQL, pcscd, CUPS, an SMSC) started by the project."""
