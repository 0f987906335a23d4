-- Run once by the postgres image on a new data volume (deploy/compose.yaml), as the
-- POSTGRES_USER. POSTGRES_DB created ketenpoort_state already; the audit trail gets a
-- database of its own. The gateway creates its tables itself.
CREATE DATABASE ketenpoort_audit OWNER ketenpoort;
