DROP TABLE collection_notes;
DROP TABLE collection_assignments;
DROP TABLE offline_receipts;
DROP TABLE proposals;
DROP TABLE audit_events;
DROP TABLE operator_address_guards;
DROP TABLE operator_sessions;
DROP TABLE operators;
