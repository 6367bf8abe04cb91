DROP TABLE collection_notes;
DROP TABLE collection_assignments;
DROP TABLE offline_receipts;
DROP TABLE proposals;
DROP TABLE audit_events;
DROP TABLE operator_sessions;
DROP TABLE operators;
DROP FUNCTION audit_events_append_only();
