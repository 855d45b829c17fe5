"""`tuntas deploy`: the Kubernetes deployment's material checked from here (deploy/helm): the
chart's catalog file generated from the topic catalog and the ACL table, the CRD schemas of the
operators it targets, and a strict schema check of what the chart renders."""
